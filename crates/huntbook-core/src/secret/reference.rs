use std::fmt;
use std::path::PathBuf;

use super::Secret;

/// Where a credential's value is kept. Built from the configuration by
/// [`Config::secret`](crate::config::Config::secret); each kind's YAML is in
/// `docs/configuration.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// The value itself, written in the file (allowed, but `config check` warns).
    Literal(Secret),
    /// `{EnvironmentVar: NAME}`.
    EnvironmentVar { name: String },
    /// `{File: path}`: the file's content without its trailing newline. A relative
    /// path has already been joined to the folder of the file that declared it.
    File { path: PathBuf },
    /// `{KeyVault: ...}` with the vault and secret name already worked out as
    /// MSTICPy does.
    KeyVault { vault: String, name: String },
    /// `{HashiCorpVault: {Path: ..., Key: ..., Mount: ...}}`: field `key` of the KV
    /// version 2 secret at `path` under `mount` (the `HashiCorpVault` section's
    /// mount, else `secret`, when `None`).
    HashiCorpVault {
        mount: Option<String>,
        path: String,
        key: String,
    },
}

/// The kind of a [`SecretRef`], named as its YAML key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    Literal,
    EnvironmentVar,
    File,
    KeyVault,
    HashiCorpVault,
}

impl SecretRef {
    pub fn kind(&self) -> SecretKind {
        match self {
            SecretRef::Literal(_) => SecretKind::Literal,
            SecretRef::EnvironmentVar { .. } => SecretKind::EnvironmentVar,
            SecretRef::File { .. } => SecretKind::File,
            SecretRef::KeyVault { .. } => SecretKind::KeyVault,
            SecretRef::HashiCorpVault { .. } => SecretKind::HashiCorpVault,
        }
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretKind::Literal => "literal",
            SecretKind::EnvironmentVar => "EnvironmentVar",
            SecretKind::File => "File",
            SecretKind::KeyVault => "KeyVault",
            SecretKind::HashiCorpVault => "HashiCorpVault",
        })
    }
}

/// Where the secret is, never what it is: `EnvironmentVar VT_KEY`,
/// `KeyVault my-vault/TIProviders-OTX-Args-AuthKey`, `literal`.
impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind())?;
        match self {
            SecretRef::Literal(_) => Ok(()),
            SecretRef::EnvironmentVar { name } => write!(f, " {name}"),
            SecretRef::File { path } => write!(f, " {}", path.display()),
            SecretRef::KeyVault { vault, name } => write!(f, " {vault}/{name}"),
            SecretRef::HashiCorpVault { mount, path, key } => {
                write!(f, " {path}#{key}")?;
                match mount {
                    Some(mount) => write!(f, " (mount {mount})"),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_place_not_the_value() {
        let cases = [
            (SecretRef::Literal(Secret::new("hunter2")), "literal"),
            (
                SecretRef::EnvironmentVar {
                    name: "VT_KEY".into(),
                },
                "EnvironmentVar VT_KEY",
            ),
            (
                SecretRef::File {
                    path: "/run/secrets/vt".into(),
                },
                "File /run/secrets/vt",
            ),
            (
                SecretRef::KeyVault {
                    vault: "soc-kv".into(),
                    name: "TIProviders-OTX-Args-AuthKey".into(),
                },
                "KeyVault soc-kv/TIProviders-OTX-Args-AuthKey",
            ),
            (
                SecretRef::HashiCorpVault {
                    mount: Some("kv".into()),
                    path: "huntbook/ti".into(),
                    key: "vt".into(),
                },
                "HashiCorpVault huntbook/ti#vt (mount kv)",
            ),
        ];
        for (reference, shown) in cases {
            assert_eq!(reference.to_string(), shown);
            assert!(!format!("{reference:?}").contains("hunter2"));
        }
    }
}
