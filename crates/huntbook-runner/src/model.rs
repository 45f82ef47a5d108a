//! The job model: what is asked ([`NewJob`], stored as a [`Job`]), each attempt at it
//! (a [`Run`]), the states both go through, and what store operations return.
//!
//! A job is queued until a worker claims it; the claim creates a run and the job is
//! running while that run holds its lease. When the run ends, the job either ends
//! with it (succeeded, failed, timed out, cancelled) or, after a failed attempt with
//! attempts left, goes back to queued with a later not-before time.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::StoreError;

/// The state of a job or of a run (a run is never `Queued`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Waiting for a worker (possibly until its not-before time).
    Queued,
    /// A worker holds a run of it.
    Running,
    /// The notebook ran to the end.
    Succeeded,
    /// The notebook failed (or its worker was lost) and no attempt is left.
    Failed,
    /// The notebook ran past its timeout.
    TimedOut,
    /// Cancelled by a user.
    Cancelled,
}

impl State {
    /// Every state, in the order of a job's life.
    pub const ALL: [State; 6] = [
        State::Queued,
        State::Running,
        State::Succeeded,
        State::Failed,
        State::TimedOut,
        State::Cancelled,
    ];

    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::TimedOut => "timed_out",
            State::Cancelled => "cancelled",
        }
    }

    /// True once nothing more will happen to a job in this state.
    pub fn is_terminal(self) -> bool {
        !matches!(self, State::Queued | State::Running)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;

    fn from_str(s: &str) -> Result<State, String> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown state '{s}' (one of: {})",
                    State::ALL.map(State::as_str).join(", ")
                )
            })
    }
}

/// What started a job. It sets the default priority: an event (an incident, a dropped
/// file) goes before an analyst's request, which goes before a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    /// A poller's incident or a dropped parameter file.
    Event,
    /// The HTTP API or the CLI.
    OnDemand,
    /// A cron schedule or a one-off run at a set time.
    Scheduled,
}

impl TriggerKind {
    const ALL: [TriggerKind; 3] = [
        TriggerKind::Event,
        TriggerKind::OnDemand,
        TriggerKind::Scheduled,
    ];

    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Event => "event",
            TriggerKind::OnDemand => "on_demand",
            TriggerKind::Scheduled => "scheduled",
        }
    }

    /// The priority of a job of this kind unless the request sets one (higher first).
    pub fn default_priority(self) -> i64 {
        match self {
            TriggerKind::Event => 20,
            TriggerKind::OnDemand => 10,
            TriggerKind::Scheduled => 0,
        }
    }
}

impl FromStr for TriggerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<TriggerKind, String> {
        TriggerKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| format!("unknown trigger kind '{s}'"))
    }
}

/// A request to run a notebook, as a trigger makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// The notebook's name in the configuration.
    pub notebook: String,
    /// Its parameters.
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// What asked for it.
    pub trigger: TriggerKind,
    /// Higher runs first; `None` takes the trigger's default.
    pub priority: Option<i64>,
    /// A second request with the same key gets the first job back instead of a new one.
    pub idempotency_key: Option<String>,
    /// How many runs it may take (1 = no retry).
    pub max_attempts: u32,
    /// How long one run may take; `None` leaves it to the worker's default.
    pub timeout: Option<Duration>,
    /// Not to be run before this time (one-off runs at a set time); `None` = now.
    pub not_before: Option<DateTime<Utc>>,
}

impl NewJob {
    /// A request with no parameters, three attempts and the trigger's priority.
    pub fn new(notebook: impl Into<String>, trigger: TriggerKind) -> NewJob {
        NewJob {
            notebook: notebook.into(),
            parameters: serde_json::Map::new(),
            trigger,
            priority: None,
            idempotency_key: None,
            max_attempts: 3,
            timeout: None,
            not_before: None,
        }
    }

    /// Refuse requests that could never run, naming the field at fault.
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if self.notebook.trim().is_empty() {
            return Err(StoreError::InvalidJob("the notebook name is empty".into()));
        }
        if self.max_attempts == 0 {
            return Err(StoreError::InvalidJob(
                "max_attempts is 0: a job needs at least one attempt".into(),
            ));
        }
        if self.idempotency_key.as_deref().is_some_and(str::is_empty) {
            return Err(StoreError::InvalidJob(
                "the idempotency key is empty: leave it out or give a value".into(),
            ));
        }
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return Err(StoreError::InvalidJob("the timeout is 0".into()));
        }
        Ok(())
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: Uuid,
    /// The notebook's name in the configuration.
    pub notebook: String,
    /// Its parameters.
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// What asked for it.
    pub trigger: TriggerKind,
    /// Higher runs first.
    pub priority: i64,
    /// The request's idempotency key.
    pub idempotency_key: Option<String>,
    /// How many runs it may take.
    pub max_attempts: u32,
    /// How long one run may take.
    pub timeout: Option<Duration>,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// Not to be claimed before this time (set again by each retry's backoff).
    pub not_before: DateTime<Utc>,
    /// Where it is in its life.
    pub state: State,
    /// How many runs it has had.
    pub attempts: u32,
    /// A user asked to cancel it while it was running.
    pub cancel_requested: bool,
    /// Why it is in its state (failures, cancellation, the next retry).
    pub reason: Option<String>,
    /// When it reached a terminal state.
    pub finished_at: Option<DateTime<Utc>>,
}

/// One attempt at a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Its id.
    pub id: Uuid,
    /// The job it is an attempt at.
    pub job_id: Uuid,
    /// The job's notebook.
    pub notebook: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The worker that claimed it.
    pub worker: String,
    /// `Running` until it ends.
    pub state: State,
    /// Why it ended as it did.
    pub reason: Option<String>,
    /// When it was claimed.
    pub started_at: DateTime<Utc>,
    /// The worker's last sign of life.
    pub heartbeat_at: DateTime<Utc>,
    /// When it counts as lost unless the worker heartbeats again.
    pub lease_expires_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// How an attempt ended, as its worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The notebook ran to the end.
    Succeeded,
    /// The notebook (or the kernel) failed; the job is retried while attempts are left.
    Failed(String),
    /// The run went past the job's timeout.
    TimedOut(String),
    /// The worker stopped it after a cancel request.
    Cancelled(String),
}

/// The answer to an enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueued {
    /// The job (the existing one when the idempotency key was seen before).
    pub job: Job,
    /// False when an existing job was returned for the same idempotency key.
    pub created: bool,
}

/// A claimed job and the run that now holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The job, now running.
    pub job: Job,
    /// The new run, with its lease.
    pub run: Run,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The extended lease.
    pub lease_expires_at: DateTime<Utc>,
    /// A user asked to cancel the job: the worker should stop the run and finish it
    /// as [`Outcome::Cancelled`].
    pub cancel_requested: bool,
}

/// A run that ended (reported by its worker, or reaped) and its job afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The ended run.
    pub run: Run,
    /// The job: terminal, or queued again for a retry.
    pub job: Job,
}

/// What a cancel did.
#[derive(Debug, Clone, PartialEq)]
pub enum Cancel {
    /// The job was queued and is now cancelled.
    Cancelled(Job),
    /// The job is running: its worker sees the request on its next heartbeat.
    Requested(Job),
    /// The job had already ended; nothing changed.
    AlreadyFinished(Job),
}

/// Which jobs to list (newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<State>,
    /// Only jobs of this notebook.
    pub notebook: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// Which runs to list (newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Only the runs of this job.
    pub job: Option<Uuid>,
    /// Only runs in this state.
    pub state: Option<State>,
    /// Only runs of this notebook.
    pub notebook: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Queued (including those waiting for a retry or a set time).
    pub queued: u64,
    /// Running.
    pub running: u64,
    /// Succeeded.
    pub succeeded: u64,
    /// Failed.
    pub failed: u64,
    /// Timed out.
    pub timed_out: u64,
    /// Cancelled.
    pub cancelled: u64,
}

impl Counts {
    /// The count of one state.
    pub fn get(&self, state: State) -> u64 {
        match state {
            State::Queued => self.queued,
            State::Running => self.running,
            State::Succeeded => self.succeeded,
            State::Failed => self.failed,
            State::TimedOut => self.timed_out,
            State::Cancelled => self.cancelled,
        }
    }

    pub(crate) fn add(&mut self, state: State, n: u64) {
        let slot = match state {
            State::Queued => &mut self.queued,
            State::Running => &mut self.running,
            State::Succeeded => &mut self.succeeded,
            State::Failed => &mut self.failed,
            State::TimedOut => &mut self.timed_out,
            State::Cancelled => &mut self.cancelled,
        };
        *slot += n;
    }

    /// Every job the store holds.
    pub fn total(&self) -> u64 {
        State::ALL.into_iter().map(|state| self.get(state)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_triggers_round_trip_through_their_names() {
        for state in State::ALL {
            assert_eq!(state.as_str().parse::<State>(), Ok(state));
        }
        assert!("done".parse::<State>().unwrap_err().contains("timed_out"));
        for kind in TriggerKind::ALL {
            assert_eq!(kind.as_str().parse::<TriggerKind>(), Ok(kind));
        }
    }

    #[test]
    fn events_go_before_requests_before_schedules() {
        assert!(TriggerKind::Event.default_priority() > TriggerKind::OnDemand.default_priority());
        assert!(
            TriggerKind::OnDemand.default_priority() > TriggerKind::Scheduled.default_priority()
        );
    }

    #[test]
    fn requests_that_could_never_run_are_refused_by_field() {
        let ok = NewJob::new("ip_context", TriggerKind::OnDemand);
        assert!(ok.validate().is_ok());
        let cases = [
            (NewJob::new(" ", TriggerKind::Event), "notebook name"),
            (
                NewJob {
                    max_attempts: 0,
                    ..ok.clone()
                },
                "max_attempts",
            ),
            (
                NewJob {
                    idempotency_key: Some(String::new()),
                    ..ok.clone()
                },
                "idempotency key",
            ),
            (
                NewJob {
                    timeout: Some(Duration::ZERO),
                    ..ok.clone()
                },
                "timeout",
            ),
        ];
        for (job, field) in cases {
            let message = job.validate().unwrap_err().to_string();
            assert!(message.contains(field), "{message}");
        }
    }

    #[test]
    fn counts_add_up() {
        let mut counts = Counts::default();
        counts.add(State::Queued, 3);
        counts.add(State::Failed, 2);
        assert_eq!(counts.get(State::Queued), 3);
        assert_eq!(counts.total(), 5);
    }
}
