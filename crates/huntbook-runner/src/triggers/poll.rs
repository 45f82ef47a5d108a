//! Pollers: a notebook run once per new incident of an incident source.
//!
//! ```yaml
//! poll:
//!   source: sentinel              # sentinel | http | local
//!   workspace: Default            # sentinel: a workspace of AzureSentinel.Workspaces
//!   filter: "properties/status eq 'New'"   # sentinel: more OData conditions (optional)
//!   every: 60s                    # time between polls (default 60 s)
//!   lookback: 1d                  # how far back the first poll looks (default 1 day)
//!   parameters: {incident_id: name, title: properties.title}   # parameter: dotted path in the incident JSON
//! ```
//!
//! A generic HTTP JSON endpoint is read with GET:
//!
//! ```yaml
//! poll:
//!   source: http
//!   url: https://soar.example.org/api/incidents
//!   items: data.items             # where the list is in the answer (left out: the answer is the list)
//!   next: links.next              # the next page's URL, relative or absolute (optional)
//!   id: id                        # the incident's id (default id)
//!   modified: updated_at          # its last modified time, RFC 3339 (optional)
//!   since_param: updated_after    # a query parameter given the mark (optional)
//!   auth: {header: Authorization, scheme: Bearer, secret: {EnvironmentVar: SOAR_TOKEN}}
//!   parameters: {incident_id: id, title: title}
//! ```
//!
//! Each round fetches the incidents modified at or after the poller's mark (the
//! newest modified time it has seen, kept in the store), and asks for one run per
//! incident with the key `poll:<notebook>:<source>:<incident id>`, so an incident seen
//! again (modified since, or fetched again after a restart) runs once. A source that
//! fails is reported and polled again next round. Answers that are throttled (429)
//! are retried after the `Retry-After` the server gives; redirects are not followed
//! and next links to another host are refused, so the auth header never leaves for
//! another server.
//!
//! The service's own incident store (the `local` sink's incidents) is a source too,
//! so that a notebook can triage what another notebook raised:
//!
//! ```yaml
//! poll:
//!   source: local
//!   every: 10s
//!   parameters: {incident_number: number, title: title, severity: severity}
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use huntbook_core::config::{Config, Kind, Value, Workspace};
use huntbook_core::secret::SecretResolver;
use huntbook_http::{HttpClient, HttpError, Secret, TokenSource};
use huntbook_sentinel::{IncidentQuery, SentinelClient, SentinelError};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Url;
use serde_json::Map;
use tokio::sync::watch;

use super::{pause, report, Context, SubmitError};
use crate::config::Problems;
use crate::error::StoreError;
use crate::model::TriggerKind;
use crate::store::JobStore;

const EVERY: Duration = Duration::from_secs(60);
const LOOKBACK: Duration = Duration::from_secs(24 * 3600);
/// A bound on pages per poll, against links that go round in a circle.
const MAX_PAGES: usize = 1000;
const COMMON_KEYS: &[&str] = &["source", "every", "lookback", "parameters"];
const SENTINEL_KEYS: &[&str] = &["workspace", "filter"];
const HTTP_KEYS: &[&str] = &[
    "url",
    "items",
    "next",
    "id",
    "modified",
    "since_param",
    "auth",
];
const AUTH_KEYS: &[&str] = &["header", "scheme", "secret"];

/// An incident as a source gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedIncident {
    /// Its id in the source.
    pub id: String,
    /// When it last changed, when the source says.
    pub modified: Option<DateTime<Utc>>,
    /// The whole incident, which parameters are taken from.
    pub json: serde_json::Value,
}

/// What [`IncidentSource::fetch`] returns.
pub type Fetch<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<SourcedIncident>, SourceError>> + Send + 'a>>;

/// A place incidents come from.
pub trait IncidentSource: Send + Sync {
    /// The incidents modified at or after `since` (every one it has when `None`).
    fn fetch(&self, since: Option<DateTime<Utc>>) -> Fetch<'_>;
}

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Sentinel(#[from] SentinelError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The answer is not what the settings describe.
    #[error("{0}")]
    Malformed(String),
}

/// What the pollers need from outside the catalogue: secrets for auth headers and
/// the sign-in for Sentinel workspaces.
pub struct SourceAccess {
    /// Resolves the `secret` of an HTTP source's `auth`.
    pub secrets: SecretResolver,
    /// The token source for a Sentinel workspace (the serve command builds it from
    /// the configuration's Azure sign-in).
    #[allow(clippy::type_complexity)]
    pub azure: Box<dyn Fn(&Workspace) -> Result<Arc<dyn TokenSource>, String> + Send + Sync>,
    /// Azure Resource Manager's address: the public cloud's when `None`.
    pub arm_url: Option<String>,
}

/// A dotted path into JSON: `properties.title`, `items.0.id`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JsonPath(String);

impl JsonPath {
    fn find<'v>(&self, value: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        self.0.split('.').try_fold(value, |node, key| match node {
            serde_json::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            other => other.get(key),
        })
    }
}

/// The settings of the source.
#[derive(Debug, Clone)]
enum SourceSettings {
    Sentinel {
        workspace: Option<String>,
        filter: Option<String>,
    },
    Http(Box<HttpSettings>),
    Local,
}

#[derive(Debug, Clone)]
struct HttpSettings {
    url: Url,
    items: Option<JsonPath>,
    next: Option<JsonPath>,
    id: JsonPath,
    modified: Option<JsonPath>,
    since_param: Option<String>,
    auth: Option<(HeaderName, Option<String>)>,
}

/// One notebook's poller, as configured.
#[derive(Debug, Clone)]
pub struct Poll {
    /// The notebook it runs.
    pub notebook: String,
    /// `sentinel` or `http`: the source's name in keys.
    pub source: &'static str,
    settings: SourceSettings,
    /// The time between polls.
    pub every: Duration,
    /// How far back the first poll looks.
    pub lookback: Duration,
    parameters: Vec<(String, JsonPath)>,
    at: String,
    /// Where it was written: an empty value with the entry's origin (the entry itself
    /// may hold a literal secret, which must not travel in this value's `Debug`).
    written: Value,
}

impl Poll {
    pub(crate) fn read(
        notebook: &str,
        at: &str,
        value: &Value,
        problems: &mut Problems,
    ) -> Option<Poll> {
        if value.entries().is_none() {
            problems.error(at, value, "expected a mapping with a `source`");
            return None;
        }
        let setting = |key: &str| value.get(key).filter(|v| !v.is_null());
        let text = |key: &str, problems: &mut Problems| -> Option<String> {
            let found = setting(key)?;
            let text = found.scalar_text().filter(|t| !t.trim().is_empty());
            if text.is_none() {
                problems.error(&format!("{at}.{key}"), found, "expected text");
            }
            text
        };
        let path = |key: &str, problems: &mut Problems| text(key, problems).map(JsonPath);
        let (source, own_keys, settings) = match setting("source").and_then(Value::as_str) {
            Some("sentinel") => (
                "sentinel",
                SENTINEL_KEYS,
                Some(SourceSettings::Sentinel {
                    workspace: text("workspace", problems),
                    filter: text("filter", problems),
                }),
            ),
            Some("http") => {
                let url = match text("url", problems) {
                    None => {
                        problems.error(at, value, "an http source needs a `url`");
                        None
                    }
                    Some(url) => match Url::parse(&url) {
                        Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
                        _ => {
                            problems.error(
                                &format!("{at}.url"),
                                setting("url").unwrap_or(value),
                                format!("{url:?} is not an http(s) URL"),
                            );
                            None
                        }
                    },
                };
                let auth = read_auth(at, setting("auth"), problems);
                let settings = HttpSettings {
                    items: path("items", problems),
                    next: path("next", problems),
                    id: path("id", problems).unwrap_or(JsonPath("id".into())),
                    modified: path("modified", problems),
                    since_param: text("since_param", problems),
                    auth: auth.ok()?,
                    url: url?,
                };
                (
                    "http",
                    HTTP_KEYS,
                    Some(SourceSettings::Http(Box::new(settings))),
                )
            }
            Some("local") => ("local", &[][..], Some(SourceSettings::Local)),
            _ => {
                problems.error(
                    &format!("{at}.source"),
                    setting("source").unwrap_or(value),
                    "expected `source: sentinel`, `source: http` or `source: local`",
                );
                ("", &[][..], None)
            }
        };
        let known: Vec<&str> = COMMON_KEYS.iter().chain(own_keys).copied().collect();
        problems.unknown_keys(at, value, &known);
        let every = match setting("every") {
            None => Some(EVERY),
            Some(every) => problems.length(&format!("{at}.every"), every),
        };
        let lookback = match setting("lookback") {
            None => Some(LOOKBACK),
            Some(lookback) => problems.length(&format!("{at}.lookback"), lookback),
        };
        let mut parameters = Vec::new();
        match setting("parameters").map(|p| (p, p.entries())) {
            None => {}
            Some((_, Some(entries))) => {
                for (name, path) in entries {
                    match path.as_str() {
                        Some(path) => parameters.push((name.clone(), JsonPath(path.into()))),
                        None => problems.error(
                            &format!("{at}.parameters.{name}"),
                            path,
                            "expected a dotted path into the incident's JSON, such as properties.title",
                        ),
                    }
                }
            }
            Some((found, None)) => problems.error(
                &format!("{at}.parameters"),
                found,
                "expected a mapping of parameter names to paths in the incident's JSON",
            ),
        }
        Some(Poll {
            notebook: notebook.to_owned(),
            source,
            settings: settings?,
            every: every?,
            lookback: lookback?,
            parameters,
            at: at.to_owned(),
            written: Value::new(Kind::Null, value.origin.clone()),
        })
    }

    /// The key of its mark in the store.
    pub fn mark_key(&self) -> String {
        format!("poll:{}:{}", self.notebook, self.source)
    }

    /// The idempotency key of the run for `incident`.
    pub fn job_key(&self, incident: &str) -> String {
        format!("{}:{incident}", self.mark_key())
    }

    /// Check the names of its parameters as each of its requests will be checked,
    /// so that a poller refused every time is reported before the service starts.
    pub(crate) fn check(&self, context: &Context, problems: &mut Problems) {
        let names = self
            .parameters
            .iter()
            .map(|(name, _)| (name.clone(), serde_json::Value::Null))
            .collect();
        let checked =
            context
                .service
                .job(&self.notebook, TriggerKind::Event, names, &context.scrubber);
        if let Err(e) = checked {
            problems.error(
                &format!("{}.parameters", self.at),
                &self.written,
                e.to_string(),
            );
        }
    }

    /// The parameters of the run for `incident`.
    fn parameters_of(
        &self,
        incident: &SourcedIncident,
    ) -> Result<Map<String, serde_json::Value>, String> {
        self.parameters
            .iter()
            .map(|(name, path)| match path.find(&incident.json) {
                Some(value) => Ok((name.clone(), value.clone())),
                None => Err(format!(
                    "incident {} has no {} (for parameter {name})",
                    incident.id, path.0
                )),
            })
            .collect()
    }

    /// The source these settings name, connected; `None` with the reason in
    /// `problems` when it cannot be.
    pub(crate) fn connect(
        &self,
        config: &Config,
        store: &Arc<JobStore>,
        access: &SourceAccess,
        problems: &mut Problems,
    ) -> Option<Box<dyn IncidentSource>> {
        let mut fail = |message: String| {
            problems.error(&self.at, &self.written, message);
            None
        };
        match &self.settings {
            SourceSettings::Local => Some(Box::new(LocalSource {
                store: store.clone(),
            })),
            SourceSettings::Sentinel { workspace, filter } => {
                let workspace = match config.workspace(workspace.as_deref()) {
                    Ok(workspace) => workspace,
                    Err(problem) => return fail(problem.to_string()),
                };
                let tokens = match (access.azure)(&workspace) {
                    Ok(tokens) => tokens,
                    Err(reason) => return fail(format!("cannot sign in to Azure: {reason}")),
                };
                match SentinelClient::new(&workspace, tokens, access.arm_url.as_deref()) {
                    Ok(client) => Some(Box::new(SentinelSource::new(client, filter.clone()))),
                    Err(e) => fail(e.to_string()),
                }
            }
            SourceSettings::Http(settings) => {
                let header = match &settings.auth {
                    None => None,
                    Some((name, scheme)) => {
                        let key = format!("{}.auth.secret", self.at);
                        let secret = match config.secret(&key) {
                            Ok(Some(reference)) => access.secrets.resolve(&reference),
                            Ok(None) => return fail(format!("{key} is missing")),
                            Err(problem) => return fail(problem.to_string()),
                        };
                        match secret {
                            Ok(secret) => Some(Auth {
                                name: name.clone(),
                                scheme: scheme.clone(),
                                secret,
                            }),
                            Err(e) => return fail(format!("{key}: {e}")),
                        }
                    }
                };
                // Redirects are not followed: reqwest would carry a header of the
                // user's choosing (X-Api-Key...) to whichever host they point at.
                let client = match HttpClient::builder(format!("incident source {}", settings.url))
                    .no_redirects()
                    .build()
                {
                    Ok(client) => client,
                    Err(e) => return fail(e.to_string()),
                };
                Some(Box::new(HttpSource::new(
                    client,
                    (**settings).clone(),
                    header,
                )))
            }
        }
    }
}

fn read_auth(
    at: &str,
    auth: Option<&Value>,
    problems: &mut Problems,
) -> Result<Option<(HeaderName, Option<String>)>, ()> {
    let Some(auth) = auth else { return Ok(None) };
    let at = format!("{at}.auth");
    if auth.entries().is_none() {
        problems.error(
            &at,
            auth,
            "expected {header: NAME, scheme: Bearer, secret: {EnvironmentVar: VAR}}",
        );
        return Err(());
    }
    problems.unknown_keys(&at, auth, AUTH_KEYS);
    if auth.get("secret").is_none() {
        problems.error(
            &at,
            auth,
            "an auth header needs a `secret` reference, such as {EnvironmentVar: SOAR_TOKEN}",
        );
    }
    let header = auth
        .get("header")
        .and_then(Value::as_str)
        .unwrap_or("Authorization");
    let Ok(name) = HeaderName::from_bytes(header.as_bytes()) else {
        problems.error(
            &format!("{at}.header"),
            auth,
            format!("{header:?} is not a header name"),
        );
        return Err(());
    };
    let scheme = match auth.get("scheme") {
        None => None,
        Some(v) if matches!(v.kind, Kind::Str(_)) => v.as_str().map(str::to_owned),
        Some(v) => {
            problems.error(&format!("{at}.scheme"), v, "expected text such as Bearer");
            return Err(());
        }
    };
    Ok(Some((name, scheme)))
}

/// An auth header whose value is a secret.
struct Auth {
    name: HeaderName,
    scheme: Option<String>,
    secret: Secret,
}

impl Auth {
    fn value(&self) -> Result<HeaderValue, SourceError> {
        let text = match &self.scheme {
            Some(scheme) => format!("{scheme} {}", self.secret.expose()),
            None => self.secret.expose().to_owned(),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            SourceError::Malformed(format!(
                "the secret of the {} header holds characters a header cannot",
                self.name
            ))
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// Microsoft Sentinel's incidents, through the management API.
pub struct SentinelSource {
    client: SentinelClient,
    filter: Option<String>,
}

impl SentinelSource {
    /// Incidents of `client`'s workspace that also match the OData `filter`.
    pub fn new(client: SentinelClient, filter: Option<String>) -> SentinelSource {
        SentinelSource { client, filter }
    }

    async fn incidents(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<SourcedIncident>, SourceError> {
        let since = since.map(|t| {
            format!(
                "properties/lastModifiedTimeUtc ge {}",
                t.to_rfc3339_opts(SecondsFormat::Millis, true)
            )
        });
        let filter = match (since, &self.filter) {
            (Some(since), Some(more)) => Some(format!("{since} and {more}")),
            (since, more) => since.or(more.clone()),
        };
        let query = IncidentQuery {
            filter,
            orderby: Some("properties/lastModifiedTimeUtc asc".into()),
            top: None,
        };
        self.client
            .list_incidents(&query)
            .await?
            .into_iter()
            .map(|incident| {
                let modified = incident
                    .properties
                    .last_modified_time_utc
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc));
                let json = serde_json::to_value(&incident)
                    .map_err(|e| SourceError::Malformed(e.to_string()))?;
                Ok(SourcedIncident {
                    id: incident.name,
                    modified,
                    json,
                })
            })
            .collect()
    }
}

impl IncidentSource for SentinelSource {
    fn fetch(&self, since: Option<DateTime<Utc>>) -> Fetch<'_> {
        Box::pin(self.incidents(since))
    }
}

/// The incidents the service's `local` sink raised, from its own store.
pub struct LocalSource {
    store: Arc<JobStore>,
}

/// Incidents read per round; the rest come next round, as the mark moves on.
const LOCAL_PAGE: u32 = 1000;

impl IncidentSource for LocalSource {
    fn fetch(&self, since: Option<DateTime<Utc>>) -> Fetch<'_> {
        Box::pin(async move {
            let incidents = self.store.incidents_since(since, LOCAL_PAGE).await?;
            Ok(incidents
                .into_iter()
                .map(|incident| SourcedIncident {
                    id: incident.number.to_string(),
                    modified: Some(incident.created),
                    json: incident.to_json(),
                })
                .collect())
        })
    }
}

/// A JSON endpoint answering GET with a list of incidents.
pub struct HttpSource {
    client: HttpClient,
    settings: HttpSettings,
    auth: Option<Auth>,
}

impl HttpSource {
    fn new(client: HttpClient, settings: HttpSettings, auth: Option<Auth>) -> HttpSource {
        HttpSource {
            client,
            settings,
            auth,
        }
    }

    async fn incidents(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<SourcedIncident>, SourceError> {
        let s = &self.settings;
        let mut url = s.url.clone();
        if let (Some(param), Some(since)) = (&s.since_param, since) {
            url.query_pairs_mut()
                .append_pair(param, &since.to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        let mut found = Vec::new();
        for _ in 0..MAX_PAGES {
            let mut request = self.client.get(url.clone());
            if let Some(auth) = &self.auth {
                request = request.header(auth.name.clone(), auth.value()?);
            }
            let page: serde_json::Value = self.client.get_json(request).await?;
            let list = match &s.items {
                None => Some(&page),
                Some(path) => path.find(&page),
            };
            let Some(serde_json::Value::Array(items)) = list else {
                return Err(SourceError::Malformed(format!(
                    "the answer of {} holds no list of incidents at {}",
                    huntbook_http::client::redact_url(&url),
                    s.items.as_ref().map_or("its top level", |p| p.0.as_str())
                )));
            };
            for item in items {
                found.push(self.incident(item)?);
            }
            let next = s
                .next
                .as_ref()
                .and_then(|path| path.find(&page))
                .and_then(serde_json::Value::as_str)
                .filter(|link| !link.is_empty());
            let Some(link) = next else { break };
            let next = url.join(link).map_err(|e| {
                SourceError::Malformed(format!("the next link {link:?} is not a URL: {e}"))
            })?;
            if next.origin() != s.url.origin() {
                return Err(SourceError::Malformed(format!(
                    "the next link goes to another server ({}): refused, so that the auth header stays with {}",
                    next.origin().ascii_serialization(),
                    s.url.origin().ascii_serialization()
                )));
            }
            url = next;
        }
        if let Some(since) = since {
            found.retain(|i: &SourcedIncident| i.modified.is_none_or(|m| m >= since));
        }
        found.sort_by_key(|i| i.modified);
        Ok(found)
    }

    fn incident(&self, item: &serde_json::Value) -> Result<SourcedIncident, SourceError> {
        let s = &self.settings;
        let id = match s.id.find(item) {
            Some(serde_json::Value::String(id)) => id.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => {
                return Err(SourceError::Malformed(format!(
                    "an incident has no id at {}: {}",
                    s.id.0,
                    shorten(&item.to_string())
                )))
            }
        };
        let modified = match &s.modified {
            None => None,
            Some(path) => {
                let text = path.find(item).and_then(serde_json::Value::as_str);
                let parsed = text.and_then(|t| DateTime::parse_from_rfc3339(t).ok());
                match parsed {
                    Some(t) => Some(t.with_timezone(&Utc)),
                    None => {
                        return Err(SourceError::Malformed(format!(
                            "incident {id} has no RFC 3339 time at {} (found {text:?})",
                            path.0
                        )))
                    }
                }
            }
        };
        Ok(SourcedIncident {
            id,
            modified,
            json: item.clone(),
        })
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

impl IncidentSource for HttpSource {
    fn fetch(&self, since: Option<DateTime<Utc>>) -> Fetch<'_> {
        Box::pin(self.incidents(since))
    }
}

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollRound {
    /// Incidents that got a new job.
    pub new: usize,
    /// Incidents whose job was asked for before.
    pub seen: usize,
    /// Incidents whose parameters could not be taken, or whose request was refused.
    pub skipped: usize,
}

/// Why a poll stopped.
#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("the source failed: {0}")]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Polls one source for one notebook.
pub struct Poller {
    context: Context,
    poll: Poll,
    source: Box<dyn IncidentSource>,
}

impl Poller {
    pub fn new(context: Context, poll: Poll, source: Box<dyn IncidentSource>) -> Poller {
        Poller {
            context,
            poll,
            source,
        }
    }

    fn name(&self) -> String {
        format!("poll {} ({})", self.poll.source, self.poll.notebook)
    }

    /// One poll: fetch what changed since the mark, ask for a run of each incident
    /// not asked for before, move the mark. Failures are reported, and the next
    /// round tries again.
    pub async fn round(&self) -> Option<PollRound> {
        match self.try_round().await {
            Ok(round) => Some(round),
            Err(e) => {
                report(
                    &self.name(),
                    format!("{e}; polling again in {:?}", self.poll.every),
                );
                None
            }
        }
    }

    async fn try_round(&self) -> Result<PollRound, PollError> {
        let store = &self.context.store;
        let key = self.poll.mark_key();
        let mark = store.trigger_mark(&key).await?;
        let lookback =
            chrono::Duration::from_std(self.poll.lookback).unwrap_or(chrono::Duration::MAX);
        let since = mark.unwrap_or_else(|| self.context.now() - lookback);
        let mut incidents = self.source.fetch(Some(since)).await?;
        incidents.sort_by_key(|i| i.modified);
        let mut round = PollRound::default();
        let mut newest = None;
        for incident in incidents {
            let submitted = match self.poll.parameters_of(&incident) {
                Err(reason) => Err(reason),
                Ok(parameters) => match self
                    .context
                    .submit(
                        &self.poll.notebook,
                        TriggerKind::Event,
                        parameters,
                        self.poll.job_key(&incident.id),
                    )
                    .await
                {
                    Ok(enqueued) => Ok(enqueued.created),
                    Err(SubmitError::Refused(e)) => Err(e.to_string()),
                    Err(SubmitError::Store(e)) => {
                        // What came before is asked for: keep it from being fetched again.
                        if let Some(newest) = newest {
                            store.advance_trigger_mark(&key, newest).await?;
                        }
                        return Err(e.into());
                    }
                },
            };
            match submitted {
                Ok(true) => round.new += 1,
                Ok(false) => round.seen += 1,
                Err(reason) => {
                    report(
                        &self.name(),
                        format!("incident {} not run: {reason}", incident.id),
                    );
                    round.skipped += 1;
                }
            }
            newest = newest.max(incident.modified);
        }
        if let Some(newest) = newest {
            store.advance_trigger_mark(&key, newest).await?;
        }
        Ok(round)
    }

    /// Poll every `every` until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow_and_update() {
            self.round().await;
            if !pause(&mut shutdown, self.poll.every).await {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests;
