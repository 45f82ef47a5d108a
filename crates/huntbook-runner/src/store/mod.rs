//! [`JobStore`]: the durable queue of jobs and their runs, in SQLite or PostgreSQL.
//!
//! The seam between the two databases is one transaction ([`tx::Tx`]): the queue's
//! rules ([`ops`]) are written once and both stores obey them by construction, while
//! each backend keeps only its connection, its placeholders and its locks. The two
//! backends are an enum rather than trait objects because a transaction is handed to
//! a generic closure, which a trait object cannot take.

mod findings;
mod incidents;
mod ops;
mod postgres;
mod runlog;
mod schema;
mod sqlite;
mod stats;
mod tokens;
mod triggers;
mod tx;

#[cfg(test)]
pub(crate) mod tests;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use uuid::Uuid;

use crate::error::StoreError;
use crate::model::{
    Cancel, Claim, Counts, Enqueued, Heartbeat, Job, JobFilter, NewJob, Outcome, Run, RunFilter,
    Settled,
};
use crate::options::StoreOptions;
use postgres::PostgresBackend;
use sqlite::SqliteBackend;
use tx::{Tx, TxFuture};

pub use runlog::{LogPage, Progress};
pub use stats::RunDurations;
pub use tokens::{IssuedToken, Scope, TokenInfo, TOKEN_PREFIX};

/// Where a store lives. Shown (`Display`, `Debug`) with a URL's password masked.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file (created with its folder when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database, as a `postgresql://` URL.
    Postgres(String),
}

impl FromStr for StoreLocation {
    type Err = StoreError;

    /// `sqlite:PATH`, or a `postgresql://` (or `postgres://`) URL.
    fn from_str(text: &str) -> Result<StoreLocation, StoreError> {
        if let Some(path) = text.strip_prefix("sqlite:").filter(|p| !p.is_empty()) {
            Ok(StoreLocation::Sqlite(PathBuf::from(path)))
        } else if text.starts_with("postgresql://") || text.starts_with("postgres://") {
            Ok(StoreLocation::Postgres(text.to_owned()))
        } else {
            Err(StoreError::BadLocation(mask_password(text).into_owned()))
        }
    }
}

impl fmt::Display for StoreLocation {
    /// The text [`StoreLocation::from_str`] reads back, but for a password in the URL,
    /// which is shown as `***`: locations end up in logs and error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&mask_password(url)),
        }
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            StoreLocation::Postgres(url) => f
                .debug_tuple("Postgres")
                .field(&mask_password(url))
                .finish(),
        }
    }
}

/// `scheme://user:***@host/...` for a URL with a password; other text as it is.
pub(crate) fn mask_password(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(after_scheme) = url.find("://").map(|i| i + 3) else {
        return url.into();
    };
    let authority_end = url[after_scheme..]
        .find(['/', '?'])
        .map_or(url.len(), |i| after_scheme + i);
    let authority = &url[after_scheme..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}***{}",
            &url[..after_scheme + colon + 1],
            &url[after_scheme + at..]
        )
        .into(),
        _ => url.into(),
    }
}

enum Backend {
    Sqlite(SqliteBackend),
    Postgres(PostgresBackend),
}

/// A durable job queue. Every method is one transaction; several stores (in one
/// process or on several machines) may share one database.
pub struct JobStore {
    backend: Backend,
    options: Arc<StoreOptions>,
    /// Woken by each enqueue through this store, so that idle workers of the same
    /// process claim at once instead of at their next look (other processes' jobs
    /// are found by looking).
    queued: tokio::sync::Notify,
}

impl fmt::Debug for JobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        };
        f.debug_struct("JobStore")
            .field("backend", &kind)
            .field("options", &self.options)
            .finish()
    }
}

impl JobStore {
    /// Open the store at `location`, creating or migrating its schema.
    pub async fn open(
        location: &StoreLocation,
        options: StoreOptions,
    ) -> Result<JobStore, StoreError> {
        let backend = match location {
            StoreLocation::Sqlite(path) => Backend::Sqlite(SqliteBackend::open(path).await?),
            StoreLocation::Postgres(url) => Backend::Postgres(PostgresBackend::open(url).await?),
        };
        let store = JobStore {
            backend,
            options: Arc::new(options),
            queued: tokio::sync::Notify::new(),
        };
        store
            .transact(true, |tx| Box::pin(schema::migrate(tx)))
            .await?;
        Ok(store)
    }

    /// The rules this store applies.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    async fn transact<T, F>(&self, write: bool, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> TxFuture<'t, T> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(backend) => backend.transact(write, work).await,
            Backend::Postgres(backend) => backend.transact(work).await,
        }
    }

    /// Accept a job. With an idempotency key seen before, the existing job comes back
    /// (`created: false`) and nothing is added. Refused with
    /// [`StoreError::QueueFull`] when the queue holds its capacity of queued jobs.
    pub async fn enqueue(&self, job: NewJob) -> Result<Enqueued, StoreError> {
        let options = self.options.clone();
        let enqueued = self
            .transact(true, move |tx| Box::pin(ops::enqueue(tx, job, options)))
            .await?;
        if enqueued.created {
            self.queued.notify_waiters();
        }
        Ok(enqueued)
    }

    /// Resolves at the next enqueue through this store (create it before looking at
    /// the queue, and enable it, so that a job queued in between is not missed).
    pub fn queued(&self) -> tokio::sync::futures::Notified<'_> {
        self.queued.notified()
    }

    /// Claim the next job for `worker`: the highest priority, then the oldest, among
    /// queued jobs whose not-before time has come and whose notebook is under its
    /// concurrency limit; `None` when there is none or the global limit is reached.
    /// The claim creates a run holding a lease of [`StoreOptions::lease`].
    pub async fn claim(&self, worker: &str) -> Result<Option<Claim>, StoreError> {
        let options = self.options.clone();
        let worker = worker.to_owned();
        self.transact(true, move |tx| Box::pin(ops::claim(tx, worker, options)))
            .await
    }

    /// Extend a running run's lease; the answer says whether its cancel was
    /// requested. A run that is no longer running gives
    /// [`StoreError::RunNotActive`]: its worker must stop.
    pub async fn heartbeat(&self, run: Uuid) -> Result<Heartbeat, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| Box::pin(ops::heartbeat(tx, run, options)))
            .await
    }

    /// End a running run with its worker's `outcome`; a failed attempt with attempts
    /// left queues the job again after the backoff.
    pub async fn finish(&self, run: Uuid, outcome: Outcome) -> Result<Settled, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| {
            Box::pin(ops::finish(tx, run, outcome, options))
        })
        .await
    }

    /// Cancel a job: a queued one at once, a running one by a request its worker
    /// sees on its next heartbeat.
    pub async fn cancel(&self, job: Uuid) -> Result<Cancel, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| Box::pin(ops::cancel(tx, job, options)))
            .await
    }

    /// Fail every run whose lease has run out ("worker lost: lease expired at ...")
    /// and retry or fail its job; the runs settled.
    pub async fn reap(&self) -> Result<Vec<Settled>, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| Box::pin(ops::reap(tx, options)))
            .await
    }

    /// One job.
    pub async fn job(&self, id: Uuid) -> Result<Job, StoreError> {
        self.transact(false, move |tx| Box::pin(ops::job(tx, id)))
            .await
    }

    /// Jobs, newest first.
    pub async fn jobs(&self, filter: JobFilter) -> Result<Vec<Job>, StoreError> {
        self.transact(false, move |tx| Box::pin(ops::jobs(tx, filter)))
            .await
    }

    /// One run.
    pub async fn run(&self, id: Uuid) -> Result<Run, StoreError> {
        self.transact(false, move |tx| Box::pin(ops::run(tx, id)))
            .await
    }

    /// Runs, newest first.
    pub async fn runs(&self, filter: RunFilter) -> Result<Vec<Run>, StoreError> {
        self.transact(false, move |tx| Box::pin(ops::runs(tx, filter)))
            .await
    }

    /// How many jobs are in each state.
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        self.transact(false, |tx| Box::pin(ops::counts(tx))).await
    }
}
