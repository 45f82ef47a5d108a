//! The service's own triggers: cron schedules, watched folders of parameter files,
//! and pollers of incident sources. Each asks for runs the way the HTTP API does,
//! through [`ServiceConfig::job`] (the one check of notebook and parameters) and
//! [`JobStore::enqueue`], with an idempotency key that names what it is reacting to:
//!
//! | trigger | key |
//! |---|---|
//! | schedule | `schedule:<notebook>:<index>:<fire time UTC>` |
//! | dropped file | `drop:<notebook>:<file name>:<sha256 of its content>` |
//! | poller | `poll:<notebook>:<source>:<incident id>` |
//!
//! so that a trigger that runs again after a crash, or on a second server sharing the
//! PostgreSQL store, finds the job already asked for instead of making another.
//!
//! Their settings live in each notebook's entry of the catalogue (`schedules`,
//! `watch`, `poll`); [`Triggers::from_service`] reads them all and reports every
//! mistake with its key and file line before anything starts, and [`start`] spawns
//! one task per watched folder and poller and one for all schedules, each stopping
//! when the shutdown signal turns true. Trouble while running (a source that fails,
//! a full queue) is reported on standard error and retried on the next round; it
//! never stops the service.

mod drop;
mod poll;
mod schedule;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use huntbook_core::config::Problem;
use huntbook_notebook::secrets::Scrubber;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Problems, RequestError, ServiceConfig};
use crate::error::StoreError;
use crate::model::{Enqueued, TriggerKind};
use crate::store::JobStore;

pub use drop::{Scan, Watch, Watcher};
pub use poll::{
    Fetch, HttpSource, IncidentSource, Poll, PollRound, Poller, SentinelSource, SourceAccess,
    SourceError, SourcedIncident,
};
pub use schedule::{Missed, Schedule, Scheduler};

/// Every trigger of the catalogue, read and checked.
#[derive(Debug, Clone)]
pub struct Triggers {
    /// Every notebook's `schedules`, in catalogue order.
    pub schedules: Vec<Schedule>,
    /// Every notebook's `watch`.
    pub watches: Vec<Watch>,
    /// Every notebook's `poll`.
    pub polls: Vec<Poll>,
}

/// The triggers' settings hold mistakes; each names its key and file line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct TriggerConfigError(pub Vec<Problem>);

impl fmt::Display for TriggerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the triggers' settings need fixing:")?;
        for problem in &self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl Triggers {
    /// Read the `schedules`, `watch` and `poll` settings of every notebook.
    pub fn from_service(service: &ServiceConfig) -> Result<Triggers, TriggerConfigError> {
        let mut problems = Problems::default();
        let mut triggers = Triggers {
            schedules: Vec::new(),
            watches: Vec::new(),
            polls: Vec::new(),
        };
        for entry in service.notebooks.values() {
            let at = format!("Notebooks.{}", entry.name);
            let setting = |key: &str| entry.settings.get(key).filter(|v| !v.is_null());
            if let Some(value) = setting("schedules") {
                triggers.schedules.extend(Schedule::read_all(
                    &entry.name,
                    &format!("{at}.schedules"),
                    value,
                    &mut problems,
                ));
            }
            if let Some(value) = setting("watch") {
                triggers.watches.extend(Watch::read(
                    service,
                    &entry.name,
                    &format!("{at}.watch"),
                    value,
                    &mut problems,
                ));
            }
            if let Some(value) = setting("poll") {
                triggers.polls.extend(Poll::read(
                    &entry.name,
                    &format!("{at}.poll"),
                    value,
                    &mut problems,
                ));
            }
        }
        problems.into_result(triggers)
    }
}

/// Read the triggers of `service`, connect their sources and start them: one task
/// for all schedules, one per watched folder, one per poller. Nothing starts when a
/// setting is wrong or a source cannot be set up. Call inside a tokio runtime.
pub fn start(
    service: Arc<ServiceConfig>,
    store: Arc<JobStore>,
    scrubber: Arc<Scrubber>,
    access: &SourceAccess,
    shutdown: watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>, TriggerConfigError> {
    let triggers = Triggers::from_service(&service)?;
    let context = Context {
        service,
        store,
        scrubber,
    };
    let mut problems = Problems::default();
    for schedule in &triggers.schedules {
        schedule.check(&context, &mut problems);
    }
    for poll in &triggers.polls {
        poll.check(&context, &mut problems);
    }
    let pollers: Vec<Poller> = triggers
        .polls
        .into_iter()
        .filter_map(|poll| {
            let source = poll.connect(&context.service.config, &context.store, access, &mut problems)?;
            Some(Poller::new(context.clone(), poll, source))
        })
        .collect();
    for watch in &triggers.watches {
        watch.prepare(&mut problems);
    }
    problems.into_result(())?;

    let mut tasks = Vec::new();
    if !triggers.schedules.is_empty() {
        let scheduler = Scheduler::new(context.clone(), triggers.schedules);
        tasks.push(tokio::spawn(scheduler.run(shutdown.clone())));
    }
    for watch in triggers.watches {
        let watcher = Watcher::new(context.clone(), watch);
        tasks.push(tokio::spawn(watcher.run(shutdown.clone())));
    }
    for poller in pollers {
        tasks.push(tokio::spawn(poller.run(shutdown.clone())));
    }
    Ok(tasks)
}

impl Problems {
    fn into_result<T>(self, value: T) -> Result<T, TriggerConfigError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(TriggerConfigError(self.0))
        }
    }
}

/// What every trigger needs to ask for a run.
#[derive(Clone)]
pub struct Context {
    /// The catalogue, whose check every request passes.
    pub service: Arc<ServiceConfig>,
    /// Where jobs go.
    pub store: Arc<JobStore>,
    /// The service's secrets, which no parameter may hold.
    pub scrubber: Arc<Scrubber>,
}

/// Why a trigger's request did not become a job.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The request itself is wrong: asking again will not help.
    #[error(transparent)]
    Refused(#[from] RequestError),
    /// The store could not take it now (full queue, database down): ask again later.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Context {
    /// Check the request, make the job with its idempotency key and enqueue it.
    pub async fn submit(
        &self,
        notebook: &str,
        trigger: TriggerKind,
        parameters: serde_json::Map<String, serde_json::Value>,
        key: String,
    ) -> Result<Enqueued, SubmitError> {
        let mut job = self
            .service
            .job(notebook, trigger, parameters, &self.scrubber)?;
        job.idempotency_key = Some(key);
        Ok(self.store.enqueue(job).await?)
    }

    /// Now, by the store's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.store.options().clock.now()
    }
}

/// A trigger's message on standard error, where the service reports.
fn report(trigger: &str, message: impl fmt::Display) {
    eprintln!("huntbook serve: {trigger}: {message}");
}

/// Wait `wait`, cut short when the shutdown signal changes; whether to go on (no
/// shutdown asked for, and its sender still there). A trigger's round is never
/// interrupted by this, so a file is never left half handled.
async fn pause(shutdown: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    tokio::select! {
        changed = shutdown.changed() => changed.is_ok() && !*shutdown.borrow_and_update(),
        _ = tokio::time::sleep(wait) => !*shutdown.borrow(),
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{Fixture, Kind};
    use crate::triggers::testing::{eventually, no_azure, probe};
    use crate::JobFilter;

    #[tokio::test]
    async fn nothing_starts_when_a_setting_is_wrong_and_every_mistake_is_named() {
        let f = Fixture::new(Kind::Sqlite).await;
        let catalogue = probe(
            "    schedules:\n      - cron: \"0 6 * * *\"\n        parameters: {hostname: WS1}\n    poll: {source: sentinel, workspace: Nowhere, parameters: {api_key: name}}\n",
        );
        let context = catalogue.context(&f).await;
        let (_stop, shutdown) = watch::channel(false);
        let error = start(
            catalogue.service.clone(),
            context.store.clone(),
            context.scrubber.clone(),
            &no_azure(),
            shutdown,
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("Notebooks.probe.schedules[0].parameters (")
                && text.contains("huntbook.yaml:5)")
                && text.contains("no parameter named hostname"),
            "{text}"
        );
        assert!(
            text.contains("Notebooks.probe.poll.parameters (") && text.contains("api_key"),
            "{text}"
        );
        assert!(text.contains("AzureSentinel.Workspaces.Nowhere"), "{text}");
        assert_eq!(error.0.len(), 3, "{text}");
    }

    #[tokio::test]
    async fn started_triggers_run_until_shutdown() {
        let f = Fixture::new(Kind::Sqlite).await;
        let catalogue = probe(
            "    watch: {folder: inbox, settle: 20ms}\n    schedules:\n      - cron: \"0 6 * * *\"\n",
        );
        let context = catalogue.context(&f).await;
        let (stop, shutdown) = watch::channel(false);
        let tasks = start(
            catalogue.service.clone(),
            context.store.clone(),
            context.scrubber.clone(),
            &no_azure(),
            shutdown,
        )
        .unwrap();
        assert_eq!(tasks.len(), 2);
        let inbox = catalogue.folder.path().join("inbox");
        std::fs::write(inbox.join("ws1.json"), r#"{"host_name": "WS1"}"#).unwrap();
        eventually("the file taken", || inbox.join("done/ws1.json").exists()).await;
        let jobs = context.store.jobs(JobFilter::default()).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].parameters["host_name"], "WS1");
        // The schedule's first round stored its mark.
        assert!(context
            .store
            .trigger_mark("schedule:probe:0")
            .await
            .unwrap()
            .is_some());
        stop.send(true).unwrap();
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("a trigger stops on shutdown")
                .unwrap();
        }
    }
}
