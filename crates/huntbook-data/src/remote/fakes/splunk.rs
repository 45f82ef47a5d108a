//! A fake Splunk management API.
//!
//! Follows the Splunk REST API Reference Manual: "Access endpoint descriptions"
//! (`POST /services/auth/login` → `sessionKey`; `Authorization: Splunk <key>` or
//! `Bearer <token>`), and "Search endpoint descriptions": `search/jobs` (`POST`, form
//! `search`, `exec_mode`, `output_mode` → `201 {"sid"}`), `search/jobs/{search_id}`
//! (`GET` → `entry[0].content` with `dispatchState`, `isDone`, `isFailed`,
//! `resultCount`, `messages`), `search/jobs/{search_id}/results` (`GET` with `count`,
//! `offset`, `output_mode=json` → `{"fields", "results"}`) and
//! `search/jobs/{search_id}/control` (`action=cancel`). Errors are `{"messages":
//! [{"type", "text"}]}`. A job reports `RUNNING` on its first poll and is done on the
//! next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use huntbook_http::testkit::{json_error, query_value, FakeServer};
use serde_json::{json, Value};

pub const TOKEN: &str = "eyJraWQiOiJzcGx1bmsuc2VjcmV0IiwiYWxnIjoiSFM1MTIifQ.fake";
pub const USER: &str = "hunter";
pub const PASSWORD: &str = "correct horse battery staple";
/// Events every search finds.
pub const EVENTS: usize = 23;
/// A search whose job fails while running.
pub const FAILING_SEARCH: &str = "index=main | eval x=1/0 | fail_me";

#[derive(Default)]
struct SplunkState {
    sessions: Mutex<Vec<String>>,
    /// Jobs by sid: their search and how often they were polled.
    jobs: Mutex<HashMap<String, (String, u32)>>,
}

pub struct FakeSplunk {
    pub server: FakeServer,
}

impl FakeSplunk {
    pub async fn start() -> FakeSplunk {
        let state = Arc::new(SplunkState::default());
        let router = Router::new()
            .route("/services/auth/login", post(login))
            .route("/services/search/jobs", post(create))
            .route("/services/search/jobs/{sid}", get(status))
            .route("/services/search/jobs/{sid}/results", get(results))
            .route("/services/search/jobs/{sid}/control", post(control))
            .with_state(state);
        FakeSplunk {
            server: FakeServer::start(router).await,
        }
    }

    pub fn url(&self) -> String {
        self.server.base().to_string()
    }
}

fn messages(status: StatusCode, kind: &str, text: &str) -> Response {
    json_error(status, json!({"messages": [{"type": kind, "text": text}]}))
}

fn authorized(state: &SplunkState, headers: &HeaderMap) -> Result<(), Response> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let ok = match value.split_once(' ') {
        Some(("Bearer", token)) => token == TOKEN,
        Some(("Splunk", key)) => state.sessions.lock().unwrap().iter().any(|k| k == key),
        _ => false,
    };
    match ok {
        true => Ok(()),
        false => Err(messages(
            StatusCode::UNAUTHORIZED,
            "WARN",
            "call not properly authenticated",
        )),
    }
}

async fn login(
    State(state): State<Arc<SplunkState>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let user = query_value(&form, "username");
    let password = query_value(&form, "password");
    if user != Some(USER) || password != Some(PASSWORD) {
        return messages(StatusCode::UNAUTHORIZED, "WARN", "Login failed");
    }
    let mut sessions = state.sessions.lock().unwrap();
    let key = format!("session-{}", sessions.len() + 1);
    sessions.push(key.clone());
    Json(json!({"sessionKey": key, "message": "", "code": ""})).into_response()
}

async fn create(
    State(state): State<Arc<SplunkState>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = authorized(&state, &headers) {
        return refused;
    }
    let Some(search) = query_value(&form, "search") else {
        return messages(StatusCode::BAD_REQUEST, "FATAL", "Empty search.");
    };
    if !(search.starts_with("search ") || search.starts_with('|')) {
        return messages(
            StatusCode::BAD_REQUEST,
            "FATAL",
            &format!(
                "Error in 'SearchParser': Missing a search command before '{}'.",
                search.split(' ').next().unwrap_or_default()
            ),
        );
    }
    if search.trim_end().ends_with(" by") {
        return messages(
            StatusCode::BAD_REQUEST,
            "FATAL",
            "Error in 'stats' command: The argument 'by' is invalid.",
        );
    }
    let mut jobs = state.jobs.lock().unwrap();
    let sid = format!("1711895136.{}", jobs.len() + 1);
    jobs.insert(sid.clone(), (search.to_string(), 0));
    if query_value(&form, "output_mode") != Some("json") {
        let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <sid>{sid}</sid>\n</response>\n");
        return (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "text/xml; charset=UTF-8")],
            xml,
        )
            .into_response();
    }
    (StatusCode::CREATED, Json(json!({ "sid": sid }))).into_response()
}

async fn status(
    State(state): State<Arc<SplunkState>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorized(&state, &headers) {
        return refused;
    }
    let mut jobs = state.jobs.lock().unwrap();
    let Some((search, polls)) = jobs.get_mut(&sid) else {
        return messages(
            StatusCode::NOT_FOUND,
            "FATAL",
            &format!("Unknown sid: {sid}"),
        );
    };
    *polls += 1;
    let content = if search.ends_with(FAILING_SEARCH.trim_start_matches("index=main")) {
        json!({"dispatchState": "FAILED", "isDone": true, "isFailed": true, "resultCount": 0,
               "messages": [{"type": "FATAL", "text": "Error in 'fail_me' command: This command failed on purpose."}]})
    } else if *polls == 1 {
        json!({"dispatchState": "RUNNING", "isDone": false, "isFailed": false, "resultCount": 0, "doneProgress": 0.4, "messages": []})
    } else {
        json!({"dispatchState": "DONE", "isDone": true, "isFailed": false, "resultCount": EVENTS, "doneProgress": 1.0, "messages": []})
    };
    Json(json!({"entry": [{"name": search.clone(), "id": format!("/services/search/jobs/{sid}"), "content": content}], "paging": {"total": 1, "perPage": 0, "offset": 0}}))
        .into_response()
}

fn event(i: usize) -> Value {
    let mut event = json!({
        "_time": format!("2024-03-31T14:{:02}:{:02}.000+00:00", 25 + (36 + i) / 60, (36 + i) % 60),
        "host": "web01",
        "user": format!("user{i}"),
        "src_ips": if i.is_multiple_of(2) { json!([format!("10.1.1.{i}"), format!("10.2.2.{i}")]) } else { json!(format!("10.1.1.{i}")) },
    });
    if i > 0 {
        event["dest_port"] = json!("22");
    }
    event
}

async fn results(
    State(state): State<Arc<SplunkState>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = authorized(&state, &headers) {
        return refused;
    }
    if !state.jobs.lock().unwrap().contains_key(&sid) {
        return messages(
            StatusCode::NOT_FOUND,
            "FATAL",
            &format!("Unknown sid: {sid}"),
        );
    }
    let number = |name: &str, default: usize| -> Result<usize, Response> {
        match query_value(&query, name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                messages(
                    StatusCode::BAD_REQUEST,
                    "FATAL",
                    &format!("Argument '{name}' is not a number: {v}"),
                )
            }),
        }
    };
    let (count, offset) = match (number("count", 100), number("offset", 0)) {
        (Ok(c), Ok(o)) => (if c == 0 { EVENTS } else { c }, o),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let rows: Vec<Value> = (offset..EVENTS.min(offset + count)).map(event).collect();
    let fields: Vec<Value> = ["_time", "host", "user", "src_ips", "dest_port"]
        .iter()
        .map(|n| json!({"name": n}))
        .collect();
    Json(json!({"preview": false, "init_offset": offset, "messages": [], "fields": fields, "results": rows})).into_response()
}

async fn control(
    State(state): State<Arc<SplunkState>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorized(&state, &headers) {
        return refused;
    }
    state.jobs.lock().unwrap().remove(&sid);
    Json(json!({"messages": [{"type": "INFO", "text": "Search job cancelled."}]})).into_response()
}
