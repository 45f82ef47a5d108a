//! The store's operations, written once over a [`Tx`] and so shared by both
//! databases: enqueue, claim, heartbeat, finish, cancel, reap, and the reads.
//!
//! Each runs inside one transaction opened by the backend. Writers that must see
//! each other take a [`Lock`]; selects of rows about to change lock them
//! ([`RowLock`]). In PostgreSQL the lock order is always run before job, so a
//! finish, a reap and a cancel of the same job cannot deadlock.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use super::tx::{Lock, Param, Row, RowLock, Tx};
use crate::error::StoreError;
use crate::model::{
    Cancel, Claim, Counts, Enqueued, Heartbeat, Job, JobFilter, NewJob, Outcome, Run, RunFilter,
    Settled, State,
};
use crate::options::StoreOptions;
use crate::settle::settle;

const JOB_COLUMNS: &str = "id, notebook, parameters, trigger, priority, idempotency_key, \
    max_attempts, timeout_ms, created_at, not_before, state, attempts, cancel_requested, \
    reason, finished_at";

const RUN_COLUMNS: &str = "r.id, r.job_id, j.notebook, r.attempt, r.worker, r.state, r.reason, \
    r.started_at, r.heartbeat_at, r.lease_expires_at, r.finished_at";

const RUNS: &str = "runs r JOIN jobs j ON j.id = r.job_id";

fn job_from_row(row: &Row) -> Result<Job, StoreError> {
    let parameters = serde_json::from_str(row.text(2)?).map_err(|e| {
        StoreError::Corrupt(format!(
            "the parameters of job {}: {e}",
            row.text(0).unwrap_or("?")
        ))
    })?;
    Ok(Job {
        id: row.parsed(0)?,
        notebook: row.text(1)?.to_owned(),
        parameters,
        trigger: row.parsed(3)?,
        priority: row.int(4)?,
        idempotency_key: row.opt_text(5)?.map(str::to_owned),
        max_attempts: count(row.int(6)?)?,
        timeout: row
            .opt_int(7)?
            .map(|ms| std::time::Duration::from_millis(ms.unsigned_abs())),
        created_at: row.time(8)?,
        not_before: row.time(9)?,
        state: row.parsed(10)?,
        attempts: count(row.int(11)?)?,
        cancel_requested: row.bool(12)?,
        reason: row.opt_text(13)?.map(str::to_owned),
        finished_at: row.opt_time(14)?,
    })
}

fn run_from_row(row: &Row) -> Result<Run, StoreError> {
    Ok(Run {
        id: row.parsed(0)?,
        job_id: row.parsed(1)?,
        notebook: row.text(2)?.to_owned(),
        attempt: count(row.int(3)?)?,
        worker: row.text(4)?.to_owned(),
        state: row.parsed(5)?,
        reason: row.opt_text(6)?.map(str::to_owned),
        started_at: row.time(7)?,
        heartbeat_at: row.time(8)?,
        lease_expires_at: row.time(9)?,
        finished_at: row.opt_time(10)?,
    })
}

pub(super) fn count(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} is not a count")))
}

pub(super) fn later(t: DateTime<Utc>, by: std::time::Duration) -> DateTime<Utc> {
    t + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX)
}

pub(super) fn limit(limit: Option<u32>) -> Param {
    Param::int(limit.map_or(i64::MAX, i64::from))
}

async fn select_job(tx: &mut Tx<'_>, id: Uuid, lock: Option<RowLock>) -> Result<Job, StoreError> {
    let lock = lock.map_or("", |lock| tx.row_lock(lock));
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1{lock}");
    let rows = tx.query(&sql, &[Param::text(id.to_string())]).await?;
    rows.first()
        .map(job_from_row)
        .unwrap_or(Err(StoreError::JobNotFound(id)))
}

pub(super) async fn select_run(
    tx: &mut Tx<'_>,
    id: Uuid,
    lock: Option<RowLock>,
) -> Result<Run, StoreError> {
    let lock = lock.map_or("", |lock| tx.row_lock(lock));
    let sql = format!("SELECT {RUN_COLUMNS} FROM {RUNS} WHERE r.id = $1{lock}");
    let rows = tx.query(&sql, &[Param::text(id.to_string())]).await?;
    rows.first()
        .map(run_from_row)
        .unwrap_or(Err(StoreError::RunNotFound(id)))
}

pub(super) async fn enqueue(
    tx: &mut Tx<'_>,
    new: NewJob,
    options: Arc<StoreOptions>,
) -> Result<Enqueued, StoreError> {
    new.validate()?;
    let now = options.clock.now();
    tx.serialize(Lock::Enqueue).await?;
    if let Some(key) = &new.idempotency_key {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE idempotency_key = $1");
        if let Some(row) = tx.query(&sql, &[Param::text(key)]).await?.first() {
            return Ok(Enqueued {
                job: job_from_row(row)?,
                created: false,
            });
        }
    }
    let queued = tx
        .query("SELECT count(*) FROM jobs WHERE state = 'queued'", &[])
        .await?[0]
        .int(0)?;
    if queued >= i64::from(options.queue_capacity) {
        return Err(StoreError::QueueFull {
            capacity: options.queue_capacity,
        });
    }
    let job = Job {
        id: Uuid::new_v4(),
        priority: new.priority.unwrap_or(new.trigger.default_priority()),
        notebook: new.notebook,
        parameters: new.parameters,
        trigger: new.trigger,
        idempotency_key: new.idempotency_key,
        max_attempts: new.max_attempts,
        timeout: new.timeout,
        created_at: now,
        not_before: new.not_before.unwrap_or(now),
        state: State::Queued,
        attempts: 0,
        cancel_requested: false,
        reason: None,
        finished_at: None,
    };
    let timeout_ms = job
        .timeout
        .map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX));
    tx.execute(
        &format!(
            "INSERT INTO jobs ({JOB_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ),
        &[
            Param::text(job.id.to_string()),
            Param::text(&job.notebook),
            Param::text(serde_json::Value::Object(job.parameters.clone()).to_string()),
            Param::text(job.trigger.as_str()),
            Param::int(job.priority),
            Param::Text(job.idempotency_key.clone()),
            Param::int(job.max_attempts),
            Param::Int(timeout_ms),
            Param::time(job.created_at),
            Param::time(job.not_before),
            Param::text(job.state.as_str()),
            Param::int(job.attempts),
            Param::Bool(job.cancel_requested),
            Param::Text(None),
            Param::Int(None),
        ],
    )
    .await?;
    Ok(Enqueued { job, created: true })
}

/// The notebooks that may not start another run, or `None` when the global limit
/// is reached.
async fn full_notebooks(
    tx: &mut Tx<'_>,
    options: &StoreOptions,
) -> Result<Option<Vec<String>>, StoreError> {
    let rows = tx
        .query(
            "SELECT notebook, count(*) FROM jobs WHERE state = 'running' GROUP BY notebook",
            &[],
        )
        .await?;
    let mut running = 0;
    let mut full = Vec::new();
    for row in &rows {
        let (notebook, n) = (row.text(0)?, row.int(1)?);
        running += n;
        if let Some(limit) = options.limits.for_notebook(notebook) {
            if n >= i64::from(limit.get()) {
                full.push(notebook.to_owned());
            }
        }
    }
    let global_reached = options
        .limits
        .global
        .is_some_and(|limit| running >= i64::from(limit.get()));
    Ok((!global_reached).then_some(full))
}

pub(super) async fn claim(
    tx: &mut Tx<'_>,
    worker: String,
    options: Arc<StoreOptions>,
) -> Result<Option<Claim>, StoreError> {
    let now = options.clock.now();
    let mut full = Vec::new();
    if options.limits.any() {
        tx.serialize(Lock::Claim).await?;
        match full_notebooks(tx, &options).await? {
            Some(notebooks) => full = notebooks,
            None => return Ok(None),
        }
    }
    let excluded = if full.is_empty() {
        String::new()
    } else {
        let places: Vec<String> = (0..full.len()).map(|i| format!("${}", i + 2)).collect();
        format!(" AND notebook NOT IN ({})", places.join(", "))
    };
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' AND not_before <= $1{excluded} \
         ORDER BY priority DESC, created_at, seq LIMIT 1{}",
        tx.row_lock(RowLock::Skip)
    );
    let params: Vec<Param> = std::iter::once(Param::time(now))
        .chain(full.into_iter().map(Param::text))
        .collect();
    let Some(row) = tx.query(&sql, &params).await?.into_iter().next() else {
        return Ok(None);
    };
    let mut job = job_from_row(&row)?;
    job.state = State::Running;
    job.attempts += 1;
    job.reason = None;
    tx.execute(
        "UPDATE jobs SET state = $2, attempts = $3, reason = NULL WHERE id = $1",
        &[
            Param::text(job.id.to_string()),
            Param::text(job.state.as_str()),
            Param::int(job.attempts),
        ],
    )
    .await?;
    let run = Run {
        id: Uuid::new_v4(),
        job_id: job.id,
        notebook: job.notebook.clone(),
        attempt: job.attempts,
        worker,
        state: State::Running,
        reason: None,
        started_at: now,
        heartbeat_at: now,
        lease_expires_at: later(now, options.lease),
        finished_at: None,
    };
    tx.execute(
        "INSERT INTO runs (id, job_id, attempt, worker, state, started_at, heartbeat_at, \
         lease_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Param::text(run.id.to_string()),
            Param::text(run.job_id.to_string()),
            Param::int(run.attempt),
            Param::text(&run.worker),
            Param::text(run.state.as_str()),
            Param::time(run.started_at),
            Param::time(run.heartbeat_at),
            Param::time(run.lease_expires_at),
        ],
    )
    .await?;
    Ok(Some(Claim { job, run }))
}

pub(super) async fn heartbeat(
    tx: &mut Tx<'_>,
    run: Uuid,
    options: Arc<StoreOptions>,
) -> Result<Heartbeat, StoreError> {
    let now = options.clock.now();
    let lease_expires_at = later(now, options.lease);
    let extended = tx
        .execute(
            "UPDATE runs SET heartbeat_at = $2, lease_expires_at = $3 \
             WHERE id = $1 AND state = 'running'",
            &[
                Param::text(run.to_string()),
                Param::time(now),
                Param::time(lease_expires_at),
            ],
        )
        .await?;
    if extended == 0 {
        let found = select_run(tx, run, None).await?;
        return Err(StoreError::RunNotActive {
            run,
            state: found.state,
        });
    }
    let rows = tx
        .query(
            &format!("SELECT j.cancel_requested FROM {RUNS} WHERE r.id = $1"),
            &[Param::text(run.to_string())],
        )
        .await?;
    Ok(Heartbeat {
        lease_expires_at,
        cancel_requested: rows[0].bool(0)?,
    })
}

/// End a running `run` of `job` with `outcome` and apply the result to the job.
async fn settle_run(
    tx: &mut Tx<'_>,
    mut run: Run,
    mut job: Job,
    outcome: Outcome,
    options: &StoreOptions,
) -> Result<Settled, StoreError> {
    let now = options.clock.now();
    let settlement = settle(&job, &outcome, now, &options.backoff);
    run.state = settlement.run_state;
    run.reason = settlement.run_reason.clone();
    run.finished_at = Some(now);
    tx.execute(
        "UPDATE runs SET state = $2, reason = $3, finished_at = $4 WHERE id = $1",
        &[
            Param::text(run.id.to_string()),
            Param::text(run.state.as_str()),
            Param::Text(run.reason.clone()),
            Param::time(now),
        ],
    )
    .await?;
    settlement.apply(&mut job);
    tx.execute(
        "UPDATE jobs SET state = $2, reason = $3, not_before = $4, finished_at = $5, \
         cancel_requested = $6 WHERE id = $1",
        &[
            Param::text(job.id.to_string()),
            Param::text(job.state.as_str()),
            Param::Text(job.reason.clone()),
            Param::time(job.not_before),
            Param::Int(job.finished_at.map(|t| t.timestamp_millis())),
            Param::Bool(job.cancel_requested),
        ],
    )
    .await?;
    Ok(Settled { run, job })
}

pub(super) async fn finish(
    tx: &mut Tx<'_>,
    run: Uuid,
    outcome: Outcome,
    options: Arc<StoreOptions>,
) -> Result<Settled, StoreError> {
    let found = select_run(tx, run, Some(RowLock::Wait)).await?;
    if found.state != State::Running {
        return Err(StoreError::RunNotActive {
            run,
            state: found.state,
        });
    }
    let job = select_job(tx, found.job_id, Some(RowLock::Wait)).await?;
    settle_run(tx, found, job, outcome, &options).await
}

pub(super) async fn reap(
    tx: &mut Tx<'_>,
    options: Arc<StoreOptions>,
) -> Result<Vec<Settled>, StoreError> {
    let now = options.clock.now();
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM {RUNS} WHERE r.state = 'running' AND r.lease_expires_at < $1 \
         ORDER BY r.lease_expires_at{}",
        tx.row_lock(RowLock::Skip)
    );
    let lost: Vec<Run> = tx
        .query(&sql, &[Param::time(now)])
        .await?
        .iter()
        .map(run_from_row)
        .collect::<Result<_, _>>()?;
    let mut settled = Vec::with_capacity(lost.len());
    for run in lost {
        let job = select_job(tx, run.job_id, Some(RowLock::Wait)).await?;
        let reason = format!(
            "worker lost: lease expired at {} (worker {})",
            run.lease_expires_at
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            run.worker
        );
        settled.push(settle_run(tx, run, job, Outcome::Failed(reason), &options).await?);
    }
    Ok(settled)
}

pub(super) async fn cancel(
    tx: &mut Tx<'_>,
    id: Uuid,
    options: Arc<StoreOptions>,
) -> Result<Cancel, StoreError> {
    let mut job = select_job(tx, id, Some(RowLock::Wait)).await?;
    match job.state {
        State::Queued => {
            let now = options.clock.now();
            job.state = State::Cancelled;
            job.reason = Some("cancelled before it ran".into());
            job.finished_at = Some(now);
            tx.execute(
                "UPDATE jobs SET state = $2, reason = $3, finished_at = $4 WHERE id = $1",
                &[
                    Param::text(id.to_string()),
                    Param::text(job.state.as_str()),
                    Param::Text(job.reason.clone()),
                    Param::time(now),
                ],
            )
            .await?;
            Ok(Cancel::Cancelled(job))
        }
        State::Running => {
            job.cancel_requested = true;
            tx.execute(
                "UPDATE jobs SET cancel_requested = $2 WHERE id = $1",
                &[Param::text(id.to_string()), Param::Bool(true)],
            )
            .await?;
            Ok(Cancel::Requested(job))
        }
        _ => Ok(Cancel::AlreadyFinished(job)),
    }
}

pub(super) async fn job(tx: &mut Tx<'_>, id: Uuid) -> Result<Job, StoreError> {
    select_job(tx, id, None).await
}

pub(super) async fn run(tx: &mut Tx<'_>, id: Uuid) -> Result<Run, StoreError> {
    select_run(tx, id, None).await
}

pub(super) async fn jobs(tx: &mut Tx<'_>, filter: JobFilter) -> Result<Vec<Job>, StoreError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs \
         WHERE (CAST($1 AS TEXT) IS NULL OR state = $1) \
         AND (CAST($2 AS TEXT) IS NULL OR notebook = $2) \
         ORDER BY created_at DESC, seq DESC LIMIT $3"
    );
    let params = [
        Param::Text(filter.state.map(|s| s.as_str().to_owned())),
        Param::Text(filter.notebook),
        limit(filter.limit),
    ];
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(job_from_row)
        .collect()
}

pub(super) async fn runs(tx: &mut Tx<'_>, filter: RunFilter) -> Result<Vec<Run>, StoreError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM {RUNS} \
         WHERE (CAST($1 AS TEXT) IS NULL OR r.job_id = $1) \
         AND (CAST($2 AS TEXT) IS NULL OR r.state = $2) \
         AND (CAST($3 AS TEXT) IS NULL OR j.notebook = $3) \
         ORDER BY r.started_at DESC, r.seq DESC LIMIT $4"
    );
    let params = [
        Param::Text(filter.job.map(|id| id.to_string())),
        Param::Text(filter.state.map(|s| s.as_str().to_owned())),
        Param::Text(filter.notebook),
        limit(filter.limit),
    ];
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(run_from_row)
        .collect()
}

pub(super) async fn counts(tx: &mut Tx<'_>) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    for row in tx
        .query("SELECT state, count(*) FROM jobs GROUP BY state", &[])
        .await?
    {
        counts.add(row.parsed(0)?, row.int(1)?.unsigned_abs());
    }
    Ok(counts)
}
