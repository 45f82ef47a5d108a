//! Splunk through its REST search API.
//!
//! A search runs as a job: `POST /services/search/jobs` (form `search`, `exec_mode=normal`,
//! `output_mode=json`) answers the job's `sid`; `GET /services/search/jobs/{sid}` is
//! polled until `isDone` (or `isFailed`); then `GET
//! /services/search/jobs/{sid}/results` is read in pages with `count` and `offset`.
//! Auth is `Authorization: Bearer <token>` (a Splunk authentication token) or
//! `Authorization: Splunk <sessionKey>` from `POST /services/auth/login`. Errors come
//! as `{"messages": [{"type", "text"}]}`.
//!
//! Splunk fields are untyped text: `_time` becomes a UTC timestamp, fields holding
//! several values (JSON arrays) become `dynamic` JSON text, and all others text.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;
use huntbook_http::{HttpClient, Secret};
use huntbook_table::Table;
use reqwest::Url;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::azure::{arg_secret, arg_text, provider_settings};
use super::decode::{ColumnType, RowShape, TableBuilder};
use super::{
    body_text, driver_error, endpoint_url, path_segment, send_query, Blocking, Position,
    RemoteError,
};
use crate::driver::{Driver, DriverError, QueryRequest};
use crate::environment::Environment;

const SERVICE: &str = "Splunk";

/// How to sign in to Splunk.
#[derive(Debug, Clone)]
pub enum SplunkAuth {
    /// A Splunk authentication token, sent as `Bearer`.
    Token(Secret),
    /// A user name and password, exchanged for a session key at `/services/auth/login`.
    Login { username: String, password: Secret },
}

/// How searches are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplunkOptions {
    /// Rows fetched per results request (MSTICPy reads 100 at a time; larger pages
    /// mean fewer round trips).
    pub page_size: usize,
    /// How long a search job may run before it is cancelled.
    pub timeout: Duration,
}

impl Default for SplunkOptions {
    fn default() -> SplunkOptions {
        SplunkOptions {
            page_size: 10_000,
            timeout: Duration::from_secs(300),
        }
    }
}

/// An async client of Splunk's REST API (management port, normally 8089).
pub struct SplunkClient {
    http: HttpClient,
    base: Url,
    auth: SplunkAuth,
    session: OnceCell<Secret>,
    options: SplunkOptions,
}

impl SplunkClient {
    /// A client of the server at `base` (`https://splunk.example.com:8089`).
    pub fn new(
        base: &str,
        auth: SplunkAuth,
        options: SplunkOptions,
    ) -> Result<SplunkClient, RemoteError> {
        Ok(SplunkClient {
            http: HttpClient::builder(SERVICE).build()?,
            base: endpoint_url(SERVICE, base)?,
            auth,
            session: OnceCell::new(),
            options,
        })
    }

    fn url(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("fixed paths join onto a base URL")
    }

    /// The `Authorization` header value.
    async fn authorization(&self) -> Result<String, RemoteError> {
        match &self.auth {
            SplunkAuth::Token(token) => Ok(format!("Bearer {}", token.expose())),
            SplunkAuth::Login { username, password } => {
                let key = self
                    .session
                    .get_or_try_init(|| async {
                        let request = self.http.post(self.url("services/auth/login")).form(&[
                            ("username", username.as_str()),
                            ("password", password.expose()),
                            ("output_mode", "json"),
                        ]);
                        let response =
                            send_query(SERVICE, &self.http, request, splunk_error).await?;
                        #[derive(Deserialize)]
                        struct Login {
                            #[serde(rename = "sessionKey")]
                            session_key: String,
                        }
                        let text = body_text(SERVICE, &self.http, response).await?;
                        let login: Login = serde_json::from_str(&text)
                            .map_err(|e| RemoteError::malformed(SERVICE, "login answer", e))?;
                        Ok::<_, RemoteError>(Secret::new(login.session_key))
                    })
                    .await?;
                Ok(format!("Splunk {}", key.expose()))
            }
        }
    }

    /// Runs an SPL search and returns all its results.
    pub async fn search(&self, query: &str) -> Result<Table, RemoteError> {
        let auth = self.authorization().await?;
        let search = search_text(query);
        let request = self
            .http
            .post(self.url("services/search/jobs"))
            .header("Authorization", &auth)
            .form(&[
                ("search", search.as_str()),
                ("exec_mode", "normal"),
                ("output_mode", "json"),
            ]);
        let response = send_query(SERVICE, &self.http, request, splunk_error).await?;
        #[derive(Deserialize)]
        struct Created {
            sid: String,
        }
        let text = body_text(SERVICE, &self.http, response).await?;
        let created: Created = serde_json::from_str(&text)
            .map_err(|e| RemoteError::malformed(SERVICE, "search job answer", e))?;
        let job = format!("services/search/jobs/{}", path_segment(&created.sid));
        let count = match self.wait(&auth, &job).await {
            Ok(count) => count,
            Err(e) => {
                self.cancel(&auth, &job).await;
                return Err(e);
            }
        };
        self.results(&auth, &job, count).await
    }

    /// Polls the job until it is done; its result count.
    async fn wait(&self, auth: &str, job: &str) -> Result<usize, RemoteError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            let request = self
                .http
                .get(self.url(job))
                .header("Authorization", auth)
                .query(&[("output_mode", "json")]);
            let response = send_query(SERVICE, &self.http, request, splunk_error).await?;
            let text = body_text(SERVICE, &self.http, response).await?;
            let status: Value = serde_json::from_str(&text)
                .map_err(|e| RemoteError::malformed(SERVICE, "job status", e))?;
            let content = &status["entry"][0]["content"];
            let state = content["dispatchState"].as_str().unwrap_or_default();
            if content["isFailed"].as_bool() == Some(true) || state == "FAILED" {
                let message = splunk_messages(&content["messages"])
                    .unwrap_or_else(|| "the search job failed".into());
                return Err(RemoteError::Failed {
                    service: SERVICE,
                    message,
                });
            }
            if content["isDone"].as_bool() == Some(true) {
                return Ok(count_field(&content["resultCount"]));
            }
            if started.elapsed() >= self.options.timeout {
                return Err(RemoteError::Failed {
                    service: SERVICE,
                    message: format!(
                        "the search did not finish within {:?} (state {state}) and was cancelled; narrow it or raise the timeout",
                        self.options.timeout
                    ),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// Cancels a job that is no longer wanted; a failure to cancel is not worth
    /// hiding the original error for, and the job expires on its own.
    async fn cancel(&self, auth: &str, job: &str) {
        let request = self
            .http
            .post(self.url(&format!("{job}/control")))
            .header("Authorization", auth)
            .form(&[("action", "cancel"), ("output_mode", "json")]);
        let _ = self.http.send(request).await;
    }

    async fn results(&self, auth: &str, job: &str, count: usize) -> Result<Table, RemoteError> {
        let page_size = self.options.page_size.max(1);
        let mut pages = Vec::new();
        let mut offset = 0;
        loop {
            let request = self
                .http
                .get(self.url(&format!("{job}/results")))
                .header("Authorization", auth)
                .query(&[
                    ("output_mode", "json".to_string()),
                    ("count", page_size.to_string()),
                    ("offset", offset.to_string()),
                ]);
            let response = send_query(SERVICE, &self.http, request, splunk_error).await?;
            let text = body_text(SERVICE, &self.http, response).await?;
            let rows = page_rows(&text)?;
            pages.push(text);
            offset += rows;
            if rows < page_size || offset >= count {
                break;
            }
        }
        decode_pages(&pages)
    }
}

/// An SPL query as the jobs endpoint wants it: a search not starting with a generating
/// command (`| tstats ...`) needs the `search` command written out.
fn search_text(query: &str) -> String {
    let query = query.trim();
    if query.starts_with('|') || query.starts_with("search ") {
        query.to_string()
    } else {
        format!("search {query}")
    }
}

fn count_field(value: &Value) -> usize {
    value
        .as_u64()
        .map(|n| n as usize)
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(default)]
    fields: Vec<Value>,
    #[serde(borrow)]
    results: &'a RawValue,
}

fn parse_page(text: &str) -> Result<Page<'_>, RemoteError> {
    serde_json::from_str(text).map_err(|e| RemoteError::malformed(SERVICE, "results page", e))
}

fn page_rows(text: &str) -> Result<usize, RemoteError> {
    let page = parse_page(text)?;
    let rows: Vec<&RawValue> = serde_json::from_str(page.results.get())
        .map_err(|e| RemoteError::malformed(SERVICE, "results", e))?;
    Ok(rows.len())
}

/// The results pages as one table: columns in the order of the `fields` lists, typed
/// from the values.
fn decode_pages(pages: &[String]) -> Result<Table, RemoteError> {
    let mut names: Vec<String> = Vec::new();
    let mut multi: HashMap<String, bool> = HashMap::new();
    let add = |name: &str, names: &mut Vec<String>| {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    };
    for text in pages {
        let page = parse_page(text)?;
        for field in &page.fields {
            if let Some(name) = field.as_str().or_else(|| field["name"].as_str()) {
                add(name, &mut names);
            }
        }
        let rows: Vec<HashMap<Cow<str>, &RawValue>> = serde_json::from_str(page.results.get())
            .map_err(|e| RemoteError::malformed(SERVICE, "results", e))?;
        for row in &rows {
            for (name, value) in row {
                add(name, &mut names);
                let text = value.get();
                if text.starts_with('[') || text.starts_with('{') {
                    multi.insert(name.to_string(), true);
                }
            }
        }
    }
    let columns = names
        .into_iter()
        .map(|name| {
            let kind = if multi.contains_key(&name) {
                ColumnType::Dynamic
            } else if name == "_time" {
                ColumnType::DateTime
            } else {
                ColumnType::String
            };
            (name, kind)
        })
        .collect();
    let mut builder = TableBuilder::new("results", columns);
    for text in pages {
        builder
            .push_rows(parse_page(text)?.results.get(), RowShape::Objects)
            .map_err(|e| RemoteError::decode(SERVICE, e))?;
    }
    builder
        .finish()
        .map_err(|e| RemoteError::decode(SERVICE, e))
}

/// The texts of a Splunk `messages` list.
fn splunk_messages(messages: &Value) -> Option<String> {
    let texts: Vec<String> = messages
        .as_array()?
        .iter()
        .filter_map(|m| {
            let text = m["text"].as_str()?;
            Some(match m["type"].as_str() {
                Some(kind) => format!("{kind}: {text}"),
                None => text.to_string(),
            })
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

fn splunk_error(body: &[u8]) -> Option<(String, Position)> {
    let json: Value = serde_json::from_slice(body).ok()?;
    splunk_messages(&json["messages"]).map(|m| (m, Position::default()))
}

/// Runs Splunk searches (`Splunk` environment).
pub struct SplunkDriver {
    client: SplunkClient,
    blocking: Blocking,
}

impl SplunkDriver {
    pub fn new(client: SplunkClient) -> Result<SplunkDriver, RemoteError> {
        Ok(SplunkDriver {
            client,
            blocking: Blocking::new(SERVICE)?,
        })
    }

    /// A driver from MSTICPy's `DataProviders.Splunk` entry: `host`, `port` (8089 by
    /// default), `protocol` (https by default), and `bearer_token`, or `username` and
    /// `password`.
    pub fn from_config(
        config: &Config,
        resolver: &SecretResolver,
        options: SplunkOptions,
    ) -> Result<SplunkDriver, RemoteError> {
        let setup = |problem: String| RemoteError::Setup {
            service: SERVICE,
            problem,
        };
        let settings = provider_settings(SERVICE, config, &["Splunk"])?.ok_or_else(|| {
            setup("DataProviders.Splunk is not configured; add its host and credentials".into())
        })?;
        let host = arg_text(&settings, "host")
            .ok_or_else(|| setup(format!("{} is missing", settings.arg_path("host"))))?;
        let port = arg_text(&settings, "port").unwrap_or_else(|| "8089".into());
        let protocol = arg_text(&settings, "protocol").unwrap_or_else(|| "https".into());
        let base = if host.contains("://") {
            format!("{host}:{port}")
        } else {
            format!("{protocol}://{host}:{port}")
        };
        let auth = match arg_secret(SERVICE, config, resolver, &settings, "bearer_token")? {
            Some(token) => SplunkAuth::Token(token),
            None => {
                let username = arg_text(&settings, "username").ok_or_else(|| {
                    setup(format!(
                        "{} has neither bearer_token nor username and password",
                        settings.arg_path("")
                    ))
                })?;
                let password = arg_secret(SERVICE, config, resolver, &settings, "password")?
                    .ok_or_else(|| {
                        setup(format!("{} is missing", settings.arg_path("password")))
                    })?;
                SplunkAuth::Login { username, password }
            }
        };
        SplunkDriver::new(SplunkClient::new(&base, auth, options)?)
    }
}

impl Driver for SplunkDriver {
    fn environment(&self) -> Environment {
        Environment::Splunk
    }

    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError> {
        self.blocking
            .run(self.client.search(request.text))
            .map_err(|e| driver_error(&request.source.name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::fakes::{self, FakeSplunk};
    use arrow_array::cast::AsArray;
    use arrow_array::types::TimestampNanosecondType;
    use arrow_array::Array;

    fn options(page_size: usize) -> SplunkOptions {
        SplunkOptions {
            page_size,
            timeout: Duration::from_secs(20),
        }
    }

    #[tokio::test]
    async fn a_search_job_is_created_polled_and_read_in_pages() {
        let fake = FakeSplunk::start().await;
        let client = SplunkClient::new(
            &fake.url(),
            SplunkAuth::Token(Secret::new(fakes::splunk::TOKEN)),
            options(7),
        )
        .unwrap();
        let table = client
            .search("index=main sourcetype=linux_secure")
            .await
            .unwrap();
        assert_eq!(table.num_rows(), fakes::splunk::EVENTS);
        let batch = &table.batches[0];
        let time = batch
            .column_by_name("_time")
            .unwrap()
            .as_primitive::<TimestampNanosecondType>();
        assert_eq!(time.value(0), 1_711_895_136_000_000_000);
        let users = batch.column_by_name("user").unwrap().as_string::<i32>();
        assert_eq!(users.value(1), "user1");
        assert!(batch.column_by_name("dest_port").unwrap().is_null(0));
        let multi = batch.column_by_name("src_ips").unwrap().as_string::<i32>();
        assert_eq!(multi.value(0), r#"["10.1.1.0","10.2.2.0"]"#);
        let requests = fake.server.requests();
        let create = requests.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(
            create.form_value("search").as_deref(),
            Some("search index=main sourcetype=linux_secure")
        );
        assert_eq!(
            create.header("authorization"),
            Some(format!("Bearer {}", fakes::splunk::TOKEN).as_str())
        );
        let pages: Vec<_> = requests
            .iter()
            .filter(|r| r.path.ends_with("/results"))
            .collect();
        assert_eq!(pages.len(), fakes::splunk::EVENTS.div_ceil(7));
        assert_eq!(pages[1].query_param("offset"), Some("7"));
        assert!(
            requests
                .iter()
                .filter(|r| r.method == "GET" && !r.path.ends_with("/results"))
                .count()
                >= 2,
            "the job was polled"
        );
    }

    #[tokio::test]
    async fn login_gives_a_session_key() {
        let fake = FakeSplunk::start().await;
        let auth = SplunkAuth::Login {
            username: fakes::splunk::USER.into(),
            password: Secret::new(fakes::splunk::PASSWORD),
        };
        let client = SplunkClient::new(&fake.url(), auth, options(100)).unwrap();
        assert_eq!(
            client.search("| makeresults").await.unwrap().num_rows(),
            fakes::splunk::EVENTS
        );
        assert_eq!(
            client.search("index=main").await.unwrap().num_rows(),
            fakes::splunk::EVENTS
        );
        let logins = fake
            .server
            .requests()
            .iter()
            .filter(|r| r.path == "/services/auth/login")
            .count();
        assert_eq!(logins, 1, "the session key is reused");
        let wrong = SplunkAuth::Login {
            username: fakes::splunk::USER.into(),
            password: Secret::new("guess"),
        };
        let err = SplunkClient::new(&fake.url(), wrong, options(100))
            .unwrap()
            .search("index=main")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("Login failed"), "{err}");
        assert!(!err.to_string().contains("guess"));
    }

    #[tokio::test]
    async fn a_wrong_token_gets_401_and_a_clear_error() {
        let fake = FakeSplunk::start().await;
        let client = SplunkClient::new(
            &fake.url(),
            SplunkAuth::Token(Secret::new("forged-token")),
            options(100),
        )
        .unwrap();
        let err = client.search("index=main").await.unwrap_err();
        assert!(
            matches!(&err, RemoteError::Http(e) if e.status() == Some(401)),
            "{err}"
        );
        assert!(
            err.to_string().contains("call not properly authenticated"),
            "{err}"
        );
        assert!(!err.to_string().contains("forged-token"));
    }

    #[tokio::test]
    async fn a_bad_search_and_a_failed_job_are_reported() {
        let fake = FakeSplunk::start().await;
        let client = SplunkClient::new(
            &fake.url(),
            SplunkAuth::Token(Secret::new(fakes::splunk::TOKEN)),
            options(100),
        )
        .unwrap();
        let err = client
            .search("index=main | stats count by")
            .await
            .unwrap_err();
        assert!(matches!(err, RemoteError::Query { .. }), "{err}");
        assert!(
            err.to_string().contains("Error in 'stats' command"),
            "{err}"
        );
        let err = client
            .search(fakes::splunk::FAILING_SEARCH)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("FATAL"), "{err}");
    }

    #[test]
    fn search_command_is_added_when_missing() {
        assert_eq!(search_text("index=main"), "search index=main");
        assert_eq!(search_text(" | tstats count"), "| tstats count");
        assert_eq!(search_text("search index=x"), "search index=x");
    }

    #[test]
    fn driver_runs_from_sync_code() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let fake = runtime.block_on(FakeSplunk::start());
        let client = SplunkClient::new(
            &fake.url(),
            SplunkAuth::Token(Secret::new(fakes::splunk::TOKEN)),
            options(100),
        )
        .unwrap();
        let driver = SplunkDriver::new(client).unwrap();
        let (source, bindings) = fakes::query_source(Environment::Splunk, "index=main");
        let table = driver
            .run(&QueryRequest {
                source: &source,
                bindings: &bindings,
                text: "index=main",
            })
            .unwrap();
        assert_eq!(table.num_rows(), fakes::splunk::EVENTS);
    }
}
