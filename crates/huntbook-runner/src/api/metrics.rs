//! Metrics in the Prometheus text format (`GET /metrics`), and the middleware that
//! counts every request and logs every refusal.
//!
//! Request counts live in the process ([`Metrics`]); job counts, queue depth and run
//! durations are read from the store at each scrape, so they are the same whichever
//! process of a shared store is scraped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::Caller;
use super::error::{ApiError, Reason};
use super::ApiState;
use crate::model::State as JobState;
use crate::store::Scope;

/// Bounds of the run-duration histogram, in seconds.
const DURATION_BOUNDS: [f64; 9] = [1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0];

/// The process's request counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (route, method, status) -> requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

impl Metrics {
    fn count(&self, route: &str, method: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
    }
}

/// Count the request by its route (the pattern, not the path, so that ids do not
/// make a series each) and log it when it was refused or failed.
pub(crate) async fn track(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    // The path only: query strings are left out of the log.
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    state
        .metrics
        .count(&route, method.as_str(), status.as_u16());
    if status.is_client_error() || status.is_server_error() {
        let reason = response.extensions().get::<Reason>().map_or_else(
            || status.canonical_reason().unwrap_or("").to_owned(),
            |r| r.0.clone(),
        );
        (state.log)(&format!(
            "{method} {} {} {}",
            one_line(&path),
            status.as_u16(),
            one_line(&reason)
        ));
    }
    response
}

/// `text` with its control characters escaped, so that a client cannot start a
/// log line of its own.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
pub(crate) async fn scrape(
    caller: Caller,
    State(state): State<ApiState>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let counts = state.store.counts().await?;
    let durations = state.store.run_durations(&DURATION_BOUNDS).await?;
    let mut out = String::new();
    out.push_str("# HELP huntbook_jobs Jobs in the store, by state.\n# TYPE huntbook_jobs gauge\n");
    for job_state in JobState::ALL {
        let _ = writeln!(
            out,
            "huntbook_jobs{{state=\"{job_state}\"}} {}",
            counts.get(job_state)
        );
    }
    let _ = writeln!(
        out,
        "# HELP huntbook_queue_depth Jobs waiting for a worker.\n# TYPE huntbook_queue_depth gauge\nhuntbook_queue_depth {}",
        counts.queued
    );
    let (configured, alive) = state.liveness.counts();
    let _ = writeln!(
        out,
        "# HELP huntbook_workers Workers of this process: configured and alive.\n# TYPE huntbook_workers gauge\n\
         huntbook_workers{{status=\"configured\"}} {configured}\nhuntbook_workers{{status=\"alive\"}} {alive}"
    );
    out.push_str(
        "# HELP huntbook_http_requests_total HTTP requests served by this process, by route and status.\n\
         # TYPE huntbook_http_requests_total counter\n",
    );
    for ((route, method, status), n) in state
        .metrics
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "huntbook_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
            escape_label(route)
        );
    }
    out.push_str(
        "# HELP huntbook_run_duration_seconds How long ended runs took, by how they ended.\n\
         # TYPE huntbook_run_duration_seconds histogram\n",
    );
    for d in &durations {
        for (bound, n) in DURATION_BOUNDS.iter().zip(&d.at_most) {
            let _ = writeln!(
                out,
                "huntbook_run_duration_seconds_bucket{{state=\"{}\",le=\"{bound}\"}} {n}",
                d.state
            );
        }
        let _ = writeln!(
            out,
            "huntbook_run_duration_seconds_bucket{{state=\"{0}\",le=\"+Inf\"}} {1}\n\
             huntbook_run_duration_seconds_sum{{state=\"{0}\"}} {2}\n\
             huntbook_run_duration_seconds_count{{state=\"{0}\"}} {1}",
            d.state, d.count, d.sum_seconds
        );
    }
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_cannot_be_split_by_what_a_client_sent() {
        assert_eq!(
            one_line("a\nPOST / 200 ok\r\tb"),
            "a\\nPOST / 200 ok\\r\\tb"
        );
        assert_eq!(escape_label("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
