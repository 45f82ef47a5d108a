//! Drivers for remote query services: Microsoft Sentinel / Log Analytics, Azure Data
//! Explorer (Kusto), Microsoft Defender advanced hunting and Microsoft Graph
//! `runHuntingQuery`, Splunk, and Elasticsearch / OpenSearch.
//!
//! Each service has an async client (usable from async code) and a [`Driver`] that
//! runs it on its own small runtime for the synchronous [`Driver::run`]. Clients send
//! through [`huntbook_http::HttpClient`], so timeouts, retries on 429 with
//! `Retry-After`, and redacted errors are the same everywhere; each maps the
//! service's own error bodies (a KQL syntax error with its line and column, a partial
//! result, a Splunk message list, an Elasticsearch `root_cause`) to a [`RemoteError`]
//! that says what went wrong.
//!
//! Results are Arrow tables typed from the response schema ([`decode`]). Every driver
//! has a constructor taking explicit arguments (endpoint, credentials) and one reading
//! huntbook's configuration; [`connect::connect`] picks the driver for an environment
//! and takes MSTICPy's `connect()` arguments.
//!
//! [`Driver`]: crate::driver::Driver
//! [`Driver::run`]: crate::driver::Driver::run

pub mod azure;
pub mod connect;
pub mod decode;
pub mod defender;
pub mod elastic;
pub mod kusto;
pub mod log_analytics;
pub mod splunk;

/// Fakes of the services, for tests here and in other languages (the
/// `fake_query_services` example serves them to the Python tests).
#[cfg(any(test, feature = "testkit"))]
pub mod fakes;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use huntbook_http::client::{error_detail, redact_url, Detail};
use huntbook_http::{HttpClient, HttpError, TokenError};

use huntbook_table::Table;
use reqwest::Url;

use crate::driver::DriverError;
use decode::DecodeError;

/// Why a remote query failed. Messages name the service and say what to do; none
/// holds a credential.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("cannot get a token for {service}: {source}")]
    Token {
        service: &'static str,
        #[source]
        source: TokenError,
    },
    #[error("{service} answered with results it does not document: {source}")]
    Decode {
        service: &'static str,
        #[source]
        source: DecodeError,
    },
    #[error("{service} rejected the query{at}: {message}; correct the query and run it again")]
    Query {
        service: &'static str,
        message: String,
        at: Position,
    },
    #[error("{service} returned only part of the results: {message}; narrow the query (shorter time range, fewer rows) or allow partial results")]
    Partial {
        service: &'static str,
        message: String,
    },
    #[error("{service} failed to run the query: {message}")]
    Failed {
        service: &'static str,
        message: String,
    },
    #[error("{service} is not set up: {problem}")]
    Setup {
        service: &'static str,
        problem: String,
    },
}

/// Where in the query text a service found a problem, when it says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, " at line {l}, column {c}"),
            (Some(l), None) => write!(f, " at line {l}"),
            _ => Ok(()),
        }
    }
}

impl RemoteError {
    pub(crate) fn decode(service: &'static str, source: DecodeError) -> RemoteError {
        RemoteError::Decode { service, source }
    }

    pub(crate) fn malformed(
        service: &'static str,
        what: &str,
        e: serde_json::Error,
    ) -> RemoteError {
        RemoteError::decode(service, DecodeError::json(what, e))
    }
}

/// Runs async client calls from synchronous code, on a runtime of the driver's own.
/// Called from inside another runtime (where blocking would stall it and tokio
/// forbids nesting), the call runs on a helper thread.
pub(crate) struct Blocking {
    runtime: tokio::runtime::Runtime,
}

impl Blocking {
    pub(crate) fn new(service: &'static str) -> Result<Blocking, RemoteError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RemoteError::Setup {
                service,
                problem: format!("cannot start its runtime: {e}"),
            })?;
        Ok(Blocking { runtime })
    }

    pub(crate) fn run<F: Future + Send>(&self, call: F) -> F::Output
    where
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.runtime.block_on(call);
        }
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime.block_on(call))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

/// A driver's error for the query it was running.
pub(crate) fn driver_error(query: &str, e: RemoteError) -> DriverError {
    DriverError::Query {
        query: query.to_string(),
        message: e.to_string(),
    }
}

/// The body of a response as text, for decoders that borrow from it.
pub(crate) async fn body_text(
    service: &'static str,
    http: &HttpClient,
    response: reqwest::Response,
) -> Result<String, RemoteError> {
    let url = redact_url(response.url());
    let bytes = response.bytes().await.map_err(|_| HttpError::Request {
        service: http.service().to_string(),
        url: url.clone(),
        reason: "the response body could not be read".to_string(),
    })?;
    String::from_utf8(bytes.into()).map_err(|_| RemoteError::Failed {
        service,
        message: format!("the response at {url} is not UTF-8 text"),
    })
}

/// Reads a service's error body: its message and where in the query it points.
pub(crate) type ErrorReader = fn(&[u8]) -> Option<(String, Position)>;

/// Sends a request (with the client's retries) and returns a successful answer. A
/// 401, 403 or 404 becomes the matching [`HttpError`] with the service's message; any
/// other 4xx is the service rejecting the query, read by `read_error`.
pub(crate) async fn send_query(
    service: &'static str,
    http: &HttpClient,
    request: reqwest::RequestBuilder,
    read_error: ErrorReader,
) -> Result<reqwest::Response, RemoteError> {
    let response = http.send_allowing_client_errors(request).await?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(response);
    }
    let url = redact_url(response.url());
    // The body only adds detail; one that cannot be read leaves it out.
    let body = response.bytes().await.unwrap_or_default();
    let parsed = read_error(&body);
    let detail = match &parsed {
        Some((message, _)) => Detail(Some(message.clone())),
        None => error_detail(&body),
    };
    let service_name = http.service().to_string();
    Err(match (status, parsed) {
        (401, _) => HttpError::Unauthorized {
            service: service_name,
            url,
            detail,
        }
        .into(),
        (403, _) => HttpError::Forbidden {
            service: service_name,
            url,
            detail,
        }
        .into(),
        (404, _) => HttpError::NotFound {
            service: service_name,
            url,
            detail,
        }
        .into(),
        (_, Some((message, at))) => RemoteError::Query {
            service,
            message,
            at,
        },
        (status, None) => HttpError::Status {
            service: service_name,
            url,
            status,
            detail,
        }
        .into(),
    })
}

/// The metadata key a partial result's error is kept under, in the table's schema.
pub const PARTIAL_ERROR_KEY: &str = "huntbook.partial_error";

/// How queries are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryOptions {
    /// How long the service may run a query (Log Analytics' `Prefer: wait=N`, Kusto's
    /// `servertimeout`). The HTTP timeout is this plus a margin.
    pub server_timeout: Duration,
    /// Keep the rows of a result the service could only partly compute (the error goes
    /// into the schema metadata under [`PARTIAL_ERROR_KEY`]) instead of failing.
    pub allow_partial: bool,
}

impl Default for QueryOptions {
    fn default() -> QueryOptions {
        // MSTICPy's default timeout.
        QueryOptions {
            server_timeout: Duration::from_secs(300),
            allow_partial: false,
        }
    }
}

/// `table` with `key: value` added to its schema metadata.
pub(crate) fn with_schema_note(table: Table, key: &str, value: &str) -> Table {
    let mut metadata = table.schema.metadata().clone();
    metadata.insert(key.to_string(), value.to_string());
    let schema = Arc::new(table.schema.as_ref().clone().with_metadata(metadata));
    let batches = table
        .batches
        .into_iter()
        .map(|b| {
            b.with_schema(schema.clone())
                .expect("only the metadata changed")
        })
        .collect();
    Table::from_batches(schema, batches)
}

/// A base URL from configuration or a caller, with the trailing `/` joins need.
pub(crate) fn endpoint_url(service: &'static str, text: &str) -> Result<Url, RemoteError> {
    let with_slash = if text.ends_with('/') {
        text.to_string()
    } else {
        format!("{text}/")
    };
    let url = Url::parse(&with_slash).map_err(|e| RemoteError::Setup {
        service,
        problem: format!("{text:?} is not a URL ({e})"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RemoteError::Setup {
            service,
            problem: format!("{text:?} is not an http(s) URL"),
        });
    }
    Ok(url)
}

/// A value placed in a URL path as one segment: characters that would end or leave
/// the segment (`/`, `?`, `#`, `%`, `..`) are percent-encoded.
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '~' => out.push(c),
            '.' if value != "." && value != ".." => out.push(c),
            _ => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    out
}
