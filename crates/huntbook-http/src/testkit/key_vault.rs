//! A fake Azure Key Vault (secrets).
//!
//! Follows "Get Secret" in the Key Vault REST API reference (secrets, 7.4):
//! `GET {vault}/secrets/{secret-name}/{secret-version}?api-version=7.4` (version
//! optional) with a bearer token for `https://vault.azure.net`, answering a
//! `SecretBundle` (`value`, `id`, `attributes`) or a `KeyVaultError` body
//! (`{"error": {"code", "message"}}`). A request without a token gets the documented
//! 401 challenge (`WWW-Authenticate: Bearer authorization=..., resource=...`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::{bearer, json_error, query_value, FakeServer, IssuedTokens, RecordedRequest};

const RESOURCE: &str = "https://vault.azure.net";
const API_VERSION: &str = "7.4";
/// The version id every fake secret has.
const VERSION: &str = "4387e9f3d6e14c459867679a90fd0f79";

struct VaultState {
    tokens: IssuedTokens,
    secrets: Mutex<HashMap<String, String>>,
    /// Tokens that are valid but whose identity has no "get" permission.
    denied: Mutex<Vec<String>>,
}

/// A running fake Key Vault.
pub struct FakeKeyVault {
    pub server: FakeServer,
    state: Arc<VaultState>,
}

fn kv_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_error(status, json!({"error": {"code": code, "message": message}}))
}

impl FakeKeyVault {
    /// A vault holding `secrets` (name, value) that accepts the tokens in `tokens`
    /// issued for Key Vault.
    pub async fn start(tokens: IssuedTokens, secrets: &[(&str, &str)]) -> FakeKeyVault {
        let state = Arc::new(VaultState {
            tokens,
            secrets: Mutex::new(
                secrets
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            ),
            denied: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/secrets/{name}", get(get_latest))
            .route("/secrets/{name}/{version}", get(get_version))
            .with_state(state.clone());
        FakeKeyVault {
            server: FakeServer::start(router).await,
            state,
        }
    }

    /// The vault URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        self.server.base().to_string()
    }

    /// Answer requests with this token with 403, as for an identity without access.
    pub fn deny(&self, token: &str) {
        self.state
            .denied
            .lock()
            .expect("usable")
            .push(token.to_string());
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

async fn get_latest(
    state: State<Arc<VaultState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
) -> Response {
    answer(state, name, None, headers, query)
}

async fn get_version(
    state: State<Arc<VaultState>>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
) -> Response {
    answer(state, name, Some(version), headers, query)
}

fn answer(
    State(state): State<Arc<VaultState>>,
    name: String,
    version: Option<String>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    match query_value(&query, "api-version") {
        Some(API_VERSION) => {}
        Some(other) => {
            return kv_error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                &format!("The specified version ({other}) is not recognized. Consider using the latest supported version ({API_VERSION})."),
            )
        }
        None => {
            return kv_error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                "The api-version query parameter is required.",
            )
        }
    }
    let Some(token) = bearer(&headers) else {
        let mut response = kv_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer or PoP token.",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer authorization=\"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47\", resource=\"https://vault.azure.net\"",
            ),
        );
        return response;
    };
    match state.tokens.resource_of(token) {
        None => {
            return kv_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "AKV10032: Invalid issuer. The token was not issued by a trusted authority.",
            )
        }
        Some(resource) if resource != RESOURCE => {
            return kv_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                &format!("AKV10022: Invalid audience. Expected {RESOURCE}, found: {resource}."),
            )
        }
        Some(_) => {}
    }
    if state
        .denied
        .lock()
        .expect("usable")
        .iter()
        .any(|t| t == token)
    {
        return kv_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Caller is not authorized to perform action on resource. If role assignments, deny assignments or role definitions were changed recently, please observe propagation time. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
        );
    }
    let value = state.secrets.lock().expect("usable").get(&name).cloned();
    let found = value.filter(|_| version.as_deref().is_none_or(|v| v == VERSION));
    let Some(value) = found else {
        let id = version.map_or(name.clone(), |v| format!("{name}/{v}"));
        return kv_error(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            &format!("A secret with (name/id) {id} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command."),
        );
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    Json(json!({
        "value": value,
        "id": format!("http://{host}/secrets/{name}/{VERSION}"),
        "attributes": {
            "enabled": true,
            "created": 1_700_000_000,
            "updated": 1_700_000_000,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90
        },
        "tags": {}
    }))
    .into_response()
}
