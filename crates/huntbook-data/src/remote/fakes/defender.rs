//! Fake Defender hunting APIs, all three on one server.
//!
//! Follows "Advanced Hunting API" in the Microsoft Defender for Endpoint API reference
//! (`POST /api/advancedqueries/run`, `{"Query"}` → `{"Stats", "Schema": [{"Name",
//! "Type"}], "Results": [{...}]}`, errors `{"error": {"code", "message", "target"}}`),
//! the Microsoft 365 Defender "Advanced hunting API" (`POST /api/advancedhunting/run`,
//! same shapes) and Microsoft Graph "security: runHuntingQuery" (`POST
//! /v1.0/security/runHuntingQuery` → `{"schema": [{"name", "type"}], "results"}`,
//! errors with `innerError`). Each path accepts only tokens the fake Entra ID issued
//! for its own audience.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use huntbook_http::testkit::{bearer, json_error, FakeEntraId, FakeServer, IssuedTokens};
use serde_json::{json, Map, Value};

use super::{parse_kql, start_entra};

pub struct FakeDefender {
    pub server: FakeServer,
    pub entra: FakeEntraId,
}

#[derive(Clone, Copy, PartialEq)]
enum Api {
    Defender(&'static str),
    Graph,
}

impl FakeDefender {
    pub async fn start(wrap: impl FnOnce(Router) -> Router) -> FakeDefender {
        let entra = start_entra().await;
        let issued = Arc::new(entra.issued());
        let route = |api: Api| {
            let issued = issued.clone();
            post(move |headers: HeaderMap, body: Bytes| async move {
                run(api, &issued, &headers, &body)
            })
        };
        let router = Router::new()
            .route(
                "/api/advancedqueries/run",
                route(Api::Defender("https://api.securitycenter.microsoft.com")),
            )
            .route(
                "/api/advancedhunting/run",
                route(Api::Defender("https://api.security.microsoft.com")),
            )
            .route("/v1.0/security/runHuntingQuery", route(Api::Graph));
        FakeDefender {
            server: FakeServer::start(wrap(router)).await,
            entra,
        }
    }

    pub fn url(&self) -> String {
        self.server.base().to_string()
    }
}

fn error(api: Api, status: StatusCode, code: &str, message: &str) -> Response {
    let body = match api {
        Api::Defender(_) => {
            json!({"error": {"code": code, "message": message, "target": "b5f3e7d1-2a4c-4d8e-9f01-3c5a7b9d1e2f"}})
        }
        Api::Graph => json!({"error": {"code": code, "message": message, "innerError": {
            "date": "2024-03-31T14:25:36", "request-id": "0e4c8e8a-3b1d-4a2f-8c7e-5d6f7a8b9c0d"}}}),
    };
    json_error(status, body)
}

fn run(api: Api, issued: &IssuedTokens, headers: &HeaderMap, body: &[u8]) -> Response {
    let audience = match api {
        Api::Defender(audience) => audience,
        Api::Graph => "https://graph.microsoft.com",
    };
    let token_ok = bearer(headers)
        .and_then(|t| issued.resource_of(t))
        .is_some_and(|r| r == audience);
    if !token_ok {
        return match api {
            Api::Defender(_) => error(
                api,
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Authorization has been denied for this request.",
            ),
            Api::Graph => error(
                api,
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            ),
        };
    }
    let query = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b.get("Query").and_then(Value::as_str).map(str::to_string));
    let Some(query) = query else {
        return error(
            api,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The request body must be a JSON object with a 'Query' string.",
        );
    };
    let parsed = match parse_kql(&query, &["DeviceProcessEvents"]) {
        Ok(parsed) => parsed,
        Err(problem) => return error(api, StatusCode::BAD_REQUEST, "BadRequest", &problem.message),
    };
    let columns = [
        ("Timestamp", "DateTime"),
        ("DeviceName", "String"),
        ("ProcessId", "Int64"),
        ("FileName", "String"),
        ("InitiatingProcessCommandLine", "String"),
        ("IsElevated", "Boolean"),
        ("AdditionalFields", "Object"),
    ];
    let rows: Vec<Value> = (0..10usize)
        .take(parsed.take.unwrap_or(usize::MAX))
        .map(|i| {
            let mut row = Map::new();
            row.insert(
                "Timestamp".into(),
                json!(format!("2024-03-31T10:{i:02}:00.5Z")),
            );
            row.insert(
                "DeviceName".into(),
                json!(format!("host{}.contoso.com", i % 3)),
            );
            row.insert("ProcessId".into(), json!(1000 + i));
            row.insert("FileName".into(), json!("powershell.exe"));
            // The services leave out columns a row has no value for.
            if i % 3 != 2 {
                row.insert(
                    "InitiatingProcessCommandLine".into(),
                    json!("cmd.exe /c whoami"),
                );
            }
            row.insert("IsElevated".into(), json!(i % 2 == 0));
            row.insert(
                "AdditionalFields".into(),
                json!({"Signer": "Microsoft", "Rank": i}),
            );
            Value::Object(row)
        })
        .collect();
    let answer = match api {
        Api::Defender(_) => json!({
            "Stats": {"ExecutionTime": 0.25, "resource_usage": {"cache": {"memory": {"hits": 1}}}, "dataset_statistics": [{"table_row_count": rows.len()}]},
            "Schema": columns.iter().map(|(n, t)| json!({"Name": n, "Type": t})).collect::<Vec<_>>(),
            "Results": rows,
        }),
        Api::Graph => json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults",
            "schema": columns.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            "results": rows,
        }),
    };
    Json(answer).into_response()
}
