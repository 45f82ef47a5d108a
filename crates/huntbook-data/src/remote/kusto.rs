//! Azure Data Explorer (Kusto) through its REST query API, version 2.
//!
//! `POST {cluster}/v2/rest/query` with `{"db", "csl", "properties"}` and a bearer
//! token for the cluster. The answer is a JSON array of frames: `DataSetHeader`,
//! `DataTable`s (`TableKind` `QueryProperties`, `PrimaryResult`,
//! `QueryCompletionInformation`) and `DataSetCompletion`, whose `HasErrors` and
//! `OneApiErrors` report failures that happened after the status line was sent; such
//! a failure can also stand in place of a row.
//!
//! As in MSTICPy, a query file picks its cluster and database in its metadata
//! (`cluster` or `clusters`, `database`); the driver's defaults cover queries that
//! name neither. A cluster is a URL, a configured cluster's name, or a short name
//! such as `help` (`https://help.kusto.windows.net`).

use std::sync::Arc;
use std::time::Duration;

use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;
use huntbook_http::{HttpClient, Scope, TokenSource};
use huntbook_table::Table;
use serde::Deserialize;
use serde_json::{json, Value};

use super::azure::{arg_text, azure_error, AzureAccess};
use super::decode::{error_record_message, ColumnType, DecodeError, Rows, TableBuilder, Walker};
use super::{
    body_text, driver_error, endpoint_url, send_query, with_schema_note, Blocking, QueryOptions,
    RemoteError, PARTIAL_ERROR_KEY,
};
use crate::driver::{Driver, DriverError, QueryRequest};
use crate::environment::Environment;

const SERVICE: &str = "Azure Data Explorer";

/// An async client of Kusto clusters; one client serves any number of clusters.
pub struct KustoClient {
    http: HttpClient,
    tokens: Arc<dyn TokenSource>,
    options: QueryOptions,
}

impl KustoClient {
    pub fn new(
        tokens: Arc<dyn TokenSource>,
        options: QueryOptions,
    ) -> Result<KustoClient, RemoteError> {
        let http = HttpClient::builder(SERVICE)
            .timeout(options.server_timeout + Duration::from_secs(30))
            .build()?;
        Ok(KustoClient {
            http,
            tokens,
            options,
        })
    }

    /// Runs `query` in `database` on `cluster` (a URL) and returns its primary result.
    pub async fn query(
        &self,
        cluster: &str,
        database: &str,
        query: &str,
    ) -> Result<Table, RemoteError> {
        let base = endpoint_url(SERVICE, cluster)?;
        let url = base.join("v2/rest/query").map_err(|e| RemoteError::Setup {
            service: SERVICE,
            problem: format!("cluster {cluster:?} does not make a URL: {e}"),
        })?;
        let scope = Scope::new(base.as_str().trim_end_matches('/'));
        let token = self
            .tokens
            .token(&scope)
            .await
            .map_err(|source| RemoteError::Token {
                service: SERVICE,
                source,
            })?;
        let body = json!({
            "db": database,
            "csl": query,
            "properties": {
                "Options": {
                    "servertimeout": timespan_text(self.options.server_timeout),
                    "results_progressive_enabled": false,
                }
            }
        });
        let request = self
            .http
            .post(url)
            .bearer_auth(token.token.expose())
            .header("Accept", "application/json")
            .header("x-ms-app", "huntbook")
            .header(
                "x-ms-client-request-id",
                format!("huntbook;{}", uuid::Uuid::new_v4()),
            )
            .json(&body);
        let response = send_query(SERVICE, &self.http, request, azure_error).await?;
        let text = body_text(SERVICE, &self.http, response).await?;
        decode_frames(&text, self.options.allow_partial)
    }
}

/// A duration as a Kusto timespan literal, `hh:mm:ss`.
fn timespan_text(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A frame of a v2 answer, with what huntbook uses of it.
#[derive(Default)]
struct Frame<'a> {
    frame_type: Option<String>,
    table_kind: Option<String>,
    table_name: Option<String>,
    columns: Option<Vec<(String, ColumnType)>>,
    rows: Option<Rows<'a>>,
    has_errors: Option<bool>,
    cancelled: Option<bool>,
    one_api_errors: Option<Vec<Value>>,
}

impl Frame<'_> {
    fn is_primary_result(&self) -> bool {
        self.frame_type.as_deref() == Some("DataTable")
            && self.table_kind.as_deref() == Some("PrimaryResult")
    }

    fn table_name(&self) -> &str {
        self.table_name.as_deref().unwrap_or("PrimaryResult")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FrameColumn {
    column_name: String,
    column_type: String,
}

/// The primary result of a v2 answer (a JSON array of frames), typed from its
/// columns.
pub fn decode_frames(text: &str, allow_partial: bool) -> Result<Table, RemoteError> {
    let decode = |e| RemoteError::decode(SERVICE, e);
    let mut answer = Walker::new(text, "v2 query response");
    let mut errors = Vec::new();
    let mut primary: Option<TableBuilder> = None;
    answer.array().map_err(decode)?;
    while answer.element().map_err(decode)? {
        let frame = walk_frame(&mut answer, primary.is_none()).map_err(decode)?;
        match frame.frame_type.as_deref() {
            Some("DataTable") if frame.is_primary_result() && primary.is_none() => {
                let name = frame.table_name().to_string();
                let columns = frame.columns.unwrap_or_default();
                let builder = match frame.rows {
                    Some(rows) => rows.into_builder(|| TableBuilder::new(&name, columns)),
                    None => Ok(TableBuilder::new(&name, columns)),
                }
                .map_err(decode)?;
                errors.extend(builder.row_errors().iter().cloned());
                primary = Some(builder);
            }
            Some("DataSetCompletion") => {
                errors.extend(
                    frame
                        .one_api_errors
                        .iter()
                        .flatten()
                        .map(error_record_message),
                );
                if frame.has_errors == Some(true) && frame.one_api_errors.is_none() {
                    errors.push("the service reported errors without saying which".into());
                }
                if frame.cancelled == Some(true) {
                    errors.push("the query was cancelled".into());
                }
            }
            _ => {}
        }
    }
    answer.end().map_err(decode)?;
    let message = (!errors.is_empty()).then(|| errors.join("; "));
    let Some(primary) = primary else {
        return Err(RemoteError::Failed {
            service: SERVICE,
            message: message.unwrap_or_else(|| "the answer holds no primary result".into()),
        });
    };
    if let (Some(message), false) = (&message, allow_partial) {
        return Err(RemoteError::Partial {
            service: SERVICE,
            message: message.clone(),
        });
    }
    let table = primary
        .finish()
        .map_err(|e| RemoteError::decode(SERVICE, e))?;
    Ok(match message {
        Some(m) => with_schema_note(table, PARTIAL_ERROR_KEY, &m),
        None => table,
    })
}

/// One frame. When `wanted` (no primary result read yet) and the frame is known to
/// be the primary result by the time its rows come, they are read where they are;
/// other rows are kept as text.
fn walk_frame<'a>(answer: &mut Walker<'a>, wanted: bool) -> Result<Frame<'a>, DecodeError> {
    let mut frame = Frame::default();
    answer.object()?;
    while let Some(key) = answer.key()? {
        match key.as_str() {
            "FrameType" => frame.frame_type = Some(answer.parse()?),
            "TableKind" => frame.table_kind = answer.parse()?,
            "TableName" => frame.table_name = answer.parse()?,
            "Columns" => {
                let columns: Option<Vec<FrameColumn>> = answer.parse()?;
                frame.columns = columns.map(|list| {
                    list.into_iter()
                        .map(|c| (c.column_name, ColumnType::from_name(&c.column_type)))
                        .collect()
                });
            }
            "Rows" => {
                let builder = match &frame.columns {
                    Some(columns) if wanted && frame.is_primary_result() => {
                        Some(TableBuilder::new(frame.table_name(), columns.clone()))
                    }
                    _ => None,
                };
                frame.rows = Some(answer.rows(builder)?);
            }
            "HasErrors" => frame.has_errors = answer.parse()?,
            "Cancelled" => frame.cancelled = answer.parse()?,
            "OneApiErrors" => frame.one_api_errors = answer.parse()?,
            _ => {
                answer.raw()?;
            }
        }
    }
    if frame.frame_type.is_none() {
        return Err(answer.missing("FrameType in a frame"));
    }
    Ok(frame)
}

/// A cluster as written in query metadata or configuration, as a URL.
fn cluster_url(name: &str, known: &[(String, String)]) -> String {
    if let Some((_, url)) = known.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return url.clone();
    }
    if name.contains("://") {
        return name.to_string();
    }
    if name.contains('.') {
        return format!("https://{name}");
    }
    format!("https://{name}.kusto.windows.net")
}

/// Runs Azure Data Explorer queries (`Kusto` environment).
pub struct KustoDriver {
    client: KustoClient,
    /// Configured clusters: name and URL.
    clusters: Vec<(String, String)>,
    default_cluster: Option<String>,
    default_database: Option<String>,
    blocking: Blocking,
}

impl KustoDriver {
    /// A driver whose queries without `cluster` / `database` metadata go to
    /// `cluster` / `database`.
    pub fn new(
        client: KustoClient,
        cluster: Option<&str>,
        database: Option<&str>,
    ) -> Result<KustoDriver, RemoteError> {
        Ok(KustoDriver {
            client,
            clusters: Vec::new(),
            default_cluster: cluster.map(str::to_string),
            default_database: database.map(str::to_string),
            blocking: Blocking::new(SERVICE)?,
        })
    }

    /// A driver knowing the clusters of MSTICPy's configuration: `DataProviders`
    /// entries named `Kusto-<name>` and `KustoClusters.<name>`, each with
    /// `Args.Cluster` (and optionally `Database`). The first is the default. Sign-in
    /// is the first entry's `ClientId` / `ClientSecret` / `TenantId`, or the Azure CLI,
    /// unless `access` gives its own. `access.endpoint`, when given, is the default
    /// cluster (a configured name or a URL).
    pub fn from_config(
        config: &Config,
        resolver: &SecretResolver,
        options: QueryOptions,
        access: &AzureAccess,
    ) -> Result<KustoDriver, RemoteError> {
        let setup = |problem: String| RemoteError::Setup {
            service: SERVICE,
            problem,
        };
        let mut entries = config
            .providers("DataProviders")
            .map_err(|p| setup(p.to_string()))?
            .into_iter()
            .filter(|p| p.name.starts_with("Kusto-"))
            .collect::<Vec<_>>();
        if config.get("KustoClusters").is_some() {
            entries.extend(
                config
                    .providers("KustoClusters")
                    .map_err(|p| setup(p.to_string()))?,
            );
        }
        let mut clusters = Vec::new();
        for entry in &entries {
            let url = arg_text(entry, "Cluster").ok_or_else(|| {
                setup(format!(
                    "{} is missing; give the cluster URL",
                    entry.arg_path("Cluster")
                ))
            })?;
            let name = entry.name.trim_start_matches("Kusto-").to_string();
            clusters.push((name, cluster_url(&url, &[])));
        }
        let first = entries.first();
        let entry_name = first.map(|e| e.name.clone());
        let names: Vec<&str> = entry_name.iter().map(String::as_str).collect();
        let tenant = first.and_then(|e| arg_text(e, "TenantId"));
        let tokens = access.tokens(SERVICE, config, resolver, &names, tenant.as_deref())?;
        let default_cluster = match &access.endpoint {
            Some(given) => Some(cluster_url(given, &clusters)),
            None => clusters.first().map(|(_, url)| url.clone()),
        };
        let mut driver = KustoDriver::new(
            KustoClient::new(tokens, options)?,
            default_cluster.as_deref(),
            first.and_then(|e| arg_text(e, "Database")).as_deref(),
        )?;
        driver.clusters = clusters;
        Ok(driver)
    }

    /// Sends queries that name no database to `database`.
    pub fn with_default_database(mut self, database: &str) -> KustoDriver {
        self.default_database = Some(database.to_string());
        self
    }

    /// The cluster URL and database for a query: its metadata, else the defaults.
    fn target(&self, request: &QueryRequest<'_>) -> Result<(String, String), RemoteError> {
        let metadata = &request.source.metadata;
        let text = |key: &str| {
            metadata
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let cluster = text("cluster")
            .or_else(|| {
                metadata
                    .get("clusters")
                    .and_then(Value::as_array)
                    .and_then(|list| list.first())
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .or_else(|| self.default_cluster.clone())
            .ok_or_else(|| RemoteError::Setup {
                service: SERVICE,
                problem: format!(
                    "query {} names no cluster (metadata 'cluster') and no default cluster is configured",
                    request.source.name
                ),
            })?;
        let database = text("database")
            .or_else(|| self.default_database.clone())
            .ok_or_else(|| RemoteError::Setup {
                service: SERVICE,
                problem: format!(
                    "query {} names no database (metadata 'database') and no default database is configured",
                    request.source.name
                ),
            })?;
        Ok((cluster_url(&cluster, &self.clusters), database))
    }
}

impl Driver for KustoDriver {
    fn environment(&self) -> Environment {
        Environment::Kusto
    }

    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError> {
        let run = async {
            let (cluster, database) = self.target(request)?;
            self.client.query(&cluster, &database, request.text).await
        };
        self.blocking
            .run(run)
            .map_err(|e| driver_error(&request.source.name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::fakes::{self, FakeKusto, StaticToken};
    use arrow_array::cast::AsArray;
    use arrow_array::types::DurationNanosecondType;
    use axum::http::StatusCode;
    use huntbook_http::testkit::refuse_first;

    fn options() -> QueryOptions {
        QueryOptions {
            server_timeout: Duration::from_secs(90),
            allow_partial: false,
        }
    }

    #[tokio::test]
    async fn query_returns_the_primary_result_typed() {
        let fake = FakeKusto::start(|r| r).await;
        let client = KustoClient::new(fakes::entra_tokens(&fake.entra).await, options()).unwrap();
        let table = client
            .query(
                &fake.cluster(),
                fakes::kusto::DATABASE,
                "SigninLogs | take 4",
            )
            .await
            .unwrap();
        assert_eq!(table.num_rows(), 4);
        let batch = &table.batches[0];
        let location = batch
            .column_by_name("LocationDetails")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(
            location.value(0),
            r#"{"city":"Oslo","countryOrRegion":"XX"}"#
        );
        let took = batch
            .column_by_name("ProcessingTime")
            .unwrap()
            .as_primitive::<DurationNanosecondType>();
        assert_eq!(took.value(1), 1_250_000_000);
        let request = fake.server.requests().pop().unwrap();
        assert_eq!(request.path, "/v2/rest/query");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["db"], fakes::kusto::DATABASE);
        assert_eq!(body["properties"]["Options"]["servertimeout"], "00:01:30");
        assert!(request
            .header("x-ms-client-request-id")
            .unwrap()
            .starts_with("huntbook;"));
    }

    #[tokio::test]
    async fn errors_after_the_status_line_are_reported() {
        let fake = FakeKusto::start(|r| r).await;
        let client = KustoClient::new(fakes::entra_tokens(&fake.entra).await, options()).unwrap();
        let failing = client
            .query(
                &fake.cluster(),
                fakes::kusto::DATABASE,
                fakes::kusto::FAILING_QUERY,
            )
            .await
            .unwrap_err();
        assert!(matches!(failing, RemoteError::Partial { .. }), "{failing}");
        assert!(
            failing.to_string().contains("E_QUERY_RESULT_SET_TOO_LARGE"),
            "{failing}"
        );
        let lenient = KustoClient::new(
            fakes::entra_tokens(&fake.entra).await,
            QueryOptions {
                allow_partial: true,
                ..options()
            },
        )
        .unwrap();
        let table = lenient
            .query(
                &fake.cluster(),
                fakes::kusto::DATABASE,
                fakes::kusto::FAILING_QUERY,
            )
            .await
            .unwrap();
        assert_eq!(table.num_rows(), fakes::kusto::ROWS_BEFORE_FAILURE);
        assert!(table.schema.metadata()[PARTIAL_ERROR_KEY].contains("LimitsExceeded"));
    }

    #[tokio::test]
    async fn a_semantic_error_names_its_place() {
        let fake = FakeKusto::start(|r| r).await;
        let client = KustoClient::new(fakes::entra_tokens(&fake.entra).await, options()).unwrap();
        let err = client
            .query(&fake.cluster(), fakes::kusto::DATABASE, "Nope | take 1")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("SEM0100"), "{err}");
        assert!(err.contains("at line 1, column 1"), "{err}");
        let err = client
            .query(&fake.cluster(), "OtherDb", "SigninLogs")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("OtherDb"), "{err}");
    }

    #[tokio::test]
    async fn a_wrong_token_gets_401_and_a_clear_error() {
        let fake = FakeKusto::start(|r| r).await;
        let client = KustoClient::new(Arc::new(StaticToken("forged-token")), options()).unwrap();
        let err = client
            .query(&fake.cluster(), fakes::kusto::DATABASE, "SigninLogs")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, RemoteError::Http(e) if e.status() == Some(401)),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("check the credentials for Azure Data Explorer"),
            "{err}"
        );
        assert!(!err.to_string().contains("forged-token"));
    }

    #[tokio::test]
    async fn throttling_is_waited_out() {
        let fake =
            FakeKusto::start(|r| refuse_first(r, 1, StatusCode::TOO_MANY_REQUESTS, Some("1")))
                .await;
        let client = KustoClient::new(fakes::entra_tokens(&fake.entra).await, options()).unwrap();
        let table = client
            .query(
                &fake.cluster(),
                fakes::kusto::DATABASE,
                "SigninLogs | take 2",
            )
            .await
            .unwrap();
        assert_eq!(table.num_rows(), 2);
        assert_eq!(fake.server.requests().len(), 2);
    }

    #[test]
    fn driver_takes_cluster_and_database_from_query_metadata() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let fake = runtime.block_on(FakeKusto::start(|r| r));
        let tokens = runtime.block_on(fakes::entra_tokens(&fake.entra));
        let client = KustoClient::new(tokens, options()).unwrap();
        let driver = KustoDriver::new(client, None, None).unwrap();
        let text = "SigninLogs | take 3";
        let (mut source, bindings) = fakes::query_source(Environment::Kusto, text);
        let request = QueryRequest {
            source: &source,
            bindings: &bindings,
            text,
        };
        let err = driver.run(&request).unwrap_err().to_string();
        assert!(err.contains("names no cluster"), "{err}");
        source
            .metadata
            .insert("cluster".into(), json!(fake.cluster()));
        source
            .metadata
            .insert("database".into(), json!(fakes::kusto::DATABASE));
        let request = QueryRequest {
            source: &source,
            bindings: &bindings,
            text,
        };
        assert_eq!(driver.run(&request).unwrap().num_rows(), 3);
    }

    #[test]
    fn cluster_names_become_urls() {
        let known = [(
            "prod".to_string(),
            "https://prod.westeurope.kusto.windows.net".to_string(),
        )];
        assert_eq!(cluster_url("help", &[]), "https://help.kusto.windows.net");
        assert_eq!(cluster_url("Prod", &known), known[0].1);
        assert_eq!(
            cluster_url("x.kusto.data.microsoft.com", &[]),
            "https://x.kusto.data.microsoft.com"
        );
        assert_eq!(timespan_text(Duration::from_secs(3725)), "01:02:05");
    }
}
