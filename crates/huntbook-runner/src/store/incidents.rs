//! The local incident store (`incidents`: one numbered incident per finding) and the
//! durable deliveries of findings to incident sinks (`deliveries`: one row per finding
//! and sink, with its attempts, next try and last error; dead letters are the rows
//! whose attempts ran out).
//!
//! A delivery is claimed like a job: the claim pushes its next try a lease ahead, so
//! two workers never deliver it at once, and a worker that dies mid-delivery leaves
//! it to be tried again when the lease runs out.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::findings::select_finding;
use super::ops::{count, later, limit};
use super::tx::{Param, Row, RowLock, Tx};
use super::JobStore;
use crate::error::StoreError;
use crate::findings::sinks::{Delivery, DeliveryState, LocalIncident};
use crate::options::{Backoff, StoreOptions};

const INCIDENT_COLUMNS: &str = "number, finding_id, title, severity, status, entities, created_at";

const DELIVERY_COLUMNS: &str = "id, finding_id, sink, state, attempts, next_try_at, last_error, \
    receipt, created_at, finished_at";

fn incident_from_row(row: &Row) -> Result<LocalIncident, StoreError> {
    Ok(LocalIncident {
        number: row.int(0)?,
        finding_id: row.parsed(1)?,
        title: row.text(2)?.to_owned(),
        severity: row.parsed(3)?,
        status: row.parsed(4)?,
        entities: serde_json::from_str(row.text(5)?)
            .map_err(|e| StoreError::Corrupt(format!("the entities of an incident: {e}")))?,
        created: row.time(6)?,
    })
}

fn delivery_from_row(row: &Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: row.parsed(0)?,
        finding_id: row.parsed(1)?,
        sink: row.text(2)?.to_owned(),
        state: row.parsed(3)?,
        attempts: count(row.int(4)?)?,
        next_try_at: row.time(5)?,
        last_error: row.opt_text(6)?.map(str::to_owned),
        receipt: row.opt_text(7)?.map(str::to_owned),
        created_at: row.time(8)?,
        finished_at: row.opt_time(9)?,
    })
}

async fn select_incident(
    tx: &mut Tx<'_>,
    column: &str,
    value: Param,
) -> Result<Option<LocalIncident>, StoreError> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE {column} = $1");
    tx.query(&sql, &[value])
        .await?
        .first()
        .map(incident_from_row)
        .transpose()
}

async fn raise_incident(
    tx: &mut Tx<'_>,
    finding: Uuid,
    options: Arc<StoreOptions>,
) -> Result<LocalIncident, StoreError> {
    // A retried delivery finds the incident its first attempt made.
    let by_finding = Param::text(finding.to_string());
    if let Some(existing) = select_incident(tx, "finding_id", by_finding.clone()).await? {
        return Ok(existing);
    }
    let finding = select_finding(tx, finding).await?;
    tx.execute(
        "INSERT INTO incidents (finding_id, title, severity, status, entities, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            by_finding.clone(),
            Param::text(finding.title()),
            Param::text(finding.severity.as_str()),
            Param::text(huntbook_sentinel::Status::New.as_str()),
            Param::text(finding.entities.to_string()),
            Param::time(options.clock.now()),
        ],
    )
    .await?;
    select_incident(tx, "finding_id", by_finding)
        .await?
        .ok_or_else(|| StoreError::Corrupt("an incident vanished as it was made".into()))
}

async fn incidents(tx: &mut Tx<'_>, most: Option<u32>) -> Result<Vec<LocalIncident>, StoreError> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY number DESC LIMIT $1");
    tx.query(&sql, &[limit(most)])
        .await?
        .iter()
        .map(incident_from_row)
        .collect()
}

async fn incidents_since(
    tx: &mut Tx<'_>,
    since: Option<DateTime<Utc>>,
    most: u32,
) -> Result<Vec<LocalIncident>, StoreError> {
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE created_at >= $1 ORDER BY number LIMIT $2"
    );
    let since = since.map_or(Param::int(i64::MIN), Param::time);
    tx.query(&sql, &[since, limit(Some(most))])
        .await?
        .iter()
        .map(incident_from_row)
        .collect()
}

async fn select_delivery(tx: &mut Tx<'_>, id: Uuid) -> Result<Delivery, StoreError> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1");
    tx.query(&sql, &[Param::text(id.to_string())])
        .await?
        .first()
        .map(delivery_from_row)
        .unwrap_or(Err(StoreError::NotFound {
            what: "delivery",
            id: id.to_string(),
        }))
}

async fn add_deliveries(
    tx: &mut Tx<'_>,
    finding: Uuid,
    sinks: Vec<String>,
    options: Arc<StoreOptions>,
) -> Result<Vec<Delivery>, StoreError> {
    let now = options.clock.now();
    let mut added = Vec::new();
    for sink in sinks {
        let id = Uuid::new_v4();
        tx.execute(
            "INSERT INTO deliveries (id, finding_id, sink, state, attempts, next_try_at, \
             created_at) VALUES ($1, $2, $3, $4, 0, $5, $5)",
            &[
                Param::text(id.to_string()),
                Param::text(finding.to_string()),
                Param::text(sink),
                Param::text(DeliveryState::Pending.as_str()),
                Param::time(now),
            ],
        )
        .await?;
        added.push(select_delivery(tx, id).await?);
    }
    Ok(added)
}

async fn claim_deliveries(
    tx: &mut Tx<'_>,
    lease: Duration,
    most: u32,
    options: Arc<StoreOptions>,
) -> Result<Vec<Delivery>, StoreError> {
    let now = options.clock.now();
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'pending' AND next_try_at <= $1 \
         ORDER BY next_try_at, seq LIMIT $2{}",
        tx.row_lock(RowLock::Skip)
    );
    let rows = tx
        .query(&sql, &[Param::time(now), Param::int(most)])
        .await?;
    let mut claimed = Vec::new();
    for row in &rows {
        let mut delivery = delivery_from_row(row)?;
        delivery.attempts += 1;
        delivery.next_try_at = later(now, lease);
        tx.execute(
            "UPDATE deliveries SET attempts = $2, next_try_at = $3 WHERE id = $1",
            &[
                Param::text(delivery.id.to_string()),
                Param::int(delivery.attempts),
                Param::time(delivery.next_try_at),
            ],
        )
        .await?;
        claimed.push(delivery);
    }
    Ok(claimed)
}

/// How a delivery attempt ended.
enum Attempt {
    Delivered(String),
    Failed {
        error: String,
        max_attempts: u32,
        backoff: Backoff,
    },
}

async fn settle_delivery(
    tx: &mut Tx<'_>,
    id: Uuid,
    attempt: Attempt,
    options: Arc<StoreOptions>,
) -> Result<Delivery, StoreError> {
    let now = options.clock.now();
    let delivery = select_delivery(tx, id).await?;
    let (state, next_try_at, error, receipt, finished_at): (_, DateTime<Utc>, _, _, _) =
        match attempt {
            Attempt::Delivered(receipt) => (
                DeliveryState::Delivered,
                now,
                delivery.last_error,
                Some(receipt),
                Some(now),
            ),
            Attempt::Failed {
                error,
                max_attempts,
                ..
            } if delivery.attempts >= max_attempts => {
                (DeliveryState::Dead, now, Some(error), None, Some(now))
            }
            Attempt::Failed { error, backoff, .. } => (
                DeliveryState::Pending,
                later(now, backoff.delay(delivery.attempts)),
                Some(error),
                None,
                None,
            ),
        };
    tx.execute(
        "UPDATE deliveries SET state = $2, next_try_at = $3, last_error = $4, receipt = $5, \
         finished_at = $6 WHERE id = $1",
        &[
            Param::text(id.to_string()),
            Param::text(state.as_str()),
            Param::time(next_try_at),
            Param::Text(error),
            Param::Text(receipt),
            Param::Int(finished_at.map(|t: DateTime<Utc>| t.timestamp_millis())),
        ],
    )
    .await?;
    select_delivery(tx, id).await
}

async fn deliveries(
    tx: &mut Tx<'_>,
    state: Option<DeliveryState>,
    most: Option<u32>,
) -> Result<Vec<Delivery>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE (CAST($1 AS TEXT) IS NULL OR state = $1) \
         ORDER BY created_at DESC, seq DESC LIMIT $2"
    );
    let params = [
        Param::Text(state.map(|s| s.as_str().to_owned())),
        limit(most),
    ];
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(delivery_from_row)
        .collect()
}

async fn redeliver(
    tx: &mut Tx<'_>,
    id: Uuid,
    options: Arc<StoreOptions>,
) -> Result<Delivery, StoreError> {
    let delivery = select_delivery(tx, id).await?;
    if delivery.state != DeliveryState::Dead {
        return Err(StoreError::NotADeadLetter {
            id,
            state: delivery.state.as_str(),
        });
    }
    tx.execute(
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_try_at = $2, \
         finished_at = NULL WHERE id = $1",
        &[
            Param::text(id.to_string()),
            Param::time(options.clock.now()),
        ],
    )
    .await?;
    select_delivery(tx, id).await
}

impl JobStore {
    /// Raise the local incident of a finding (the same one again when it exists).
    pub async fn raise_incident(&self, finding: Uuid) -> Result<LocalIncident, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| {
            Box::pin(raise_incident(tx, finding, options))
        })
        .await
    }

    /// One local incident, by number.
    pub async fn incident(&self, number: i64) -> Result<LocalIncident, StoreError> {
        self.transact(false, move |tx| {
            Box::pin(async move {
                select_incident(tx, "number", Param::int(number))
                    .await?
                    .ok_or(StoreError::NotFound {
                        what: "incident",
                        id: number.to_string(),
                    })
            })
        })
        .await
    }

    /// Local incidents, newest first.
    pub async fn incidents(&self, limit: Option<u32>) -> Result<Vec<LocalIncident>, StoreError> {
        self.transact(false, move |tx| Box::pin(incidents(tx, limit)))
            .await
    }

    /// Local incidents raised at or after `since` (all when `None`), oldest first, at
    /// most `most` of them: what a poller of the local store reads each round.
    pub async fn incidents_since(
        &self,
        since: Option<DateTime<Utc>>,
        most: u32,
    ) -> Result<Vec<LocalIncident>, StoreError> {
        self.transact(false, move |tx| Box::pin(incidents_since(tx, since, most)))
            .await
    }

    /// Queue a finding's delivery to each sink, due now.
    pub async fn add_deliveries(
        &self,
        finding: Uuid,
        sinks: Vec<String>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| {
            Box::pin(add_deliveries(tx, finding, sinks, options))
        })
        .await
    }

    /// Take up to `most` due deliveries, counting an attempt at each and holding
    /// them for `lease`.
    pub async fn claim_deliveries(
        &self,
        lease: Duration,
        most: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| {
            Box::pin(claim_deliveries(tx, lease, most, options))
        })
        .await
    }

    /// A claimed delivery reached its sink, which answered `receipt`.
    pub async fn delivered(&self, id: Uuid, receipt: String) -> Result<Delivery, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| {
            Box::pin(settle_delivery(
                tx,
                id,
                Attempt::Delivered(receipt),
                options,
            ))
        })
        .await
    }

    /// A claimed delivery failed with `error`: tried again after `backoff`, or a
    /// dead letter once it has had `max_attempts`.
    pub async fn delivery_failed(
        &self,
        id: Uuid,
        error: String,
        max_attempts: u32,
        backoff: Backoff,
    ) -> Result<Delivery, StoreError> {
        let options = self.options.clone();
        let attempt = Attempt::Failed {
            error,
            max_attempts,
            backoff,
        };
        self.transact(true, move |tx| {
            Box::pin(settle_delivery(tx, id, attempt, options))
        })
        .await
    }

    /// Deliveries (all, or in one state), newest first.
    pub async fn deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: Option<u32>,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.transact(false, move |tx| Box::pin(deliveries(tx, state, limit)))
            .await
    }

    /// The dead-letter list: deliveries whose attempts ran out, newest first.
    pub async fn dead_letters(&self) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries(Some(DeliveryState::Dead), None).await
    }

    /// Send a dead letter again: pending, due now, with a fresh count of attempts.
    pub async fn redeliver(&self, id: Uuid) -> Result<Delivery, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| Box::pin(redeliver(tx, id, options)))
            .await
    }
}
