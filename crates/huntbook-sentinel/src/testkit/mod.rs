//! A fake Microsoft Sentinel management API, for tests (cargo feature `testkit`).
//!
//! Follows the Microsoft Sentinel REST API reference, api-version 2024-03-01:
//! "Incidents - List / Get / Create Or Update / List Alerts / List Entities",
//! "Incident Comments - List / Create Or Update", "Bookmarks - List / Get / Create
//! Or Update / Delete", "Watchlists - List / Get / Create Or Update / Delete" and
//! "Watchlist Items - List / Create Or Update", under
//! `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights/`.
//! Like Azure Resource Manager it checks, in this order: the bearer token (issued by
//! the fake Entra ID for `https://management.azure.com`, else 401 with ARM's
//! `AuthenticationFailed` / `InvalidAuthenticationToken` bodies), `api-version`
//! (400 `MissingApiVersionParameter` / `InvalidApiVersionParameter`), the workspace
//! (404), then the request body (400 `BadRequest` naming the field). Errors are ARM's
//! `{"error": {"code", "message"}}`. Lists page with `nextLink` and `$skipToken`;
//! incidents take `$filter`, `$orderby` and `$top`. A PUT whose `etag` is not the
//! stored one gets 409 `Conflict`.

// Checks return the error answer itself, as axum handlers do; its size does not
// matter in a test server.
#![allow(clippy::result_large_err)]

mod odata;
mod store;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use huntbook_core::config::Workspace;
use huntbook_http::azure::{Authority, ClientSecretCredential};
use huntbook_http::testkit::{
    bearer, query_value, FakeEntraId, FakeEntraIdConfig, FakeServer, IssuedTokens, RecordedRequest,
};
use huntbook_http::Secret;
use reqwest::Url;
use serde_json::{json, Map, Value};

use crate::client::API_VERSION;
use crate::SentinelClient;
use store::{Kind, Store};

/// The audience of Azure Resource Manager tokens.
const ARM_RESOURCE: &str = "https://management.azure.com";
/// The workspace the fake serves.
pub const SUBSCRIPTION_ID: &str = "d0cfe6b2-9ac0-4464-9919-dccaee2e48c0";
pub const RESOURCE_GROUP: &str = "soc-rg";
pub const WORKSPACE_NAME: &str = "contoso-sentinel";

struct FakeState {
    tokens: IssuedTokens,
    store: Mutex<Store>,
}

/// A running fake Sentinel management API.
pub struct FakeSentinel {
    pub server: FakeServer,
    state: Arc<FakeState>,
}

impl FakeSentinel {
    /// A fake accepting the tokens in `tokens` issued for Azure Resource Manager.
    pub async fn start(tokens: IssuedTokens) -> FakeSentinel {
        FakeSentinel::start_wrapped(tokens, |router| router).await
    }

    /// Start with `wrap` applied to the router, to add behaviour in front of it, such
    /// as `huntbook_http::testkit::refuse_first` for throttling.
    pub async fn start_wrapped(
        tokens: IssuedTokens,
        wrap: impl FnOnce(Router) -> Router,
    ) -> FakeSentinel {
        let state = Arc::new(FakeState {
            tokens,
            store: Mutex::new(Store::new(50)),
        });
        let router = Router::new()
            .route(
                "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights/{*rest}",
                any(handle),
            )
            .fallback(unknown_path)
            .with_state(state.clone());
        FakeSentinel {
            server: FakeServer::start(wrap(router)).await,
            state,
        }
    }

    /// The Azure Resource Manager URL to give clients, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        self.server.base().to_string()
    }

    /// The configured workspace that the fake serves.
    pub fn workspace() -> Workspace {
        Workspace {
            name: "Default".into(),
            workspace_id: "52b1ab41-869e-4138-9e40-2a4457f09bf0".into(),
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            subscription_id: Some(SUBSCRIPTION_ID.into()),
            resource_group: Some(RESOURCE_GROUP.into()),
            workspace_name: Some(WORKSPACE_NAME.into()),
        }
    }

    /// Items per page of every list (50 unless set).
    pub fn set_page_size(&self, size: usize) {
        self.store().page_size = size.max(1);
    }

    /// Stores an incident with these properties (title, severity and status at
    /// least), as if created in the portal; returns its id.
    pub fn add_incident(&self, properties: Value) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let mut store = self.store();
        store
            .put(
                Kind::Incident,
                None,
                &id,
                json!({ "properties": properties }),
            )
            .expect("seeded incidents are valid");
        id
    }

    /// Sets the alerts (`SecurityAlert` entities, API shape) of an incident.
    pub fn set_alerts(&self, incident_id: &str, alerts: Vec<Value>) {
        self.store().alerts.insert(incident_id.to_string(), alerts);
    }

    /// Sets the entities (API shape: `kind` and `properties`) of an incident.
    pub fn set_entities(&self, incident_id: &str, entities: Vec<Value>) {
        self.store()
            .entities
            .insert(incident_id.to_string(), entities);
    }

    /// Changes an incident behind the client's back, as another analyst would: its
    /// etag changes.
    pub fn touch_incident(&self, incident_id: &str) {
        self.store().touch(incident_id);
    }

    /// An incident as stored.
    pub fn incident(&self, incident_id: &str) -> Option<Value> {
        self.store().get(Kind::Incident, None, incident_id).cloned()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.state.store.lock().expect("the fake's store is usable")
    }
}

/// A fake Entra ID and a fake Sentinel that accepts its tokens, with an app
/// credential (client secret [`SignedIn::SECRET`]) that signs in to them: where tests
/// of code that talks to Sentinel start.
pub struct SignedIn {
    pub entra: FakeEntraId,
    pub arm: FakeSentinel,
    pub credential: Arc<ClientSecretCredential>,
}

impl SignedIn {
    /// The app's client secret.
    pub const SECRET: &'static str = "app-secret";

    pub async fn start() -> SignedIn {
        let config = FakeEntraIdConfig {
            client_secret: Some(SignedIn::SECRET.into()),
            ..FakeEntraIdConfig::default()
        };
        let entra = FakeEntraId::start(config.clone()).await;
        let arm = FakeSentinel::start(entra.issued()).await;
        let authority =
            Authority::custom(&entra.authority()).expect("the fake's authority is a URL");
        let credential = ClientSecretCredential::new(
            authority,
            &config.tenant,
            &config.client_id,
            Secret::new(SignedIn::SECRET),
        )
        .expect("the fake's tenant and client are valid");
        SignedIn {
            entra,
            arm,
            credential: Arc::new(credential),
        }
    }

    /// A client of the fake's workspace, signed in with the app credential.
    pub fn client(&self) -> SentinelClient {
        SentinelClient::new(
            &FakeSentinel::workspace(),
            self.credential.clone(),
            Some(&self.arm.url()),
        )
        .expect("the fake's workspace is complete")
    }
}

/// An Azure Resource Manager error answer.
fn arm_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

async fn unknown_path() -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "The requested path does not exist.",
    )
}

async fn handle(
    State(state): State<Arc<FakeState>>,
    method: Method,
    Path((sub, rg, ws, rest)): Path<(String, String, String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = check_token(&state, &headers) {
        return refused;
    }
    match query_value(&query, "api-version") {
        None => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        }
        Some(API_VERSION) => {}
        Some(other) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                &format!(
                "The api-version '{other}' is invalid. The supported versions are '{API_VERSION}'."
            ),
            )
        }
    }
    if sub != SUBSCRIPTION_ID {
        return arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            &format!("The subscription '{sub}' could not be found."),
        );
    }
    if !rg.eq_ignore_ascii_case(RESOURCE_GROUP) {
        return arm_error(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            &format!("Resource group '{rg}' could not be found."),
        );
    }
    if !ws.eq_ignore_ascii_case(WORKSPACE_NAME) {
        return arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The Resource 'Microsoft.OperationalInsights/workspaces/{ws}' under resource group '{rg}' was not found."),
        );
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let mut store = state.store.lock().expect("the fake's store is usable");
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let path = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights/{rest}");
    let list =
        |page_size: usize, items: Vec<Value>| match page(page_size, items, &query, host, &path) {
            Ok(body) => Json(body).into_response(),
            Err(message) => arm_error(StatusCode::BAD_REQUEST, "BadRequest", &message),
        };
    let read_body = || -> Result<Map<String, Value>, Response> {
        let json_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json_type {
            return Err(arm_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "The content media type '' is not supported. Only 'application/json' is supported.",
            ));
        }
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: the body must be a JSON object.",
            )),
            Err(e) => Err(arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                &format!("The request content was invalid and could not be deserialized: {e}"),
            )),
        }
    };

    match (method.as_str(), segments.as_slice()) {
        ("GET", ["incidents"]) => {
            let incidents = match store.filtered_incidents(&query) {
                Ok(incidents) => incidents,
                Err(message) => return arm_error(StatusCode::BAD_REQUEST, "BadRequest", &message),
            };
            list(store.page_size, incidents)
        }
        ("GET", ["bookmarks"]) => list(store.page_size, store.all(Kind::Bookmark, None)),
        ("GET", ["watchlists"]) => list(store.page_size, store.all(Kind::Watchlist, None)),
        ("GET", ["incidents", id, "comments"]) => {
            if store.get(Kind::Incident, None, id).is_none() {
                return not_found(Kind::Incident, id);
            }
            list(store.page_size, store.all(Kind::Comment, Some(id)))
        }
        ("GET", ["watchlists", alias, "watchlistItems"]) => {
            if store.get(Kind::Watchlist, None, alias).is_none() {
                return not_found(Kind::Watchlist, alias);
            }
            list(store.page_size, store.all(Kind::WatchlistItem, Some(alias)))
        }
        ("POST", ["incidents", id, "alerts"]) => match store.get(Kind::Incident, None, id) {
            None => not_found(Kind::Incident, id),
            Some(_) => Json(json!({ "value": store.alerts.get(*id).cloned().unwrap_or_default() }))
                .into_response(),
        },
        ("POST", ["incidents", id, "entities"]) => match store.get(Kind::Incident, None, id) {
            None => not_found(Kind::Incident, id),
            Some(_) => Json(store.entities_answer(id)).into_response(),
        },
        ("GET", [.., kind, id]) => {
            let Some((kind, parent)) = resolve(&segments, kind) else {
                return unknown_type(&rest);
            };
            match store.get(kind, parent, id) {
                Some(item) => Json(item.clone()).into_response(),
                None => not_found(kind, id),
            }
        }
        ("PUT", [.., kind, id]) => {
            let Some((kind, parent)) = resolve(&segments, kind) else {
                return unknown_type(&rest);
            };
            let body = match read_body() {
                Ok(body) => body,
                Err(refused) => return refused,
            };
            match store.put(kind, parent, id, Value::Object(body)) {
                Ok((created, item)) => {
                    let status = if created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    };
                    (status, Json(item)).into_response()
                }
                Err(refused) => refused.into_response(),
            }
        }
        ("DELETE", [kind, id]) => {
            let Some(kind) = Kind::from_segment(kind) else {
                return unknown_type(&rest);
            };
            if store.delete(kind, id) {
                StatusCode::OK.into_response()
            } else {
                // ARM answers a delete of something absent with 204 No Content.
                StatusCode::NO_CONTENT.into_response()
            }
        }
        _ => unknown_type(&rest),
    }
}

/// The kind named by the last-but-one segment, and its parent's id when it lives
/// under one (`incidents/{id}/comments/{commentId}`); `None` for any other shape.
fn resolve<'s>(segments: &[&'s str], kind: &str) -> Option<(Kind, Option<&'s str>)> {
    let kind = Kind::from_segment(kind)?;
    match (segments, kind.parent()) {
        ([_, _], None) => Some((kind, None)),
        ([parent_segment, parent, _, _], Some(parent_kind))
            if Kind::from_segment(parent_segment) == Some(parent_kind) =>
        {
            Some((kind, Some(parent)))
        }
        _ => None,
    }
}

fn not_found(kind: Kind, id: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{} '{id}' was not found.", kind.noun()),
    )
}

fn unknown_type(rest: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        &format!("The resource type could not be found in the namespace 'Microsoft.SecurityInsights': '{rest}'."),
    )
}

/// ARM's answers to a missing, unknown or misdirected token; `None` when the token
/// is good.
fn check_token(state: &FakeState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = bearer(headers) else {
        let mut refused = arm_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        );
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(
                "Bearer authorization_uri=\"https://login.windows.net/\", error=\"invalid_token\", error_description=\"The authentication failed because of missing 'Authorization' header.\"",
            ),
        );
        return Some(refused);
    };
    match state.tokens.resource_of(token) {
        None => Some(arm_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        )),
        Some(resource) if resource != ARM_RESOURCE => Some(arm_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenAudience",
            &format!("The access token has been obtained for wrong audience or resource '{resource}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.azure.com/'."),
        )),
        Some(_) => None,
    }
}

/// One page of `items`: from `$skipToken` on, at most `page_size` of them and no
/// further than `$top`, with a `nextLink` when more remain.
fn page(
    page_size: usize,
    items: Vec<Value>,
    query: &[(String, String)],
    host: &str,
    path: &str,
) -> Result<Value, String> {
    let number = |name: &str| -> Result<Option<usize>, String> {
        query_value(query, name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("Invalid value '{v}' for {name}."))
            })
            .transpose()
    };
    let start = number("$skipToken")?.unwrap_or(0);
    let total = number("$top")?.map_or(items.len(), |top| top.min(items.len()));
    let end = (start + page_size).min(total);
    let value = items.get(start..end).unwrap_or_default().to_vec();
    let mut body = json!({ "value": value });
    if end < total {
        body["nextLink"] = json!(next_link(host, path, query, end));
    }
    Ok(body)
}

/// The `nextLink` of a page: the same request from item `skip` on.
fn next_link(host: &str, path: &str, query: &[(String, String)], skip: usize) -> String {
    let mut url = Url::parse(&format!("http://{host}{path}")).expect("request paths make URLs");
    {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query.iter().filter(|(n, _)| n != "$skipToken") {
            pairs.append_pair(name, value);
        }
        pairs.append_pair("$skipToken", &skip.to_string());
    }
    url.to_string()
}
