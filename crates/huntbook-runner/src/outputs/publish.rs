//! The worker's after-run step: store the output notebook the engine wrote to its
//! temporary place, with its HTML copy, record where they went, and turn the run's
//! finding into incidents.
//!
//! The finding is stored after the outputs, so it links to them; its deliveries are
//! recorded before any is sent. Each run's end is then a round of deliveries
//! ([`Dispatcher::deliver_due`]): the new ones and the retries that have come due. A
//! sink that fails leaves its delivery to a later round, never fails the run: only
//! outputs that could not be stored do.

use std::path::Path as FilePath;
use std::sync::Arc;

use huntbook_core::config::Problem;
use huntbook_core::secret::SecretResolver;
use huntbook_notebook::export::{to_html, ExportOptions};
use huntbook_notebook::io::{read_path, to_string};
use object_store::path::Path;

use super::naming::{html_path, output_path};
use super::retention::delete_expired;
use super::settings::OutputSettings;
use super::storage::OutputStore;
use super::OutputsError;
use crate::config::ServiceConfig;
use crate::findings::sinks::config::IncidentSettings;
use crate::findings::sinks::{DeliveryRound, Dispatcher, SinkError};
use crate::findings::{read_finding, Finding, RunOutputs};
use crate::model::{Claim, Outcome};
use crate::store::JobStore;

/// The job parameter that names the triggering incident of a triage notebook.
pub const INCIDENT_PARAMETER: &str = "incident_id";

/// What the after-run step did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Published {
    pub outputs: RunOutputs,
    pub finding: Option<Finding>,
    /// The first round of deliveries of the finding.
    pub deliveries: DeliveryRound,
    /// Why that round stopped early, if it did (the deliveries wait in the store).
    pub delivery_error: Option<String>,
}

/// Why the after-run step could not be set up from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.key, p.message)).collect::<Vec<_>>().join("; "))]
    Config(Vec<Problem>),
    #[error(transparent)]
    Outputs(#[from] OutputsError),
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// Stores runs' outputs and raises their findings.
#[derive(Debug, Clone)]
pub struct Publisher {
    store: Arc<JobStore>,
    outputs: OutputStore,
    settings: OutputSettings,
    dispatcher: Dispatcher,
}

impl Publisher {
    /// A publisher with these settings, sending findings through `dispatcher`.
    pub fn new(
        store: Arc<JobStore>,
        settings: OutputSettings,
        dispatcher: Dispatcher,
    ) -> Result<Publisher, OutputsError> {
        let outputs = OutputStore::open(&settings.location, &settings.options)?;
        Ok(Publisher {
            store,
            outputs,
            settings,
            dispatcher,
        })
    }

    /// The publisher a service's configuration asks for (`Service.outputs`,
    /// `Service.incidents`, the notebooks' `html` and `triage`).
    pub fn from_service(
        service: &ServiceConfig,
        store: Arc<JobStore>,
        resolver: &SecretResolver,
    ) -> Result<Publisher, SetupError> {
        let settings = OutputSettings::from_service(service).map_err(SetupError::Config)?;
        let incidents =
            IncidentSettings::from_config(&service.config).map_err(SetupError::Config)?;
        let sinks = incidents.build(store.clone(), resolver)?;
        let dispatcher = Dispatcher::new(store.clone(), sinks, incidents.policy);
        Ok(Publisher::new(store, settings, dispatcher)?)
    }

    /// Where outputs go.
    pub fn outputs(&self) -> &OutputStore {
        &self.outputs
    }

    /// The deliveries of findings to sinks.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// Store the output notebook the engine wrote at `written` for `claim`'s run,
    /// then its finding. Nothing is stored when the engine wrote nothing (the run
    /// failed before it started); the temporary file is removed once stored.
    pub async fn publish(
        &self,
        claim: &Claim,
        written: &FilePath,
    ) -> Result<Published, OutputsError> {
        if !written.exists() {
            return Ok(Published::default());
        }
        let mut nb = read_path(written).map_err(|e| OutputsError::Read {
            path: written.display().to_string(),
            message: e.to_string(),
        })?;
        let (job, run) = (&claim.job, &claim.run);
        let finding = read_finding(&nb);
        if self.settings.report {
            for cell in nb.cells.iter_mut().filter(|c| c.is_code()) {
                cell.hide_source();
            }
        }
        let notebook = self.settings.notebooks.get(&job.notebook);
        let keys = notebook.map_or(&[][..], |n| &n.key_parameters[..]);
        // The run's start names it, so storing it again names it the same.
        let path = output_path(&self.settings.path, job, run, keys, run.started_at)?;
        let mut outputs = RunOutputs {
            notebook: Some(self.outputs.put(&path, to_string(&nb).into_bytes()).await?),
            html: None,
        };
        if self
            .settings
            .html_for(&job.notebook)
            .wants(finding.is_some())
        {
            let options = ExportOptions {
                no_input: self.settings.report,
                ..ExportOptions::default()
            };
            let html = to_html(&nb, &options).into_bytes();
            outputs.html = Some(self.outputs.put(&html_path(&path), html).await?);
        }
        self.store.record_outputs(run.id, outputs.clone()).await?;
        // The temporary copy has served its purpose; a leftover one is harmless.
        let _ = std::fs::remove_file(written);

        let mut published = Published {
            outputs,
            ..Published::default()
        };
        if let Some(new) = finding {
            let triage_incident = notebook
                .filter(|n| n.triage)
                .and_then(|_| job.parameters.get(INCIDENT_PARAMETER))
                .map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned));
            let finding = self.store.add_finding(run.id, new, triage_incident).await?;
            self.dispatcher.raise(&finding).await?;
            published.finding = Some(finding);
        }
        // Every run's end is a delivery round: this finding's deliveries, and the
        // retries that have come due since the last one. Storing took time and the
        // sinks may take more: renew the run's lease first (a run that is no longer
        // running is the store's to settle, so a refusal changes nothing here).
        let _ = self.store.heartbeat(run.id).await;
        match self.dispatcher.deliver_due().await {
            Ok(round) => published.deliveries = round,
            Err(e) => published.delivery_error = Some(e.to_string()),
        }
        Ok(published)
    }

    /// The worker's step: publish, and fail the run when its outputs could not be
    /// stored (so it is retried while attempts are left).
    pub(crate) async fn after_run(
        &self,
        claim: &Claim,
        written: &FilePath,
        outcome: Outcome,
    ) -> Outcome {
        let Err(error) = self.publish(claim, written).await else {
            return outcome;
        };
        let lost = format!("its outputs could not be stored: {error}");
        match outcome {
            Outcome::Succeeded => Outcome::Failed(format!("the notebook ran, but {lost}")),
            Outcome::Failed(reason) => Outcome::Failed(format!("{reason}; and {lost}")),
            Outcome::TimedOut(reason) => Outcome::TimedOut(format!("{reason}; and {lost}")),
            Outcome::Cancelled(reason) => Outcome::Cancelled(format!("{reason}; and {lost}")),
        }
    }

    /// Delete outputs older than `Service.outputs.retention` (none when it is unset).
    pub async fn apply_retention(&self) -> Result<Vec<Path>, OutputsError> {
        match self.settings.retention {
            None => Ok(Vec::new()),
            Some(keep) => {
                delete_expired(&self.outputs, keep, self.store.options().clock.now()).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path as FsPath;

    use huntbook_core::config::Config;

    use super::*;
    use crate::{StoreLocation, StoreOptions};

    async fn from_yaml(folder: &FsPath, yaml: &str) -> Result<Publisher, SetupError> {
        std::fs::write(folder.join("nb.ipynb"), "{}").unwrap();
        let file = folder.join("huntbook.yaml");
        let config = Config::from_yaml(&[(&file, yaml)]).unwrap();
        let service = ServiceConfig::from_config(&config).unwrap();
        let location = StoreLocation::Sqlite(folder.join("jobs.db"));
        let store = Arc::new(
            JobStore::open(&location, StoreOptions::default())
                .await
                .unwrap(),
        );
        Publisher::from_service(&service, store, &SecretResolver::local())
    }

    #[tokio::test]
    async fn the_service_configuration_makes_the_publisher() {
        let folder = tempfile::tempdir().unwrap();
        let yaml = "\
Service:
  outputs: {location: out, html: always}
Notebooks:
  hunt: nb.ipynb
";
        let publisher = from_yaml(folder.path(), yaml).await.unwrap();
        let root = folder.path().join("out").canonicalize().unwrap();
        assert_eq!(
            publisher.outputs().locate(&Path::from("a.ipynb")),
            root.join("a.ipynb").display().to_string()
        );
        assert!(format!("{:?}", publisher.dispatcher()).contains("\"local\""));
    }

    #[tokio::test]
    async fn a_sink_secret_that_cannot_be_read_is_named_not_shown() {
        let folder = tempfile::tempdir().unwrap();
        let yaml = "\
Service:
  incidents:
    sinks:
      - webhook: {url: 'http://127.0.0.1:9/hook', secret: {EnvironmentVar: HUNTBOOK_TEST_NO_SUCH_HOOK_KEY}}
  outputs: {html: sometimes}
";
        let error = from_yaml(folder.path(), yaml)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("Service.outputs.html"), "{error}");
        let yaml = "\
Service:
  incidents:
    sinks:
      - webhook: {url: 'http://127.0.0.1:9/hook', secret: {EnvironmentVar: HUNTBOOK_TEST_NO_SUCH_HOOK_KEY}}
";
        let error = from_yaml(folder.path(), yaml).await.unwrap_err();
        assert!(matches!(error, SetupError::Sink(_)), "{error:?}");
        assert!(
            error.to_string().contains("HUNTBOOK_TEST_NO_SUCH_HOOK_KEY"),
            "{error}"
        );
    }
}
