//! A fake HashiCorp Vault with a KV version 2 secrets engine.
//!
//! Follows "KV - Secrets Engines - HTTP API" (version 2), "Read secret version":
//! `GET /v1/{mount}/data/{path}` with `X-Vault-Token` (and `X-Vault-Namespace` on
//! Vault Enterprise), answering `{"data": {"data": {...}, "metadata": {...}}}`. Errors
//! are Vault's `{"errors": [...]}` bodies: 403 `permission denied` for a missing or
//! wrong token, 404 with no errors for a path without a secret, 404 `no handler for
//! route` for an unknown mount.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::{json_error, FakeServer, RecordedRequest};

struct HashiState {
    token: String,
    namespace: Option<String>,
    /// Secrets by (mount, path).
    secrets: HashMap<(String, String), Map<String, Value>>,
}

/// A running fake Vault.
pub struct FakeHashiVault {
    pub server: FakeServer,
}

impl FakeHashiVault {
    /// A vault that accepts `token` (in `namespace`, when given) and holds `secrets`
    /// as (mount, path, JSON object of key/value pairs).
    pub async fn start(
        token: &str,
        namespace: Option<&str>,
        secrets: &[(&str, &str, Value)],
    ) -> FakeHashiVault {
        let state = Arc::new(HashiState {
            token: token.to_string(),
            namespace: namespace.map(str::to_string),
            secrets: secrets
                .iter()
                .map(|(mount, path, data)| {
                    let data = data
                        .as_object()
                        .cloned()
                        .expect("secret data is a JSON object");
                    ((mount.to_string(), path.to_string()), data)
                })
                .collect(),
        });
        let router = Router::new()
            .route("/v1/{*rest}", get(read))
            .with_state(state);
        FakeHashiVault {
            server: FakeServer::start(router).await,
        }
    }

    /// The address to use as `VAULT_ADDR`, `http://127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.server
            .base()
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

fn denied() -> Response {
    json_error(
        StatusCode::FORBIDDEN,
        json!({"errors": ["permission denied"]}),
    )
}

async fn read(
    State(state): State<Arc<HashiState>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("x-vault-token") != Some(state.token.as_str()) {
        return denied();
    }
    if header("x-vault-namespace") != state.namespace.as_deref() {
        // A token belongs to one namespace; elsewhere it is unknown.
        return denied();
    }
    let Some((mount, path)) = rest.split_once("/data/") else {
        return json_error(
            StatusCode::NOT_FOUND,
            json!({"errors": [format!("no handler for route \"{rest}\". route entry not found.")]}),
        );
    };
    if !state.secrets.keys().any(|(m, _)| m == mount) {
        return json_error(
            StatusCode::NOT_FOUND,
            json!({"errors": [format!("no handler for route \"{rest}\". route entry not found.")]}),
        );
    }
    let Some(data) = state.secrets.get(&(mount.to_string(), path.to_string())) else {
        return json_error(StatusCode::NOT_FOUND, json!({"errors": []}));
    };
    Json(json!({
        "request_id": "0c2b2f7c-6d8d-4c7e-9d1e-5c0f1e0a9b11",
        "lease_id": "",
        "renewable": false,
        "lease_duration": 0,
        "data": {
            "data": data,
            "metadata": {
                "created_time": "2024-01-01T00:00:00.000000Z",
                "custom_metadata": null,
                "deletion_time": "",
                "destroyed": false,
                "version": 1
            }
        },
        "wrap_info": null,
        "warnings": null,
        "auth": null
    }))
    .into_response()
}
