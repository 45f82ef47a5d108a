//! What happens to a job when one of its runs ends: the one rule both stores apply,
//! whether the worker reported the end or the run was reaped after its lease ran out.
//!
//! * succeeded, timed out or cancelled: the job ends the same way;
//! * failed: the job is queued again after the backoff while attempts are left,
//!   otherwise it fails with the last reason; a job whose cancel was requested is
//!   cancelled instead of retried. A timed-out run is not retried: it would most
//!   likely spend the whole timeout again.

use chrono::{DateTime, Utc};

use crate::model::{Job, Outcome, State};
use crate::options::Backoff;

/// The new state of a run and of its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settlement {
    pub run_state: State,
    pub run_reason: Option<String>,
    pub job_state: State,
    pub job_reason: Option<String>,
    pub not_before: DateTime<Utc>,
    pub job_finished_at: Option<DateTime<Utc>>,
}

impl Settlement {
    /// `job` as the settlement leaves it.
    pub fn apply(&self, job: &mut Job) {
        job.state = self.job_state;
        job.reason = self.job_reason.clone();
        job.not_before = self.not_before;
        job.finished_at = self.job_finished_at;
        if job.state == State::Queued {
            job.cancel_requested = false;
        }
    }
}

/// Settle `job` (as it was while the run was running) after `outcome`, at `now`.
pub(crate) fn settle(
    job: &Job,
    outcome: &Outcome,
    now: DateTime<Utc>,
    backoff: &Backoff,
) -> Settlement {
    let ended = |state: State, reason: Option<String>| Settlement {
        run_state: state,
        run_reason: reason.clone(),
        job_state: state,
        job_reason: reason,
        not_before: job.not_before,
        job_finished_at: Some(now),
    };
    match outcome {
        Outcome::Succeeded => ended(State::Succeeded, None),
        Outcome::TimedOut(reason) => ended(State::TimedOut, Some(reason.clone())),
        Outcome::Cancelled(reason) => ended(State::Cancelled, Some(reason.clone())),
        Outcome::Failed(reason) if job.cancel_requested => Settlement {
            job_state: State::Cancelled,
            job_reason: Some(format!(
                "cancelled while attempt {} failed: {reason}",
                job.attempts
            )),
            ..ended(State::Failed, Some(reason.clone()))
        },
        Outcome::Failed(reason) if job.attempts < job.max_attempts => {
            let wait = backoff.delay(job.attempts);
            let retry_at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            Settlement {
                run_state: State::Failed,
                run_reason: Some(reason.clone()),
                job_state: State::Queued,
                job_reason: Some(format!(
                    "attempt {} of {} failed ({reason}); retry at {}",
                    job.attempts,
                    job.max_attempts,
                    retry_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                )),
                not_before: retry_at,
                job_finished_at: None,
            }
        }
        Outcome::Failed(reason) => Settlement {
            job_reason: Some(format!(
                "attempt {} of {} failed: {reason}",
                job.attempts, job.max_attempts
            )),
            ..ended(State::Failed, Some(reason.clone()))
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::TriggerKind;

    fn running_job(attempts: u32, max_attempts: u32) -> Job {
        let t0 = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        Job {
            id: uuid::Uuid::new_v4(),
            notebook: "triage".into(),
            parameters: Default::default(),
            trigger: TriggerKind::Event,
            priority: 20,
            idempotency_key: None,
            max_attempts,
            timeout: None,
            created_at: t0,
            not_before: t0,
            state: State::Running,
            attempts,
            cancel_requested: false,
            reason: None,
            finished_at: None,
        }
    }

    const BACKOFF: Backoff = Backoff {
        initial: Duration::from_secs(10),
        max: Duration::from_secs(3600),
    };

    #[test]
    fn a_failed_attempt_with_attempts_left_is_queued_after_the_backoff() {
        let job = running_job(2, 3);
        let now = job.created_at + chrono::Duration::seconds(100);
        let s = settle(&job, &Outcome::Failed("kernel died".into()), now, &BACKOFF);
        assert_eq!((s.run_state, s.job_state), (State::Failed, State::Queued));
        assert_eq!(s.not_before, now + chrono::Duration::seconds(20));
        assert_eq!(s.job_finished_at, None);
        let reason = s.job_reason.unwrap();
        assert!(
            reason.starts_with("attempt 2 of 3 failed (kernel died); retry at "),
            "{reason}"
        );
    }

    #[test]
    fn the_last_failed_attempt_fails_the_job() {
        let job = running_job(3, 3);
        let now = job.created_at;
        let s = settle(&job, &Outcome::Failed("boom".into()), now, &BACKOFF);
        assert_eq!((s.run_state, s.job_state), (State::Failed, State::Failed));
        assert_eq!(s.job_reason.as_deref(), Some("attempt 3 of 3 failed: boom"));
        assert_eq!(s.job_finished_at, Some(now));
    }

    #[test]
    fn a_failure_after_a_cancel_request_cancels_instead_of_retrying() {
        let mut job = running_job(1, 3);
        job.cancel_requested = true;
        let s = settle(
            &job,
            &Outcome::Failed("interrupted".into()),
            job.created_at,
            &BACKOFF,
        );
        assert_eq!(
            (s.run_state, s.job_state),
            (State::Failed, State::Cancelled)
        );
    }

    #[test]
    fn timeouts_successes_and_cancels_end_the_job_with_the_run() {
        let job = running_job(1, 3);
        for (outcome, state) in [
            (Outcome::Succeeded, State::Succeeded),
            (Outcome::TimedOut("ran 600 s".into()), State::TimedOut),
            (Outcome::Cancelled("by alice".into()), State::Cancelled),
        ] {
            let s = settle(&job, &outcome, job.created_at, &BACKOFF);
            assert_eq!((s.run_state, s.job_state), (state, state));
            assert_eq!(s.job_finished_at, Some(job.created_at));
        }
    }
}
