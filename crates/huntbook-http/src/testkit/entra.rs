//! A fake Microsoft identity platform: token, device code and managed identity
//! endpoints.
//!
//! Follows, per endpoint:
//! - `POST /{tenant}/oauth2/v2.0/token`, client credentials: "Microsoft identity
//!   platform and the OAuth 2.0 client credentials flow" (shared secret, and
//!   certificate per "Microsoft identity platform application authentication
//!   certificate credentials"); device code grant: "Microsoft identity platform and the
//!   OAuth 2.0 device authorization grant flow". Errors are the documented
//!   `{"error", "error_description": "AADSTS...", "error_codes"}` bodies (codes from
//!   "Microsoft Entra authentication and authorization error codes").
//! - `POST /{tenant}/oauth2/v2.0/devicecode`: the device authorization request of the
//!   same page.
//! - `GET /msi/token`: "Managed identities for App Service and Azure Functions", REST
//!   endpoint reference (`X-IDENTITY-HEADER`, api-version 2019-08-01).
//! - `GET /metadata/identity/oauth2/token`: "How to use managed identities for Azure
//!   resources on an Azure VM to acquire an access token" (IMDS: `Metadata: true`,
//!   api-version 2018-02-01, its error table).
//!
//! Every token issued is recorded in [`IssuedTokens`] with its resource, so that fake
//! resource servers ([`super::FakeKeyVault`]) can accept exactly those tokens.

// Checks return the error answer itself, as axum handlers do; its size does not
// matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{json, Value};

use super::{json_error, query_value, FakeServer, RecordedRequest};

const CLIENT_CREDENTIALS: &str = "client_credentials";
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Tokens a fake identity endpoint has issued, with the resource each is for.
#[derive(Debug, Clone, Default)]
pub struct IssuedTokens(Arc<Mutex<HashMap<String, String>>>);

impl IssuedTokens {
    /// Record a token as issued for `resource` (a resource URL without `/.default`).
    pub fn insert(&self, token: &str, resource: &str) {
        self.0.lock().expect("the token list is usable").insert(
            token.to_string(),
            resource.trim_end_matches('/').to_string(),
        );
    }

    /// The resource `token` was issued for, if it was issued.
    pub fn resource_of(&self, token: &str) -> Option<String> {
        self.0
            .lock()
            .expect("the token list is usable")
            .get(token)
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.0.lock().expect("the token list is usable").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A certificate registered on the fake app: its SHA-1 thumbprint as base64url (the
/// `x5t` a client assertion must carry) and its RSA public key (PKCS#1 DER).
#[derive(Debug, Clone)]
pub struct RegisteredCertificate {
    pub x5t: String,
    pub rsa_public_key_der: Vec<u8>,
}

/// The fake's answer to one device code poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevicePoll {
    Pending,
    SlowDown,
    Declined,
    Expired,
    /// The user signed in: the poll gets a token.
    Approve,
}

/// What the fake identity platform knows.
#[derive(Debug, Clone)]
pub struct FakeEntraIdConfig {
    pub tenant: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub certificate: Option<RegisteredCertificate>,
    /// `expires_in` of issued tokens.
    pub token_lifetime: Duration,
    /// Answers to device code polls, in order; when used up, polls get `Approve`.
    pub device_polls: Vec<DevicePoll>,
    /// The polling `interval` the device code answer asks for, in seconds.
    pub device_interval: u64,
    /// The device code's `expires_in`, in seconds.
    pub device_expires_in: u64,
    /// The `IDENTITY_HEADER` the App Service endpoint expects.
    pub identity_header: String,
}

impl Default for FakeEntraIdConfig {
    fn default() -> Self {
        FakeEntraIdConfig {
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "5e29463d-71da-4fe0-8e69-999b57db23b0".into(),
            client_secret: None,
            certificate: None,
            token_lifetime: Duration::from_secs(3599),
            device_polls: Vec::new(),
            device_interval: 1,
            device_expires_in: 900,
            identity_header: "fake-identity-header".into(),
        }
    }
}

struct EntraState {
    config: FakeEntraIdConfig,
    issued: IssuedTokens,
    counter: AtomicU32,
    polls: Mutex<VecDeque<DevicePoll>>,
    device_code: String,
    /// The resource of the scope the device code was asked for.
    device_resource: Mutex<String>,
}

/// A running fake identity platform.
pub struct FakeEntraId {
    pub server: FakeServer,
    state: Arc<EntraState>,
}

impl FakeEntraId {
    pub async fn start(config: FakeEntraIdConfig) -> FakeEntraId {
        FakeEntraId::start_wrapped(config, |router| router).await
    }

    /// Start with `wrap` applied to the fake's router, to add behaviour in front of
    /// it, such as [`super::refuse_first`] for throttling.
    pub async fn start_wrapped(
        config: FakeEntraIdConfig,
        wrap: impl FnOnce(Router) -> Router,
    ) -> FakeEntraId {
        let state = Arc::new(EntraState {
            polls: Mutex::new(config.device_polls.iter().copied().collect()),
            config,
            issued: IssuedTokens::default(),
            counter: AtomicU32::new(0),
            device_code: "fake-device-code-DAQABAAEAAAD".into(),
            device_resource: Mutex::new(String::new()),
        });
        let router = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
            .route("/msi/token", get(app_service_identity))
            .route("/metadata/identity/oauth2/token", get(imds_identity))
            .with_state(state.clone());
        FakeEntraId {
            server: FakeServer::start(wrap(router)).await,
            state,
        }
    }

    /// The authority URL to configure clients with.
    pub fn authority(&self) -> String {
        self.server.base().to_string()
    }

    /// The tokens issued so far.
    pub fn issued(&self) -> IssuedTokens {
        self.state.issued.clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

fn issue(state: &EntraState, resource: &str) -> (String, u64) {
    let n = state.counter.fetch_add(1, Ordering::SeqCst);
    let token = format!("fake-access-token-{n}");
    state.issued.insert(&token, resource);
    (token, state.config.token_lifetime.as_secs())
}

/// An error body as the identity platform writes it.
fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    json_error(
        status,
        json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description}\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2024-01-01 00:00:00Z"
            ),
            "error_codes": [code],
            "timestamp": "2024-01-01 00:00:00Z",
            "trace_id": "0000aaaa-11bb-cccc-dd22-eeeeee333333",
            "correlation_id": "aaaa0000-bb11-2222-33cc-444444dddddd",
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

fn form(body: &str) -> HashMap<String, String> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn check_tenant(state: &EntraState, tenant: &str) -> Result<(), Response> {
    if tenant == state.config.tenant {
        Ok(())
    } else {
        Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        ))
    }
}

fn check_client(state: &EntraState, form: &HashMap<String, String>) -> Result<(), Response> {
    match form.get("client_id") {
        Some(id) if *id == state.config.client_id => Ok(()),
        Some(id) => Err(aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{id}' was not found in the directory."),
        )),
        None => Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )),
    }
}

/// The resource of a `{resource}/.default` scope, as client credentials require.
fn default_scope_resource(form: &HashMap<String, String>) -> Result<String, Response> {
    match form.get("scope").and_then(|s| s.strip_suffix("/.default")) {
        Some(resource) if !resource.is_empty() => Ok(resource.to_string()),
        _ => Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
        )),
    }
}

fn token_answer(state: &EntraState, resource: &str) -> Response {
    let (token, lifetime) = issue(state, resource);
    Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }))
    .into_response()
}

async fn token(
    State(state): State<Arc<EntraState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Err(e) = check_tenant(&state, &tenant) {
        return e;
    }
    let form = form(&body);
    if let Err(e) = check_client(&state, &form) {
        return e;
    }
    match form.get("grant_type").map(String::as_str) {
        Some(CLIENT_CREDENTIALS) => client_credentials(&state, &tenant, &headers, &form),
        Some(DEVICE_CODE_GRANT) => device_code_poll(&state, &form),
        other => aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{}'.",
                other.unwrap_or("")
            ),
        ),
    }
}

fn client_credentials(
    state: &EntraState,
    tenant: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Response {
    let resource = match default_scope_resource(form) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let config = &state.config;
    if let Some(secret) = form.get("client_secret") {
        if config.client_secret.as_deref() != Some(secret.as_str()) {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", config.client_id),
            );
        }
        return token_answer(state, &resource);
    }
    match (form.get("client_assertion_type"), form.get("client_assertion")) {
        (Some(kind), Some(jwt)) if kind == JWT_BEARER => {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            let audience = format!("http://{host}/{tenant}/oauth2/v2.0/token");
            match check_assertion(config, jwt, &audience) {
                Ok(()) => token_answer(state, &resource),
                Err((code, description)) => {
                    aad_error(StatusCode::UNAUTHORIZED, "invalid_client", code, description)
                }
            }
        }
        _ => aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
    }
}

/// Check a client assertion as the certificate credentials page describes.
fn check_assertion(
    config: &FakeEntraIdConfig,
    jwt: &str,
    audience: &str,
) -> Result<(), (u32, &'static str)> {
    const MALFORMED: (u32, &str) = (50027, "JWT token is invalid or malformed.");
    let cert = config.certificate.as_ref().ok_or((
        700027,
        "Client assertion contains an invalid signature. The key was not found.",
    ))?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(MALFORMED);
    };
    let decode = |part: &str| -> Result<Value, (u32, &'static str)> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| MALFORMED)?;
        serde_json::from_slice(&bytes).map_err(|_| MALFORMED)
    };
    let header_json = decode(header)?;
    let claims_json = decode(claims)?;
    if header_json["alg"] != "RS256" {
        return Err((
            5002730,
            "Invalid JWT token. Unsupported key for the signing algorithm.",
        ));
    }
    if header_json["x5t"] != cert.x5t.as_str() {
        return Err((
            700027,
            "The certificate with identifier used to sign the client assertion is not registered on application.",
        ));
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| MALFORMED)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &cert.rsa_public_key_der)
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| (700027, "Client assertion failed signature validation."))?;
    if claims_json["aud"] != audience {
        return Err((
            700212,
            "The audience of the client assertion is not the token endpoint.",
        ));
    }
    if claims_json["iss"] != config.client_id.as_str()
        || claims_json["sub"] != config.client_id.as_str()
    {
        return Err((
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    if claims_json["jti"].as_str().is_none_or(str::is_empty) {
        return Err(MALFORMED);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // Five minutes of clock skew are tolerated, as by the real service.
    let nbf = claims_json["nbf"].as_u64().ok_or(MALFORMED)?;
    let exp = claims_json["exp"].as_u64().ok_or(MALFORMED)?;
    if nbf > now + 300 || exp + 300 < now {
        return Err((
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

async fn devicecode(
    State(state): State<Arc<EntraState>>,
    Path(tenant): Path<String>,
    body: String,
) -> Response {
    if let Err(e) = check_tenant(&state, &tenant) {
        return e;
    }
    let form = form(&body);
    if let Err(e) = check_client(&state, &form) {
        return e;
    }
    let Some(scope) = form.get("scope").filter(|s| !s.is_empty()) else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    };
    // A delegated scope list may hold several scopes; the first names the resource.
    let first = scope.split(' ').next().unwrap_or_default();
    let resource = first.strip_suffix("/.default").unwrap_or(first);
    *state.device_resource.lock().expect("usable") = resource.to_string();
    let user_code = "FAKECODE1";
    Json(json!({
        "user_code": user_code,
        "device_code": state.device_code,
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": state.config.device_expires_in,
        "interval": state.config.device_interval,
        "message": format!("To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code {user_code} to authenticate."),
    }))
    .into_response()
}

fn device_code_poll(state: &EntraState, form: &HashMap<String, String>) -> Response {
    if form.get("device_code") != Some(&state.device_code) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "bad_verification_code",
            70019,
            "Verification code expired.",
        );
    }
    let next = state
        .polls
        .lock()
        .expect("the poll script is usable")
        .pop_front()
        .unwrap_or(DevicePoll::Approve);
    let (error, code, description) = match next {
        DevicePoll::Approve => {
            let resource = state.device_resource.lock().expect("usable").clone();
            return token_answer(state, &resource);
        }
        DevicePoll::Pending => (
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ),
        DevicePoll::SlowDown => ("slow_down", 70016, "Polling too frequently. Slow down."),
        DevicePoll::Declined => (
            "authorization_declined",
            70000,
            "The user declined the authorization request.",
        ),
        DevicePoll::Expired => ("expired_token", 70020, "The device code has expired."),
    };
    aad_error(StatusCode::BAD_REQUEST, error, code, description)
}

fn managed_identity_token(state: &EntraState, resource: &str) -> Response {
    let (token, lifetime) = issue(state, resource);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    // Both endpoints send numbers as strings.
    Json(json!({
        "access_token": token,
        "expires_in": lifetime.to_string(),
        "expires_on": (now + lifetime).to_string(),
        "not_before": now.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    }))
    .into_response()
}

async fn app_service_identity(
    State(state): State<Arc<EntraState>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let header_ok = headers
        .get("x-identity-header")
        .and_then(|h| h.to_str().ok())
        == Some(state.config.identity_header.as_str());
    if !header_ok {
        // The documentation gives no error body for this case; App Service answers
        // 400 with a short JSON message.
        return json_error(
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "message": "The X-IDENTITY-HEADER header is missing or invalid."}),
        );
    }
    if query_value(&query, "api-version") != Some("2019-08-01") {
        return json_error(
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "message": "The api-version parameter is missing or not supported; use 2019-08-01."}),
        );
    }
    match query_value(&query, "resource") {
        Some(resource) if !resource.is_empty() => managed_identity_token(&state, resource),
        _ => json_error(
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "message": "The resource parameter is required."}),
        ),
    }
}

async fn imds_identity(
    State(state): State<Arc<EntraState>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let imds_error = |error: &str, description: &str| {
        json_error(
            StatusCode::BAD_REQUEST,
            json!({"error": error, "error_description": description}),
        )
    };
    if headers.get("metadata").and_then(|h| h.to_str().ok()) != Some("true") {
        return imds_error("invalid_request", "Required metadata header not specified");
    }
    if query_value(&query, "api-version") != Some("2018-02-01") {
        return imds_error(
            "invalid_request",
            "Invalid or missing api-version parameter",
        );
    }
    if let Some(id) = query_value(&query, "client_id") {
        if id != state.config.client_id {
            return json_error(
                StatusCode::NOT_FOUND,
                json!({"error": "invalid_request", "error_description": "Identity not found"}),
            );
        }
    }
    match query_value(&query, "resource") {
        Some(resource) if !resource.is_empty() => managed_identity_token(&state, resource),
        _ => imds_error(
            "invalid_request",
            "Required audience parameter not specified",
        ),
    }
}
