//! The catalogue routes: the notebooks the service runs, each with the parameters
//! its `parameters` cell declares (read from the file at each request, so an
//! edited notebook shows its new parameters at once).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::ApiState;
use crate::config::NotebookEntry;
use crate::store::Scope;

fn entry(notebook: &NotebookEntry) -> Value {
    let mut value = json!({
        "name": notebook.name,
        "key_parameters": notebook.key_parameters,
        "timeout_seconds": notebook.timeout.map(|t| t.as_secs_f64()),
        "max_attempts": notebook.max_attempts,
        "max_running": notebook.max_running.map(|n| n.get()),
    });
    match notebook.declared_parameters() {
        Ok(declared) => {
            value["parameters"] = declared
                .iter()
                .map(|p| {
                    json!({"name": p.name, "type": p.inferred_type_name,
                           "default": p.default, "help": p.help})
                })
                .collect();
        }
        // One unreadable file must not hide the rest of the catalogue.
        Err(e) => value["error"] = Value::String(e.to_string()),
    }
    value
}

/// `GET /api/v1/notebooks`.
pub(crate) async fn list(
    caller: Caller,
    State(state): State<ApiState>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let notebooks: Vec<Value> = state.config.notebooks.values().map(entry).collect();
    Ok(Json(json!({ "notebooks": notebooks })))
}

/// `GET /api/v1/notebooks/{name}`.
pub(crate) async fn show(
    caller: Caller,
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let notebook = state
        .config
        .notebook(&name)
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    Ok(Json(entry(notebook)))
}
