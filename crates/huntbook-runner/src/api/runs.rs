//! The runs routes: start a run, list jobs, show a job or run, cancel, read the log.
//!
//! A job is the request and a run one attempt at it; the routes take either id
//! where both make sense (showing, cancelling, the log of a job's latest run).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::request::{number, query, run_request};
use super::{view, ApiState, MAX_BODY};
use crate::error::StoreError;
use crate::model::{Cancel, Job, JobFilter, Run, RunFilter, State as JobState, TriggerKind};
use crate::store::Scope;

/// The most jobs one listing returns, and the default.
const MAX_LIST: u64 = 1000;
const DEFAULT_LIST: u64 = 100;

/// The most log text one call returns; the client asks again from `next`.
const LOG_PAGE: usize = 256 * 1024;

fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over the limit of {} KiB", MAX_BODY / 1024),
            )
        } else {
            ApiError::bad_request(format!("the body could not be read: {rejection}"))
        }
    })
}

pub(super) fn query_pairs(
    pairs: Result<Query<BTreeMap<String, String>>, QueryRejection>,
    known: &[&str],
) -> Result<BTreeMap<String, String>, ApiError> {
    let Query(pairs) =
        pairs.map_err(|e| ApiError::bad_request(format!("the query string: {e}")))?;
    query(pairs, known)
}

/// `POST /api/v1/runs`.
pub(crate) async fn create(
    caller: Caller,
    State(state): State<ApiState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Run)?;
    let header_key =
        match headers.get("idempotency-key") {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| {
                ApiError::bad_request("the Idempotency-Key header is not plain text")
            })?),
        };
    let request = run_request(&body(raw)?, header_key)?;
    let mut job = state.config.job(
        &request.notebook,
        TriggerKind::OnDemand,
        request.parameters,
        &state.scrubber,
    )?;
    job.idempotency_key = request.idempotency_key;
    job.not_before = request.at;
    job.priority = request.priority;
    let enqueued = state.store.enqueue(job).await?;
    let status = if enqueued.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/api/v1/runs/{}", enqueued.job.id);
    Ok((
        status,
        [(header::LOCATION, location)],
        Json(view::job(&enqueued.job)),
    )
        .into_response())
}

/// `GET /api/v1/runs?status=&notebook=&limit=`: jobs, newest first, each with its
/// latest run.
pub(crate) async fn list(
    caller: Caller,
    State(state): State<ApiState>,
    pairs: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let pairs = query_pairs(pairs, &["status", "notebook", "limit"])?;
    let status = pairs
        .get("status")
        .map(|s| s.parse::<JobState>())
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("query parameter 'status': {e}")))?;
    let limit = number(&pairs, "limit", 1..=MAX_LIST)?.unwrap_or(DEFAULT_LIST);
    let filter = JobFilter {
        state: status,
        notebook: pairs.get("notebook").cloned(),
        limit: Some(limit as u32),
    };
    let mut listed = Vec::new();
    for job in state.store.jobs(filter).await? {
        let latest = latest_runs(&state, job.id, 1).await?;
        let mut value = view::job(&job);
        value["started_at"] = latest
            .first()
            .map_or(Value::Null, |run| view::run(run)["started_at"].take());
        value["runs"] = latest.iter().map(view::run).collect();
        listed.push(value);
    }
    Ok(Json(json!({ "jobs": listed })))
}

pub(super) async fn latest_runs(
    state: &ApiState,
    job: Uuid,
    limit: u32,
) -> Result<Vec<Run>, StoreError> {
    state
        .store
        .runs(RunFilter {
            job: Some(job),
            limit: Some(limit),
            ..RunFilter::default()
        })
        .await
}

/// A job or a run, found by either id.
pub(super) enum Found {
    Job(Job),
    Run(Run),
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse().map_err(|_| {
        ApiError::not_found(format!(
            "no job or run with id '{id}': ids are UUIDs such as those `GET /api/v1/runs` lists"
        ))
    })
}

pub(super) async fn find(state: &ApiState, id: &str) -> Result<Found, ApiError> {
    let id = parse_id(id)?;
    match state.store.job(id).await {
        Ok(job) => return Ok(Found::Job(job)),
        Err(StoreError::JobNotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    match state.store.run(id).await {
        Ok(run) => Ok(Found::Run(run)),
        Err(StoreError::RunNotFound(_)) => {
            Err(ApiError::not_found(format!("no job or run with id {id}")))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/v1/runs/{id}`: `{job, runs, progress}` for a job id (its runs in
/// attempt order, the progress of the latest), `{run, job, progress}` for a run id.
pub(crate) async fn show(
    caller: Caller,
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    Ok(Json(match find(&state, &id).await? {
        Found::Job(job) => {
            let mut runs = latest_runs(&state, job.id, u32::MAX).await?;
            runs.reverse();
            let progress = match runs.last() {
                Some(latest) => state.store.progress(latest.id).await?,
                None => None,
            };
            json!({
                "job": view::job(&job),
                "runs": runs.iter().map(view::run).collect::<Vec<_>>(),
                "progress": progress.map(view::progress),
            })
        }
        Found::Run(run) => {
            let job = state.store.job(run.job_id).await?;
            let progress = state.store.progress(run.id).await?;
            json!({
                "run": view::run(&run),
                "job": view::job(&job),
                "progress": progress.map(view::progress),
            })
        }
    }))
}

/// `POST /api/v1/runs/{id}/cancel` (a job id, or a run id for its job): 200 when
/// the job is cancelled or had already ended, 202 when its worker is asked to stop.
pub(crate) async fn cancel(
    caller: Caller,
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Run)?;
    let job = match find(&state, &id).await? {
        Found::Job(job) => job.id,
        Found::Run(run) => run.job_id,
    };
    let (status, result, job) = match state.store.cancel(job).await? {
        Cancel::Cancelled(job) => (StatusCode::OK, "cancelled", job),
        Cancel::Requested(job) => (StatusCode::ACCEPTED, "cancel_requested", job),
        Cancel::AlreadyFinished(job) => (StatusCode::OK, "already_finished", job),
    };
    Ok((
        status,
        Json(json!({"result": result, "job": view::job(&job)})),
    )
        .into_response())
}

/// `GET /api/v1/runs/{id}/log?after=N`: the run's output from byte `after` (a job
/// id reads its latest run), with its progress; `next` is where to ask from next.
pub(crate) async fn log(
    caller: Caller,
    State(state): State<ApiState>,
    Path(id): Path<String>,
    pairs: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let pairs = query_pairs(pairs, &["after"])?;
    let after = number(&pairs, "after", 0..=u64::MAX >> 1)?.unwrap_or(0);
    let run = match find(&state, &id).await? {
        Found::Run(run) => run,
        Found::Job(job) => match latest_runs(&state, job.id, 1).await?.pop() {
            Some(run) => run,
            // Never run (yet): nothing written; a job cancelled before it ran is finished.
            None => {
                return Ok(Json(json!({
                    "run_id": null, "state": job.state.as_str(), "offset": after, "next": after,
                    "text": "", "progress": null, "finished": job.state.is_terminal(),
                })))
            }
        },
    };
    let page = state.store.run_log(run.id, after, LOG_PAGE).await?;
    Ok(Json(json!({
        "run_id": run.id.to_string(),
        "state": run.state.as_str(),
        "offset": after,
        "next": page.next,
        "text": page.text,
        "progress": page.progress.map(view::progress),
        "finished": run.state.is_terminal() && !page.more,
    })))
}
