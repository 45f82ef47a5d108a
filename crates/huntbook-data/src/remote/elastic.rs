//! Elasticsearch and OpenSearch through `_search` with the Query DSL.
//!
//! The query is a search body (`{"query": ..., "size": N, "sort": ...}`). Up to one
//! page (10,000 hits, the default `index.max_result_window`) it is one `POST
//! /{index}/_search`. Beyond that the hits are read through a point in time with
//! `search_after`: Elasticsearch opens it with `POST /{index}/_pit?keep_alive=1m` and
//! closes it with `DELETE /_pit`, OpenSearch with `POST
//! /{index}/_search/point_in_time` and `DELETE /_search/point_in_time`. Auth is an
//! API key (`Authorization: ApiKey ...`) or basic auth.
//!
//! Hits become rows with `_index` and `_id`, and `_source` flattened with dotted
//! names (`host.name`); arrays become `dynamic` JSON text. Column types come from the
//! values: integers, reals, booleans, date-times (text that reads as ISO 8601), text.
//! Shard failures and timed-out searches are partial results.

use std::time::Duration;

use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;
use huntbook_http::{HttpClient, Secret};
use huntbook_table::Table;
use reqwest::{Method, Url};
use serde_json::{json, Map, Value};

use super::azure::{arg_secret, arg_text, provider_settings};
use super::decode::{parse_datetime, ColumnType, RowShape, TableBuilder};
use super::{
    driver_error, endpoint_url, path_segment, send_query, with_schema_note, Blocking, Position,
    RemoteError, PARTIAL_ERROR_KEY,
};
use crate::driver::{Driver, DriverError, QueryRequest};
use crate::environment::Environment;

/// Hits one search may return without paging (`index.max_result_window`).
pub const MAX_RESULT_WINDOW: usize = 10_000;
/// The number of hits Elasticsearch returns when a search names no `size`.
const DEFAULT_SIZE: usize = 10;

/// Which server family, for the point-in-time endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Elasticsearch,
    OpenSearch,
}

impl Flavor {
    pub(crate) fn service(self) -> &'static str {
        match self {
            Flavor::Elasticsearch => "Elasticsearch",
            Flavor::OpenSearch => "OpenSearch",
        }
    }
}

/// How to sign in.
#[derive(Debug, Clone)]
pub enum ElasticAuth {
    /// An API key as Elasticsearch issues it (the base64 `id:api_key` "encoded" form).
    ApiKey(Secret),
    Basic {
        username: String,
        password: Secret,
    },
    /// No credentials (a cluster without security).
    Anonymous,
}

/// How searches are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElasticOptions {
    /// Hits per page when paging.
    pub page_size: usize,
    /// Keep the hits of a search some shards failed (or that timed out), noting the
    /// failure in the schema metadata, instead of failing.
    pub allow_partial: bool,
}

impl Default for ElasticOptions {
    fn default() -> ElasticOptions {
        ElasticOptions {
            page_size: MAX_RESULT_WINDOW,
            allow_partial: false,
        }
    }
}

/// An async client of one Elasticsearch or OpenSearch cluster.
pub struct ElasticClient {
    flavor: Flavor,
    http: HttpClient,
    base: Url,
    auth: ElasticAuth,
    options: ElasticOptions,
}

impl ElasticClient {
    pub fn new(
        flavor: Flavor,
        base: &str,
        auth: ElasticAuth,
        options: ElasticOptions,
    ) -> Result<ElasticClient, RemoteError> {
        let service = flavor.service();
        Ok(ElasticClient {
            http: HttpClient::builder(service)
                .timeout(Duration::from_secs(300))
                .build()?,
            base: endpoint_url(service, base)?,
            flavor,
            auth,
            options,
        })
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = self
            .base
            .join(path)
            .expect("paths of escaped segments join onto a base URL");
        let request = self.http.request(method, url);
        match &self.auth {
            ElasticAuth::ApiKey(key) => {
                request.header("Authorization", format!("ApiKey {}", key.expose()))
            }
            ElasticAuth::Basic { username, password } => {
                request.basic_auth(username, Some(password.expose()))
            }
            ElasticAuth::Anonymous => request,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, RemoteError> {
        let service = self.flavor.service();
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = send_query(service, &self.http, request, elastic_error).await?;
        Ok(self.http.json(response).await?)
    }

    /// Runs the search body `query` (Query DSL JSON) over `index` (a name, pattern or
    /// comma-separated list) and returns the hits.
    pub async fn search(&self, index: &str, query: &str) -> Result<Table, RemoteError> {
        let service = self.flavor.service();
        let mut body: Value = serde_json::from_str(query).map_err(|e| RemoteError::Query {
            service,
            message: format!("the query is not a JSON search body: {e}"),
            at: Position {
                line: Some(e.line() as u64),
                column: Some(e.column() as u64),
            },
        })?;
        let Some(fields) = body.as_object_mut() else {
            return Err(RemoteError::Query {
                service,
                message:
                    "the query must be a JSON object (a search body such as {\"query\": {...}})"
                        .into(),
                at: Position::default(),
            });
        };
        let wanted = match fields.get("size") {
            None => DEFAULT_SIZE,
            Some(size) => size
                .as_u64()
                .or_else(|| size.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| RemoteError::Query {
                    service,
                    message: format!("\"size\" must be a number, not {size}"),
                    at: Position::default(),
                })? as usize,
        };
        let index = path_segment(index);
        let mut hits = Vec::new();
        let mut problems = Vec::new();
        if wanted <= self.options.page_size.min(MAX_RESULT_WINDOW) {
            fields.insert("size".into(), json!(wanted));
            let answer = self
                .call(Method::POST, &format!("{index}/_search"), Some(&body))
                .await?;
            take_page(service, &answer, &mut hits, &mut problems)?;
        } else {
            self.paged_search(&index, body, wanted, &mut hits, &mut problems)
                .await?;
        }
        let message = (!problems.is_empty()).then(|| problems.join("; "));
        if let (Some(message), false) = (&message, self.options.allow_partial) {
            return Err(RemoteError::Partial {
                service,
                message: message.clone(),
            });
        }
        let table = hits_table(service, hits)?;
        Ok(match message {
            Some(m) => with_schema_note(table, PARTIAL_ERROR_KEY, &m),
            None => table,
        })
    }

    async fn paged_search(
        &self,
        index: &str,
        mut body: Value,
        wanted: usize,
        hits: &mut Vec<Value>,
        problems: &mut Vec<String>,
    ) -> Result<(), RemoteError> {
        let keep_alive = "1m";
        let (open_path, id_key) = match self.flavor {
            Flavor::Elasticsearch => (format!("{index}/_pit?keep_alive={keep_alive}"), "id"),
            Flavor::OpenSearch => (
                format!("{index}/_search/point_in_time?keep_alive={keep_alive}"),
                "pit_id",
            ),
        };
        let opened = self.call(Method::POST, &open_path, None).await?;
        let mut pit =
            opened[id_key]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| RemoteError::Failed {
                    service: self.flavor.service(),
                    message: format!(
                        "the point in time was opened but its answer has no \"{id_key}\""
                    ),
                })?;
        let fields = body.as_object_mut().expect("checked to be an object");
        if !fields.contains_key("sort") {
            // Elasticsearch adds `_shard_doc` as the tie-breaker itself; OpenSearch
            // pages in index order.
            let order = match self.flavor {
                Flavor::Elasticsearch => json!([{"_shard_doc": "asc"}]),
                Flavor::OpenSearch => json!([{"_doc": "asc"}]),
            };
            fields.insert("sort".into(), order);
        }
        let result = async {
            let page_size = self.options.page_size.clamp(1, MAX_RESULT_WINDOW);
            let mut after: Option<Value> = None;
            while hits.len() < wanted {
                let fields = body.as_object_mut().expect("checked to be an object");
                fields.insert("size".into(), json!(page_size.min(wanted - hits.len())));
                fields.insert("pit".into(), json!({"id": pit, "keep_alive": keep_alive}));
                match &after {
                    Some(values) => fields.insert("search_after".into(), values.clone()),
                    None => fields.remove("search_after"),
                };
                // With a point in time the index is the PIT's, not the path's.
                let answer = self.call(Method::POST, "_search", Some(&body)).await?;
                if let Some(id) = answer["pit_id"].as_str() {
                    pit = id.to_string();
                }
                let before = hits.len();
                take_page(self.flavor.service(), &answer, hits, problems)?;
                if hits.len() == before {
                    break;
                }
                after = hits.last().and_then(|h| h.get("sort")).cloned();
                if after.is_none() {
                    break;
                }
            }
            Ok::<(), RemoteError>(())
        }
        .await;
        // The point in time expires by itself; closing it frees the server's
        // resources sooner, and a failure to close changes nothing for the caller.
        let close = match self.flavor {
            Flavor::Elasticsearch => ("_pit", json!({"id": pit})),
            Flavor::OpenSearch => ("_search/point_in_time", json!({"pit_id": [pit]})),
        };
        let _ = self.call(Method::DELETE, close.0, Some(&close.1)).await;
        result
    }
}

/// Appends a search answer's hits; shard failures and time-outs go to `problems`.
fn take_page(
    service: &'static str,
    answer: &Value,
    hits: &mut Vec<Value>,
    problems: &mut Vec<String>,
) -> Result<(), RemoteError> {
    if answer["timed_out"].as_bool() == Some(true) {
        problems.push("the search timed out on the server".into());
    }
    let failed = answer["_shards"]["failed"].as_u64().unwrap_or(0);
    if failed > 0 {
        let reasons: Vec<String> = answer["_shards"]["failures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let reason = &f["reason"];
                Some(format!(
                    "{}: {}",
                    reason["type"].as_str()?,
                    reason["reason"].as_str()?
                ))
            })
            .collect();
        problems.push(format!("{failed} shards failed ({})", reasons.join("; ")));
    }
    let page = answer["hits"]["hits"]
        .as_array()
        .ok_or_else(|| RemoteError::Failed {
            service,
            message: "the answer has no hits.hits list".into(),
        })?;
    hits.extend(page.iter().cloned());
    Ok(())
}

/// Hits as a table: `_index`, `_id`, then `_source` flattened.
fn hits_table(service: &'static str, hits: Vec<Value>) -> Result<Table, RemoteError> {
    let mut names: Vec<String> = vec!["_index".into(), "_id".into()];
    let mut kinds: Vec<Option<Inferred>> = vec![Some(Inferred::Text), Some(Inferred::Text)];
    let mut rows = Vec::with_capacity(hits.len());
    for hit in hits {
        let mut row = Map::new();
        row.insert("_index".into(), hit["_index"].clone());
        row.insert("_id".into(), hit["_id"].clone());
        if let Some(source) = hit.get("_source").and_then(Value::as_object) {
            flatten("", source, &mut row);
        }
        for (name, value) in &row {
            let position = match names.iter().position(|n| n == name) {
                Some(p) => p,
                None => {
                    names.push(name.clone());
                    kinds.push(None);
                    names.len() - 1
                }
            };
            kinds[position] = Inferred::merge(kinds[position], value);
        }
        rows.push(Value::Object(row));
    }
    let columns = names
        .into_iter()
        .zip(kinds)
        .map(|(name, kind)| (name, kind.map_or(ColumnType::String, Inferred::column_type)))
        .collect();
    let mut builder = TableBuilder::new("hits", columns);
    let text = Value::Array(rows).to_string();
    builder
        .push_rows(&text, RowShape::Objects)
        .map_err(|e| RemoteError::decode(service, e))?;
    builder
        .finish()
        .map_err(|e| RemoteError::decode(service, e))
}

/// A column type read from the values seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inferred {
    Integer,
    Real,
    Bool,
    DateTime,
    Text,
    Json,
}

impl Inferred {
    fn of(value: &Value) -> Option<Inferred> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(_) => Inferred::Bool,
            Value::Number(n) if n.is_i64() => Inferred::Integer,
            Value::Number(_) => Inferred::Real,
            Value::String(s) if s.contains('T') && parse_datetime(s).is_some() => {
                Inferred::DateTime
            }
            Value::String(_) => Inferred::Text,
            Value::Array(_) | Value::Object(_) => Inferred::Json,
        })
    }

    fn merge(seen: Option<Inferred>, value: &Value) -> Option<Inferred> {
        use Inferred::*;
        match (seen, Inferred::of(value)) {
            (seen, None) => seen,
            (None, new) => new,
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(Integer), Some(Real)) | (Some(Real), Some(Integer)) => Some(Real),
            (Some(DateTime), Some(Text)) | (Some(Text), Some(DateTime)) => Some(Text),
            (Some(Json), _) | (_, Some(Json)) => Some(Json),
            _ => Some(Text),
        }
    }

    fn column_type(self) -> ColumnType {
        match self {
            Inferred::Integer => ColumnType::Long,
            Inferred::Real => ColumnType::Real,
            Inferred::Bool => ColumnType::Bool,
            Inferred::DateTime => ColumnType::DateTime,
            Inferred::Text => ColumnType::String,
            Inferred::Json => ColumnType::Dynamic,
        }
    }
}

/// Nested objects become dotted names; arrays stay whole values.
fn flatten(prefix: &str, object: &Map<String, Value>, into: &mut Map<String, Value>) {
    for (key, value) in object {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) if !inner.is_empty() => flatten(&name, inner, into),
            other => {
                into.insert(name, other.clone());
            }
        }
    }
}

/// An Elasticsearch error body: its root cause's type and reason, and where in the
/// search body a parse error is.
fn elastic_error(body: &[u8]) -> Option<(String, Position)> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let error = json.get("error")?;
    if let Some(text) = error.as_str() {
        return Some((text.to_string(), Position::default()));
    }
    let cause = error["root_cause"].get(0).unwrap_or(error);
    let kind = cause["type"].as_str().unwrap_or("error");
    let reason = cause["reason"]
        .as_str()
        .or(error["reason"].as_str())
        .unwrap_or("no reason given");
    let at = Position {
        line: cause["line"].as_u64(),
        column: cause["col"].as_u64(),
    };
    Some((format!("{kind}: {reason}"), at))
}

/// Runs Elastic or OpenSearch queries against an index.
pub struct ElasticDriver {
    client: ElasticClient,
    index: Option<String>,
    blocking: Blocking,
}

impl ElasticDriver {
    /// A driver searching `index` unless a query's metadata names its own (`index`).
    pub fn new(client: ElasticClient, index: Option<&str>) -> Result<ElasticDriver, RemoteError> {
        Ok(ElasticDriver {
            blocking: Blocking::new(client.flavor.service())?,
            client,
            index: index.map(str::to_string),
        })
    }

    /// A driver from `DataProviders.Elastic` (or `OpenSearch`): `url`, `index`, and
    /// `api_key` or `username` and `password`.
    pub fn from_config(
        flavor: Flavor,
        config: &Config,
        resolver: &SecretResolver,
        options: ElasticOptions,
    ) -> Result<ElasticDriver, RemoteError> {
        let service = flavor.service();
        let setup = |problem: String| RemoteError::Setup { service, problem };
        let entry = match flavor {
            Flavor::Elasticsearch => "Elastic",
            Flavor::OpenSearch => "OpenSearch",
        };
        let settings = provider_settings(service, config, &[entry])?.ok_or_else(|| {
            setup(format!(
                "DataProviders.{entry} is not configured; add its url and credentials"
            ))
        })?;
        let url = arg_text(&settings, "url")
            .ok_or_else(|| setup(format!("{} is missing", settings.arg_path("url"))))?;
        let auth = match arg_secret(service, config, resolver, &settings, "api_key")? {
            Some(key) => ElasticAuth::ApiKey(key),
            None => match arg_text(&settings, "username") {
                Some(username) => ElasticAuth::Basic {
                    username,
                    password: arg_secret(service, config, resolver, &settings, "password")?
                        .ok_or_else(|| {
                            setup(format!("{} is missing", settings.arg_path("password")))
                        })?,
                },
                None => ElasticAuth::Anonymous,
            },
        };
        let index = arg_text(&settings, "index");
        ElasticDriver::new(
            ElasticClient::new(flavor, &url, auth, options)?,
            index.as_deref(),
        )
    }
}

impl Driver for ElasticDriver {
    fn environment(&self) -> Environment {
        match self.client.flavor {
            Flavor::Elasticsearch => Environment::Elastic,
            Flavor::OpenSearch => Environment::OpenSearch,
        }
    }

    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError> {
        let index = request
            .source
            .metadata
            .get("index")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| self.index.clone())
            .ok_or_else(|| DriverError::Query {
                query: request.source.name.clone(),
                message: "no index to search: give one in the query's metadata (index) or the provider's configuration".into(),
            })?;
        self.blocking
            .run(self.client.search(&index, request.text))
            .map_err(|e| driver_error(&request.source.name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::fakes::{self, FakeElastic};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
    use axum::http::StatusCode;
    use huntbook_http::testkit::refuse_first;

    fn client(fake: &FakeElastic, auth: ElasticAuth, page_size: usize) -> ElasticClient {
        ElasticClient::new(
            fake.flavor,
            &fake.url(),
            auth,
            ElasticOptions {
                page_size,
                allow_partial: false,
            },
        )
        .unwrap()
    }

    fn key() -> ElasticAuth {
        ElasticAuth::ApiKey(Secret::new(fakes::elastic::API_KEY))
    }

    #[tokio::test]
    async fn hits_are_flattened_and_typed() {
        let fake = FakeElastic::start(Flavor::Elasticsearch, |r| r).await;
        let table = client(&fake, key(), 1000)
            .search(
                "logs-endpoint",
                r#"{"size": 5, "query": {"match_all": {}}}"#,
            )
            .await
            .unwrap();
        assert_eq!(table.num_rows(), 5);
        let batch = &table.batches[0];
        assert_eq!(
            batch
                .column_by_name("_index")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "logs-endpoint"
        );
        assert_eq!(
            batch
                .column_by_name("host.name")
                .unwrap()
                .as_string::<i32>()
                .value(1),
            "host1"
        );
        assert_eq!(
            batch
                .column_by_name("process.pid")
                .unwrap()
                .as_primitive::<Int64Type>()
                .value(2),
            102
        );
        assert_eq!(
            batch
                .column_by_name("event.risk_score")
                .unwrap()
                .as_primitive::<Float64Type>()
                .value(2),
            1.0
        );
        assert!(batch
            .column_by_name("@timestamp")
            .unwrap()
            .as_primitive_opt::<TimestampNanosecondType>()
            .is_some());
        assert_eq!(
            batch
                .column_by_name("tags")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            r#"["endpoint","t0"]"#
        );
        let request = fake.server.requests().pop().unwrap();
        assert_eq!(request.path, "/logs-endpoint/_search");
        assert_eq!(
            request.header("authorization"),
            Some(format!("ApiKey {}", fakes::elastic::API_KEY).as_str())
        );
    }

    #[tokio::test]
    async fn more_than_ten_thousand_hits_are_paged_through_a_point_in_time() {
        for flavor in [Flavor::Elasticsearch, Flavor::OpenSearch] {
            let fake = FakeElastic::start(flavor, |r| r).await;
            let wanted = fakes::elastic::DOCUMENTS;
            let table = client(&fake, key(), 4000)
                .search(
                    "logs-endpoint",
                    &format!(r#"{{"size": {wanted}, "query": {{"match_all": {{}}}}}}"#),
                )
                .await
                .unwrap();
            assert_eq!(table.num_rows(), wanted, "{flavor:?}");
            let ids = table.batches[0]
                .column_by_name("_id")
                .unwrap()
                .as_string::<i32>();
            let distinct: std::collections::HashSet<_> = ids.iter().flatten().collect();
            assert_eq!(distinct.len(), wanted, "no hit twice, none missed");
            let requests = fake.server.requests();
            let searches = requests.iter().filter(|r| r.path == "/_search").count();
            assert_eq!(searches, wanted.div_ceil(4000), "{flavor:?}");
            assert!(
                requests.last().unwrap().method == "DELETE",
                "the point in time is closed"
            );
        }
    }

    #[tokio::test]
    async fn a_query_error_names_its_place() {
        let fake = FakeElastic::start(Flavor::Elasticsearch, |r| r).await;
        let err = client(&fake, key(), 100)
            .search("logs-endpoint", r#"{"query": {"mtch": {}}}"#)
            .await
            .unwrap_err();
        assert!(matches!(err, RemoteError::Query { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("parsing_exception: unknown query [mtch]"),
            "{err}"
        );
        assert!(err.to_string().contains("at line 1, column"), "{err}");
        let err = client(&fake, key(), 100)
            .search("logs-endpoint", "{not json")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not a JSON search body"), "{err}");
    }

    #[tokio::test]
    async fn a_wrong_key_gets_401_and_a_clear_error() {
        let fake = FakeElastic::start(Flavor::Elasticsearch, |r| r).await;
        let err = client(
            &fake,
            ElasticAuth::ApiKey(Secret::new("Zm9yZ2VkOmtleQ==")),
            100,
        )
        .search("logs-endpoint", r#"{"query": {"match_all": {}}}"#)
        .await
        .unwrap_err();
        assert!(
            matches!(&err, RemoteError::Http(e) if e.status() == Some(401)),
            "{err}"
        );
        assert!(err.to_string().contains("security_exception"), "{err}");
        assert!(!err.to_string().contains("Zm9yZ2VkOmtleQ=="));
        let basic = ElasticAuth::Basic {
            username: fakes::elastic::USER.into(),
            password: Secret::new(fakes::elastic::PASSWORD),
        };
        let ok = client(&fake, basic, 100)
            .search("logs-endpoint", r#"{"size": 1}"#)
            .await
            .unwrap();
        assert_eq!(ok.num_rows(), 1);
    }

    #[tokio::test]
    async fn shard_failures_are_partial_results_and_429_is_retried() {
        let fake = FakeElastic::start(Flavor::OpenSearch, |r| {
            refuse_first(r, 1, StatusCode::TOO_MANY_REQUESTS, Some("1"))
        })
        .await;
        let err = client(&fake, key(), 100)
            .search(fakes::elastic::BROKEN_INDEX, r#"{"size": 3}"#)
            .await
            .unwrap_err();
        assert!(matches!(err, RemoteError::Partial { .. }), "{err}");
        assert!(err.to_string().contains("1 shards failed"), "{err}");
        let lenient = ElasticClient::new(
            Flavor::OpenSearch,
            &fake.url(),
            key(),
            ElasticOptions {
                page_size: 100,
                allow_partial: true,
            },
        )
        .unwrap();
        let table = lenient
            .search(fakes::elastic::BROKEN_INDEX, r#"{"size": 3}"#)
            .await
            .unwrap();
        assert_eq!(table.num_rows(), 3);
        assert!(table.schema.metadata()[PARTIAL_ERROR_KEY].contains("shards failed"));
    }

    #[test]
    fn driver_takes_the_index_from_metadata_or_config() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let fake = runtime.block_on(FakeElastic::start(Flavor::Elasticsearch, |r| r));
        let driver = ElasticDriver::new(client(&fake, key(), 100), None).unwrap();
        let text = r#"{"size": 2}"#;
        let (mut source, bindings) = fakes::query_source(Environment::Elastic, text);
        let err = driver
            .run(&QueryRequest {
                source: &source,
                bindings: &bindings,
                text,
            })
            .unwrap_err();
        assert!(err.to_string().contains("no index"), "{err}");
        source
            .metadata
            .insert("index".into(), json!("logs-endpoint"));
        let table = driver
            .run(&QueryRequest {
                source: &source,
                bindings: &bindings,
                text,
            })
            .unwrap();
        assert_eq!(table.num_rows(), 2);
    }
}
