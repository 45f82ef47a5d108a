//! Configuration: `huntbook.yaml` laid over MSTICPy's `msticpyconfig.yaml`.
//!
//! [`ConfigSearch`] finds the two files (see [`search`] for the order);
//! [`Config::load`] reads them into one tree of [`Value`]s, each remembering the file
//! and line it came from ([`Origin`]). huntbook.yaml overrides msticpyconfig.yaml key
//! by key, and both override a few built-in defaults. Every key is kept, known or not,
//! so any part of huntbook can read its own section with [`Config::get`]; the
//! sections MSTICPy defines have typed accessors ([`Config::workspaces`],
//! [`Config::providers`], [`Config::key_vault`], ...).
//!
//! Credentials are read as [`SecretRef`](crate::secret::SecretRef)s with
//! [`Config::secret`] and resolved later by a
//! [`SecretResolver`](crate::secret::SecretResolver). [`Config::check`] lists every
//! setting with its origin and reports every problem at once.
//!
//! ```
//! use std::path::Path;
//! use huntbook_core::config::Config;
//! use huntbook_core::secret::SecretRef;
//!
//! let msticpy = "TIProviders:\n  OTX:\n    Args:\n      AuthKey: literal-key\n    Primary: True\n";
//! let huntbook = "TIProviders:\n  OTX:\n    Args:\n      AuthKey: {EnvironmentVar: OTX_KEY}\n";
//! let config = Config::from_yaml(&[
//!     (Path::new("/etc/msticpyconfig.yaml"), msticpy),
//!     (Path::new("/etc/huntbook.yaml"), huntbook),
//! ]).unwrap();
//!
//! let otx = &config.providers("TIProviders").unwrap()[0];
//! assert!(otx.primary);
//! assert_eq!(
//!     config.secret(&otx.arg_path("AuthKey")).unwrap(),
//!     Some(SecretRef::EnvironmentVar { name: "OTX_KEY".into() })
//! );
//! assert_eq!(config.get("TIProviders.OTX.Args.AuthKey").unwrap().origin.to_string(), "/etc/huntbook.yaml:4");
//! ```

mod check;
mod credentials;
mod error;
mod merge;
mod problem;
pub mod search;
mod sections;
mod value;
mod yaml;

pub use check::{Report, SecretLine, SecretStatus, SettingLine};
pub use error::ConfigError;
pub use problem::{Problem, Severity};
pub use search::{Candidate, ConfigSearch, FileKind, FoundBy, Status};
pub use sections::{HashiCorpVaultSettings, KeyVaultSettings, ProviderSettings, Workspace};
pub use value::{Kind, Origin, Value};
/// YAML read with each value's line, for other documents huntbook reads (pipelines).
pub(crate) use yaml::parse_mapping as parse_yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::secret::SecretRef;

const DEFAULTS: &str = include_str!("defaults.yaml");

/// The commented starting file `huntbook config init` writes.
pub const TEMPLATE: &str = include_str!("template.yaml");

/// The merged configuration.
#[derive(Clone)]
pub struct Config {
    root: Value,
    files: Vec<Candidate>,
    home: Option<PathBuf>,
}

/// Lists the files and sections only: values may be literal secrets.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sections: Vec<&str> = self
            .root
            .entries()
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        f.debug_struct("Config")
            .field("files", &self.files)
            .field("sections", &sections)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Finds and reads the configuration files. A file named by an option that does
    /// not exist, unreadable files and malformed YAML are errors; mistakes in the
    /// settings are left to [`Config::check`].
    pub fn load(search: &ConfigSearch) -> Result<Config, ConfigError> {
        let files = search.candidates();
        if let Some(missing) = files
            .iter()
            .find(|c| c.found_by == FoundBy::Option && c.status == Status::NotFound)
        {
            let given_by = match missing.kind {
                FileKind::Msticpy => "--msticpy",
                FileKind::Huntbook => "--config",
            };
            return Err(ConfigError::NotFound {
                path: missing.path.clone(),
                given_by: given_by.into(),
            });
        }
        let mut texts = Vec::new();
        for file in files.iter().filter(|c| c.status == Status::Used) {
            let text = std::fs::read_to_string(&file.path).map_err(|source| ConfigError::Read {
                path: file.path.clone(),
                source,
            })?;
            texts.push((file.path.clone(), text));
        }
        let layers: Vec<(&Path, &str)> = texts
            .iter()
            .map(|(p, t)| (p.as_path(), t.as_str()))
            .collect();
        let mut config = Config::from_yaml(&layers)?;
        config.files = files;
        config.home = search.home.clone();
        Ok(config)
    }

    /// Builds a configuration from YAML texts, each overriding the ones before it.
    pub fn from_yaml(layers: &[(&Path, &str)]) -> Result<Config, ConfigError> {
        let mut root = yaml::parse_mapping(DEFAULTS, None)?;
        for (path, text) in layers {
            let mut layer = yaml::parse_mapping(text, Some(Arc::new(path.to_path_buf())))?;
            merge::fold_aliases(&mut layer);
            merge::merge(&mut root, layer);
        }
        Ok(Config {
            root,
            files: Vec::new(),
            home: None,
        })
    }

    /// This configuration with `settings` (dotted paths and their text) laid over it,
    /// as if a last file set them; `by` says where they came from in `config check`
    /// and in error messages (`"connect() arguments"`).
    ///
    /// ```
    /// use huntbook_core::config::Config;
    /// let config = Config::from_yaml(&[]).unwrap();
    /// let given = config.with_settings("connect() arguments", &[("DataProviders.Splunk.Args.host", "splunk.local")]);
    /// assert_eq!(given.get("DataProviders.Splunk.Args.host").and_then(|v| v.as_str()), Some("splunk.local"));
    /// ```
    pub fn with_settings(&self, by: &str, settings: &[(&str, &str)]) -> Config {
        let origin = Origin::Given(Arc::from(by));
        let mut layer = Value::new(Kind::Map(Vec::new()), origin.clone());
        for (path, text) in settings {
            let mut node = &mut layer;
            for key in path.split('.') {
                if !matches!(node.kind, Kind::Map(_)) {
                    // A later setting goes deeper than an earlier one: the deeper wins.
                    node.kind = Kind::Map(Vec::new());
                }
                let Kind::Map(entries) = &mut node.kind else {
                    unreachable!("made a mapping just above");
                };
                let at = match entries.iter().position(|(k, _)| k == key) {
                    Some(at) => at,
                    None => {
                        entries.push((
                            key.to_string(),
                            Value::new(Kind::Map(Vec::new()), origin.clone()),
                        ));
                        entries.len() - 1
                    }
                };
                node = &mut entries[at].1;
            }
            node.kind = Kind::Str(text.to_string());
        }
        let mut config = self.clone();
        merge::merge(&mut config.root, layer);
        config
    }

    /// The files looked for, in search order, with what became of each.
    pub fn files(&self) -> &[Candidate] {
        &self.files
    }

    /// The whole merged tree.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// The value at a dotted path, e.g. `DataProviders.Splunk.Args.host`.
    pub fn get(&self, path: &str) -> Option<&Value> {
        self.root.get_path(path)
    }

    /// The credential at a dotted path as a reference, `None` when it is absent or
    /// empty.
    pub fn secret(&self, path: &str) -> Result<Option<SecretRef>, Problem> {
        match self.get(path) {
            None => Ok(None),
            Some(value) => credentials::secret_ref(path, value, &self.secret_context()),
        }
    }

    /// The credential held by `value`, a node found at `key` (used in messages), for
    /// settings inside lists that [`Config::secret`]'s dotted paths cannot reach.
    pub fn secret_in(&self, key: &str, value: &Value) -> Result<Option<SecretRef>, Problem> {
        credentials::secret_ref(key, value, &self.secret_context())
    }

    /// A path setting as a path: `~` is the home folder, and a relative path is
    /// relative to the folder of the file that set it (MSTICPy uses the current
    /// folder; the two agree for a msticpyconfig.yaml in the current folder).
    pub fn path(&self, value: &Value) -> Option<PathBuf> {
        let text = value.as_str()?;
        let path = Path::new(text);
        if let (Ok(rest), Some(home)) = (path.strip_prefix("~"), &self.home) {
            return Some(home.join(rest));
        }
        Some(match value.origin.file().and_then(Path::parent) {
            Some(folder) => folder.join(path),
            None => path.to_path_buf(),
        })
    }

    /// The folders of custom query files, `QueryDefinitions.Custom`.
    pub fn query_paths(&self) -> Vec<PathBuf> {
        self.paths("QueryDefinitions.Custom")
    }

    /// A setting holding one path or a list of them (`DataProviders.LocalData.data_paths`).
    pub fn paths(&self, key: &str) -> Vec<PathBuf> {
        match self.get(key) {
            None => Vec::new(),
            Some(Value {
                kind: Kind::List(items),
                ..
            }) => items.iter().filter_map(|v| self.path(v)).collect(),
            Some(one) => self.path(one).into_iter().collect(),
        }
    }

    fn secret_context(&self) -> credentials::Context<'_> {
        credentials::Context {
            default_vault: self.get("KeyVault.VaultName").and_then(Value::as_str),
            home: self.home.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_given_in_code_override_files_and_say_where_they_came_from() {
        const GUID: &str = "8ecf8077-cf51-4820-aadd-14040956f35d";
        let file = Path::new("msticpyconfig.yaml");
        let config = Config::from_yaml(&[(
            file,
            "DataProviders:\n  Splunk:\n    Args:\n      host: old.example\n      port: 8089\n",
        )])
        .unwrap();
        let given = config.with_settings(
            "connect() arguments",
            &[
                ("DataProviders.Splunk.Args.host", "splunk.local"),
                ("DataProviders.Splunk.Args.username", "hunter"),
                ("AzureSentinel.Workspaces.Default.WorkspaceId", GUID),
                ("AzureSentinel.Workspaces.Default.TenantId", GUID),
            ],
        );
        let host = given.get("DataProviders.Splunk.Args.host").unwrap();
        assert_eq!(host.as_str(), Some("splunk.local"));
        assert_eq!(host.origin.to_string(), "connect() arguments");
        assert_eq!(
            given
                .get("DataProviders.Splunk.Args.port")
                .unwrap()
                .origin
                .to_string(),
            "msticpyconfig.yaml:5"
        );
        assert_eq!(given.workspace(None).unwrap().workspace_id, GUID);
        // The original is unchanged.
        assert_eq!(
            config
                .get("DataProviders.Splunk.Args.host")
                .and_then(Value::as_str),
            Some("old.example")
        );
    }
}
