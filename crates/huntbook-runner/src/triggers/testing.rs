//! What the triggers' tests share: a catalogue of one notebook, `probe`, whose
//! parameters cell declares the names the tests pass, written to a temporary folder
//! with the trigger settings under test.

use std::sync::Arc;

use huntbook_core::config::{Config, Problem};
use huntbook_notebook::secrets::Scrubber;

use super::{Context, SourceAccess, Triggers};
use crate::store::tests::Fixture;
use crate::{JobFilter, ServiceConfig, TriggerKind};

/// The parameters `probe` declares.
const PARAMETERS: &str =
    "host_name = \"\"\nincident_id = \"\"\ntitle = \"\"\nseverity = \"\"\nip_address = \"\"\nlookback = 1\n";

/// A catalogue in its own folder, which lives as long as this does.
pub(crate) struct Probe {
    pub folder: tempfile::TempDir,
    pub service: Arc<ServiceConfig>,
}

/// The catalogue with `settings` (lines indented by four spaces) added to
/// `probe`'s entry. Line 4 of huntbook.yaml is the first line of `settings`.
pub(crate) fn probe(settings: &str) -> Probe {
    let folder = tempfile::tempdir().unwrap();
    let notebook = serde_json::json!({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]},
                   "source": PARAMETERS, "outputs": [], "execution_count": null}]
    });
    std::fs::write(folder.path().join("probe.ipynb"), notebook.to_string()).unwrap();
    let yaml = format!("Notebooks:\n  probe:\n    path: probe.ipynb\n{settings}");
    let file = folder.path().join("huntbook.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let config = Config::from_yaml(&[(file.as_path(), yaml.as_str())]).unwrap();
    let service = ServiceConfig::from_config(&config).unwrap();
    Probe {
        folder,
        service: Arc::new(service),
    }
}

/// The service of [`probe`], for tests that need no folder afterwards.
pub(crate) fn service_with(settings: &str) -> ServiceConfig {
    (*probe(settings).service).clone()
}

/// The problems [`Triggers::from_service`] finds in `settings`.
pub(crate) fn problems_of(settings: &str) -> Vec<Problem> {
    Triggers::from_service(&service_with(settings))
        .unwrap_err()
        .0
}

impl Probe {
    /// A context on a store of the fixture's database, with no secrets.
    pub async fn context(&self, f: &Fixture) -> Context {
        Context {
            service: self.service.clone(),
            store: Arc::new(f.open(|_| {}).await),
            scrubber: Arc::new(Scrubber::new(Vec::<String>::new())),
        }
    }
}

/// Access for pollers with no Azure sign-in and the local secret sources.
pub(crate) fn no_azure() -> SourceAccess {
    SourceAccess {
        secrets: huntbook_core::secret::SecretResolver::local(),
        azure: Box::new(|_| Err("no Azure sign-in in this test".into())),
        arm_url: None,
    }
}

/// Every job of the store, each made by `trigger`: its key and parameters, by key.
pub(crate) async fn jobs_by_key(
    context: &Context,
    trigger: TriggerKind,
) -> Vec<(String, serde_json::Map<String, serde_json::Value>)> {
    let mut jobs: Vec<_> = context
        .store
        .jobs(JobFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|job| {
            assert_eq!(job.trigger, trigger);
            (job.idempotency_key.unwrap(), job.parameters)
        })
        .collect();
    jobs.sort_by(|a, b| a.0.cmp(&b.0));
    jobs
}

/// Wait until `done` holds, checking every 10 ms; fail naming `what` after 30 s.
pub(crate) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
