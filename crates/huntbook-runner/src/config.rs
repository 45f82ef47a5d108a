//! The service's part of `huntbook.yaml`: the `Service` section (where the job store
//! is, where the API listens, how many notebooks run at once) and the `Notebooks`
//! section, the catalogue of notebooks the service may run.
//!
//! ```yaml
//! Service:
//!   store: sqlite:jobs.db        # or postgresql://user@host/db (several workers)
//!   listen: 127.0.0.1:8080
//!   workers: 2                   # notebooks this process runs at once
//!   queue_capacity: 1000         # queued jobs beyond it are refused (HTTP 429)
//!   max_running: 8               # running jobs across every worker on the store
//! Notebooks:
//!   ip_triage:
//!     path: examples/ip_triage.ipynb
//!     key_parameters: [ip_address] # name the output notebook
//!     timeout: 10m
//!     max_attempts: 2
//!     max_running: 2
//!     secrets:                     # environment variables of its kernel
//!       VT_API_KEY: {EnvironmentVar: VT_KEY}
//! ```
//!
//! Each notebook's triggers (`schedules`, `watch`, `poll`) sit in its entry too and
//! are read by the trigger that uses them, from [`NotebookEntry::settings`]. Paths
//! are relative to the file that sets them. Every mistake is reported with its key
//! and file line, all at once, before the service starts.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use huntbook_core::config::{Config, Kind, Problem, Severity, Value};
use huntbook_core::secret::{Secret, SecretRef, SecretResolver};
use huntbook_core::time::Period;

use huntbook_notebook::io::read_path;
use huntbook_notebook::params::{inspect, DeclaredParameter, ParamError};
use huntbook_notebook::secrets::{check_parameter, Scrubber, SecretParameter};

use crate::model::{NewJob, TriggerKind};
use crate::options::{Limits, StoreOptions};
use crate::store::StoreLocation;

/// The service's settings, read from a loaded [`Config`].
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where the job store lives.
    pub store: StoreLocation,
    /// Where the HTTP API and dashboard listen.
    pub listen: SocketAddr,
    /// How many notebooks this process runs at once.
    pub workers: usize,
    /// At most this many queued jobs.
    pub queue_capacity: u32,
    /// At most this many running jobs across every worker sharing the store.
    pub max_running: Option<NonZeroU32>,
    /// The notebooks the service may run, by name.
    pub notebooks: BTreeMap<String, NotebookEntry>,
    /// The whole configuration, for the sections other parts read.
    pub config: Config,
}

/// One notebook of the catalogue.
#[derive(Debug, Clone)]
pub struct NotebookEntry {
    /// Its name in the configuration, which jobs and the API use.
    pub name: String,
    /// The `.ipynb` file.
    pub path: PathBuf,
    /// Parameters whose values name its output notebooks (`{key}` in the path template).
    pub key_parameters: Vec<String>,
    /// The longest a run may take; the service default when `None`.
    pub timeout: Option<Duration>,
    /// How many attempts a job of it may take.
    pub max_attempts: u32,
    /// At most this many runs of it at once.
    pub max_running: Option<NonZeroU32>,
    /// Secrets its kernel gets as environment variables: variable name -> where the
    /// value is kept.
    pub secrets: Vec<(String, SecretRef)>,
    /// The most memory its kernel may use, in bytes (`memory_max: 2G`).
    pub memory_max: Option<u64>,
    /// Its whole entry, for the triggers that read their own keys from it.
    pub settings: Value,
}

const SERVICE_KEYS: &[&str] = &[
    "store",
    "listen",
    "workers",
    "queue_capacity",
    "max_running",
    "outputs",
    "incidents",
    "api",
];
const NOTEBOOK_KEYS: &[&str] = &[
    "path",
    "key_parameters",
    "timeout",
    "max_attempts",
    "max_running",
    "memory_max",
    "secrets",
    "schedules",
    "watch",
    "poll",
    "triage",
    "html",
];

impl ServiceConfig {
    /// The service's settings, or every problem found in them.
    pub fn from_config(config: &Config) -> Result<ServiceConfig, Vec<Problem>> {
        let mut problems = Problems::default();
        let service = config.get("Service");
        if let Some(service) = service {
            problems.unknown_keys("Service", service, SERVICE_KEYS);
        }
        let setting = |key: &str| service.and_then(|s| s.get(key)).filter(|v| !v.is_null());

        let store = match setting("store") {
            None => StoreLocation::Sqlite(PathBuf::from("huntbook-jobs.db")),
            Some(value) => {
                let text = value.scalar_text().unwrap_or_default();
                match text.strip_prefix("sqlite:") {
                    // Relative to the file that names it, as every path setting is.
                    Some(path) => StoreLocation::Sqlite(
                        config
                            .path(&Value::new(Kind::Str(path.into()), value.origin.clone()))
                            .unwrap_or_default(),
                    ),
                    None => text.parse().unwrap_or_else(|_| {
                        problems.error(
                            "Service.store",
                            value,
                            "expected sqlite:PATH or a postgresql:// URL",
                        );
                        StoreLocation::Sqlite(PathBuf::new())
                    }),
                }
            }
        };
        let listen = match setting("listen") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(value) => value
                .scalar_text()
                .and_then(|text| text.parse().ok())
                .unwrap_or_else(|| {
                    problems.error(
                        "Service.listen",
                        value,
                        "expected an address and port such as 127.0.0.1:8080",
                    );
                    SocketAddr::from(([127, 0, 0, 1], 8080))
                }),
        };
        let workers = setting("workers")
            .and_then(|v| problems.positive("Service.workers", v))
            .map_or(2, |n| n.get() as usize);
        let queue_capacity = setting("queue_capacity")
            .and_then(|v| problems.positive("Service.queue_capacity", v))
            .map_or(StoreOptions::default().queue_capacity, NonZeroU32::get);
        let max_running =
            setting("max_running").and_then(|v| problems.positive("Service.max_running", v));

        let mut notebooks = BTreeMap::new();
        match config.get("Notebooks") {
            None => {}
            Some(section) => match section.entries() {
                None if section.is_null() => {}
                None => problems.error(
                    "Notebooks",
                    section,
                    format!(
                        "expected a mapping of notebook names, found {}",
                        section.type_name()
                    ),
                ),
                Some(entries) => {
                    for (name, entry) in entries {
                        if let Some(notebook) = problems.notebook(config, name, entry) {
                            notebooks.insert(name.clone(), notebook);
                        }
                    }
                }
            },
        }

        if problems.0.iter().any(|p| p.severity == Severity::Error) {
            return Err(problems.0);
        }
        Ok(ServiceConfig {
            store,
            listen,
            workers,
            queue_capacity,
            max_running,
            notebooks,
            config: config.clone(),
        })
    }

    /// The store rules these settings ask for.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            queue_capacity: self.queue_capacity,
            limits: Limits {
                global: self.max_running,
                per_notebook: self
                    .notebooks
                    .values()
                    .filter_map(|n| Some((n.name.clone(), n.max_running?)))
                    .collect(),
                default_per_notebook: None,
            },
            ..StoreOptions::default()
        }
    }

    /// The job a trigger asks for: the notebook must be in the catalogue and the
    /// parameters must pass [`NotebookEntry::job`].
    pub fn job(
        &self,
        notebook: &str,
        trigger: TriggerKind,
        parameters: serde_json::Map<String, serde_json::Value>,
        scrubber: &Scrubber,
    ) -> Result<NewJob, RequestError> {
        self.notebook(notebook)?.job(trigger, parameters, scrubber)
    }

    /// Every notebook's secrets, resolved now, so that a missing one stops the service
    /// at start rather than failing runs later. Each problem names the setting.
    pub fn resolve_secrets(
        &self,
        resolver: &SecretResolver,
    ) -> Result<ServiceSecrets, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut per_notebook = BTreeMap::new();
        for entry in self.notebooks.values() {
            let mut resolved = Vec::new();
            for (variable, reference) in &entry.secrets {
                match resolver.resolve(reference) {
                    Ok(secret) => resolved.push((variable.clone(), secret)),
                    Err(error) => problems.push(Problem {
                        severity: Severity::Error,
                        key: format!("Notebooks.{}.secrets.{variable}", entry.name),
                        origin: entry
                            .settings
                            .get("secrets")
                            .and_then(|s| s.get(variable))
                            .map(|v| v.origin.clone()),
                        message: error.to_string(),
                    }),
                }
            }
            per_notebook.insert(entry.name.clone(), resolved);
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let scrubber = Scrubber::new(
            per_notebook
                .values()
                .flatten()
                .map(|(_, secret)| secret.expose()),
        );
        Ok(ServiceSecrets {
            per_notebook,
            scrubber,
        })
    }

    /// One notebook of the catalogue, or an error naming the ones there are.
    pub fn notebook(&self, name: &str) -> Result<&NotebookEntry, UnknownNotebook> {
        self.notebooks.get(name).ok_or_else(|| UnknownNotebook {
            name: name.to_owned(),
            known: self.notebooks.keys().cloned().collect(),
        })
    }
}

impl NotebookEntry {
    /// The parameters its `parameters` cell declares, read from the file now (it may
    /// have changed since the service started).
    pub fn declared_parameters(&self) -> Result<Vec<DeclaredParameter>, RequestError> {
        let unreadable = |reason: String| RequestError::NotebookUnreadable {
            notebook: self.name.clone(),
            path: self.path.clone(),
            reason,
        };
        let notebook = read_path(&self.path).map_err(|e| unreadable(e.to_string()))?;
        match inspect(&notebook) {
            Ok(declared) => Ok(declared),
            // A notebook without a parameters cell takes none.
            Err(ParamError::NoParametersCell) => Ok(Vec::new()),
            Err(e) => Err(unreadable(e.to_string())),
        }
    }

    /// Check a request's parameters against what the notebook declares and against
    /// the secrets the service holds, then make the job: its attempts and timeout
    /// are the notebook's. Every trigger goes through here, so a request the API
    /// refuses is refused from a dropped file or a poller too.
    pub fn job(
        &self,
        trigger: TriggerKind,
        parameters: serde_json::Map<String, serde_json::Value>,
        scrubber: &Scrubber,
    ) -> Result<NewJob, RequestError> {
        // Credentials first: such a request is refused whatever else is wrong with it.
        for (name, value) in &parameters {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            check_parameter(name, &text, scrubber).map_err(|refused| match refused {
                SecretParameter::CredentialName(name) => RequestError::CredentialName(name),
                SecretParameter::SecretValue(name) => RequestError::SecretValue(name),
            })?;
        }
        let declared = self.declared_parameters()?;
        let unknown: Vec<String> = parameters
            .keys()
            .filter(|name| !declared.iter().any(|d| &d.name == *name))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(RequestError::UnknownParameters {
                notebook: self.name.clone(),
                unknown,
                declared: declared.into_iter().map(|d| d.name).collect(),
            });
        }
        let mut job = NewJob::new(self.name.clone(), trigger);
        job.parameters = parameters;
        job.max_attempts = self.max_attempts;
        job.timeout = self.timeout;
        Ok(job)
    }
}

/// Why a request to run a notebook was refused before it was queued. Each names
/// what to change; the API answers all but the unreadable notebook with a 4xx.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    UnknownNotebook(#[from] UnknownNotebook),
    #[error("notebook {notebook:?} has no parameter named {} (it declares: {})", unknown.join(", "), if declared.is_empty() { "none".to_string() } else { declared.join(", ") })]
    UnknownParameters {
        notebook: String,
        unknown: Vec<String>,
        declared: Vec<String>,
    },
    #[error("parameter {0:?} looks like a credential: secrets reach a notebook from the service's configuration (its `secrets`), never as parameters")]
    CredentialName(String),
    #[error("the value of parameter {0:?} holds one of the service's secrets: secrets are never passed as parameters")]
    SecretValue(String),
    #[error("notebook {notebook:?} ({}) cannot be read: {reason}", path.display())]
    NotebookUnreadable {
        notebook: String,
        path: PathBuf,
        reason: String,
    },
}

/// The resolved secrets of every notebook, and a scrubber that knows them all (for
/// requests, logs and outputs).
#[derive(Clone)]
pub struct ServiceSecrets {
    per_notebook: BTreeMap<String, Vec<(String, Secret)>>,
    scrubber: Scrubber,
}

impl ServiceSecrets {
    /// No secrets: for workers outside a configured service.
    pub fn none() -> ServiceSecrets {
        ServiceSecrets {
            per_notebook: BTreeMap::new(),
            scrubber: Scrubber::new(Vec::<String>::new()),
        }
    }

    /// The (environment variable, value) pairs a notebook's kernel gets.
    pub fn for_notebook(&self, notebook: &str) -> &[(String, Secret)] {
        self.per_notebook.get(notebook).map_or(&[], Vec::as_slice)
    }

    /// Finds and hides every configured secret.
    pub fn scrubber(&self) -> &Scrubber {
        &self.scrubber
    }
}

/// Shows the variable names only.
impl std::fmt::Debug for ServiceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: BTreeMap<&str, Vec<&str>> = self
            .per_notebook
            .iter()
            .map(|(notebook, secrets)| {
                (
                    notebook.as_str(),
                    secrets.iter().map(|(v, _)| v.as_str()).collect(),
                )
            })
            .collect();
        f.debug_struct("ServiceSecrets")
            .field("variables", &names)
            .finish_non_exhaustive()
    }
}

/// A job named a notebook the configuration does not list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no notebook named {name:?} in the configuration's Notebooks section (it has: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
pub struct UnknownNotebook {
    pub name: String,
    pub known: Vec<String>,
}

/// Problems gathered while reading, so that all are reported at once.
#[derive(Default)]
pub(crate) struct Problems(pub(crate) Vec<Problem>);

impl Problems {
    pub(crate) fn error(&mut self, key: &str, value: &Value, message: impl Into<String>) {
        self.0.push(Problem {
            severity: Severity::Error,
            key: key.to_owned(),
            origin: Some(value.origin.clone()),
            message: message.into(),
        });
    }

    /// A key no part of the service reads is most likely misspelt.
    pub(crate) fn unknown_keys(&mut self, section: &str, value: &Value, known: &[&str]) {
        match value.entries() {
            Some(entries) => {
                for (key, entry) in entries {
                    if !known.contains(&key.as_str()) {
                        self.error(
                            &format!("{section}.{key}"),
                            entry,
                            format!(
                                "unknown setting; the settings here are {}",
                                known.join(", ")
                            ),
                        );
                    }
                }
            }
            None if value.is_null() => {}
            None => self.error(
                section,
                value,
                format!("expected a mapping, found {}", value.type_name()),
            ),
        }
    }

    /// A length of time: whole seconds, or text such as `90s`, `10m` or `1h30m`.
    pub(crate) fn length(&mut self, key: &str, value: &Value) -> Option<Duration> {
        let length = match &value.kind {
            Kind::Int(seconds) if *seconds > 0 => Some(Duration::from_secs(*seconds as u64)),
            Kind::Str(text) => Period::parse(text)
                .ok()
                .and_then(|p| p.as_delta().to_std().ok())
                .filter(|d| !d.is_zero()),
            _ => None,
        };
        if length.is_none() {
            self.error(
                key,
                value,
                format!(
                    "expected seconds or a length such as 10m or 1h30m, found {}",
                    describe(value)
                ),
            );
        }
        length
    }

    fn positive(&mut self, key: &str, value: &Value) -> Option<NonZeroU32> {
        let number = match value.kind {
            Kind::Int(n) => u32::try_from(n).ok().and_then(NonZeroU32::new),
            _ => None,
        };
        if number.is_none() {
            self.error(
                key,
                value,
                format!("expected a whole number above 0, found {}", describe(value)),
            );
        }
        number
    }

    fn notebook(&mut self, config: &Config, name: &str, entry: &Value) -> Option<NotebookEntry> {
        let at = format!("Notebooks.{name}");
        if !valid_name(name) {
            self.error(
                &at,
                entry,
                "a notebook name takes letters, digits, `_` and `-` only (it names URLs and output files)",
            );
        }
        // `name: path/to.ipynb` is the short form of an entry with only a path.
        let path_value = if entry.as_str().is_some() {
            Some(entry)
        } else {
            entry.get("path")
        };
        if entry.as_str().is_none() {
            self.unknown_keys(&at, entry, NOTEBOOK_KEYS);
        }
        let Some(path) = path_value.and_then(|p| config.path(p)) else {
            self.error(&at, entry, "a notebook needs a `path` to its .ipynb file");
            return None;
        };
        if !path.is_file() {
            self.error(
                &format!("{at}.path"),
                path_value.unwrap_or(entry),
                format!("{} is not a file", path.display()),
            );
        }
        let setting = |key: &str| entry.get(key).filter(|v| !v.is_null());
        let key_parameters = match setting("key_parameters") {
            None => Vec::new(),
            Some(value) => match &value.kind {
                Kind::Str(one) => vec![one.clone()],
                Kind::List(items) if items.iter().all(|i| i.as_str().is_some()) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect(),
                _ => {
                    self.error(
                        &format!("{at}.key_parameters"),
                        value,
                        "expected a list of parameter names",
                    );
                    Vec::new()
                }
            },
        };
        let timeout = setting("timeout").and_then(|v| self.length(&format!("{at}.timeout"), v));
        let max_attempts = setting("max_attempts")
            .and_then(|v| self.positive(&format!("{at}.max_attempts"), v))
            .map_or(1, NonZeroU32::get);
        let max_running =
            setting("max_running").and_then(|v| self.positive(&format!("{at}.max_running"), v));
        let memory_max = setting("memory_max").and_then(|value| {
            let bytes = value.scalar_text().as_deref().and_then(parse_size);
            if bytes.is_none() {
                self.error(
                    &format!("{at}.memory_max"),
                    value,
                    format!(
                        "expected a size such as 512M or 2G (or bytes), found {}",
                        describe(value)
                    ),
                );
            }
            bytes
        });
        let mut secrets = Vec::new();
        match setting("secrets").map(|v| (v, v.entries())) {
            None => {}
            Some((_, Some(entries))) => {
                for (variable, _) in entries {
                    let key = format!("{at}.secrets.{variable}");
                    match config.secret(&key) {
                        Ok(Some(reference)) => secrets.push((variable.clone(), reference)),
                        Ok(None) => {}
                        Err(problem) => self.0.push(problem),
                    }
                }
            }
            Some((value, None)) => self.error(
                &format!("{at}.secrets"),
                value,
                "expected a mapping of environment variable names to secret references, such as VT_API_KEY: {EnvironmentVar: VT_KEY}",
            ),
        }
        Some(NotebookEntry {
            name: name.to_owned(),
            path,
            key_parameters,
            timeout,
            max_attempts,
            max_running,
            secrets,
            memory_max,
            settings: entry.clone(),
        })
    }
}

/// `512M`, `2G`, `1.5GiB` or a number of bytes; units are powers of 1024, as in
/// systemd's `MemoryMax=`.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let shift = match unit
        .trim()
        .trim_end_matches(['B', 'b'])
        .trim_end_matches('i')
    {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        "T" | "t" => 40,
        _ => return None,
    };
    let bytes = number * (1u64 << shift) as f64;
    (bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Names travel in URLs, file names and SQL parameters: keep them plain.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(crate) fn describe(value: &Value) -> String {
    match value.scalar_text() {
        Some(text) => format!("{text:?}"),
        None => value.type_name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(folder: &Path, yaml: &str) -> Result<ServiceConfig, Vec<Problem>> {
        let file = folder.join("huntbook.yaml");
        std::fs::write(&file, yaml).unwrap();
        let config = Config::from_yaml(&[(file.as_path(), yaml)]).unwrap();
        ServiceConfig::from_config(&config)
    }

    #[test]
    fn reads_the_service_and_its_notebooks() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("ip.ipynb"), "{}").unwrap();
        let service = load(
            folder.path(),
            "Service:\n  store: sqlite:state/jobs.db\n  listen: 0.0.0.0:9000\n  workers: 3\n  queue_capacity: 50\n  max_running: 4\n\
             Notebooks:\n  ip_triage:\n    path: ip.ipynb\n    key_parameters: [ip_address]\n    timeout: 10m\n    max_attempts: 2\n    max_running: 1\n    secrets:\n      VT_API_KEY: {EnvironmentVar: VT_KEY}\n  short: ip.ipynb\n",
        )
        .unwrap();
        assert_eq!(
            service.store,
            StoreLocation::Sqlite(folder.path().join("state/jobs.db"))
        );
        assert_eq!(service.listen.to_string(), "0.0.0.0:9000");
        assert_eq!((service.workers, service.queue_capacity), (3, 50));
        let ip = service.notebook("ip_triage").unwrap();
        assert_eq!(ip.path, folder.path().join("ip.ipynb"));
        assert_eq!(ip.key_parameters, ["ip_address"]);
        assert_eq!(ip.timeout, Some(Duration::from_secs(600)));
        assert_eq!(ip.max_attempts, 2);
        assert_eq!(
            ip.secrets,
            [(
                "VT_API_KEY".to_string(),
                SecretRef::EnvironmentVar {
                    name: "VT_KEY".into()
                }
            )]
        );
        assert_eq!(service.notebook("short").unwrap().max_attempts, 1);
        assert_eq!(ip.memory_max, None);
        let options = service.store_options();
        assert_eq!(options.queue_capacity, 50);
        assert_eq!(options.limits.global, NonZeroU32::new(4));
        assert_eq!(options.limits.for_notebook("ip_triage"), NonZeroU32::new(1));
        let unknown = service.notebook("nope").unwrap_err().to_string();
        assert!(
            unknown.contains("\"nope\"") && unknown.contains("ip_triage, short"),
            "{unknown}"
        );
    }

    #[test]
    fn requests_are_checked_against_the_notebooks_parameters_and_secrets() {
        let folder = tempfile::tempdir().unwrap();
        let notebook = serde_json::json!({
            "nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]},
                       "source": "ip_address = \"\"\nlookback = 1\n", "outputs": [], "execution_count": null}]
        });
        std::fs::write(folder.path().join("ip.ipynb"), notebook.to_string()).unwrap();
        let service = load(
            folder.path(),
            "Notebooks:\n  ip:\n    path: ip.ipynb\n    timeout: 60\n    max_attempts: 2\n",
        )
        .unwrap();
        let scrubber = Scrubber::new(["s3cr3t-value"]);
        let params = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect()
        };
        let job = service
            .job(
                "ip",
                TriggerKind::OnDemand,
                params(&[("ip_address", "1.2.3.4")]),
                &scrubber,
            )
            .unwrap();
        assert_eq!(
            (job.max_attempts, job.timeout),
            (2, Some(Duration::from_secs(60)))
        );
        assert_eq!(job.parameters["ip_address"], "1.2.3.4");

        let refused = |pairs: &[(&str, &str)]| {
            service
                .job("ip", TriggerKind::OnDemand, params(pairs), &scrubber)
                .unwrap_err()
        };
        let unknown = refused(&[("ip_adress", "1.2.3.4")]).to_string();
        assert!(
            unknown.contains("ip_adress") && unknown.contains("ip_address, lookback"),
            "{unknown}"
        );
        assert_eq!(
            refused(&[("api_key", "x")]),
            RequestError::CredentialName("api_key".into())
        );
        assert_eq!(
            refused(&[("ip_address", "x s3cr3t-value y")]),
            RequestError::SecretValue("ip_address".into())
        );
        assert!(matches!(
            service.job("other", TriggerKind::OnDemand, params(&[]), &scrubber),
            Err(RequestError::UnknownNotebook(_))
        ));
        std::fs::write(folder.path().join("ip.ipynb"), "not json").unwrap();
        assert!(matches!(
            refused(&[]),
            RequestError::NotebookUnreadable { .. }
        ));
    }

    #[test]
    fn sizes_read_as_systemd_reads_them() {
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("2 GB"), Some(2 << 30));
        for bad in ["", "G", "lots", "-1G", "0", "3X"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_resolve_per_notebook_and_a_missing_one_names_its_setting() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("a.ipynb"), "{}").unwrap();
        std::fs::write(folder.path().join("key.txt"), "file-secret-value\n").unwrap();
        let service = load(
            folder.path(),
            "Notebooks:\n  a:\n    path: a.ipynb\n    memory_max: 1G\n    secrets:\n      VT_KEY: {File: key.txt}\n  b: a.ipynb\n",
        )
        .unwrap();
        assert_eq!(service.notebook("a").unwrap().memory_max, Some(1 << 30));
        let secrets = service.resolve_secrets(&SecretResolver::local()).unwrap();
        let a = secrets.for_notebook("a");
        assert_eq!(
            (a[0].0.as_str(), a[0].1.expose()),
            ("VT_KEY", "file-secret-value")
        );
        assert!(secrets.for_notebook("b").is_empty());
        assert!(secrets.scrubber().finds("x file-secret-value y"));
        assert!(!format!("{secrets:?}").contains("file-secret-value"));

        std::fs::remove_file(folder.path().join("key.txt")).unwrap();
        let problems = service
            .resolve_secrets(&SecretResolver::local())
            .unwrap_err();
        let text = problems[0].to_string();
        assert!(
            text.contains("Notebooks.a.secrets.VT_KEY") && text.contains("huntbook.yaml:"),
            "{text}"
        );
    }

    #[test]
    fn defaults_need_no_service_section() {
        let folder = tempfile::tempdir().unwrap();
        let service = load(folder.path(), "Notebooks:\n").unwrap();
        assert_eq!(service.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(service.workers, 2);
        assert!(service.notebooks.is_empty());
    }

    #[test]
    fn every_mistake_is_reported_with_its_line() {
        let folder = tempfile::tempdir().unwrap();
        let problems = load(
            folder.path(),
            "Service:\n  store: mysql://x\n  listen: localhost\n  workers: 0\n  wokers: 2\n\
             Notebooks:\n  bad name:\n    path: missing.ipynb\n    timeout: soon\n    secrets: [x]\n  nopath:\n    timeout: 5\n",
        )
        .unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |needle: &str| text.iter().any(|t| t.contains(needle));
        assert!(has("Service.store") && has("huntbook.yaml:2"), "{text:#?}");
        assert!(has("Service.listen"), "{text:#?}");
        assert!(has("Service.workers"), "{text:#?}");
        assert!(has("Service.wokers") && has("unknown setting"), "{text:#?}");
        assert!(has("letters, digits"), "{text:#?}");
        assert!(has("missing.ipynb is not a file"), "{text:#?}");
        assert!(has("Notebooks.bad name.timeout"), "{text:#?}");
        assert!(has("Notebooks.bad name.secrets"), "{text:#?}");
        assert!(
            has("Notebooks.nopath") && has("needs a `path`"),
            "{text:#?}"
        );
    }
}
