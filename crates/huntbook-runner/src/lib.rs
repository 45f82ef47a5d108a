//! The automation service's durable job queue: what a trigger asks for, who runs it,
//! and how it ended, kept in SQLite (one file, the default) or PostgreSQL (several
//! workers on several machines).
//!
//! # The model
//!
//! * A [`NewJob`] is a request to run a notebook: its name, parameters (a JSON
//!   object), the [`TriggerKind`] that made it (which sets its priority: event before
//!   on-demand before scheduled), an idempotency key, how many attempts it may take,
//!   a per-run timeout and a not-before time (one-off runs at a set time).
//!   [`JobStore::enqueue`] stores it as a [`Job`], or refuses it with
//!   [`StoreError::QueueFull`] when the queue holds its capacity.
//! * [`JobStore::claim`] hands a worker the next job (highest priority, then oldest,
//!   whose time has come, within the concurrency limits) and creates a [`Run`], one
//!   attempt at it, holding a lease. The worker extends the lease with
//!   [`JobStore::heartbeat`], which also tells it when a user asked to cancel, and
//!   reports how the attempt ended ([`Outcome`]) with [`JobStore::finish`].
//! * A failed attempt with attempts left sends the job back to the queue after an
//!   exponential [`Backoff`]; otherwise the job ends in the run's [`State`]:
//!   succeeded, failed, timed out or cancelled. [`JobStore::reap`] ends the runs of
//!   workers that stopped heartbeating ("worker lost: lease expired at ...") by the
//!   same rule, so a job survives the death of its worker.
//! * [`JobStore::cancel`] cancels a queued job at once, and a running one by a
//!   request its worker sees on its next heartbeat.
//!
//! A [`Worker`] does the claiming side: it claims a job, runs its notebook on a
//! Jupyter kernel (the engine behind `huntbook run`), heartbeats meanwhile, stops the
//! notebook on a cancel request or at the job's timeout, and finishes the run.
//!
//! The [`triggers`] ask for runs by themselves: cron schedules, watched folders of
//! parameter files and pollers of incident sources, each through
//! [`ServiceConfig::job`] with an idempotency key, so that none fires twice across
//! restarts or servers.
//!
//! Every operation is one transaction. In PostgreSQL, claims and reaping select rows
//! `FOR UPDATE SKIP LOCKED`, so workers sharing the database never take the same job;
//! in SQLite, writers take the file's lock in turn. Times come from the
//! [`StoreOptions::clock`], which tests replace with a [`ManualClock`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use huntbook_runner::*;
//! # let folder = tempfile::tempdir()?;
//! # let path = folder.path().join("jobs.db").display().to_string();
//! let location: StoreLocation = format!("sqlite:{path}").parse()?;
//! let store = JobStore::open(&location, StoreOptions::default()).await?;
//!
//! let mut request = NewJob::new("ip_context", TriggerKind::OnDemand);
//! request.parameters.insert("ip_address".into(), "1.2.3.4".into());
//! let accepted = store.enqueue(request).await?;
//! assert!(accepted.created);
//!
//! let claim = store.claim("worker-1").await?.expect("the job just queued");
//! // ... run claim.job.notebook with claim.job.parameters, heartbeating ...
//! let settled = store.finish(claim.run.id, Outcome::Succeeded).await?;
//! assert_eq!(settled.job.state, State::Succeeded);
//! assert_eq!(store.counts().await?.succeeded, 1);
//! # Ok(()) }
//! ```

pub mod api;
mod clock;
mod config;
pub mod dashboard;
mod error;
pub mod findings;
mod live_log;
mod model;
mod options;
pub mod outputs;
mod settle;
mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod triggers;
mod worker;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{NotebookEntry, RequestError, ServiceConfig, ServiceSecrets, UnknownNotebook};
pub use error::StoreError;
pub use findings::{Finding, FindingFilter, RunOutputs};
pub use model::{
    Cancel, Claim, Counts, Enqueued, Heartbeat, Job, JobFilter, NewJob, Outcome, Run, RunFilter,
    Settled, State, TriggerKind,
};
pub use options::{Backoff, Limits, StoreOptions};
pub use outputs::Publisher;
pub use store::{
    IssuedToken, JobStore, LogPage, Progress, RunDurations, Scope, StoreLocation, TokenInfo,
    TOKEN_PREFIX,
};
pub use worker::{Worker, WorkerOptions};
