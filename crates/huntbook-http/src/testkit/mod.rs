//! Fake servers for tests: real HTTP on loopback, speaking the documented protocols.
//!
//! [`FakeServer::start`] serves an axum `Router` on `127.0.0.1:0`, records every
//! request ([`RecordedRequest`]) and gives its base URL. Around that:
//! - [`refuse_first`] answers the first N requests with a status (429 with
//!   `Retry-After`, 503...) before letting them through;
//! - [`paged`] serves a list in pages linked by `nextLink`;
//! - [`require_bearer`] and [`require_query`] answer requests without an accepted
//!   token or the required `api-version` with the service's documented error;
//! - [`bearer`], [`query_value`] and [`json_error`] help handlers check requests and
//!   answer a wrong one with the service's documented error body;
//! - [`FakeEntraId`], [`FakeKeyVault`] and [`FakeHashiVault`] are the Microsoft identity
//!   platform (token, device code and managed identity endpoints), Azure Key Vault and
//!   HashiCorp Vault, each following its documentation page (named in its module).
//!
//! The kit panics on its own setup failures: it is for tests only, behind the
//! `testkit` feature.

mod entra;
mod guards;
mod hashicorp;
mod key_vault;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use reqwest::Url;
use serde_json::{json, Value};

pub use entra::{DevicePoll, FakeEntraId, FakeEntraIdConfig, IssuedTokens, RegisteredCertificate};
pub use guards::{require_bearer, require_query, Accept};
pub use hashicorp::FakeHashiVault;
pub use key_vault::FakeKeyVault;

/// The largest request body recorded; test requests are far smaller.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One request as the fake server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl RecordedRequest {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body read as an `application/x-www-form-urlencoded` form.
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// The first value of a form field.
    pub fn form_value(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// A running fake server; it stops when dropped.
pub struct FakeServer {
    base: Url,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Serve `router` on a free loopback port. Must be called inside a tokio runtime.
    pub async fn start(router: Router) -> FakeServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port is free");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let app = router.layer(from_fn_with_state(log.clone(), record));
        let task = tokio::spawn(async move {
            // The server ends with the test; there is no one to report an error to.
            let _ = axum::serve(listener, app).await;
        });
        FakeServer {
            base: Url::parse(&format!("http://{addr}/")).expect("a socket address makes a URL"),
            log,
            task,
        }
    }

    /// The base URL, `http://127.0.0.1:PORT/`.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `path` (and query) under the base URL.
    pub fn url(&self, path: &str) -> Url {
        self.base
            .join(path.trim_start_matches('/'))
            .expect("test paths make valid URLs")
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.lock().expect("the request log is usable").clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(log): State<Arc<Mutex<Vec<RecordedRequest>>>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .expect("test request bodies are small");
    let query = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    log.lock()
        .expect("the request log is usable")
        .push(RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query,
            headers,
            body: bytes.to_vec(),
            at: Instant::now(),
        });
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The token of an `Authorization: Bearer ...` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The first value of a query parameter in a raw query map.
pub fn query_value<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A JSON error answer.
pub fn json_error(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Answer the first `times` requests with `status` (and a `Retry-After` header when
/// given) and an Azure-style error body; later requests reach `router`.
pub fn refuse_first(
    router: Router,
    times: u32,
    status: StatusCode,
    retry_after: Option<&'static str>,
) -> Router {
    let refused = Arc::new(AtomicU32::new(0));
    router.layer(from_fn_with_state(
        (refused, times, status, retry_after),
        refuse,
    ))
}

type RefuseState = (Arc<AtomicU32>, u32, StatusCode, Option<&'static str>);

async fn refuse(
    State((refused, times, status, retry_after)): State<RefuseState>,
    request: Request,
    next: Next,
) -> Response {
    let earlier = refused.fetch_add(1, Ordering::SeqCst);
    if earlier >= times {
        return next.run(request).await;
    }
    let code = if status == StatusCode::TOO_MANY_REQUESTS {
        "TooManyRequests"
    } else {
        "ServiceUnavailable"
    };
    let mut response = json_error(
        status,
        json!({"error": {"code": code, "message": "Try again later."}}),
    );
    if let Some(after) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(after));
    }
    response
}

/// Serve `items` at `path` in pages of `page_size`, the way Azure REST APIs page
/// ("Azure REST API guidelines", pagination): `{"value": [...], "nextLink": URL}`, the
/// link carrying `$skiptoken` and absent on the last page.
pub fn paged(path: &str, items: Vec<Value>, page_size: usize) -> Router {
    let items = Arc::new(items);
    let page_size = page_size.max(1);
    let route = path.to_string();
    Router::new().route(
        path,
        get(
            move |headers: HeaderMap, Query(query): Query<Vec<(String, String)>>| {
                let items = items.clone();
                let route = route.clone();
                async move {
                    let start: usize = match query_value(&query, "$skiptoken") {
                        None => 0,
                        Some(token) => match token.parse() {
                            Ok(n) => n,
                            Err(_) => {
                                return json_error(
                                    StatusCode::BAD_REQUEST,
                                    json!({"error": {"code": "InvalidSkipToken", "message": "The $skiptoken is not valid."}}),
                                )
                            }
                        },
                    };
                    let end = (start + page_size).min(items.len());
                    let page = items.get(start..end).unwrap_or_default().to_vec();
                    let mut body = json!({ "value": page });
                    if end < items.len() {
                        let host = headers
                            .get(header::HOST)
                            .and_then(|h| h.to_str().ok())
                            .unwrap_or("127.0.0.1");
                        body["nextLink"] = json!(format!("http://{host}{route}?$skiptoken={end}"));
                    }
                    Json(body).into_response()
                }
            },
        ),
    )
}
