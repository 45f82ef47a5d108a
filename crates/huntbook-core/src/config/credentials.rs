//! Credential values: which settings are credentials, and the [`SecretRef`] a value
//! names.

use std::path::Path;

use super::value::{Kind, Value};
use super::Problem;
use crate::secret::{Secret, SecretRef};

/// The YAML keys of the reference forms, as MSTICPy spells the first two.
pub(crate) const FORMS: [&str; 4] = ["EnvironmentVar", "KeyVault", "HashiCorpVault", "File"];

const FORMS_HINT: &str =
    "write the value itself, or one of {EnvironmentVar: NAME}, {KeyVault: NAME}, \
{HashiCorpVault: {Path: ..., Key: ...}}, {File: PATH}";

/// Setting names (compared without case) that hold credentials in MSTICPy's
/// settings schema and in common provider arguments. A literal under one of them
/// gets a warning.
const CREDENTIAL_KEYS: [&str; 10] = [
    "authkey",
    "apikey",
    "apiid",
    "clientsecret",
    "password",
    "accesskey",
    "token",
    "bearer_token",
    "cookie",
    "secret",
];

pub(crate) fn is_credential_key(key: &str) -> bool {
    CREDENTIAL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// The form key and its argument when `value` is written as a reference, e.g.
/// `{EnvironmentVar: OTX_KEY}`.
pub(crate) fn reference_form(value: &Value) -> Option<(&str, &Value)> {
    match value.entries()? {
        [(form, argument)] if FORMS.contains(&form.as_str()) => Some((form, argument)),
        _ => None,
    }
}

/// What is needed besides the value to build a reference.
pub(crate) struct Context<'a> {
    /// `KeyVault.VaultName`, for Key Vault references that name no vault.
    pub default_vault: Option<&'a str>,
    pub home: Option<&'a Path>,
}

/// The reference `value` (at `key`) makes, `None` when it is empty.
pub(crate) fn secret_ref(
    key: &str,
    value: &Value,
    context: &Context,
) -> Result<Option<SecretRef>, Problem> {
    let problem = |message: String| Problem::error(key, &value.origin, message);
    if value.is_null() {
        return Ok(None);
    }
    if let Some(text) = value.scalar_text() {
        return Ok(Some(SecretRef::Literal(Secret::new(text))));
    }
    let Some((form, argument)) = reference_form(value) else {
        let found = match value.entries() {
            Some(entries) => format!(
                "a mapping with keys {}",
                entries
                    .iter()
                    .map(|(k, _)| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => value.type_name().to_string(),
        };
        return Err(problem(format!(
            "unknown credential form ({found}); {FORMS_HINT}"
        )));
    };
    let text_argument = || -> Result<&str, Problem> {
        match argument.as_str().map(str::trim) {
            Some(text) if !text.is_empty() => Ok(text),
            _ => Err(problem(format!(
                "{form} needs a non-empty text value, found {}",
                argument.type_name()
            ))),
        }
    };
    let reference = match form {
        "EnvironmentVar" => SecretRef::EnvironmentVar {
            name: text_argument()?.to_string(),
        },
        "File" => SecretRef::File {
            path: file_path(text_argument()?, value, context),
        },
        "KeyVault" => key_vault(key, argument, context).map_err(problem)?,
        "HashiCorpVault" => hashicorp(argument).map_err(problem)?,
        _ => unreachable!("reference_form only returns FORMS"),
    };
    Ok(Some(reference))
}

/// `~/x` is under the home folder; a relative path is relative to the folder of the
/// file that names it, so a configuration can ship with its secret files.
fn file_path(text: &str, value: &Value, context: &Context) -> std::path::PathBuf {
    let path = Path::new(text);
    if let (Ok(rest), Some(home)) = (path.strip_prefix("~"), context.home) {
        return home.join(rest);
    }
    match value.origin.file().and_then(Path::parent) {
        Some(folder) => folder.join(path),
        None => path.to_path_buf(),
    }
}

/// MSTICPy's rules: empty or `default` means the default vault and a secret named
/// after the setting path; `vault/secret` names both; anything else is a secret in
/// the default vault. Secret names keep only letters, digits and `-`, as Key Vault
/// allows.
fn key_vault(key: &str, argument: &Value, context: &Context) -> Result<SecretRef, String> {
    let text = match &argument.kind {
        Kind::Null => "",
        Kind::Str(text) => text.trim(),
        _ => {
            return Err(format!(
                "KeyVault takes a secret name or vault/secret, not {}",
                argument.type_name()
            ))
        }
    };
    let default_vault = || {
        context.default_vault.map(str::to_string).ok_or_else(|| {
            "this KeyVault reference names no vault, and the KeyVault section has no VaultName"
                .to_string()
        })
    };
    let (vault, name) = if text.is_empty() || text.eq_ignore_ascii_case("default") {
        (default_vault()?, key.to_string())
    } else if let Some((vault, name)) = text.split_once('/') {
        if vault.is_empty() || name.is_empty() || name.contains('/') {
            return Err(format!("`{text}` is not of the form vault/secret"));
        }
        (vault.to_string(), name.to_string())
    } else {
        (default_vault()?, text.to_string())
    };
    check_vault_name(&vault)?;
    let name = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Ok(SecretRef::KeyVault { vault, name })
}

/// `{Path: huntbook/ti, Key: vt, Mount: secret}`. Path and mount become parts of a
/// URL, so their segments are restricted to plain names: no `..`, `?` or `%`.
fn hashicorp(argument: &Value) -> Result<SecretRef, String> {
    let Some(entries) = argument.entries() else {
        return Err(format!(
            "HashiCorpVault takes a mapping {{Path: ..., Key: ..., Mount: ...}}, not {}",
            argument.type_name()
        ));
    };
    if let Some((unknown, _)) = entries
        .iter()
        .find(|(k, _)| !["Path", "Key", "Mount"].contains(&k.as_str()))
    {
        return Err(format!(
            "HashiCorpVault has no setting `{unknown}`; it takes Path, Key and Mount"
        ));
    }
    let text = |name: &str| -> Result<Option<String>, String> {
        match argument.get(name) {
            None => Ok(None),
            Some(v) if v.is_null() => Ok(None),
            Some(v) => match v.as_str().map(str::trim) {
                Some(text) if !text.is_empty() => Ok(Some(text.to_string())),
                _ => Err(format!("HashiCorpVault {name} must be text")),
            },
        }
    };
    let path =
        text("Path")?.ok_or("HashiCorpVault needs a Path (the secret's path under its mount)")?;
    let key = text("Key")?.ok_or("HashiCorpVault needs a Key (the field of the secret to read)")?;
    let mount = text("Mount")?;
    check_vault_path("Path", &path)?;
    if let Some(mount) = &mount {
        check_vault_path("Mount", mount)?;
    }
    Ok(SecretRef::HashiCorpVault { mount, path, key })
}

/// Key Vault names become host names (`<name>.vault.azure.net`), so only what Azure
/// allows is accepted: 3 to 24 letters, digits and dashes.
pub(crate) fn check_vault_name(name: &str) -> Result<(), String> {
    if (3..=24).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a Key Vault name (3 to 24 letters, digits and dashes)"
        ))
    }
}

pub(crate) fn check_vault_path(name: &str, path: &str) -> Result<(), String> {
    let plain = |segment: &str| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@+".contains(c))
    };
    if path.trim_matches('/').split('/').all(plain) {
        Ok(())
    } else {
        Err(format!(
            "HashiCorpVault {name} `{path}` must be /-separated names of letters, digits and -_.@+ (no empty, . or .. parts)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::super::yaml::parse_mapping;
    use super::*;

    fn value(yaml: &str) -> Value {
        let root =
            parse_mapping(yaml, Some(Arc::new(PathBuf::from("/etc/hb/huntbook.yaml")))).unwrap();
        root.get("v").unwrap().clone()
    }

    fn context() -> Context<'static> {
        Context {
            default_vault: Some("soc-kv"),
            home: Some(Path::new("/home/analyst")),
        }
    }

    fn reference(yaml: &str) -> Result<Option<SecretRef>, Problem> {
        secret_ref("TIProviders.OTX.Args.AuthKey", &value(yaml), &context())
    }

    #[test]
    fn each_form_makes_its_reference() {
        assert_eq!(
            reference("v: abc123").unwrap(),
            Some(SecretRef::Literal(Secret::new("abc123")))
        );
        assert_eq!(
            reference("v: 12345").unwrap(),
            Some(SecretRef::Literal(Secret::new("12345")))
        );
        assert_eq!(reference("v:").unwrap(), None);
        assert_eq!(
            reference("v: {EnvironmentVar: OTX_KEY}").unwrap(),
            Some(SecretRef::EnvironmentVar {
                name: "OTX_KEY".into()
            })
        );
        assert_eq!(
            reference("v:\n  HashiCorpVault:\n    Path: huntbook/ti\n    Key: otx\n").unwrap(),
            Some(SecretRef::HashiCorpVault {
                mount: None,
                path: "huntbook/ti".into(),
                key: "otx".into()
            })
        );
        assert_eq!(
            reference("v: {HashiCorpVault: {Path: ti, Key: otx, Mount: kv}}").unwrap(),
            Some(SecretRef::HashiCorpVault {
                mount: Some("kv".into()),
                path: "ti".into(),
                key: "otx".into()
            })
        );
    }

    #[test]
    fn files_are_relative_to_the_declaring_file_or_home() {
        assert_eq!(
            reference("v: {File: secrets/otx}").unwrap(),
            Some(SecretRef::File {
                path: "/etc/hb/secrets/otx".into()
            })
        );
        assert_eq!(
            reference("v: {File: /run/secrets/otx}").unwrap(),
            Some(SecretRef::File {
                path: "/run/secrets/otx".into()
            })
        );
        assert_eq!(
            reference("v: {File: ~/keys/otx}").unwrap(),
            Some(SecretRef::File {
                path: "/home/analyst/keys/otx".into()
            })
        );
    }

    #[test]
    fn key_vault_names_follow_msticpy() {
        let kv = |vault: &str, name: &str| {
            Some(SecretRef::KeyVault {
                vault: vault.into(),
                name: name.into(),
            })
        };
        assert_eq!(
            reference("v: {KeyVault: }").unwrap(),
            kv("soc-kv", "TIProviders-OTX-Args-AuthKey")
        );
        assert_eq!(
            reference("v: {KeyVault: default}").unwrap(),
            kv("soc-kv", "TIProviders-OTX-Args-AuthKey")
        );
        assert_eq!(
            reference("v: {KeyVault: otx_key}").unwrap(),
            kv("soc-kv", "otx-key")
        );
        assert_eq!(
            reference("v: {KeyVault: other-kv/otx.key}").unwrap(),
            kv("other-kv", "otx-key")
        );
        let no_vault = secret_ref(
            "a.b",
            &value("v: {KeyVault: }"),
            &Context {
                default_vault: None,
                home: None,
            },
        )
        .unwrap_err();
        assert!(no_vault.message.contains("no VaultName"), "{no_vault}");
        assert!(reference("v: {KeyVault: a/b/c}").is_err());
        let err = reference("v: {KeyVault: 'evil.example.com:443/x'}").unwrap_err();
        assert!(err.message.contains("not a Key Vault name"), "{err}");
    }

    #[test]
    fn mistakes_name_the_key_and_line() {
        let err = reference("\nv: {Vault: x}").unwrap_err();
        assert_eq!(err.key, "TIProviders.OTX.Args.AuthKey");
        assert_eq!(
            err.origin.as_ref().unwrap().to_string(),
            "/etc/hb/huntbook.yaml:2"
        );
        assert!(
            err.message
                .contains("unknown credential form (a mapping with keys `Vault`)"),
            "{err}"
        );
        for (yaml, expected) in [
            (
                "v: {EnvironmentVar: }",
                "EnvironmentVar needs a non-empty text value",
            ),
            ("v: [a, b]", "unknown credential form (a list)"),
            ("v: {HashiCorpVault: {Key: k}}", "needs a Path"),
            ("v: {HashiCorpVault: {Path: p}}", "needs a Key"),
            (
                "v: {HashiCorpVault: {Path: p, Key: k, Version: 2}}",
                "no setting `Version`",
            ),
            (
                "v: {HashiCorpVault: {Path: ../sys/raw, Key: k}}",
                "no empty, . or .. parts",
            ),
            (
                "v: {HashiCorpVault: {Path: 'a?x=1', Key: k}}",
                "letters, digits",
            ),
            (
                "v: {HashiCorpVault: {Path: a, Key: k, Mount: 'a//b'}}",
                "Mount",
            ),
            ("v: {HashiCorpVault: x}", "takes a mapping"),
        ] {
            let err = reference(yaml).unwrap_err();
            assert!(err.message.contains(expected), "{yaml}: {err}");
        }
    }

    #[test]
    fn credential_keys_ignore_case() {
        assert!(is_credential_key("AuthKey"));
        assert!(is_credential_key("clientSecret"));
        assert!(is_credential_key("password"));
        assert!(!is_credential_key("WorkspaceId"));
    }
}
