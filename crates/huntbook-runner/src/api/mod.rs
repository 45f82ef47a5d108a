//! The service's HTTP API: start, list, follow and cancel runs, read the notebook
//! catalogue, check health and scrape metrics.
//!
//! [`router`] builds an axum [`Router`] over an [`ApiState`]: the service's
//! configuration, its job store, the [`Scrubber`] of the secrets it holds, its
//! metrics and the liveness of its workers. Every request but `health` and the
//! OpenAPI document carries `Authorization: Bearer hb_...`; each route needs a
//! [`Scope`] (reading needs `read`, starting or cancelling runs `run`).
//!
//! | Route | Scope | |
//! |---|---|---|
//! | `POST /api/v1/runs` | run | start a run of a catalogued notebook (201; 200 when the idempotency key was seen) |
//! | `GET /api/v1/runs` | read | jobs with their latest run (`status`, `notebook`, `limit`) |
//! | `GET /api/v1/runs/{id}` | read | a job with its runs, or one run |
//! | `POST /api/v1/runs/{id}/cancel` | run | cancel a job (queued: at once; running: on request) |
//! | `GET /api/v1/runs/{id}/log` | read | a run's output so far, from `after` |
//! | `GET /api/v1/notebooks[/{name}]` | read | the catalogue with each notebook's parameters |
//! | `GET /api/v1/health` | none | store reachable, workers alive, queue depth |
//! | `GET /metrics` | read | Prometheus text format |
//! | `GET /api/v1/openapi.json` | none | the OpenAPI 3.1 document of all this |
//!
//! Refusals are JSON `{"error": "...", "status": N}` saying what to change, and each
//! writes one line to the [`RequestLog`] (method, path, status, reason); tokens and
//! parameter values never appear in it.

mod auth;
mod error;
mod findings;
mod health;
mod metrics;
mod notebooks;
mod request;
mod runs;
mod view;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use huntbook_notebook::secrets::Scrubber;

use crate::config::ServiceConfig;
use crate::outputs::OutputStore;
use crate::store::JobStore;
pub use metrics::Metrics;

/// The largest request body accepted (413 beyond it).
pub const MAX_BODY: usize = 1 << 20;

/// Where the one line per refused request goes.
pub type RequestLog = Arc<dyn Fn(&str) + Send + Sync>;

/// How many of the process's workers are running, for `health`.
#[derive(Debug, Default)]
pub struct Liveness {
    configured: usize,
    alive: AtomicUsize,
}

impl Liveness {
    /// `configured` workers, none started yet.
    pub fn new(configured: usize) -> Liveness {
        Liveness {
            configured,
            alive: AtomicUsize::new(0),
        }
    }

    /// Count one worker as alive until the guard is dropped (when its thread ends,
    /// however it ends).
    pub fn alive(self: &Arc<Self>) -> AliveGuard {
        self.alive.fetch_add(1, Ordering::SeqCst);
        AliveGuard(self.clone())
    }

    fn counts(&self) -> (usize, usize) {
        (self.configured, self.alive.load(Ordering::SeqCst))
    }
}

/// Holds one worker's place in [`Liveness`].
#[derive(Debug)]
pub struct AliveGuard(Arc<Liveness>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What every handler reads: passed explicitly, cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    config: Arc<ServiceConfig>,
    store: Arc<JobStore>,
    scrubber: Arc<Scrubber>,
    metrics: Arc<Metrics>,
    liveness: Arc<Liveness>,
    log: RequestLog,
    /// Where runs' outputs are stored, for reading them back.
    outputs: Option<OutputStore>,
}

impl ApiState {
    /// The state of an API over `store` for the notebooks of `config`, refusing
    /// parameters that hold one of `scrubber`'s secrets; refusals are logged to
    /// stderr, and `liveness` counts the workers `health` reports.
    pub fn new(
        config: Arc<ServiceConfig>,
        store: Arc<JobStore>,
        scrubber: Arc<Scrubber>,
        liveness: Arc<Liveness>,
    ) -> ApiState {
        ApiState {
            config,
            store,
            scrubber,
            metrics: Arc::new(Metrics::default()),
            liveness,
            log: Arc::new(|line| eprintln!("{line}")),
            outputs: None,
        }
    }

    /// Serve runs' outputs from `outputs` (`GET /api/v1/runs/{id}/output.ipynb`, `.html`).
    pub fn with_outputs(mut self, outputs: OutputStore) -> ApiState {
        self.outputs = Some(outputs);
        self
    }

    /// Send the refusal lines somewhere else than stderr.
    pub fn with_log(mut self, log: RequestLog) -> ApiState {
        self.log = log;
        self
    }
}

/// Every route: method, path (axum's `{param}` syntax, as in the OpenAPI document)
/// and handler. The router is built from this list and the OpenAPI test reads it,
/// so the two cannot drift apart.
fn routes() -> Vec<(Method, &'static str, MethodRouter<ApiState>)> {
    vec![
        (Method::POST, "/api/v1/runs", post(runs::create)),
        (Method::GET, "/api/v1/runs", get(runs::list)),
        (Method::GET, "/api/v1/runs/{id}", get(runs::show)),
        (Method::POST, "/api/v1/runs/{id}/cancel", post(runs::cancel)),
        (Method::GET, "/api/v1/runs/{id}/log", get(runs::log)),
        (
            Method::GET,
            "/api/v1/runs/{id}/output.ipynb",
            get(findings::notebook),
        ),
        (
            Method::GET,
            "/api/v1/runs/{id}/output.html",
            get(findings::html),
        ),
        (Method::GET, "/api/v1/findings", get(findings::findings)),
        (Method::GET, "/api/v1/incidents", get(findings::incidents)),
        (Method::GET, "/api/v1/notebooks", get(notebooks::list)),
        (
            Method::GET,
            "/api/v1/notebooks/{name}",
            get(notebooks::show),
        ),
        (Method::GET, "/api/v1/health", get(health::health)),
        (Method::GET, "/metrics", get(metrics::scrape)),
        (Method::GET, "/api/v1/openapi.json", get(openapi)),
    ]
}

/// The API over `state`, with the dashboard's page and assets (which hold no data
/// and need no token).
pub fn router(state: ApiState) -> Router {
    let router = routes()
        .into_iter()
        .fold(Router::new(), |router, (_, path, handler)| {
            router.route(path, handler)
        });
    router
        .merge(crate::dashboard::routes())
        .fallback(error::no_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The OpenAPI document, written by hand next to this module.
const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}
