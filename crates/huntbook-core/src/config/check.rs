//! `config check`: every setting with its origin, and every problem at once.

use super::credentials::{is_credential_key, reference_form, secret_ref};
use super::search::{Candidate, FoundBy, Status};
use super::sections::{read_hashicorp_vault, read_key_vault, read_providers, read_workspaces};
use super::value::{Kind, Origin, Value};
use super::{Config, Problem, Severity};
use crate::secret::{SecretKind, SecretRef, SecretResolver};

/// The sections whose entries are providers with `Args`.
const PROVIDER_SECTIONS: [&str; 4] = [
    "TIProviders",
    "OtherProviders",
    "DataProviders",
    "ContextProviders",
];

/// One setting as `config check` lists it. Credentials are shown as their
/// reference (`[secret: EnvironmentVar OTX_KEY]`), never their value.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingLine {
    pub key: String,
    pub shown: String,
    pub origin: Origin,
}

/// What resolving a credential gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretStatus {
    Ok,
    /// Why it could not be resolved.
    Missing(String),
    /// No source for its kind was given (vaults, when checking offline).
    NotChecked,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecretLine {
    pub key: String,
    /// The reference, as [`SecretRef`]'s `Display` writes it.
    pub reference: String,
    pub origin: Origin,
    pub status: SecretStatus,
}

/// The result of [`Config::check`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub files: Vec<Candidate>,
    pub settings: Vec<SettingLine>,
    /// Filled when a resolver was given.
    pub secrets: Vec<SecretLine>,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

impl Config {
    /// Lists every setting and checks the whole configuration: required keys and
    /// GUIDs of the MSTICPy sections, credential forms, literal secrets (a warning),
    /// vault sections that references need. With a `resolver`, credentials of the
    /// kinds it handles are resolved too and failures become errors; values are
    /// never kept.
    pub fn check(&self, resolver: Option<&SecretResolver>) -> Report {
        let mut report = Report {
            files: self.files.clone(),
            ..Report::default()
        };
        for file in &self.files {
            if file.found_by == FoundBy::EnvVar && file.status == Status::NotFound {
                report.problems.push(Problem {
                    severity: Severity::Warning,
                    key: file.kind.env_var().to_string(),
                    origin: None,
                    message: format!(
                        "points to {}, which does not exist, so it was passed over",
                        file.path.display()
                    ),
                });
            }
        }
        let mut references = Vec::new();
        self.walk("", &self.root, &mut report, &mut references);

        read_workspaces(self, &mut report.problems);
        for section in PROVIDER_SECTIONS {
            read_providers(self, section, &mut report.problems);
        }
        let key_vault = read_key_vault(self, &mut report.problems);
        let hashicorp = read_hashicorp_vault(self, &mut report.problems);
        // A token left out is still needed: list the default so --resolve checks it.
        if let (Some(vault), None) = (&hashicorp, self.get("HashiCorpVault.Token")) {
            let origin = self
                .get("HashiCorpVault")
                .map(|v| v.origin.clone())
                .unwrap_or(Origin::Default);
            references.push((
                "HashiCorpVault.Token".to_string(),
                vault.token.clone(),
                origin,
            ));
        }
        for (key, reference, origin) in &references {
            let missing_section = match reference.kind() {
                SecretKind::KeyVault if key_vault.is_none() && self.get("KeyVault").is_none() => {
                    Some("a KeyVault reference needs a KeyVault section (TenantId, VaultName)")
                }
                SecretKind::HashiCorpVault
                    if hashicorp.is_none() && self.get("HashiCorpVault").is_none() =>
                {
                    Some("a HashiCorpVault reference needs a HashiCorpVault section (Url, Token)")
                }
                _ => None,
            };
            if let Some(message) = missing_section {
                report.problems.push(Problem::error(key, origin, message));
            }
        }
        if let Some(custom) = self.get("QueryDefinitions.Custom") {
            for folder in self.query_paths() {
                if !folder.is_dir() {
                    report.problems.push(Problem::warning(
                        "QueryDefinitions.Custom",
                        &custom.origin,
                        format!("query folder {} does not exist", folder.display()),
                    ));
                }
            }
        }
        if let Some(resolver) = resolver {
            for (key, reference, origin) in references {
                let status = if !resolver.handles(reference.kind()) {
                    SecretStatus::NotChecked
                } else {
                    match resolver.resolve(&reference) {
                        Ok(_) => SecretStatus::Ok,
                        Err(err) => {
                            report
                                .problems
                                .push(Problem::error(&key, &origin, err.to_string()));
                            SecretStatus::Missing(err.to_string())
                        }
                    }
                };
                report.secrets.push(SecretLine {
                    key,
                    reference: reference.to_string(),
                    origin,
                    status,
                });
            }
        }
        report.problems.sort_by_key(|p| p.severity);
        report
    }

    fn walk(
        &self,
        path: &str,
        value: &Value,
        report: &mut Report,
        references: &mut Vec<(String, SecretRef, Origin)>,
    ) {
        let Some(entries) = value.entries() else {
            return;
        };
        for (name, value) in entries {
            let key = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            let line = |shown: String| SettingLine {
                key: key.clone(),
                shown,
                origin: value.origin.clone(),
            };
            if is_credential(name, value) {
                match secret_ref(&key, value, &self.secret_context()) {
                    Ok(Some(reference)) => {
                        if reference.kind() == SecretKind::Literal {
                            report.problems.push(Problem::warning(
                                &key,
                                &value.origin,
                                "the secret is written in the file; keep it in an environment variable, a file or a vault instead ({EnvironmentVar: NAME}, {File: PATH}, {KeyVault: NAME}, {HashiCorpVault: ...})",
                            ));
                        }
                        report.settings.push(line(format!("[secret: {reference}]")));
                        references.push((key.clone(), reference, value.origin.clone()));
                    }
                    Ok(None) => report.settings.push(line("[secret: empty]".into())),
                    Err(problem) => {
                        report.problems.push(problem);
                        report.settings.push(line("[secret: invalid]".into()));
                    }
                }
                continue;
            }
            match &value.kind {
                Kind::Map(entries) if !entries.is_empty() => {
                    self.walk(&key, value, report, references)
                }
                _ => report.settings.push(line(show(value))),
            }
        }
    }
}

/// A setting is a credential when it is written as a reference, or when its name is
/// a credential's name (so a literal there is flagged).
fn is_credential(name: &str, value: &Value) -> bool {
    if is_credential_key(name) {
        return true;
    }
    // A one-key mapping such as `{KeyVault: x}` under any name is a reference, but
    // a section that happens to have one entry with such a name (a provider called
    // `File`) is not: references hold text, or a mapping with a Path for HashiCorp.
    match reference_form(value) {
        Some(("HashiCorpVault", argument)) => argument.get("Path").is_some(),
        Some((_, argument)) => !matches!(argument.kind, Kind::Map(_) | Kind::List(_)),
        None => false,
    }
}

/// A value on one line: text as is, lists as `[a, b]`, mappings inside lists as
/// `{k: v}` with credentials hidden.
fn show(value: &Value) -> String {
    match &value.kind {
        Kind::Null => "(empty)".into(),
        Kind::List(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Kind::Map(entries) => {
            let shown: Vec<String> = entries
                .iter()
                .map(|(k, v)| match is_credential(k, v) {
                    true => format!("{k}: [secret]"),
                    false => format!("{k}: {}", show(v)),
                })
                .collect();
            format!("{{{}}}", shown.join(", "))
        }
        _ => value.scalar_text().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::{ConfigError, ConfigSearch, FileKind, TEMPLATE};
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn config(layers: &[(&str, &str)]) -> Config {
        let layers: Vec<(&Path, &str)> = layers.iter().map(|(p, t)| (Path::new(*p), *t)).collect();
        Config::from_yaml(&layers).unwrap()
    }

    fn line<'a>(report: &'a Report, key: &str) -> &'a SettingLine {
        report
            .settings
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("no setting {key} in {:#?}", report.settings))
    }

    #[test]
    fn the_starting_file_checks_clean() {
        let report =
            config(&[("/w/huntbook.yaml", TEMPLATE)]).check(Some(&SecretResolver::local()));
        assert!(report.problems.is_empty(), "{:#?}", report.problems);
        assert_eq!(
            line(&report, "DataProviders.LocalData.data_paths").shown,
            "[.]"
        );
    }

    #[test]
    fn every_setting_is_listed_with_its_origin() {
        let c = config(&[
            (
                "/w/msticpyconfig.yaml",
                "TIProviders:\n  OTX:\n    Args:\n      AuthKey: sup3r-s3cret-literal\n    Primary: True\nCustomSection:\n  answer: 42\n",
            ),
            ("/w/huntbook.yaml", "TIProviders:\n  VirusTotal:\n    Args:\n      AuthKey: {EnvironmentVar: VT_KEY}\n"),
        ]);
        let report = c.check(None);
        let otx = line(&report, "TIProviders.OTX.Args.AuthKey");
        assert_eq!(otx.shown, "[secret: literal]");
        assert_eq!(otx.origin.to_string(), "/w/msticpyconfig.yaml:4");
        let vt = line(&report, "TIProviders.VirusTotal.Args.AuthKey");
        assert_eq!(vt.shown, "[secret: EnvironmentVar VT_KEY]");
        assert_eq!(vt.origin.to_string(), "/w/huntbook.yaml:4");
        assert_eq!(line(&report, "CustomSection.answer").shown, "42");
        assert_eq!(line(&report, "Azure.cloud").origin, Origin::Default);
        // VirusTotal needs an AuthKey and has one; the literal only warns.
        assert!(!report.has_errors(), "{:#?}", report.problems);
        let warning = &report.problems[0];
        assert_eq!(
            (warning.severity, warning.key.as_str()),
            (Severity::Warning, "TIProviders.OTX.Args.AuthKey")
        );
        assert!(!format!("{report:?}").contains("sup3r-s3cret-literal"));
    }

    #[test]
    fn credential_mistakes_are_errors_at_their_line() {
        let c = config(&[(
            "/w/huntbook.yaml",
            "TIProviders:\n  OTX:\n    Args:\n      AuthKey: {Vault: x}\nDataProviders:\n  Splunk:\n    Args:\n      password: {KeyVault: }\n      token: {HashiCorpVault: {Path: splunk, Key: token}}\n",
        )]);
        let report = c.check(None);
        let errors: Vec<String> = report
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| p.to_string())
            .collect();
        let mut errors = errors;
        errors.sort();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors[0].starts_with("DataProviders.Splunk.Args.password (/w/huntbook.yaml:8):")
                && errors[0].contains("no VaultName"),
            "{}",
            errors[0]
        );
        assert_eq!(
            errors[1],
            "DataProviders.Splunk.Args.token (/w/huntbook.yaml:9): a HashiCorpVault reference needs a HashiCorpVault section (Url, Token)"
        );
        assert!(
            errors[2].starts_with(
                "TIProviders.OTX.Args.AuthKey (/w/huntbook.yaml:4): unknown credential form"
            ),
            "{}",
            errors[2]
        );
        assert_eq!(
            line(&report, "TIProviders.OTX.Args.AuthKey").shown,
            "[secret: invalid]"
        );
    }

    #[test]
    fn resolving_reports_ok_missing_and_not_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vt_key"), "file-secret-value\n").unwrap();
        std::env::set_var("HUNTBOOK_CHECK_TEST_OTX", "env-secret-value");
        let yaml = format!(
            "KeyVault:\n  TenantId: {TENANT}\n  VaultName: soc-kv\nTIProviders:\n  OTX:\n    Args:\n      AuthKey: {{EnvironmentVar: HUNTBOOK_CHECK_TEST_OTX}}\n  VirusTotal:\n    Args:\n      AuthKey: {{File: vt_key}}\n  XForce:\n    Args:\n      AuthKey: {{EnvironmentVar: HUNTBOOK_CHECK_TEST_UNSET}}\n      ApiID: {{File: missing_id}}\n  GreyNoise:\n    Args:\n      AuthKey: {{KeyVault: }}\n"
        );
        let path = dir.path().join("huntbook.yaml");
        let c = Config::from_yaml(&[(path.as_path(), yaml.as_str())]).unwrap();
        let report = c.check(Some(&SecretResolver::local()));
        let statuses: Vec<(&str, &SecretStatus)> = report
            .secrets
            .iter()
            .map(|s| (s.key.as_str(), &s.status))
            .collect();
        assert_eq!(
            statuses[0],
            ("TIProviders.OTX.Args.AuthKey", &SecretStatus::Ok)
        );
        assert_eq!(
            statuses[1],
            ("TIProviders.VirusTotal.Args.AuthKey", &SecretStatus::Ok)
        );
        assert!(
            matches!(statuses[2], ("TIProviders.XForce.Args.AuthKey", SecretStatus::Missing(m)) if m.contains("HUNTBOOK_CHECK_TEST_UNSET is not set"))
        );
        assert!(
            matches!(statuses[3], ("TIProviders.XForce.Args.ApiID", SecretStatus::Missing(m)) if m.contains("missing_id"))
        );
        assert_eq!(
            statuses[4],
            (
                "TIProviders.GreyNoise.Args.AuthKey",
                &SecretStatus::NotChecked
            )
        );
        assert_eq!(
            report.secrets[4].reference,
            "KeyVault soc-kv/TIProviders-GreyNoise-Args-AuthKey"
        );
        assert!(report.has_errors());
        let shown = format!("{report:?}");
        assert!(!shown.contains("env-secret-value") && !shown.contains("file-secret-value"));
    }

    #[test]
    fn an_omitted_vault_token_is_still_resolved() {
        let c = config(&[(
            "/w/huntbook.yaml",
            "HashiCorpVault:\n  Url: https://vault:8200\n",
        )]);
        let report = c.check(Some(&SecretResolver::local()));
        assert_eq!(report.secrets.len(), 1);
        assert_eq!(report.secrets[0].key, "HashiCorpVault.Token");
        assert_eq!(report.secrets[0].reference, "EnvironmentVar VAULT_TOKEN");
        assert_eq!(report.secrets[0].origin.to_string(), "/w/huntbook.yaml:1");
    }

    #[test]
    fn sections_are_checked_and_every_problem_reported() {
        let c = config(&[(
            "/w/huntbook.yaml",
            "AzureSentinel:\n  Workspaces:\n    Prod:\n      WorkspaceId: 1\n      TenantId: x\nQueryDefinitions:\n  Custom: [/definitely/not/here]\nKeyVault:\n  VaultName: soc-kv\n",
        )]);
        let report = c.check(None);
        let keys: Vec<(Severity, &str)> = report
            .problems
            .iter()
            .map(|p| (p.severity, p.key.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                (Severity::Error, "AzureSentinel.Workspaces.Prod.WorkspaceId"),
                (Severity::Error, "AzureSentinel.Workspaces.Prod.TenantId"),
                (Severity::Error, "KeyVault.TenantId"),
                (Severity::Warning, "AzureSentinel.Workspaces"),
                (Severity::Warning, "QueryDefinitions.Custom"),
            ]
        );
    }

    #[test]
    fn load_reads_the_files_found_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().to_path_buf();
        std::fs::write(cwd.join("msticpyconfig.yaml"), "A:\n  x: 1\n  y: 1\n").unwrap();
        std::fs::write(cwd.join("huntbook.yaml"), "A:\n  y: 2\n").unwrap();
        let search = ConfigSearch {
            current_dir: cwd.clone(),
            msticpy_env: Some(PathBuf::from("gone.yaml")),
            ..Default::default()
        };
        let c = Config::load(&search).unwrap();
        assert_eq!(c.get("A.x").unwrap().kind, Kind::Int(1));
        assert_eq!(c.get("A.y").unwrap().kind, Kind::Int(2));
        assert_eq!(
            c.get("A.y").unwrap().origin.file(),
            Some(cwd.join("huntbook.yaml").as_path())
        );
        let report = c.check(None);
        assert_eq!(report.files.len(), 3);
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].key, FileKind::Msticpy.env_var());

        let mut explicit = search.clone();
        explicit.huntbook_file = Some(PathBuf::from("nope.yaml"));
        let err = Config::load(&explicit).unwrap_err();
        assert!(matches!(err, ConfigError::NotFound { .. }));
        assert!(
            err.to_string()
                .contains("(given by --config) does not exist"),
            "{err}"
        );

        std::fs::write(cwd.join("huntbook.yaml"), "A:\n  y: [2\n").unwrap();
        let err = Config::load(&search).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}:", cwd.join("huntbook.yaml").display())),
            "{err}"
        );
    }
}
