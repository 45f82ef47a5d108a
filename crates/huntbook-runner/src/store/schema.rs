//! The store's tables, created and migrated when a store is opened.
//!
//! `schema_version` records each migration applied; a database whose version is
//! newer than this build's is refused rather than misread. One text serves both
//! databases: integers are `BIGINT` (SQLite reads it as INTEGER), times are epoch
//! milliseconds, JSON is text; only the auto-incremented key differs (`{seq}`).
//! `seq` orders jobs created in the same millisecond.

use super::tx::{Lock, Param, Tx};
use crate::error::StoreError;

/// Migration `n` (1-based) brings the schema from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE jobs (
    seq {seq},
    id TEXT NOT NULL UNIQUE,
    notebook TEXT NOT NULL,
    parameters TEXT NOT NULL,
    trigger TEXT NOT NULL,
    priority BIGINT NOT NULL,
    idempotency_key TEXT UNIQUE,
    max_attempts BIGINT NOT NULL,
    timeout_ms BIGINT,
    created_at BIGINT NOT NULL,
    not_before BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    cancel_requested BOOLEAN NOT NULL,
    reason TEXT,
    finished_at BIGINT
);
CREATE INDEX jobs_queue ON jobs (priority DESC, created_at, seq) WHERE state = 'queued';
CREATE INDEX jobs_state ON jobs (state, notebook);
CREATE TABLE runs (
    seq {seq},
    id TEXT NOT NULL UNIQUE,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    attempt BIGINT NOT NULL,
    worker TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    lease_expires_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (job_id, attempt)
);
CREATE INDEX runs_lease ON runs (lease_expires_at) WHERE state = 'running';
CREATE INDEX runs_job ON runs (job_id);
",
    "
ALTER TABLE runs ADD COLUMN output_notebook TEXT;
ALTER TABLE runs ADD COLUMN output_html TEXT;
CREATE TABLE findings (
    seq {seq},
    id TEXT NOT NULL UNIQUE,
    run_id TEXT NOT NULL REFERENCES runs (id),
    description TEXT NOT NULL,
    severity TEXT NOT NULL,
    entities TEXT NOT NULL,
    warnings TEXT NOT NULL,
    triage_incident TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX findings_run ON findings (run_id);
CREATE TABLE incidents (
    number {seq},
    finding_id TEXT NOT NULL UNIQUE REFERENCES findings (id),
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    entities TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE deliveries (
    seq {seq},
    id TEXT NOT NULL UNIQUE,
    finding_id TEXT NOT NULL REFERENCES findings (id),
    sink TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_try_at BIGINT NOT NULL,
    last_error TEXT,
    receipt TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (finding_id, sink)
);
CREATE INDEX deliveries_due ON deliveries (next_try_at) WHERE state = 'pending';
",
    "
CREATE TABLE trigger_state (
    key TEXT PRIMARY KEY,
    mark BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
",
    "
CREATE TABLE tokens (
    seq {seq},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
ALTER TABLE runs ADD COLUMN cell BIGINT;
ALTER TABLE runs ADD COLUMN cells BIGINT;
CREATE TABLE run_log (
    run_id TEXT NOT NULL REFERENCES runs (id),
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (run_id, start_at)
);
",
];

/// The schema version this build writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the schema up to [`VERSION`].
pub(crate) async fn migrate(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    tx.serialize(Lock::Migrate).await?;
    tx.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await?;
    let found = tx
        .query("SELECT max(version) FROM schema_version", &[])
        .await?
        .first()
        .map(|row| row.opt_int(0))
        .transpose()?
        .flatten()
        .unwrap_or(0);
    if found > VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: VERSION,
        });
    }
    for (done, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let sql = migration.replace("{seq}", tx.serial_key());
        tx.batch(&sql).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[Param::int(done as i64 + 1)],
        )
        .await?;
    }
    Ok(())
}
