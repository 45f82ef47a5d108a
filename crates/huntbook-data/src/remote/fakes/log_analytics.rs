//! A fake Log Analytics query API.
//!
//! Follows "Query - Execute" in the Log Analytics REST API reference
//! (`POST /v1/workspaces/{workspaceId}/query`, body `{"query", "timespan",
//! "workspaces"}`), "Azure Monitor Log Analytics API response format" (tables,
//! columns and rows; a non-fatal error as `"error"` beside the tables with status
//! 200) and "Azure Monitor Log Analytics API errors" (OneAPI error bodies:
//! `AuthorizationRequiredError` and `InvalidTokenError` with 401,
//! `BadArgumentError` with the parser's `innererror` and its line and position,
//! `WorkspaceNotFoundError` with 404) and "Metadata - Get"
//! (`GET /v1/workspaces/{workspaceId}/metadata`: tables with their columns). Tokens
//! must be ones the fake Entra ID issued
//! for `https://api.loganalytics.io`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use huntbook_http::testkit::{bearer, json_error, FakeEntraId, FakeServer, IssuedTokens};
use serde_json::{json, Value};

use super::{parse_kql, signin_columns, signin_rows, start_entra, ROW_LIMIT};
use super::{WORKSPACE_A, WORKSPACE_B, WORKSPACE_C};

const RESOURCE: &str = "https://api.loganalytics.io";

pub struct FakeLogAnalytics {
    pub server: FakeServer,
    pub entra: FakeEntraId,
}

impl FakeLogAnalytics {
    /// The API with workspaces A, B and C, `wrap` applied in front (for throttling).
    pub async fn start(wrap: impl FnOnce(Router) -> Router) -> FakeLogAnalytics {
        let entra = start_entra().await;
        let router = Router::new()
            .route("/v1/workspaces/{workspace}/query", post(query))
            .route("/v1/workspaces/{workspace}/metadata", get(metadata))
            .with_state(Arc::new(entra.issued()));
        FakeLogAnalytics {
            server: FakeServer::start(wrap(router)).await,
            entra,
        }
    }

    pub fn url(&self) -> String {
        self.server.base().to_string()
    }
}

/// "Metadata - Get": the workspace's tables (here, its sign-in log) with their columns.
async fn metadata(
    State(issued): State<Arc<IssuedTokens>>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorized(&issued, &headers) {
        return refused;
    }
    if ![WORKSPACE_A, WORKSPACE_B, WORKSPACE_C].contains(&workspace.as_str()) {
        return one_api(
            StatusCode::NOT_FOUND,
            "WorkspaceNotFoundError",
            &format!("Workspace '{workspace}' could not be found"),
            None,
        );
    }
    let columns: Vec<Value> = signin_columns()
        .into_iter()
        .map(|(name, kind)| json!({"name": name, "type": kind}))
        .collect();
    Json(json!({
        "tableGroups": [{"id": "oms/LogManagement", "name": "LogManagement", "tables": ["t/SigninLogs"]}],
        "tables": [{"id": "t/SigninLogs", "name": "SigninLogs", "timespanColumn": "TimeGenerated", "columns": columns}],
        "workspaces": [{"id": workspace, "resourceId": format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/soc/providers/Microsoft.OperationalInsights/workspaces/{}", &workspace[..8]), "name": &workspace[..8], "region": "westeurope"}],
    }))
    .into_response()
}

/// A bearer token the fake Entra ID issued for the API, else the documented 401.
fn authorized(issued: &IssuedTokens, headers: &HeaderMap) -> Result<(), Response> {
    let Some(token) = bearer(headers) else {
        return Err(one_api(
            StatusCode::UNAUTHORIZED,
            "AuthorizationRequiredError",
            "Valid authentication was not provided",
            None,
        ));
    };
    if issued.resource_of(token).as_deref() != Some(RESOURCE) {
        return Err(one_api(
            StatusCode::UNAUTHORIZED,
            "InvalidTokenError",
            "The provided authentication is not valid for this resource",
            Some(
                json!({"code": "SignatureVerificationFailed", "message": "Signature validation failed."}),
            ),
        ));
    }
    Ok(())
}

fn one_api(status: StatusCode, code: &str, message: &str, inner: Option<Value>) -> Response {
    let mut error = json!({"message": message, "code": code, "correlationId": "5b5b0f4e-6a4b-4a3f-9d34-4bd1c5d0d2a1"});
    if let Some(inner) = inner {
        error["innererror"] = inner;
    }
    json_error(status, json!({ "error": error }))
}

async fn query(
    State(issued): State<Arc<IssuedTokens>>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = authorized(&issued, &headers) {
        return refused;
    }
    let invalid = |message: &str| {
        one_api(
            StatusCode::BAD_REQUEST,
            "BadArgumentError",
            "The request had some invalid properties",
            Some(json!({"code": "QueryValidationError", "message": message})),
        )
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return invalid("The request body is not valid JSON");
    };
    let Some(text) = body.get("query").and_then(Value::as_str) else {
        return invalid("Required property 'query' not found in JSON");
    };
    let mut workspaces = vec![workspace];
    match body.get("workspaces") {
        None => {}
        Some(Value::Array(more)) => {
            workspaces.extend(more.iter().filter_map(Value::as_str).map(str::to_string))
        }
        Some(_) => return invalid("'workspaces' must be an array of workspace ids"),
    }
    let known = [WORKSPACE_A, WORKSPACE_B, WORKSPACE_C];
    if let Some(unknown) = workspaces.iter().find(|w| !known.contains(&w.as_str())) {
        return one_api(
            StatusCode::NOT_FOUND,
            "WorkspaceNotFoundError",
            &format!("Workspace '{unknown}' could not be found"),
            None,
        );
    }
    let parsed = match parse_kql(text, &["SigninLogs"]) {
        Ok(parsed) => parsed,
        Err(problem) => {
            let kind = if problem.semantic {
                "SemanticError"
            } else {
                "SyntaxError"
            };
            return one_api(
                StatusCode::BAD_REQUEST,
                "BadArgumentError",
                "The request had some invalid properties",
                Some(json!({
                    "code": kind,
                    "message": "A recognition error occurred in the query.",
                    "innererror": {
                        "code": problem.code,
                        "message": problem.message,
                        "line": problem.line,
                        "pos": problem.column,
                        "token": problem.token,
                    }
                })),
            );
        }
    };
    let mut rows: Vec<Value> = workspaces
        .iter()
        .flat_map(|w| signin_rows(w, true))
        .map(Value::from)
        .collect();
    if let Some(n) = parsed.take {
        rows.truncate(n);
    }
    let columns: Vec<Value> = signin_columns()
        .into_iter()
        .map(|(name, kind)| json!({"name": name, "type": kind}))
        .collect();
    let mut answer = json!({"tables": [{"name": "PrimaryResult", "columns": columns, "rows": []}]});
    if rows.len() > ROW_LIMIT {
        rows.truncate(ROW_LIMIT);
        answer["error"] = json!({
            "code": "PartialError",
            "message": "There were some errors when processing your query.",
            "details": [{
                "code": "EngineError",
                "message": "Something went wrong processing your query on the server.",
                "innererror": {
                    "code": "-2133196797",
                    "message": format!("Query result set has exceeded the internal record count limit {ROW_LIMIT} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)"),
                    "severity": 2,
                    "severityName": "Error"
                }
            }]
        });
    }
    answer["tables"][0]["rows"] = Value::Array(rows);
    Json(answer).into_response()
}
