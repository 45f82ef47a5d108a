//! How jobs and runs look in the API's JSON (and so in the CLI, which reads it):
//! times in RFC 3339 UTC, durations in seconds, states by their stored names.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::model::{Job, Run};
use crate::store::Progress;

fn time(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, time)
}

/// A job.
pub(crate) fn job(job: &Job) -> Value {
    json!({
        "kind": "job",
        "id": job.id.to_string(),
        "notebook": job.notebook,
        "parameters": job.parameters,
        "trigger": job.trigger.as_str(),
        "priority": job.priority,
        "idempotency_key": job.idempotency_key,
        "max_attempts": job.max_attempts,
        "timeout_seconds": job.timeout.map(|t| t.as_secs_f64()),
        "created_at": time(job.created_at),
        "not_before": time(job.not_before),
        "state": job.state.as_str(),
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "reason": job.reason,
        "finished_at": opt_time(job.finished_at),
    })
}

/// Which cell of how many a run is at.
pub(crate) fn progress(progress: Progress) -> Value {
    json!({"cell": progress.cell, "total": progress.total})
}

/// A run.
pub(crate) fn run(run: &Run) -> Value {
    json!({
        "kind": "run",
        "id": run.id.to_string(),
        "job_id": run.job_id.to_string(),
        "notebook": run.notebook,
        "attempt": run.attempt,
        "worker": run.worker,
        "state": run.state.as_str(),
        "reason": run.reason,
        "started_at": time(run.started_at),
        "heartbeat_at": time(run.heartbeat_at),
        "lease_expires_at": time(run.lease_expires_at),
        "finished_at": opt_time(run.finished_at),
    })
}
