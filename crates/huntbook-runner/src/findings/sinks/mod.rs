//! Incident sinks: where a finding becomes an incident, and the durable delivery of
//! each finding to each sink.
//!
//! An [`IncidentSink`] takes a [`Finding`] and answers a receipt (the incident's
//! number or id) or a [`SinkError`]. The sinks are the local incident store
//! ([`local::LocalSink`], the default), a signed webhook ([`webhook::WebhookSink`])
//! and Microsoft Sentinel ([`sentinel::SentinelSink`]); [`config::sinks_from_config`]
//! builds them from `Service.incidents.sinks`.
//!
//! [`Dispatcher::raise`] records one delivery per sink in the store before anything
//! is sent, so a finding is never lost to a crash or an unreachable sink;
//! [`Dispatcher::deliver_due`] sends the deliveries that are due, and a failed one is
//! tried again after an exponential backoff until its attempts run out, when it
//! moves to the dead-letter list ([`JobStore::dead_letters`], sent again with
//! [`JobStore::redeliver`]).

pub mod config;
pub mod local;
pub mod sentinel;
pub mod webhook;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use huntbook_sentinel::{Severity, Status};
use serde_json::Value;
use uuid::Uuid;

use super::Finding;
use crate::error::StoreError;
use crate::options::Backoff;
use crate::store::JobStore;

/// The future a sink's delivery returns.
pub type SinkFuture<'a> = Pin<Box<dyn Future<Output = Result<String, SinkError>> + Send + 'a>>;

/// Somewhere findings become incidents.
pub trait IncidentSink: Send + Sync {
    /// The sink's name, recorded on its deliveries (`local`, `webhook`, `sentinel`).
    fn name(&self) -> &str;

    /// Raise (or, in triage mode, update) the incident of `finding`; a receipt that
    /// names what was made. Delivering the same finding twice must not raise two
    /// incidents where the sink can tell (the local store can).
    fn deliver<'a>(&'a self, finding: &'a Finding) -> SinkFuture<'a>;
}

/// Why a sink could not take a finding. Never holds a sink's secret.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{sink}: {message}")]
    Failed { sink: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SinkError {
    pub(crate) fn failed(sink: &str, message: impl fmt::Display) -> SinkError {
        SinkError::Failed {
            sink: sink.to_owned(),
            message: message.to_string(),
        }
    }
}

/// An incident of the local incident store.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalIncident {
    /// Its number, counting from 1.
    pub number: i64,
    /// The finding it was raised from.
    pub finding_id: Uuid,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    /// Sentinel entity JSON (an array).
    pub entities: Value,
    pub created: DateTime<Utc>,
}

impl LocalIncident {
    /// The incident as the API shows it and as a poller of the local store passes it
    /// to a notebook's parameters (`number`, `title`, `severity`, ...).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "number": self.number,
            "finding_id": self.finding_id.to_string(),
            "title": self.title,
            "severity": self.severity.as_str(),
            "status": self.status.as_str(),
            "entities": self.entities,
            "created_at": self.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    }
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its next try.
    Pending,
    /// The sink took it.
    Delivered,
    /// Its attempts ran out: on the dead-letter list.
    Dead,
}

impl DeliveryState {
    const ALL: [DeliveryState; 3] = [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Dead,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = String;

    fn from_str(s: &str) -> Result<DeliveryState, String> {
        DeliveryState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown delivery state '{s}'"))
    }
}

/// One finding on its way to one sink.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub finding_id: Uuid,
    /// The sink's name.
    pub sink: String,
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is tried next (while pending).
    pub next_try_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// What the sink answered when it took it.
    pub receipt: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was delivered or given up.
    pub finished_at: Option<DateTime<Utc>>,
}

/// How hard deliveries try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Attempts before a delivery becomes a dead letter.
    pub max_attempts: u32,
    /// The wait after each failed attempt.
    pub backoff: Backoff,
    /// How long a claimed delivery is held before another worker may try it.
    pub lease: Duration,
}

impl Default for DeliveryPolicy {
    /// Five attempts, 30 s doubling up to an hour apart.
    fn default() -> DeliveryPolicy {
        DeliveryPolicy {
            max_attempts: 5,
            backoff: Backoff::default(),
            lease: Duration::from_secs(300),
        }
    }
}

/// What one round of [`Dispatcher::deliver_due`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryRound {
    /// Deliveries the sinks took.
    pub delivered: Vec<Delivery>,
    /// Failed deliveries that will be tried again.
    pub retrying: Vec<Delivery>,
    /// Failed deliveries whose attempts ran out.
    pub dead: Vec<Delivery>,
}

/// Sends findings to the configured sinks through the store's deliveries.
#[derive(Clone)]
pub struct Dispatcher {
    store: Arc<JobStore>,
    sinks: Vec<Arc<dyn IncidentSink>>,
    policy: DeliveryPolicy,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field(
                "sinks",
                &self.sinks.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .finish()
    }
}

impl Dispatcher {
    /// A dispatcher over `store` sending to `sinks`.
    pub fn new(
        store: Arc<JobStore>,
        sinks: Vec<Arc<dyn IncidentSink>>,
        policy: DeliveryPolicy,
    ) -> Dispatcher {
        Dispatcher {
            store,
            sinks,
            policy,
        }
    }

    /// Queue the finding's delivery to every sink (sent by the next
    /// [`Dispatcher::deliver_due`]).
    pub async fn raise(&self, finding: &Finding) -> Result<Vec<Delivery>, StoreError> {
        let names = self.sinks.iter().map(|s| s.name().to_owned()).collect();
        self.store.add_deliveries(finding.id, names).await
    }

    /// Send every delivery that is due.
    pub async fn deliver_due(&self) -> Result<DeliveryRound, StoreError> {
        let mut round = DeliveryRound::default();
        loop {
            let claimed = self.store.claim_deliveries(self.policy.lease, 16).await?;
            if claimed.is_empty() {
                return Ok(round);
            }
            for delivery in claimed {
                let outcome = match self.sinks.iter().find(|s| s.name() == delivery.sink) {
                    None => Err(format!(
                        "no sink named '{}' is configured now (Service.incidents.sinks)",
                        delivery.sink
                    )),
                    Some(sink) => match self.store.finding(delivery.finding_id).await {
                        Ok(finding) => sink.deliver(&finding).await.map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    },
                };
                match outcome {
                    Ok(receipt) => round
                        .delivered
                        .push(self.store.delivered(delivery.id, receipt).await?),
                    Err(error) => {
                        let settled = self
                            .store
                            .delivery_failed(
                                delivery.id,
                                error,
                                self.policy.max_attempts,
                                self.policy.backoff,
                            )
                            .await?;
                        match settled.state {
                            DeliveryState::Dead => round.dead.push(settled),
                            _ => round.retrying.push(settled),
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::findings::NewFinding;
    use crate::{ManualClock, NewJob, StoreLocation, StoreOptions, TriggerKind};

    /// A sink that fails its first `failures` deliveries.
    struct Flaky {
        failures: u32,
        calls: AtomicU32,
    }

    impl IncidentSink for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }

        fn deliver<'a>(&'a self, finding: &'a Finding) -> SinkFuture<'a> {
            Box::pin(async move {
                let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if call <= self.failures {
                    Err(SinkError::failed("flaky", format!("down (call {call})")))
                } else {
                    Ok(format!("took {}", finding.description))
                }
            })
        }
    }

    #[tokio::test]
    async fn a_failed_delivery_is_sent_again_once_its_backoff_has_passed() {
        let folder = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let options = StoreOptions {
            clock: clock.clone(),
            ..StoreOptions::default()
        };
        let location = StoreLocation::Sqlite(folder.path().join("jobs.db"));
        let store = Arc::new(crate::JobStore::open(&location, options).await.unwrap());
        store
            .enqueue(NewJob::new("nb", TriggerKind::Event))
            .await
            .unwrap();
        let run = store.claim("w").await.unwrap().unwrap().run.id;
        let new = NewFinding {
            description: "beacon".into(),
            severity: Severity::High,
            entities: serde_json::json!([]),
            warnings: Vec::new(),
        };
        let finding = store.add_finding(run, new, None).await.unwrap();
        let flaky = Arc::new(Flaky {
            failures: 1,
            calls: AtomicU32::new(0),
        });
        let policy = DeliveryPolicy {
            max_attempts: 3,
            backoff: Backoff {
                initial: Duration::from_secs(30),
                max: Duration::from_secs(30),
            },
            lease: Duration::from_secs(300),
        };
        let dispatcher = Dispatcher::new(store.clone(), vec![flaky.clone()], policy);
        dispatcher.raise(&finding).await.unwrap();

        let first = dispatcher.deliver_due().await.unwrap();
        assert_eq!((first.delivered.len(), first.retrying.len()), (0, 1));
        assert_eq!(
            first.retrying[0].last_error.as_deref(),
            Some("flaky: down (call 1)")
        );
        // Not due yet: nothing is sent.
        assert_eq!(
            dispatcher.deliver_due().await.unwrap(),
            DeliveryRound::default()
        );
        clock.advance(Duration::from_secs(30));
        let second = dispatcher.deliver_due().await.unwrap();
        assert_eq!(second.delivered.len(), 1);
        assert_eq!(second.delivered[0].receipt.as_deref(), Some("took beacon"));
        assert_eq!(second.delivered[0].attempts, 2);
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);

        // A delivery to a sink no longer configured fails, naming it.
        store
            .add_deliveries(finding.id, vec!["gone".into()])
            .await
            .unwrap();
        let orphan = dispatcher.deliver_due().await.unwrap();
        assert!(orphan.retrying[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("no sink named 'gone'"));
    }
}
