//! A fake Azure Data Explorer cluster.
//!
//! Follows "Query/management HTTP request" (`POST /v2/rest/query`, JSON body with
//! `db`, `csl` and `properties`, bearer token for the cluster) and "Query V2 HTTP
//! response" (a JSON array of `DataSetHeader`, `DataTable` and `DataSetCompletion`
//! frames; a failure before the status line as a OneApiErrors body, with
//! `@message`; one after it as an error object in place of a row plus
//! `HasErrors`/`OneApiErrors` in `DataSetCompletion`) in the Kusto REST API
//! documentation. It echoes `x-ms-client-request-id` and sends `x-ms-activity-id`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use huntbook_http::testkit::{bearer, json_error, FakeEntraId, FakeServer, IssuedTokens};
use serde_json::{json, Value};

use super::{parse_kql, signin_columns, signin_rows, start_entra, ROW_LIMIT};
use super::{WORKSPACE_A, WORKSPACE_B, WORKSPACE_C};

/// The one database of the fake cluster.
pub const DATABASE: &str = "SecurityLogs";
/// A query whose result outgrows the fake's cap, so it fails after streaming.
pub const FAILING_QUERY: &str = "SigninLogs";
/// Rows sent before the failure.
pub const ROWS_BEFORE_FAILURE: usize = ROW_LIMIT;

pub struct FakeKusto {
    pub server: FakeServer,
    pub entra: FakeEntraId,
}

struct KustoState {
    issued: IssuedTokens,
    /// The cluster URL tokens must be issued for: this server's own.
    resource: std::sync::OnceLock<String>,
}

impl FakeKusto {
    pub async fn start(wrap: impl FnOnce(Router) -> Router) -> FakeKusto {
        let entra = start_entra().await;
        let state = Arc::new(KustoState {
            issued: entra.issued(),
            resource: std::sync::OnceLock::new(),
        });
        let router = Router::new()
            .route("/v2/rest/query", post(query))
            .with_state(state.clone());
        let server = FakeServer::start(wrap(router)).await;
        let _ = state
            .resource
            .set(server.base().as_str().trim_end_matches('/').to_string());
        FakeKusto { server, entra }
    }

    /// The cluster URL.
    pub fn cluster(&self) -> String {
        self.server
            .base()
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }
}

fn one_api(status: StatusCode, code: &str, kind: &str, message: &str) -> Response {
    json_error(
        status,
        json!({"error": {
            "code": code,
            "message": "Request is invalid and cannot be executed.",
            "@type": kind,
            "@message": message,
            "@context": {"serviceAlias": "FAKE", "activityId": "9dcc4522-7b51-41db-a7ae-7c1bfe0696b2"},
            "@permanent": true
        }}),
    )
}

async fn query(State(state): State<Arc<KustoState>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut response = answer(&state, &headers, &body);
    if let Some(id) = headers.get("x-ms-client-request-id") {
        response
            .headers_mut()
            .insert("x-ms-client-request-id", id.clone());
    }
    response.headers_mut().insert(
        "x-ms-activity-id",
        HeaderValue::from_static("0f8d3a5e-0d43-4a52-9d7e-1c1b1f0b6a11"),
    );
    response
}

fn answer(state: &KustoState, headers: &HeaderMap, body: &[u8]) -> Response {
    let resource = state.resource.get().map(String::as_str);
    let token_ok = bearer(headers)
        .and_then(|t| state.issued.resource_of(t))
        .is_some_and(|r| Some(r.as_str()) == resource);
    if !token_ok {
        let mut response = json_error(
            StatusCode::UNAUTHORIZED,
            json!({"error": {
                "code": "Unauthorized",
                "message": "The caller is not authenticated.",
                "@type": "Kusto.Common.Svc.Exceptions.UnauthorizedOperationException",
                "@message": "The bearer token is missing, expired or not issued for this cluster.",
                "@permanent": true
            }}),
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let bad = |message: &str| {
        one_api(
            StatusCode::BAD_REQUEST,
            "General_BadRequest",
            "Kusto.Data.Exceptions.KustoBadRequestException",
            message,
        )
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return bad(
            "Request is invalid and cannot be processed: the body must be application/json",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return bad("Request is invalid and cannot be processed: the body is not JSON");
    };
    let (Some(db), Some(csl)) = (
        body.get("db").and_then(Value::as_str),
        body.get("csl").and_then(Value::as_str),
    ) else {
        return bad("Request is invalid and cannot be processed: 'db' and 'csl' are required");
    };
    if body.get("properties").is_some_and(|p| !p.is_object()) {
        return bad("Request is invalid and cannot be processed: 'properties' must be an object");
    }
    if db != DATABASE {
        return one_api(
            StatusCode::BAD_REQUEST,
            "BadRequest_EntityNotFound",
            "Kusto.Data.Exceptions.EntityNotFoundException",
            &format!("Entity ID '{db}' of kind 'Database' was not found."),
        );
    }
    let parsed = match parse_kql(csl, &["SigninLogs"]) {
        Ok(parsed) => parsed,
        Err(p) => {
            let kind = if p.semantic {
                "Semantic error"
            } else {
                "Syntax error"
            };
            return bad(&format!(
                "Request is invalid and cannot be processed: {kind}: {}: {} [line:position={}:{}]",
                p.code, p.message, p.line, p.column
            ));
        }
    };
    let mut rows: Vec<Value> = [WORKSPACE_A, WORKSPACE_B, WORKSPACE_C]
        .iter()
        .flat_map(|w| signin_rows(w, false))
        .map(Value::from)
        .collect();
    if let Some(n) = parsed.take {
        rows.truncate(n);
    }
    let mut completion =
        json!({"FrameType": "DataSetCompletion", "HasErrors": false, "Cancelled": false});
    if rows.len() > ROW_LIMIT {
        rows.truncate(ROW_LIMIT);
        let error = json!({"error": {
            "code": "LimitsExceeded",
            "message": "Request is invalid and cannot be executed.",
            "@type": "Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException",
            "@message": format!("Query execution has exceeded the allowed limits (80DA0003): The results of this query exceed the set limit of {ROW_LIMIT} records (E_QUERY_RESULT_SET_TOO_LARGE)."),
            "@permanent": false
        }});
        rows.push(json!({"OneApiErrors": [error.clone()]}));
        completion["HasErrors"] = json!(true);
        completion["OneApiErrors"] = json!([error]);
    }
    let columns: Vec<Value> = signin_columns()
        .into_iter()
        .map(|(name, kind)| json!({"ColumnName": name, "ColumnType": kind}))
        .collect();
    Json(json!([
        {"FrameType": "DataSetHeader", "IsProgressive": false, "Version": "v2.0", "IsFragmented": false, "ErrorReportingPlacement": "InData"},
        {"FrameType": "DataTable", "TableId": 0, "TableKind": "QueryProperties", "TableName": "@ExtendedProperties",
         "Columns": [{"ColumnName": "TableId", "ColumnType": "int"}, {"ColumnName": "Key", "ColumnType": "string"}, {"ColumnName": "Value", "ColumnType": "dynamic"}],
         "Rows": [[1, "Visualization", "{\"Visualization\":null}"]]},
        {"FrameType": "DataTable", "TableId": 1, "TableKind": "PrimaryResult", "TableName": "PrimaryResult", "Columns": columns, "Rows": rows},
        {"FrameType": "DataTable", "TableId": 2, "TableKind": "QueryCompletionInformation", "TableName": "QueryCompletionInformation",
         "Columns": [{"ColumnName": "Timestamp", "ColumnType": "datetime"}, {"ColumnName": "Severity", "ColumnType": "int"}, {"ColumnName": "Payload", "ColumnType": "string"}],
         "Rows": [["2024-03-31T14:25:36.0000000Z", 4, "{\"Count\":1,\"Text\":\"Query completed successfully\"}"]]},
        completion
    ]))
    .into_response()
}
