//! What runs found: findings, the local incidents raised from them, and each run's
//! stored outputs (the notebook and its HTML report).

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::request::number;
use super::runs::{find, latest_runs, query_pairs, Found};
use super::ApiState;
use crate::findings::FindingFilter;
use crate::store::Scope;

const MAX_LIST: u64 = 1000;

/// `GET /api/v1/findings?notebook=&limit=`, newest first.
pub(crate) async fn findings(
    caller: Caller,
    State(state): State<ApiState>,
    pairs: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let pairs = query_pairs(pairs, &["notebook", "limit"])?;
    let filter = FindingFilter {
        notebook: pairs.get("notebook").cloned(),
        limit: Some(number(&pairs, "limit", 1..=MAX_LIST)?.unwrap_or(100) as u32),
        ..FindingFilter::default()
    };
    let found = state.store.findings(filter).await?;
    Ok(Json(
        json!({ "findings": found.iter().map(|f| f.to_json()).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/v1/incidents?limit=`: the local incident store, newest first.
pub(crate) async fn incidents(
    caller: Caller,
    State(state): State<ApiState>,
    pairs: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let pairs = query_pairs(pairs, &["limit"])?;
    let limit = number(&pairs, "limit", 1..=MAX_LIST)?.unwrap_or(100) as u32;
    let raised = state.store.incidents(Some(limit)).await?;
    Ok(Json(
        json!({ "incidents": raised.iter().map(|i| i.to_json()).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/v1/runs/{id}/output.ipynb`.
pub(crate) async fn notebook(
    caller: Caller,
    state: State<ApiState>,
    id: Path<String>,
) -> Result<Response, ApiError> {
    output(caller, state, id, Kind::Notebook).await
}

/// `GET /api/v1/runs/{id}/output.html`.
pub(crate) async fn html(
    caller: Caller,
    state: State<ApiState>,
    id: Path<String>,
) -> Result<Response, ApiError> {
    output(caller, state, id, Kind::Html).await
}

#[derive(Clone, Copy)]
enum Kind {
    Notebook,
    Html,
}

/// A run's stored output (a job id reads its latest run).
async fn output(
    caller: Caller,
    State(state): State<ApiState>,
    Path(id): Path<String>,
    kind: Kind,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let run = match find(&state, &id).await? {
        Found::Run(run) => run,
        Found::Job(job) => latest_runs(&state, job.id, 1)
            .await?
            .pop()
            .ok_or_else(|| ApiError::not_found(format!("job {id} has not run yet")))?,
    };
    let recorded = state.store.run_outputs(run.id).await?;
    let (located, what, content_type) = match kind {
        Kind::Notebook => (
            recorded.notebook,
            "output notebook",
            "application/x-ipynb+json",
        ),
        Kind::Html => (recorded.html, "HTML report", "text/html; charset=utf-8"),
    };
    let missing = || ApiError::not_found(format!("run {} has no stored {what}", run.id));
    let located = located.ok_or_else(missing)?;
    let outputs = state.outputs.as_ref().ok_or_else(missing)?;
    // Only names this service's store gave are read: a recorded name elsewhere (the
    // store was moved) is not followed.
    let path = outputs.path_of(&located).ok_or_else(missing)?;
    let bytes = outputs
        .get(&path)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}
