//! [`SentinelClient`]: the calls of the management API, one method each.
//!
//! Every request carries `api-version` ([`API_VERSION`]) and a bearer token for
//! Azure Resource Manager ([`SCOPE`]) from the client's token source. Lists follow
//! `nextLink` until the last page, and only to the host the client talks to, so the
//! token never leaves for another server. Writes are PUTs to an id the client makes
//! (a new GUID) or the caller names; updates send the `etag` they read, so that a
//! change made in between is refused ([`SentinelError::Conflict`]) rather than lost.

use std::sync::Arc;

use huntbook_core::config::Workspace;
use huntbook_core::entities::EntityGraph;
use huntbook_http::client::{error_detail, redact_url, Detail};
use huntbook_http::{HttpClient, HttpError, Scope, TokenSource};
use reqwest::{Method, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::model::{
    Bookmark, BookmarkProperties, Comment, Incident, IncidentProperties, Watchlist, WatchlistItem,
    WatchlistProperties,
};
use crate::workspace::{check_id, WorkspacePath};
use crate::SentinelError;

/// The service name in errors.
const SERVICE: &str = "Microsoft Sentinel";
/// The management API version every request names: the current stable one.
pub const API_VERSION: &str = "2024-03-01";
/// The token scope of Azure Resource Manager.
pub const SCOPE: &str = "https://management.azure.com/.default";
/// Azure Resource Manager in Azure's public cloud.
pub const PUBLIC_ARM: &str = "https://management.azure.com/";
/// A bound on pages per list, against a service whose links go round in a circle.
const MAX_PAGES: usize = 10_000;

/// Options of [`SentinelClient::list_incidents`], OData as the API takes them.
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    /// `$filter`, e.g. `properties/status eq 'New'`.
    pub filter: Option<String>,
    /// `$orderby`, e.g. `properties/createdTimeUtc desc`.
    pub orderby: Option<String>,
    /// `$top`: at most this many incidents in all.
    pub top: Option<usize>,
}

/// What a request is about, for naming it in errors.
#[derive(Clone, Copy)]
struct Target<'a> {
    what: &'static str,
    id: Option<&'a str>,
}

impl<'a> Target<'a> {
    fn list(what: &'static str) -> Target<'a> {
        Target { what, id: None }
    }

    fn one(what: &'static str, id: &'a str) -> Target<'a> {
        Target { what, id: Some(id) }
    }
}

/// A page of a list: `{"value": [...], "nextLink": "..."}`.
#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

/// A client for one workspace's Sentinel management API.
pub struct SentinelClient {
    http: HttpClient,
    tokens: Arc<dyn TokenSource>,
    scope: Scope,
    /// `{arm}/subscriptions/.../providers/Microsoft.SecurityInsights/`.
    root: Url,
    workspace: WorkspacePath,
}

impl std::fmt::Debug for SentinelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelClient")
            .field("root", &self.root.as_str())
            .finish_non_exhaustive()
    }
}

impl SentinelClient {
    /// A client for a configured workspace. `base_url` is Azure Resource Manager's
    /// address: [`PUBLIC_ARM`] when `None`, another cloud's, or a test server.
    pub fn new(
        workspace: &Workspace,
        tokens: Arc<dyn TokenSource>,
        base_url: Option<&str>,
    ) -> Result<SentinelClient, SentinelError> {
        SentinelClient::for_path(WorkspacePath::from_config(workspace)?, tokens, base_url)
    }

    /// A client for a workspace given by its parts.
    pub fn for_path(
        workspace: WorkspacePath,
        tokens: Arc<dyn TokenSource>,
        base_url: Option<&str>,
    ) -> Result<SentinelClient, SentinelError> {
        let base = base_url.unwrap_or(PUBLIC_ARM);
        let invalid = || SentinelError::Invalid {
            what: "Azure Resource Manager URL",
            value: base.to_string(),
            rule: "an http(s) URL such as https://management.azure.com/",
        };
        let mut root = Url::parse(base).map_err(|_| invalid())?;
        if !matches!(root.scheme(), "http" | "https") || root.host().is_none() {
            return Err(invalid());
        }
        root.set_query(None);
        root.set_fragment(None);
        root.path_segments_mut()
            .map_err(|_| invalid())?
            .pop_if_empty()
            .extend(workspace.segments())
            .push("");
        let http = HttpClient::builder(SERVICE).build()?;
        Ok(SentinelClient {
            http,
            tokens,
            scope: Scope::new(SCOPE),
            root,
            workspace,
        })
    }

    /// Use this HTTP client (timeouts, retries, rate limit) instead of the default.
    pub fn with_http(mut self, http: HttpClient) -> SentinelClient {
        self.http = http;
        self
    }

    pub fn workspace(&self) -> &WorkspacePath {
        &self.workspace
    }

    // ----- incidents -----

    /// Incidents matching `query`, following every page (up to `query.top`).
    pub async fn list_incidents(
        &self,
        query: &IncidentQuery,
    ) -> Result<Vec<Incident>, SentinelError> {
        let mut url = self.url(&["incidents"])?;
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(filter) = &query.filter {
                pairs.append_pair("$filter", filter);
            }
            if let Some(orderby) = &query.orderby {
                pairs.append_pair("$orderby", orderby);
            }
            if let Some(top) = query.top {
                pairs.append_pair("$top", &top.to_string());
            }
        }
        self.list(url, query.top, Target::list("incidents")).await
    }

    pub async fn get_incident(&self, id: &str) -> Result<Incident, SentinelError> {
        let url = self.url(&["incidents", checked("incident id", id)?])?;
        self.call(Method::GET, url, None, Target::one("incident", id))
            .await
    }

    /// Creates an incident under a new id and returns it as the service saved it
    /// (with its number, times and etag).
    pub async fn create_incident(
        &self,
        properties: &IncidentProperties,
    ) -> Result<Incident, SentinelError> {
        self.put_incident(&uuid::Uuid::new_v4().to_string(), properties)
            .await
    }

    /// Creates the incident `id` (a GUID chosen by the caller), or sets its properties
    /// if it exists: sent again after a lost answer, it does not raise a second one.
    pub async fn put_incident(
        &self,
        id: &str,
        properties: &IncidentProperties,
    ) -> Result<Incident, SentinelError> {
        let id = checked("incident id", id)?;
        let body = json!({ "properties": properties.writable() });
        let url = self.url(&["incidents", id])?;
        self.call(Method::PUT, url, Some(body), Target::one("incident", id))
            .await
    }

    /// Saves an incident read earlier (and changed), sending its etag: if someone
    /// changed it since, the service refuses and this returns
    /// [`SentinelError::Conflict`].
    pub async fn save_incident(&self, incident: &Incident) -> Result<Incident, SentinelError> {
        let id = checked("incident id", &incident.name)?;
        let mut body = json!({ "properties": incident.properties.writable() });
        if let Some(etag) = &incident.etag {
            body["etag"] = json!(etag);
        }
        let url = self.url(&["incidents", id])?;
        self.call(Method::PUT, url, Some(body), Target::one("incident", id))
            .await
    }

    /// Reads an incident, applies `change` and saves it with the etag read.
    pub async fn update_incident(
        &self,
        id: &str,
        change: impl FnOnce(&mut IncidentProperties),
    ) -> Result<Incident, SentinelError> {
        let mut incident = self.get_incident(id).await?;
        change(&mut incident.properties);
        self.save_incident(&incident).await
    }

    pub async fn list_comments(&self, incident_id: &str) -> Result<Vec<Comment>, SentinelError> {
        let id = checked("incident id", incident_id)?;
        let url = self.url(&["incidents", id, "comments"])?;
        self.list(url, None, Target::one("incident", id)).await
    }

    /// Adds a comment to an incident.
    pub async fn post_comment(
        &self,
        incident_id: &str,
        message: &str,
    ) -> Result<Comment, SentinelError> {
        self.put_comment(incident_id, &uuid::Uuid::new_v4().to_string(), message)
            .await
    }

    /// Adds the comment `comment_id` (a GUID chosen by the caller) to an incident, or
    /// replaces its text: sent again after a lost answer, it does not add a second one.
    pub async fn put_comment(
        &self,
        incident_id: &str,
        comment_id: &str,
        message: &str,
    ) -> Result<Comment, SentinelError> {
        let id = checked("incident id", incident_id)?;
        let comment_id = checked("comment id", comment_id)?;
        let url = self.url(&["incidents", id, "comments", comment_id])?;
        let body = json!({ "properties": { "message": message } });
        self.call(Method::PUT, url, Some(body), Target::one("incident", id))
            .await
    }

    /// The alerts of an incident, as the API returns them (`kind: SecurityAlert`).
    pub async fn incident_alerts(&self, incident_id: &str) -> Result<Vec<Value>, SentinelError> {
        let id = checked("incident id", incident_id)?;
        let url = self.url(&["incidents", id, "alerts"])?;
        let page: Page<Value> = self
            .call(Method::POST, url, None, Target::one("incident", id))
            .await?;
        Ok(page.value)
    }

    /// The entities of an incident, in huntbook's entity model.
    pub async fn incident_entities(&self, incident_id: &str) -> Result<EntityGraph, SentinelError> {
        let id = checked("incident id", incident_id)?;
        let url = self.url(&["incidents", id, "entities"])?;
        let response: Value = self
            .call(Method::POST, url, None, Target::one("incident", id))
            .await?;
        EntityGraph::from_api_entities(response).map_err(|source| SentinelError::Entities {
            incident: id.to_string(),
            source,
        })
    }

    // ----- bookmarks -----

    pub async fn list_bookmarks(&self) -> Result<Vec<Bookmark>, SentinelError> {
        let url = self.url(&["bookmarks"])?;
        self.list(url, None, Target::list("bookmarks")).await
    }

    pub async fn get_bookmark(&self, id: &str) -> Result<Bookmark, SentinelError> {
        let url = self.url(&["bookmarks", checked("bookmark id", id)?])?;
        self.call(Method::GET, url, None, Target::one("bookmark", id))
            .await
    }

    /// Creates a bookmark under a new id.
    pub async fn create_bookmark(
        &self,
        properties: &BookmarkProperties,
    ) -> Result<Bookmark, SentinelError> {
        let id = uuid::Uuid::new_v4().to_string();
        let url = self.url(&["bookmarks", &id])?;
        let body = json!({ "properties": properties });
        self.call(Method::PUT, url, Some(body), Target::one("bookmark", &id))
            .await
    }

    pub async fn delete_bookmark(&self, id: &str) -> Result<(), SentinelError> {
        let url = self.url(&["bookmarks", checked("bookmark id", id)?])?;
        self.send(Method::DELETE, url, None, Target::one("bookmark", id))
            .await?;
        Ok(())
    }

    // ----- watchlists -----

    pub async fn list_watchlists(&self) -> Result<Vec<Watchlist>, SentinelError> {
        let url = self.url(&["watchlists"])?;
        self.list(url, None, Target::list("watchlists")).await
    }

    pub async fn get_watchlist(&self, alias: &str) -> Result<Watchlist, SentinelError> {
        let url = self.url(&["watchlists", checked("watchlist alias", alias)?])?;
        self.call(Method::GET, url, None, Target::one("watchlist", alias))
            .await
    }

    /// Creates (or replaces) the watchlist `alias`, with the items of its
    /// `rawContent` when set.
    pub async fn create_watchlist(
        &self,
        alias: &str,
        properties: &WatchlistProperties,
    ) -> Result<Watchlist, SentinelError> {
        let url = self.url(&["watchlists", checked("watchlist alias", alias)?])?;
        let body = json!({ "properties": properties });
        self.call(
            Method::PUT,
            url,
            Some(body),
            Target::one("watchlist", alias),
        )
        .await
    }

    pub async fn delete_watchlist(&self, alias: &str) -> Result<(), SentinelError> {
        let url = self.url(&["watchlists", checked("watchlist alias", alias)?])?;
        self.send(Method::DELETE, url, None, Target::one("watchlist", alias))
            .await?;
        Ok(())
    }

    pub async fn list_watchlist_items(
        &self,
        alias: &str,
    ) -> Result<Vec<WatchlistItem>, SentinelError> {
        let alias = checked("watchlist alias", alias)?;
        let url = self.url(&["watchlists", alias, "watchlistItems"])?;
        self.list(url, None, Target::one("watchlist", alias)).await
    }

    /// Adds an item (column name to value) to a watchlist under `item_id`, or under a
    /// new id when `None`; an existing id is replaced.
    pub async fn put_watchlist_item(
        &self,
        alias: &str,
        item_id: Option<&str>,
        item: &Map<String, Value>,
    ) -> Result<WatchlistItem, SentinelError> {
        let alias = checked("watchlist alias", alias)?;
        let item_id = match item_id {
            Some(id) => checked("watchlist item id", id)?.to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let url = self.url(&["watchlists", alias, "watchlistItems", &item_id])?;
        let body = json!({ "properties": { "itemsKeyValue": item } });
        self.call(
            Method::PUT,
            url,
            Some(body),
            Target::one("watchlist", alias),
        )
        .await
    }

    /// Adds items to a watchlist, as MSTICPy does: an item whose values all equal
    /// those of an item already there is that item, replaced when `overwrite` is
    /// set and refused ([`SentinelError::ItemExists`]) when not; the others get
    /// new ids. Nothing is written when an item is refused.
    pub async fn add_watchlist_items(
        &self,
        alias: &str,
        items: &[Map<String, Value>],
        overwrite: bool,
    ) -> Result<Vec<WatchlistItem>, SentinelError> {
        let existing = self.list_watchlist_items(alias).await?;
        let mut targets = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let same = existing.iter().find(|old| {
                let values = &old.properties.items_key_value;
                item.iter()
                    .all(|(key, value)| values.get(key) == Some(value))
            });
            match same {
                Some(_) if !overwrite => {
                    return Err(SentinelError::ItemExists {
                        alias: alias.to_string(),
                        index,
                        item: Value::Object(item.clone()).to_string(),
                    })
                }
                Some(old) => targets.push(Some(old.name.as_str())),
                None => targets.push(None),
            }
        }
        let mut added = Vec::with_capacity(items.len());
        for (item, id) in items.iter().zip(targets) {
            added.push(self.put_watchlist_item(alias, id, item).await?);
        }
        Ok(added)
    }

    // ----- plumbing -----

    /// `root` + `segments`, with `api-version`.
    fn url(&self, segments: &[&str]) -> Result<Url, SentinelError> {
        let mut url = self.root.clone();
        url.path_segments_mut()
            .expect("the root URL was checked to take a path")
            .pop_if_empty()
            .extend(segments);
        url.query_pairs_mut()
            .append_pair("api-version", API_VERSION);
        Ok(url)
    }

    /// Sends a request and reads its JSON answer.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
        target: Target<'_>,
    ) -> Result<T, SentinelError> {
        let response = self.send(method, url, body, target).await?;
        Ok(self.http.json(response).await?)
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
        target: Target<'_>,
    ) -> Result<Response, SentinelError> {
        let token = self.tokens.token(&self.scope).await?;
        let is_write = method == Method::PUT;
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(token.token.expose());
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = self.http.send_allowing_client_errors(request).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        Err(self.client_error(response, status, is_write, target).await)
    }

    /// A 4xx answer as the error that says what it means here.
    async fn client_error(
        &self,
        response: Response,
        status: StatusCode,
        is_write: bool,
        target: Target<'_>,
    ) -> SentinelError {
        let url = redact_url(response.url());
        // The body only adds detail; a body that cannot be read leaves it out.
        let body = response.bytes().await.unwrap_or_default();
        let service = SERVICE.to_string();
        match (status, target.id) {
            (StatusCode::UNAUTHORIZED, _) => HttpError::Unauthorized {
                service,
                url,
                detail: error_detail(&body),
            }
            .into(),
            (StatusCode::FORBIDDEN, _) => HttpError::Forbidden {
                service,
                url,
                detail: error_detail(&body),
            }
            .into(),
            (StatusCode::NOT_FOUND, Some(id)) => SentinelError::NotFound {
                what: target.what,
                id: id.to_string(),
                workspace: self.workspace.workspace_name.clone(),
            },
            (StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED, Some(id)) if is_write => {
                SentinelError::Conflict {
                    what: target.what,
                    id: id.to_string(),
                    status: status.as_u16(),
                }
            }
            _ => {
                let (code, message) = arm_error(&body);
                SentinelError::Rejected {
                    status: status.as_u16(),
                    code,
                    message,
                    url,
                }
            }
        }
    }

    /// Every item of a paged list, up to `limit`.
    async fn list<T: DeserializeOwned>(
        &self,
        first: Url,
        limit: Option<usize>,
        target: Target<'_>,
    ) -> Result<Vec<T>, SentinelError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(url) = next.take() {
            if pages == MAX_PAGES {
                return Err(SentinelError::EndlessPaging {
                    url: redact_url(&self.root),
                    pages,
                });
            }
            pages += 1;
            let page: Page<T> = self.call(Method::GET, url, None, target).await?;
            items.extend(page.value);
            if limit.is_some_and(|limit| items.len() >= limit) {
                break;
            }
            if let Some(link) = page.next_link.filter(|l| !l.is_empty()) {
                next = Some(self.next_link(&link)?);
            }
        }
        if let Some(limit) = limit {
            items.truncate(limit);
        }
        Ok(items)
    }

    /// A `nextLink`, if it points at the server this client talks to.
    fn next_link(&self, link: &str) -> Result<Url, SentinelError> {
        let foreign = || SentinelError::ForeignNextLink {
            link: link.chars().take(200).collect(),
            expected: self.root.origin().ascii_serialization(),
        };
        let url = Url::parse(link).map_err(|_| foreign())?;
        if url.origin() == self.root.origin() {
            Ok(url)
        } else {
            Err(foreign())
        }
    }
}

fn checked<'a>(what: &'static str, id: &'a str) -> Result<&'a str, SentinelError> {
    check_id(what, id)?;
    Ok(id)
}

/// `code` and `message` of an Azure Resource Manager error body
/// (`{"error": {"code", "message"}}`), or the body's gist when it is not one.
fn arm_error(body: &[u8]) -> (String, String) {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: String,
        message: String,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body { error }) => (error.code, error.message),
        Err(_) => {
            let Detail(message) = error_detail(body);
            (
                "UnknownError".to_string(),
                message.unwrap_or_else(|| "no error body".into()),
            )
        }
    }
}
