//! A worker: claims jobs from a [`JobStore`] and runs their notebooks on a Jupyter
//! kernel with the engine behind `huntbook run`, then reports how each run ended.
//!
//! While a notebook runs, the worker heartbeats every [`WorkerOptions::heartbeat_every`]:
//! that keeps its lease, and it is how the worker learns that a user asked to cancel
//! the job. A cancel request, the job's timeout, or the loss of the run (its lease ran
//! out and another worker reaped it) stop the notebook through the engine's stop
//! channel, which interrupts the kernel and saves the output notebook as it stood.
//!
//! Running a notebook keeps non-`Send` state, so a worker's futures run where they are
//! awaited (`block_on`, a `LocalSet`, or one task), one job at a time; a service runs
//! several workers for several jobs at once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use huntbook_kernel::engine::EngineOptions;
use huntbook_kernel::run::{execute_notebook, ExecuteRequest, Failure};
use huntbook_kernel::{KernelPool, LaunchOptions};
use huntbook_notebook::params::{ParamValue, Parameters};
use tokio::sync::watch;

use crate::config::{ServiceConfig, ServiceSecrets};
use crate::error::StoreError;
use crate::live_log::LiveLog;
use crate::model::{Claim, Job, Outcome, Settled};
use crate::outputs::Publisher;
use crate::store::JobStore;

/// How a worker finds and runs notebooks.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The worker's name, recorded on each run it claims.
    pub name: String,
    /// The notebooks it may run: name in the configuration -> `.ipynb` path.
    pub notebooks: BTreeMap<String, PathBuf>,
    /// Where output notebooks go, as `NOTEBOOK/RUN_ID.ipynb` below it.
    pub output_dir: PathBuf,
    /// The kernel to use instead of the one the notebook names.
    pub kernel_name: Option<String>,
    /// A Python interpreter or venv whose kernels and interpreter to use.
    pub python: Option<PathBuf>,
    /// The timeout of jobs that set none.
    pub default_timeout: Duration,
    /// How often to heartbeat while a notebook runs (well within the store's lease).
    pub heartbeat_every: Duration,
    /// How long [`Worker::serve`] waits before looking again when the queue is empty.
    pub idle_wait: Duration,
    /// The after-run step: store the output notebook written below `output_dir` and
    /// raise the run's finding; `None` leaves the notebook where the engine wrote it.
    pub after_run: Option<Arc<Publisher>>,
    /// Each notebook's secrets, which its kernel gets as environment variables and
    /// which are scrubbed from outputs and the live log.
    pub secrets: ServiceSecrets,
    /// Start kernels with only a base environment of ours plus the notebook's secrets
    /// (what a service does, so that no notebook sees the service's own credentials).
    pub isolate_env: bool,
    /// The most memory each notebook's kernel may use, in bytes, by notebook name.
    pub memory_max: BTreeMap<String, u64>,
    /// Take kernels from this pool of pre-started ones.
    pub pool: Option<KernelPool>,
}

impl WorkerOptions {
    /// A worker of the service configured in `service`: its notebooks, their secrets
    /// and memory limits, kernels started isolated.
    pub fn from_service(
        name: impl Into<String>,
        service: &ServiceConfig,
        secrets: ServiceSecrets,
        output_dir: impl Into<PathBuf>,
    ) -> WorkerOptions {
        let notebooks = service
            .notebooks
            .values()
            .map(|n| (n.name.clone(), n.path.clone()))
            .collect();
        let mut options = WorkerOptions::new(name, notebooks, output_dir);
        options.secrets = secrets;
        options.isolate_env = true;
        options.memory_max = service
            .notebooks
            .values()
            .filter_map(|n| Some((n.name.clone(), n.memory_max?)))
            .collect();
        options
    }

    /// How a kernel for `notebook` is started, before its secrets are added to the
    /// environment (the engine adds them): what a pooled kernel must match.
    pub fn launch_options(&self, notebook: &str) -> LaunchOptions {
        LaunchOptions {
            isolate_env: self.isolate_env,
            memory_max: self.memory_max.get(notebook).copied(),
            ..LaunchOptions::default()
        }
    }

    /// A worker named `name` running `notebooks`, writing below `output_dir`: one-hour
    /// timeout, a heartbeat every 10 s, one idle second between empty claims.
    pub fn new(
        name: impl Into<String>,
        notebooks: BTreeMap<String, PathBuf>,
        output_dir: impl Into<PathBuf>,
    ) -> WorkerOptions {
        WorkerOptions {
            name: name.into(),
            notebooks,
            output_dir: output_dir.into(),
            kernel_name: None,
            python: None,
            default_timeout: Duration::from_secs(3600),
            heartbeat_every: Duration::from_secs(10),
            idle_wait: Duration::from_secs(1),
            after_run: None,
            secrets: ServiceSecrets::none(),
            isolate_env: false,
            memory_max: BTreeMap::new(),
            pool: None,
        }
    }
}

/// Why the worker stopped a notebook before it ended by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    TimedOut(Duration),
    /// The store no longer counts the run as running: someone else owns the job now.
    Lost,
}

/// A worker over one store.
#[derive(Debug)]
pub struct Worker {
    store: Arc<JobStore>,
    options: WorkerOptions,
}

/// The engine's stop channel takes a signal number; the run's reason says the real cause.
const STOP_SIGNAL: i32 = 15;

impl Worker {
    /// A worker claiming from `store`.
    pub fn new(store: Arc<JobStore>, options: WorkerOptions) -> Worker {
        Worker { store, options }
    }

    /// Claim one job and run it to its end; `None` when nothing could be claimed.
    /// A run lost while it ran (its lease expired and it was reaped) gives
    /// [`StoreError::RunNotActive`]: the job is someone else's now.
    pub async fn run_one(&self) -> Result<Option<Settled>, StoreError> {
        let Some(claim) = self.store.claim(&self.options.name).await? else {
            return Ok(None);
        };
        let (stop, outcome) = self.execute(&claim).await;
        if stop == Some(Stop::Lost) {
            return Err(StoreError::RunNotActive {
                run: claim.run.id,
                state: self.store.run(claim.run.id).await?.state,
            });
        }
        let outcome = match &self.options.after_run {
            Some(publisher) => {
                publisher
                    .after_run(&claim, &self.output_path(&claim), outcome)
                    .await
            }
            None => outcome,
        };
        self.store.finish(claim.run.id, outcome).await.map(Some)
    }

    /// Where the engine writes the claimed run's output notebook.
    fn output_path(&self, claim: &Claim) -> PathBuf {
        self.options
            .output_dir
            .join(&claim.job.notebook)
            .join(format!("{}.ipynb", claim.run.id))
    }

    /// Reap lost runs and run jobs until `shutdown` turns true or its sender is
    /// dropped (checked between jobs).
    pub async fn serve(&self, mut shutdown: watch::Receiver<bool>) -> Result<(), StoreError> {
        while !*shutdown.borrow_and_update() {
            self.store.reap().await?;
            // Armed before the claim: a job queued after it found the queue empty
            // still wakes this worker.
            let queued = self.store.queued();
            tokio::pin!(queued);
            queued.as_mut().enable();
            match self.run_one().await {
                Ok(Some(_)) | Err(StoreError::RunNotActive { .. }) => continue,
                Ok(None) => {}
                Err(error) => return Err(error),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.options.idle_wait) => {}
                _ = &mut queued => {}
                // A dropped sender can never say "stop" again: stop now.
                changed = shutdown.changed() => if changed.is_err() { return Ok(()) },
            }
        }
        Ok(())
    }

    /// Run the claimed job's notebook, heartbeating; why it was stopped, if it was,
    /// and the outcome to report.
    async fn execute(&self, claim: &Claim) -> (Option<Stop>, Outcome) {
        let request = match self.request(claim) {
            Ok(request) => request,
            Err(reason) => return (None, Outcome::Failed(reason)),
        };
        let timeout = claim.job.timeout.unwrap_or(self.options.default_timeout);
        let (stop_tx, mut stop_rx) = watch::channel(None);
        let live_log = LiveLog::start(
            self.store.clone(),
            claim.run.id,
            self.options.secrets.scrubber(),
        );
        let mut observer = live_log.observer();
        let run = execute_notebook(&request, &mut observer, &mut stop_rx);
        tokio::pin!(run);
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut heartbeat = tokio::time::interval(self.options.heartbeat_every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stopped = None;
        let report = loop {
            let stop = tokio::select! {
                report = &mut run => break report,
                _ = &mut deadline, if stopped.is_none() => Some(Stop::TimedOut(timeout)),
                _ = heartbeat.tick() => match self.store.heartbeat(claim.run.id).await {
                    Ok(beat) if beat.cancel_requested => Some(Stop::Cancelled),
                    Ok(_) => None,
                    Err(StoreError::RunNotActive { .. }) => Some(Stop::Lost),
                    // A store that cannot be reached now may be back by the next
                    // beat; the lease allows for a few missed ones.
                    Err(_) => None,
                },
            };
            if let (None, Some(stop)) = (stopped, stop) {
                stopped = Some(stop);
                let _ = stop_tx.send(Some(STOP_SIGNAL));
            }
        };
        live_log.finish().await;
        (stopped, outcome(stopped, report))
    }

    /// What the engine needs to run the claimed job.
    fn request(&self, claim: &Claim) -> Result<ExecuteRequest, String> {
        let job = &claim.job;
        let input = self.options.notebooks.get(&job.notebook).ok_or_else(|| {
            format!(
                "no notebook named '{}' is configured for this worker (it knows: {})",
                job.notebook,
                self.options
                    .notebooks
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let output = self.output_path(claim);
        Ok(ExecuteRequest {
            input_path: input.display().to_string(),
            output_path: Some(output.display().to_string()),
            parameters: parameters(job),
            kernel_name: self.options.kernel_name.clone(),
            language: None,
            python: self.options.python.clone(),
            prepare_only: false,
            report_mode: false,
            inject_input_path: false,
            inject_output_path: false,
            engine: EngineOptions {
                launch: self.options.launch_options(&job.notebook),
                execution_timeout: None,
                interrupt_grace: Duration::from_secs(5),
                allow_errors: false,
                autosave_every: Duration::from_secs(10),
                max_cell_output: 1 << 20,
                pool: self.options.pool.clone(),
            },
            secrets: self.options.secrets.for_notebook(&job.notebook).to_vec(),
        })
    }
}

/// A job's parameters as the engine takes them.
pub(crate) fn parameters(job: &Job) -> Parameters {
    let mut parameters = Parameters::new();
    for (name, value) in &job.parameters {
        parameters.set(name, ParamValue::from_json(value));
    }
    parameters
}

/// The outcome to report for a run that ended with `report` after `stopped`.
fn outcome(
    stopped: Option<Stop>,
    report: Result<huntbook_kernel::run::ExecuteReport, Failure>,
) -> Outcome {
    match (stopped, report) {
        (Some(Stop::TimedOut(after)), _) => Outcome::TimedOut(format!(
            "the run went past the job's timeout of {} s and was stopped",
            after.as_secs_f64()
        )),
        (Some(Stop::Cancelled), _) => Outcome::Cancelled("stopped on a cancel request".into()),
        (_, Err(failure)) => Outcome::Failed(failure.to_string()),
        (_, Ok(report)) => match report.failure {
            None => Outcome::Succeeded,
            Some(failure @ Failure::Timeout { .. }) => Outcome::TimedOut(failure.to_string()),
            Some(failure) => Outcome::Failed(failure.to_string()),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! On a real ipykernel: the venv's interpreter is `$HUNTBOOK_TEST_PYTHON`, else
    //! `<workspace>/.venv/bin/python`; missing is a failure, not a skip.

    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::{Backoff, NewJob, State, StoreLocation, StoreOptions, TriggerKind};

    pub(crate) fn python() -> PathBuf {
        let path = std::env::var_os("HUNTBOOK_TEST_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
            });
        assert!(
            path.exists(),
            "no Python interpreter at {}: run scripts/setup --test to create the venv with \
             ipykernel, or set HUNTBOOK_TEST_PYTHON",
            path.display()
        );
        path
    }

    /// A python3 notebook: a `parameters` cell, then `cells`.
    pub(crate) fn notebook(folder: &Path, name: &str, parameters: &str, cells: &[&str]) -> PathBuf {
        let code = |source: &str, tags: &[&str]| {
            json!({"cell_type": "code", "execution_count": null, "outputs": [],
                   "metadata": {"tags": tags}, "source": source})
        };
        let mut all = vec![code(parameters, &["parameters"])];
        all.extend(cells.iter().map(|source| code(source, &[])));
        let nb = json!({
            "nbformat": 4, "nbformat_minor": 5, "cells": all,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        });
        let path = folder.join(format!("{name}.ipynb"));
        std::fs::write(&path, nb.to_string()).unwrap();
        path
    }

    struct Setup {
        folder: tempfile::TempDir,
        store: Arc<JobStore>,
        worker: Worker,
    }

    async fn setup() -> Setup {
        setup_with_clock(Arc::new(crate::SystemClock)).await
    }

    async fn setup_with_clock(clock: Arc<dyn crate::Clock>) -> Setup {
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path();
        let notebooks = BTreeMap::from([
            (
                "double".to_owned(),
                notebook(dir, "double", "x = 1", &["print('result', x * 2)"]),
            ),
            (
                "fails".to_owned(),
                notebook(
                    dir,
                    "fails",
                    "x = 1",
                    &["raise ValueError('bad input %s' % x)"],
                ),
            ),
            (
                "sleeps".to_owned(),
                notebook(
                    dir,
                    "sleeps",
                    "seconds = 60",
                    &["import time; time.sleep(seconds)"],
                ),
            ),
        ]);
        let options = StoreOptions {
            lease: Duration::from_secs(30),
            backoff: Backoff {
                initial: Duration::ZERO,
                max: Duration::ZERO,
            },
            clock,
            ..StoreOptions::default()
        };
        let location = StoreLocation::Sqlite(dir.join("jobs.db"));
        let store = Arc::new(JobStore::open(&location, options).await.unwrap());
        let mut worker_options = WorkerOptions::new("w1", notebooks, dir.join("out"));
        worker_options.python = Some(python());
        worker_options.heartbeat_every = Duration::from_millis(100);
        let worker = Worker::new(store.clone(), worker_options);
        Setup {
            folder,
            store,
            worker,
        }
    }

    fn request(notebook: &str, parameters: serde_json::Value) -> NewJob {
        let mut new = NewJob::new(notebook, TriggerKind::OnDemand);
        new.parameters = parameters.as_object().unwrap().clone();
        new
    }

    /// Enqueue a job of the notebook that sleeps a minute; its id.
    async fn sleeper(s: &Setup) -> uuid::Uuid {
        let new = request("sleeps", json!({}));
        s.store.enqueue(new).await.unwrap().job.id
    }

    async fn until_running(s: &Setup, id: uuid::Uuid) {
        while s.store.job(id).await.unwrap().state != State::Running {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn output_text(setup: &Setup, settled: &Settled) -> String {
        let path = setup
            .folder
            .path()
            .join("out")
            .join(&settled.job.notebook)
            .join(format!("{}.ipynb", settled.run.id));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("no output notebook at {}: {e}", path.display()))
    }

    #[tokio::test]
    async fn a_job_runs_with_its_parameters_and_succeeds() {
        let s = setup().await;
        assert!(
            s.worker.run_one().await.unwrap().is_none(),
            "nothing queued yet"
        );
        s.store
            .enqueue(request("double", json!({"x": 21})))
            .await
            .unwrap();
        let settled = s.worker.run_one().await.unwrap().unwrap();
        assert_eq!(
            (settled.run.state, settled.job.state),
            (State::Succeeded, State::Succeeded)
        );
        assert_eq!(settled.run.worker, "w1");
        assert!(output_text(&s, &settled).contains("result 42"));
    }

    #[tokio::test]
    async fn a_failing_notebook_is_retried_then_fails_with_the_error() {
        let s = setup().await;
        let new = NewJob {
            max_attempts: 2,
            ..request("fails", json!({"x": 7}))
        };
        s.store.enqueue(new).await.unwrap();
        let first = s.worker.run_one().await.unwrap().unwrap();
        assert_eq!(
            (first.run.state, first.job.state),
            (State::Failed, State::Queued)
        );
        assert!(
            first.run.reason.as_deref().unwrap().contains("bad input 7"),
            "{first:?}"
        );
        let second = s.worker.run_one().await.unwrap().unwrap();
        assert_eq!((second.run.attempt, second.job.state), (2, State::Failed));
        assert!(second
            .job
            .reason
            .as_deref()
            .unwrap()
            .starts_with("attempt 2 of 2 failed: "));
        assert!(output_text(&s, &second).contains("ValueError"));
    }

    #[tokio::test]
    async fn a_run_past_the_job_timeout_is_stopped() {
        let s = setup().await;
        let new = NewJob {
            timeout: Some(Duration::from_secs(3)),
            ..request("sleeps", json!({}))
        };
        s.store.enqueue(new).await.unwrap();
        let settled = s.worker.run_one().await.unwrap().unwrap();
        assert_eq!(
            (settled.run.state, settled.job.state),
            (State::TimedOut, State::TimedOut)
        );
        assert!(settled
            .job
            .reason
            .as_deref()
            .unwrap()
            .contains("timeout of 3 s"));
        // The notebook was saved as it stood, the sleeping cell marked interrupted.
        assert!(output_text(&s, &settled).contains("stopped the run"));
    }

    #[tokio::test]
    async fn a_cancel_request_stops_the_running_notebook() {
        let s = setup().await;
        let id = sleeper(&s).await;
        let cancel = async {
            until_running(&s, id).await;
            // Give the kernel time to reach the sleeping cell.
            tokio::time::sleep(Duration::from_secs(2)).await;
            s.store.cancel(id).await.unwrap()
        };
        let (settled, cancel) = tokio::join!(s.worker.run_one(), cancel);
        assert!(matches!(cancel, crate::Cancel::Requested(_)));
        let settled = settled.unwrap().unwrap();
        assert_eq!(
            (settled.run.state, settled.job.state),
            (State::Cancelled, State::Cancelled)
        );
    }

    #[tokio::test]
    async fn an_unknown_notebook_fails_with_the_names_known() {
        let s = setup().await;
        let new = NewJob {
            max_attempts: 1,
            ..request("nope", json!({}))
        };
        s.store.enqueue(new).await.unwrap();
        let settled = s.worker.run_one().await.unwrap().unwrap();
        let reason = settled.job.reason.unwrap();
        assert!(
            reason.contains("no notebook named 'nope'") && reason.contains("double"),
            "{reason}"
        );
    }

    #[tokio::test]
    async fn a_worker_whose_run_was_reaped_stops_and_leaves_the_job_alone() {
        let clock = Arc::new(crate::ManualClock::new(chrono::Utc::now()));
        let s = setup_with_clock(clock.clone()).await;
        let id = sleeper(&s).await;
        let reap = async {
            until_running(&s, id).await;
            loop {
                // Past the lease; a heartbeat in between extends it, so try again.
                clock.advance(Duration::from_secs(31));
                if let Some(reaped) = s.store.reap().await.unwrap().pop() {
                    return reaped;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let (lost, reaped) = tokio::join!(s.worker.run_one(), reap);
        assert!(
            matches!(lost, Err(StoreError::RunNotActive { run, state: State::Failed }) if run == reaped.run.id),
            "{lost:?}"
        );
        // The reaper's verdict stands: the job waits for its retry.
        let job = s.store.job(id).await.unwrap();
        assert_eq!((job.state, job.attempts), (State::Queued, 1));
        assert!(job.reason.unwrap().contains("worker lost"));
    }

    #[tokio::test]
    async fn serve_runs_queued_jobs_until_shut_down() {
        let s = setup().await;
        for x in [1, 2] {
            s.store
                .enqueue(request("double", json!({ "x": x })))
                .await
                .unwrap();
        }
        let (shutdown_tx, shutdown) = watch::channel(false);
        let watch_done = async {
            while s.store.counts().await.unwrap().succeeded < 2 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            shutdown_tx.send(true).unwrap();
        };
        let (served, ()) = tokio::join!(s.worker.serve(shutdown), watch_done);
        served.unwrap();
        let counts = s.store.counts().await.unwrap();
        assert_eq!((counts.succeeded, counts.total()), (2, 2));
    }
}
