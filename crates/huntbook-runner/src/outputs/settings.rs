//! `Service.outputs` in `huntbook.yaml` and the per-notebook keys that adjust it
//! (`html`, `triage`, and the catalogue's `key_parameters`).
//!
//! ```yaml
//! Service:
//!   outputs:
//!     location: outputs          # a folder (relative to this file), s3://bucket/prefix,
//!                                # az://container/prefix or gs://bucket/prefix
//!     path: "{year}/{month}/{day}/{notebook}_{key}_{run_id}_{date}.ipynb"
//!     report: false              # report mode: code cells' inputs hidden
//!     html: findings             # an HTML copy: findings | always | never
//!     retention: 90d             # outputs older than this are deleted
//!     options: {}                # object store settings (endpoint, region, ...)
//! Notebooks:
//!   ip_triage:
//!     path: ip_triage.ipynb
//!     html: always               # this notebook's own HTML rule
//!     triage: true               # findings update the incident in `incident_id`
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use huntbook_core::config::{Kind, Problem, Severity, Value};
use huntbook_core::time::Period;
use huntbook_notebook::secrets::is_credential_name;

use crate::config::{NotebookEntry, ServiceConfig};

/// The default output path template.
pub const DEFAULT_PATH: &str = "{year}/{month}/{day}/{notebook}_{key}_{run_id}_{date}.ipynb";

/// When a run gets an HTML copy of its output notebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlMode {
    /// Only runs that reported a finding (the default).
    Findings,
    Always,
    Never,
}

impl FromStr for HtmlMode {
    type Err = String;

    fn from_str(text: &str) -> Result<HtmlMode, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "findings" => Ok(HtmlMode::Findings),
            "always" => Ok(HtmlMode::Always),
            "never" => Ok(HtmlMode::Never),
            _ => Err(format!(
                "expected findings, always or never, found {text:?}"
            )),
        }
    }
}

impl HtmlMode {
    /// Whether a run with (or without) a finding gets an HTML copy.
    pub fn wants(self, has_finding: bool) -> bool {
        match self {
            HtmlMode::Findings => has_finding,
            HtmlMode::Always => true,
            HtmlMode::Never => false,
        }
    }
}

/// Where outputs are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A folder on this machine.
    Folder(PathBuf),
    /// An object store URL: `s3://`, `az://` or `gs://`, with a prefix.
    Cloud(String),
}

/// How one notebook's outputs differ from the service's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotebookOutputs {
    /// Parameters whose values make `{key}`.
    pub key_parameters: Vec<String>,
    /// Its own HTML rule.
    pub html: Option<HtmlMode>,
    /// Findings update the triggering incident (the job's `incident_id`).
    pub triage: bool,
}

/// The `Service.outputs` section, and each notebook's adjustments.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSettings {
    pub location: Location,
    /// The path template below the location.
    pub path: String,
    /// Report mode: inputs hidden.
    pub report: bool,
    pub html: HtmlMode,
    /// Outputs older than this are deleted; `None` keeps them.
    pub retention: Option<Duration>,
    /// Settings for the object store's builder (`aws_endpoint`, `region`, ...).
    pub options: BTreeMap<String, String>,
    /// By notebook name.
    pub notebooks: BTreeMap<String, NotebookOutputs>,
}

impl OutputSettings {
    /// Outputs in `folder`, with the default rules and no notebooks.
    pub fn in_folder(folder: impl Into<PathBuf>) -> OutputSettings {
        OutputSettings {
            location: Location::Folder(folder.into()),
            path: DEFAULT_PATH.to_owned(),
            report: false,
            html: HtmlMode::Findings,
            retention: None,
            options: BTreeMap::new(),
            notebooks: BTreeMap::new(),
        }
    }

    /// The HTML rule of one notebook.
    pub fn html_for(&self, notebook: &str) -> HtmlMode {
        self.notebooks
            .get(notebook)
            .and_then(|n| n.html)
            .unwrap_or(self.html)
    }

    /// The settings of a service, or every problem found in them.
    pub fn from_service(service: &ServiceConfig) -> Result<OutputSettings, Vec<Problem>> {
        let config = &service.config;
        let mut problems = Vec::new();
        let mut settings = OutputSettings::in_folder("outputs");
        let section = config.get("Service.outputs").filter(|v| !v.is_null());
        for (key, value) in section.and_then(Value::entries).unwrap_or_default() {
            let at = format!("Service.outputs.{key}");
            let mut bad = |message: &str| problems.push(error(&at, value, message));
            match key.as_str() {
                "location" => match value.as_str() {
                    Some(url) if ["s3://", "az://", "gs://"].iter().any(|s| url.starts_with(s)) => {
                        settings.location = Location::Cloud(url.to_owned())
                    }
                    Some(url) if url.contains("://") => {
                        bad("expected a folder, s3://bucket/prefix, az://container/prefix or gs://bucket/prefix")
                    }
                    _ => match config.path(value) {
                        Some(folder) => settings.location = Location::Folder(folder),
                        None => bad("expected a folder or an object store URL"),
                    },
                },
                "path" => match value.as_str() {
                    Some(template) if !template.trim().is_empty() => {
                        settings.path = template.to_owned()
                    }
                    _ => bad("expected a path template such as {notebook}/{run_id}.ipynb"),
                },
                "report" => match value.as_bool() {
                    Some(report) => settings.report = report,
                    None => bad("expected true or false"),
                },
                "html" => match value.as_str().map(HtmlMode::from_str) {
                    Some(Ok(mode)) => settings.html = mode,
                    Some(Err(message)) => bad(&message),
                    None => bad("expected findings, always or never"),
                },
                "retention" => match value.as_str().map(Period::parse) {
                    Some(Ok(period)) => settings.retention = period.as_delta().to_std().ok(),
                    _ => bad("expected a length such as 90d or 12h"),
                },
                "options" => match value.entries() {
                    Some(entries) => {
                        for (name, option) in entries {
                            match option.scalar_text() {
                                // Plain text in a config file is no place for a key.
                                Some(_) if is_credential_name(name) => problems.push(error(
                                    &format!("{at}.{name}"),
                                    option,
                                    "credentials are read from the environment (AWS_SECRET_ACCESS_KEY, AZURE_STORAGE_ACCOUNT_KEY, GOOGLE_APPLICATION_CREDENTIALS...), never from this file",
                                )),
                                Some(text) => {
                                    settings.options.insert(name.clone(), text);
                                }
                                None => problems.push(error(
                                    &format!("{at}.{name}"),
                                    option,
                                    "expected a text or number value",
                                )),
                            }
                        }
                    }
                    None => bad("expected a mapping of object store settings"),
                },
                _ => bad(
                    "unknown setting; the settings here are location, path, report, html, retention, options",
                ),
            }
        }
        for (name, entry) in &service.notebooks {
            match notebook_outputs(entry) {
                Ok(outputs) => {
                    settings.notebooks.insert(name.clone(), outputs);
                }
                Err(problem) => problems.extend(problem),
            }
        }
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems)
        }
    }
}

fn error(key: &str, value: &Value, message: &str) -> Problem {
    Problem {
        severity: Severity::Error,
        key: key.to_owned(),
        origin: Some(value.origin.clone()),
        message: message.to_owned(),
    }
}

/// A catalogue entry's `key_parameters`, `html` and `triage`.
fn notebook_outputs(entry: &NotebookEntry) -> Result<NotebookOutputs, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |key: &str| format!("Notebooks.{}.{key}", entry.name);
    let setting = |key: &str| entry.settings.get(key).filter(|v| !v.is_null());
    let html = setting("html").and_then(|value| match value.as_str().map(HtmlMode::from_str) {
        Some(Ok(mode)) => Some(mode),
        _ => {
            problems.push(error(
                &at("html"),
                value,
                "expected findings, always or never",
            ));
            None
        }
    });
    let triage = setting("triage").is_some_and(|value| match value.kind {
        Kind::Bool(triage) => triage,
        _ => {
            problems.push(error(&at("triage"), value, "expected true or false"));
            false
        }
    });
    if problems.is_empty() {
        Ok(NotebookOutputs {
            key_parameters: entry.key_parameters.clone(),
            html,
            triage,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use huntbook_core::config::Config;

    use super::*;

    fn service(folder: &Path, yaml: &str) -> Result<OutputSettings, Vec<Problem>> {
        std::fs::write(folder.join("nb.ipynb"), "{}").unwrap();
        let file = folder.join("huntbook.yaml");
        let config = Config::from_yaml(&[(&file, yaml)]).unwrap();
        OutputSettings::from_service(&ServiceConfig::from_config(&config).unwrap())
    }

    #[test]
    fn defaults_then_settings_and_notebook_overrides() {
        let folder = tempfile::tempdir().unwrap();
        let defaults = service(folder.path(), "Service: {}\n").unwrap();
        assert_eq!(defaults.path, DEFAULT_PATH);
        assert_eq!(defaults.html, HtmlMode::Findings);
        let yaml = "\
Service:
  outputs:
    location: out
    path: '{notebook}/{run_id}.ipynb'
    report: true
    html: never
    retention: 30d
Notebooks:
  triage:
    path: nb.ipynb
    key_parameters: [ip]
    html: always
    triage: true
  plain: nb.ipynb
";
        let settings = service(folder.path(), yaml).unwrap();
        assert_eq!(
            settings.location,
            Location::Folder(folder.path().join("out"))
        );
        assert!(settings.report);
        assert_eq!(settings.retention, Some(Duration::from_secs(30 * 86400)));
        assert_eq!(settings.html_for("triage"), HtmlMode::Always);
        assert_eq!(settings.html_for("plain"), HtmlMode::Never);
        assert!(settings.notebooks["triage"].triage);
        assert_eq!(settings.notebooks["triage"].key_parameters, ["ip"]);
    }

    #[test]
    fn cloud_locations_and_mistakes() {
        let folder = tempfile::tempdir().unwrap();
        let settings = service(
            folder.path(),
            "Service:\n  outputs:\n    location: s3://bucket/runs\n",
        )
        .unwrap();
        assert_eq!(
            settings.location,
            Location::Cloud("s3://bucket/runs".into())
        );
        let yaml = "\
Service:
  outputs:
    location: ftp://host/x
    options: {aws_region: eu-west-1, aws_secret_access_key: abc}
    html: sometimes
    retention: forever
Notebooks:
  a: {path: nb.ipynb, triage: maybe}
";
        let problems = service(folder.path(), yaml).unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "Service.outputs.location",
                "Service.outputs.options.aws_secret_access_key",
                "Service.outputs.html",
                "Service.outputs.retention",
                "Notebooks.a.triage"
            ]
        );
    }

    #[test]
    fn html_rules() {
        assert!(HtmlMode::Findings.wants(true) && !HtmlMode::Findings.wants(false));
        assert!(HtmlMode::Always.wants(false) && !HtmlMode::Never.wants(true));
    }
}
