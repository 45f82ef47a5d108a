//! GeoIP settings from the shared configuration, as `msticpyconfig.yaml` writes them:
//!
//! ```yaml
//! OtherProviders:
//!   GeoIPLite:
//!     Args:
//!       AccountID: "123456"
//!       AuthKey: {EnvironmentVar: MAXMIND_LICENSE_KEY}
//!       DBFolder: ~/.msticpy/GeoLite2
//!     Provider: GeoLiteLookup
//!   IPStack:
//!     Args:
//!       AuthKey: {EnvironmentVar: IPSTACK_KEY}
//!     Provider: IPStackLookup
//! ```
//!
//! Credentials go through the caller's `SecretResolver`, so they may be literals,
//! environment variables, files or vault references.

use std::path::PathBuf;
use std::time::Duration;

use huntbook_core::config::{Config, Kind, Origin, Value};
use huntbook_core::secret::{Secret, SecretResolver};
use reqwest::Url;

use super::GeoError;

/// MaxMind's documented GeoLite2-City download (HTTP Basic: account id and licence
/// key).
pub const MAXMIND_DOWNLOAD: &str =
    "https://download.maxmind.com/geoip/databases/GeoLite2-City/download?suffix=tar.gz";

/// A database older than this is downloaded again, as MSTICPy does.
pub const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// MSTICPy's default database folder.
const DEFAULT_FOLDER: &str = "~/.msticpy/GeoLite2";

/// Where the MaxMind databases are and how to refresh them.
#[derive(Debug, Clone)]
pub struct GeoLiteSettings {
    pub db_folder: PathBuf,
    pub account_id: Option<Secret>,
    pub license_key: Option<Secret>,
    /// The download URL; MaxMind's unless a test or a mirror says otherwise.
    pub download_url: Url,
    /// Re-download a database older than this (when credentials are set).
    pub max_age: Duration,
}

/// The IPStack key and service address.
#[derive(Debug, Clone)]
pub struct IpStackSettings {
    pub access_key: Secret,
    /// `http://api.ipstack.com/` unless a test says otherwise.
    pub base_url: Url,
}

impl GeoLiteSettings {
    /// Settings for databases in `db_folder`, without download credentials.
    pub fn in_folder(db_folder: PathBuf) -> GeoLiteSettings {
        GeoLiteSettings {
            db_folder,
            account_id: None,
            license_key: None,
            download_url: Url::parse(MAXMIND_DOWNLOAD).expect("the MaxMind URL is valid"),
            max_age: MAX_AGE,
        }
    }

    /// `OtherProviders.GeoIPLite` from the configuration; the folder defaults to
    /// MSTICPy's `~/.msticpy/GeoLite2`.
    pub fn from_config(
        config: &Config,
        resolver: &SecretResolver,
    ) -> Result<GeoLiteSettings, GeoError> {
        let entry = entry_path(config, "GeoIPLite");
        let default_folder = Value::new(Kind::Str(DEFAULT_FOLDER.into()), Origin::Default);
        let folder_value = entry
            .as_ref()
            .and_then(|e| config.get(&format!("{e}.Args.DBFolder")))
            .filter(|v| !v.is_null())
            .unwrap_or(&default_folder);
        let db_folder = config.path(folder_value).ok_or_else(|| GeoError::Config {
            setting: "OtherProviders.GeoIPLite.Args.DBFolder".into(),
            problem: format!(
                "must be a folder path, not {} ({})",
                folder_value.type_name(),
                folder_value.origin
            ),
        })?;
        let mut settings = GeoLiteSettings::in_folder(home_expanded(db_folder));
        if let Some(entry) = &entry {
            settings.account_id = secret_arg(config, resolver, entry, "AccountID")?;
            settings.license_key = secret_arg(config, resolver, entry, "AuthKey")?;
        }
        Ok(settings)
    }

    /// Whether a download can be attempted.
    pub fn can_download(&self) -> bool {
        self.account_id.is_some() && self.license_key.is_some()
    }
}

impl IpStackSettings {
    /// `OtherProviders.IPStack.Args.AuthKey`; `None` when IPStack is not configured.
    pub fn from_config(
        config: &Config,
        resolver: &SecretResolver,
    ) -> Result<Option<IpStackSettings>, GeoError> {
        let Some(entry) = entry_path(config, "IPStack") else {
            return Ok(None);
        };
        let Some(access_key) = secret_arg(config, resolver, &entry, "AuthKey")? else {
            return Err(GeoError::Config {
                setting: format!("{entry}.Args.AuthKey"),
                problem: "IPStack needs an access key".into(),
            });
        };
        Ok(Some(IpStackSettings::new(access_key)))
    }

    /// The public service with this key.
    pub fn new(access_key: Secret) -> IpStackSettings {
        IpStackSettings {
            access_key,
            base_url: Url::parse("http://api.ipstack.com/").expect("the IPStack URL is valid"),
        }
    }
}

/// A `~/...` path the configuration could not expand (it was not loaded from files,
/// so it does not know the home folder) taken from `$HOME`.
fn home_expanded(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}

/// `OtherProviders.<name>` as the file spells the name (any case). The entry is read
/// directly rather than through the typed provider view, which insists on an
/// `AuthKey` that a GeoIP user with a database of their own does not need.
fn entry_path(config: &Config, name: &str) -> Option<String> {
    let entries = config.get("OtherProviders")?.entries()?;
    let (key, _) = entries.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
    Some(format!("OtherProviders.{key}"))
}

/// A credential argument, resolved; `None` when absent or empty.
fn secret_arg(
    config: &Config,
    resolver: &SecretResolver,
    entry: &str,
    name: &str,
) -> Result<Option<Secret>, GeoError> {
    let path = format!("{entry}.Args.{name}");
    let problem = |problem: String| GeoError::Config {
        setting: path.clone(),
        problem,
    };
    let Some(reference) = config.secret(&path).map_err(|p| problem(p.to_string()))? else {
        return Ok(None);
    };
    resolver
        .resolve(&reference)
        .map(Some)
        .map_err(|e| problem(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(yaml: &str) -> Config {
        Config::from_yaml(&[(Path::new("/etc/hb/msticpyconfig.yaml"), yaml)]).unwrap()
    }

    #[test]
    fn msticpy_geoip_section_is_read() {
        std::env::set_var("HB_TEST_MAXMIND_KEY", "lic-0123");
        let c = config(
            "OtherProviders:\n  GeoIPLite:\n    Args:\n      AccountID: 654321\n      AuthKey: {EnvironmentVar: HB_TEST_MAXMIND_KEY}\n      DBFolder: geo\n    Provider: GeoLiteLookup\n",
        );
        let s = GeoLiteSettings::from_config(&c, &SecretResolver::local()).unwrap();
        assert_eq!(s.db_folder, Path::new("/etc/hb/geo"));
        assert_eq!(s.account_id.unwrap().expose(), "654321");
        assert_eq!(s.license_key.unwrap().expose(), "lic-0123");
        assert_eq!(s.download_url.as_str(), MAXMIND_DOWNLOAD);
    }

    #[test]
    fn a_folder_without_download_credentials_is_enough() {
        let c = config("OtherProviders:\n  geoiplite:\n    Args:\n      DBFolder: /data/geo\n");
        let s = GeoLiteSettings::from_config(&c, &SecretResolver::local()).unwrap();
        assert_eq!(s.db_folder, Path::new("/data/geo"));
        assert!(!s.can_download());
    }

    #[test]
    fn without_a_section_the_default_folder_and_no_download() {
        let s = GeoLiteSettings::from_config(&config("{}\n"), &SecretResolver::local()).unwrap();
        assert!(
            s.db_folder.ends_with(".msticpy/GeoLite2"),
            "{}",
            s.db_folder.display()
        );
        assert!(!s.can_download());
        assert!(
            IpStackSettings::from_config(&config("{}\n"), &SecretResolver::local())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_missing_secret_names_the_setting_not_the_value() {
        let c = config(
            "OtherProviders:\n  IPStack:\n    Args:\n      AuthKey: {EnvironmentVar: HB_TEST_UNSET_IPSTACK}\n",
        );
        let err = IpStackSettings::from_config(&c, &SecretResolver::local()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("OtherProviders.IPStack.Args.AuthKey: "),
            "{text}"
        );
        assert!(text.contains("HB_TEST_UNSET_IPSTACK"), "{text}");
    }
}
