//! A fake Elasticsearch or OpenSearch cluster.
//!
//! Follows the Elasticsearch reference: "Search API" (`POST /{index}/_search`, hits
//! with `_index`, `_id`, `_source`, `sort`; `_shards.failures`; a `size` over
//! `index.max_result_window` refused), "Paginate search results" (`search_after`
//! with a point in time), "Open point in time API" (`POST /{index}/_pit?keep_alive=`
//! → `{"id"}`), "Close point in time API" (`DELETE /_pit`), and the error body
//! (`{"error": {"root_cause": [{"type", "reason", "line", "col"}], ...}, "status"}`,
//! `security_exception` with 401). As OpenSearch it follows "Point in Time API"
//! (`POST /{index}/_search/point_in_time` → `{"pit_id"}`, `DELETE
//! /_search/point_in_time` with `{"pit_id": [...]}`). Auth: `ApiKey` or basic.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use base64::Engine;
use huntbook_http::testkit::{json_error, query_value, FakeServer};
use serde_json::{json, Value};

use crate::remote::elastic::Flavor;

pub const API_KEY: &str = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
pub const USER: &str = "elastic";
pub const PASSWORD: &str = "changeme-for-tests";
/// Documents in the index.
pub const DOCUMENTS: usize = 10_500;
/// An index one of whose two shards fails every search.
pub const BROKEN_INDEX: &str = "logs-broken";
pub const INDEX: &str = "logs-endpoint";
const MAX_RESULT_WINDOW: u64 = 10_000;

struct ElasticState {
    flavor: Flavor,
    pits: Mutex<HashSet<String>>,
    opened: Mutex<u32>,
}

pub struct FakeElastic {
    pub server: FakeServer,
    pub flavor: Flavor,
}

impl FakeElastic {
    pub async fn start(flavor: Flavor, wrap: impl FnOnce(Router) -> Router) -> FakeElastic {
        let state = Arc::new(ElasticState {
            flavor,
            pits: Mutex::new(HashSet::new()),
            opened: Mutex::new(0),
        });
        let router = Router::new()
            .route("/{index}/_search", post(search_index))
            .route("/_search", post(search_pit));
        let router = match flavor {
            Flavor::Elasticsearch => router
                .route("/{index}/_pit", post(open_pit))
                .route("/_pit", delete(close_pit)),
            Flavor::OpenSearch => router
                .route("/{index}/_search/point_in_time", post(open_pit))
                .route("/_search/point_in_time", delete(close_pit)),
        };
        FakeElastic {
            server: FakeServer::start(wrap(router.with_state(state))).await,
            flavor,
        }
    }

    pub fn url(&self) -> String {
        self.server.base().to_string()
    }
}

fn es_error(
    status: StatusCode,
    kind: &str,
    reason: &str,
    place: Option<(usize, usize)>,
) -> Response {
    let mut cause = json!({"type": kind, "reason": reason});
    if let Some((line, col)) = place {
        cause["line"] = json!(line);
        cause["col"] = json!(col);
    }
    let mut error = cause.clone();
    error["root_cause"] = json!([cause]);
    json_error(status, json!({"error": error, "status": status.as_u16()}))
}

fn authorized(headers: &HeaderMap) -> Result<(), Response> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let ok = match value.split_once(' ') {
        Some(("ApiKey", key)) => key == API_KEY,
        Some(("Basic", credentials)) => credentials == basic,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let mut response = es_error(
        StatusCode::UNAUTHORIZED,
        "security_exception",
        "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
        None,
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("ApiKey, Basic realm=\"security\" charset=\"UTF-8\""),
    );
    Err(response)
}

fn document(seq: usize) -> Value {
    json!({
        "@timestamp": format!("2024-03-31T{:02}:{:02}:{:02}.000Z", seq / 3600 % 24, seq / 60 % 60, seq % 60),
        "host": {"name": format!("host{}", seq % 7), "os": {"family": "windows"}},
        "process": {"pid": 100 + seq, "name": "cmd.exe"},
        "event": {"kind": "event", "risk_score": if seq.is_multiple_of(2) { json!(seq as f64 / 2.0) } else { json!(seq) }},
        "tags": ["endpoint", format!("t{}", seq % 3)],
    })
}

/// The search body, or the error Elasticsearch answers for it.
fn read_body(body: &[u8]) -> Result<Value, Response> {
    let text = String::from_utf8_lossy(body);
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        es_error(
            StatusCode::BAD_REQUEST,
            "x_content_parse_exception",
            &format!("Failed to parse search body: {e}"),
            Some((e.line(), e.column())),
        )
    })?;
    let known = ["match_all", "term", "terms", "bool", "range", "match"];
    if let Some(query) = value.get("query").and_then(Value::as_object) {
        for key in query.keys() {
            if !known.contains(&key.as_str()) {
                let at = text.find(&format!("\"{key}\"")).unwrap_or(0);
                let line = text[..at].matches('\n').count() + 1;
                let col = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
                return Err(es_error(
                    StatusCode::BAD_REQUEST,
                    "parsing_exception",
                    &format!("unknown query [{key}]"),
                    Some((line, col)),
                ));
            }
        }
    }
    let size = value.get("size").map_or(Some(10), Value::as_u64);
    match size {
        Some(n) if n > MAX_RESULT_WINDOW => Err(es_error(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            &format!("Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was [{n}]. See the scroll api for a more efficient way to request large data sets."),
            None,
        )),
        Some(_) => Ok(value),
        None => Err(es_error(StatusCode::BAD_REQUEST, "x_content_parse_exception", "[size] must be a number", None)),
    }
}

fn answer(index: &str, body: &Value, pit: Option<String>) -> Response {
    let size = body.get("size").and_then(Value::as_u64).unwrap_or(10) as usize;
    let after = body["search_after"][0]
        .as_u64()
        .map(|n| n as usize + 1)
        .unwrap_or(0);
    let hits: Vec<Value> = (after..DOCUMENTS)
        .take(size)
        .map(|seq| json!({"_index": index, "_id": format!("doc-{seq:05}"), "_score": null, "_source": document(seq), "sort": [seq]}))
        .collect();
    let shards = if index == BROKEN_INDEX {
        json!({"total": 2, "successful": 1, "skipped": 0, "failed": 1, "failures": [{"shard": 1, "index": index, "node": "n1",
            "reason": {"type": "query_shard_exception", "reason": "failed to create query: field [x] of type [text] is not aggregatable"}}]})
    } else {
        json!({"total": 2, "successful": 2, "skipped": 0, "failed": 0})
    };
    let mut answer = json!({"took": 3, "timed_out": false, "_shards": shards,
        "hits": {"total": {"value": DOCUMENTS, "relation": "eq"}, "max_score": null, "hits": hits}});
    if let Some(pit) = pit {
        answer["pit_id"] = json!(pit);
    }
    Json(answer).into_response()
}

async fn search_index(Path(index): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = authorized(&headers) {
        return refused;
    }
    if index != INDEX && index != BROKEN_INDEX {
        return es_error(
            StatusCode::NOT_FOUND,
            "index_not_found_exception",
            &format!("no such index [{index}]"),
            None,
        );
    }
    match read_body(&body) {
        Ok(body) if body.get("pit").is_some() => es_error(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;",
            None,
        ),
        Ok(body) => answer(&index, &body, None),
        Err(refused) => refused,
    }
}

async fn search_pit(
    State(state): State<Arc<ElasticState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = authorized(&headers) {
        return refused;
    }
    let body = match read_body(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(id) = body["pit"]["id"].as_str() else {
        return es_error(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: a search without an index needs a point in time;",
            None,
        );
    };
    if !state.pits.lock().unwrap().contains(id) {
        return es_error(
            StatusCode::NOT_FOUND,
            "search_context_missing_exception",
            &format!("No search context found for id [{id}]"),
            None,
        );
    }
    if body.get("search_after").is_some() && body.get("sort").is_none() {
        return es_error(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: [search_after] requires [sort];",
            None,
        );
    }
    answer(INDEX, &body, Some(id.to_string()))
}

async fn open_pit(
    State(state): State<Arc<ElasticState>>,
    Path(index): Path<String>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = authorized(&headers) {
        return refused;
    }
    if query_value(&query, "keep_alive").is_none() {
        return es_error(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: [keep_alive] is not specified;",
            None,
        );
    }
    if index != INDEX {
        return es_error(
            StatusCode::NOT_FOUND,
            "index_not_found_exception",
            &format!("no such index [{index}]"),
            None,
        );
    }
    let mut opened = state.opened.lock().unwrap();
    *opened += 1;
    let id = format!("46ToAwMDaWR5BXV1aWQy{}", *opened);
    state.pits.lock().unwrap().insert(id.clone());
    match state.flavor {
        Flavor::Elasticsearch => Json(json!({"id": id})).into_response(),
        Flavor::OpenSearch => Json(json!({"pit_id": id, "_shards": {"total": 2, "successful": 2, "skipped": 0, "failed": 0}, "creation_time": 1711895136000u64})).into_response(),
    }
}

async fn close_pit(
    State(state): State<Arc<ElasticState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = authorized(&headers) {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let ids: Vec<String> = match state.flavor {
        Flavor::Elasticsearch => body["id"]
            .as_str()
            .map(str::to_string)
            .into_iter()
            .collect(),
        Flavor::OpenSearch => body["pit_id"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    };
    let mut pits = state.pits.lock().unwrap();
    let freed = ids.iter().filter(|id| pits.remove(*id)).count();
    match state.flavor {
        Flavor::Elasticsearch => Json(json!({"succeeded": true, "num_freed": freed})).into_response(),
        Flavor::OpenSearch => Json(json!({"pits": ids.iter().map(|id| json!({"successful": true, "pit_id": id})).collect::<Vec<_>>()})).into_response(),
    }
}
