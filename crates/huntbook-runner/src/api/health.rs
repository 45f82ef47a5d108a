//! `GET /api/v1/health`, for load balancers and process supervisors: no token, and
//! nothing in the answer that a stranger should not see (a store error is logged,
//! not shown).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::ApiState;

/// 200 when the store answers and every configured worker is alive, else 503.
pub(crate) async fn health(State(state): State<ApiState>) -> (StatusCode, Json<Value>) {
    let counts = state.store.counts().await;
    if let Err(e) = &counts {
        (state.log)(&format!("health: the job store does not answer: {e}"));
    }
    let (configured, alive) = state.liveness.counts();
    let healthy = counts.is_ok() && alive >= configured;
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "store": {"reachable": counts.is_ok()},
        "workers": {"configured": configured, "alive": alive},
        "queue_depth": counts.ok().map(|c| c.queued),
    });
    (status, Json(body))
}
