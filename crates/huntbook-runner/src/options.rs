//! The rules a store enforces: queue capacity, concurrency limits, the lease a claim
//! gets, retry backoff, and the clock they are measured by.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

/// How many jobs may run at once, overall and per notebook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// At most this many running jobs in the whole store; `None` = no limit.
    pub global: Option<NonZeroU32>,
    /// At most this many running jobs of one notebook, by notebook name.
    pub per_notebook: BTreeMap<String, NonZeroU32>,
    /// The limit of notebooks not in `per_notebook`; `None` = no limit.
    pub default_per_notebook: Option<NonZeroU32>,
}

impl Limits {
    /// True when some limit is set, so claims must be counted against it.
    pub fn any(&self) -> bool {
        self.global.is_some()
            || !self.per_notebook.is_empty()
            || self.default_per_notebook.is_some()
    }

    /// The limit of one notebook.
    pub fn for_notebook(&self, notebook: &str) -> Option<NonZeroU32> {
        self.per_notebook
            .get(notebook)
            .copied()
            .or(self.default_per_notebook)
    }
}

/// Exponential backoff between the attempts of a job: the wait after attempt `n`
/// is `initial * 2^(n-1)`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failed attempt.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_secs(30),
            max: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1 << doublings)
            .map_or(self.max, |wait| wait.min(self.max))
    }
}

/// A store's rules.
#[derive(Clone)]
pub struct StoreOptions {
    /// At most this many queued jobs; an enqueue beyond it is refused with
    /// [`StoreError::QueueFull`](crate::StoreError::QueueFull). Retries of accepted
    /// jobs are never refused.
    pub queue_capacity: u32,
    /// Concurrency limits applied by claims.
    pub limits: Limits,
    /// How long a claim or heartbeat keeps a run alive; a worker heartbeats well within it.
    pub lease: Duration,
    /// Waits between attempts.
    pub backoff: Backoff,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            queue_capacity: 1000,
            limits: Limits::default(),
            lease: Duration::from_secs(60),
            backoff: Backoff::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("queue_capacity", &self.queue_capacity)
            .field("limits", &self.limits)
            .field("lease", &self.lease)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let backoff = Backoff {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(60),
        };
        let waits: Vec<u64> = (1..=5).map(|n| backoff.delay(n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60]);
        assert_eq!(backoff.delay(200), Duration::from_secs(60));
    }

    #[test]
    fn a_notebook_without_its_own_limit_takes_the_default() {
        let two = NonZeroU32::new(2).unwrap();
        let mut limits = Limits::default();
        assert!(!limits.any());
        limits.per_notebook.insert("hunt".into(), two);
        assert!(limits.any());
        assert_eq!(limits.for_notebook("hunt"), Some(two));
        assert_eq!(limits.for_notebook("triage"), None);
        limits.default_per_notebook = NonZeroU32::new(5);
        assert_eq!(limits.for_notebook("triage"), NonZeroU32::new(5));
    }
}
