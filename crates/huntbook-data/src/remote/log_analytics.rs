//! Microsoft Sentinel / Log Analytics through the Log Analytics query API.
//!
//! `POST {endpoint}/v1/workspaces/{workspaceId}/query` with `{"query": ...}` (and
//! `"workspaces": [...]` to run over several workspaces at once, `"timespan"` to bound
//! the time range), a bearer token for `https://api.loganalytics.io`, and
//! `Prefer: wait=N` for the server-side time limit. The answer is
//! `{"tables": [{"name", "columns": [{"name", "type"}], "rows": [[...]]}]}`; a
//! non-fatal error comes with status 200 as `"error"` next to the tables (a partial
//! result), a fatal one as a 4xx with a OneAPI error body.

use std::sync::Arc;
use std::time::Duration;

use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;
use huntbook_http::{HttpClient, Scope, TokenSource};
use huntbook_table::Table;
use reqwest::Url;
use serde::Deserialize;
use serde_json::{json, Value};

use super::azure::{azure_error, AzureAccess};
use super::decode::{error_record_message, ColumnType, DecodeError, Rows, TableBuilder, Walker};
use super::{
    body_text, driver_error, endpoint_url, path_segment, send_query, with_schema_note, Blocking,
    QueryOptions, RemoteError, PARTIAL_ERROR_KEY,
};
use crate::driver::{Driver, DriverError, QueryRequest, TableColumns};
use crate::environment::Environment;

const SERVICE: &str = "Log Analytics";
/// The public cloud's query endpoint.
pub const PUBLIC_ENDPOINT: &str = "https://api.loganalytics.io/";
/// An async client of the Log Analytics query API.
pub struct LogAnalyticsClient {
    http: HttpClient,
    endpoint: Url,
    scope: Scope,
    tokens: Arc<dyn TokenSource>,
    options: QueryOptions,
}

impl LogAnalyticsClient {
    /// A client of the API at `endpoint` (normally [`PUBLIC_ENDPOINT`]) signing in
    /// with `tokens`.
    pub fn new(
        endpoint: &str,
        tokens: Arc<dyn TokenSource>,
        options: QueryOptions,
    ) -> Result<LogAnalyticsClient, RemoteError> {
        let endpoint = endpoint_url(SERVICE, endpoint)?;
        let http = HttpClient::builder(SERVICE)
            .timeout(options.server_timeout + Duration::from_secs(30))
            .build()?;
        Ok(LogAnalyticsClient {
            // Tokens are for the public API's audience, whatever host serves it.
            scope: Scope::new("https://api.loganalytics.io"),
            http,
            endpoint,
            tokens,
            options,
        })
    }

    /// Runs `query` over `workspaces` (ids; the first is the one addressed, the others
    /// go in the body) and returns its primary result.
    pub async fn query(
        &self,
        workspaces: &[String],
        query: &str,
        timespan: Option<&str>,
    ) -> Result<Table, RemoteError> {
        let (first, others) = workspaces.split_first().ok_or(RemoteError::Setup {
            service: SERVICE,
            problem: "no workspace to query; give at least one workspace id".into(),
        })?;
        let url = self.workspace_url(first, "query")?;
        let token = self.token().await?;
        let mut body = json!({ "query": query });
        if let Some(span) = timespan {
            body["timespan"] = json!(span);
        }
        if !others.is_empty() {
            body["workspaces"] = json!(others);
        }
        let request = self
            .http
            .post(url)
            .bearer_auth(token.token.expose())
            .header(
                "Prefer",
                format!("wait={}", self.options.server_timeout.as_secs()),
            )
            .json(&body);
        let response = send_query(SERVICE, &self.http, request, azure_error).await?;
        let text = body_text(SERVICE, &self.http, response).await?;
        decode_response(&text, self.options.allow_partial)
    }

    /// The tables of `workspace` and their columns ("Metadata - Get":
    /// `GET /v1/workspaces/{workspaceId}/metadata`).
    pub async fn tables(&self, workspace: &str) -> Result<Vec<TableColumns>, RemoteError> {
        let url = self.workspace_url(workspace, "metadata")?;
        let token = self.token().await?;
        let request = self.http.get(url).bearer_auth(token.token.expose());
        let response = send_query(SERVICE, &self.http, request, azure_error).await?;
        let text = body_text(SERVICE, &self.http, response).await?;
        #[derive(Deserialize)]
        struct Metadata {
            #[serde(default)]
            tables: Vec<MetadataTable>,
        }
        #[derive(Deserialize)]
        struct MetadataTable {
            name: String,
            #[serde(default)]
            columns: Vec<ResponseColumn>,
        }
        let metadata: Metadata = serde_json::from_str(&text)
            .map_err(|e| RemoteError::malformed(SERVICE, "workspace metadata", e))?;
        Ok(metadata
            .tables
            .into_iter()
            .map(|t| TableColumns {
                table: t.name,
                columns: t.columns.into_iter().map(|c| (c.name, c.kind)).collect(),
            })
            .collect())
    }

    fn workspace_url(&self, workspace: &str, tail: &str) -> Result<Url, RemoteError> {
        self.endpoint
            .join(&format!("v1/workspaces/{}/{tail}", path_segment(workspace)))
            .map_err(|e| RemoteError::Setup {
                service: SERVICE,
                problem: format!("workspace id {workspace:?} does not make a URL: {e}"),
            })
    }

    async fn token(&self) -> Result<huntbook_http::AccessToken, RemoteError> {
        self.tokens
            .token(&self.scope)
            .await
            .map_err(|source| RemoteError::Token {
                service: SERVICE,
                source,
            })
    }
}

#[derive(Deserialize)]
struct ResponseColumn {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

/// A table of the answer.
struct ResponseTable<'a> {
    name: String,
    columns: Vec<(String, ColumnType)>,
    rows: Rows<'a>,
}

/// The primary result of a query API answer, typed from its columns.
pub fn decode_response(text: &str, allow_partial: bool) -> Result<Table, RemoteError> {
    let decode = |e| RemoteError::decode(SERVICE, e);
    let (tables, error) = walk_response(text).map_err(decode)?;
    let partial = error.as_ref().map(partial_message);
    if let (Some(message), false) = (&partial, allow_partial) {
        return Err(RemoteError::Partial {
            service: SERVICE,
            message: message.clone(),
        });
    }
    let primary = tables.iter().position(|t| t.name == "PrimaryResult");
    let table = tables
        .into_iter()
        .nth(primary.unwrap_or(0))
        .ok_or_else(|| RemoteError::Failed {
            service: SERVICE,
            message: partial
                .clone()
                .unwrap_or_else(|| "the answer holds no table".into()),
        })?;
    let ResponseTable {
        name,
        columns,
        rows,
    } = table;
    let result = rows
        .into_builder(|| TableBuilder::new(&name, columns))
        .and_then(TableBuilder::finish)
        .map_err(decode)?;
    Ok(match partial {
        Some(message) => with_schema_note(result, PARTIAL_ERROR_KEY, &message),
        None => result,
    })
}

/// The tables of an answer and its partial-result error. The rows of the first
/// `PrimaryResult` table are read where they are; those of others are kept as text
/// (a table without that name is read only when no table has it).
fn walk_response(text: &str) -> Result<(Vec<ResponseTable<'_>>, Option<Value>), DecodeError> {
    let mut answer = Walker::new(text, "query response");
    let mut tables = None;
    let mut error = None;
    answer.object()?;
    while let Some(key) = answer.key()? {
        match key.as_str() {
            "tables" => {
                let mut list: Vec<ResponseTable> = Vec::new();
                answer.array()?;
                while answer.element()? {
                    let wanted = !list.iter().any(|t| t.name == "PrimaryResult");
                    list.push(walk_table(&mut answer, wanted)?);
                }
                tables = Some(list);
            }
            "error" => error = answer.parse()?,
            _ => {
                answer.raw()?;
            }
        }
    }
    answer.end()?;
    let tables = tables.ok_or_else(|| answer.missing("tables"))?;
    Ok((tables, error))
}

fn walk_table<'a>(answer: &mut Walker<'a>, wanted: bool) -> Result<ResponseTable<'a>, DecodeError> {
    let (mut name, mut columns, mut rows) = (None, None, None);
    answer.object()?;
    while let Some(key) = answer.key()? {
        match key.as_str() {
            "name" => name = Some(answer.parse::<String>()?),
            "columns" => {
                let list: Vec<ResponseColumn> = answer.parse()?;
                let list: Vec<(String, ColumnType)> = list
                    .into_iter()
                    .map(|c| (c.name, ColumnType::from_name(&c.kind)))
                    .collect();
                columns = Some(list);
            }
            "rows" => {
                let builder = match (&name, &columns) {
                    (Some(name), Some(columns)) if wanted && name == "PrimaryResult" => {
                        Some(TableBuilder::new(name, columns.clone()))
                    }
                    _ => None,
                };
                rows = Some(answer.rows(builder)?);
            }
            _ => {
                answer.raw()?;
            }
        }
    }
    Ok(ResponseTable {
        name: name.ok_or_else(|| answer.missing("table name"))?,
        columns: columns.ok_or_else(|| answer.missing("table columns"))?,
        rows: rows.ok_or_else(|| answer.missing("table rows"))?,
    })
}

/// A partial-result error: the outer message and the innermost details, which say
/// what limit was hit.
fn partial_message(error: &Value) -> String {
    let outer = error_record_message(&json!({ "error": error }));
    let details: Vec<String> = error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| {
            let mut inner = d;
            while let Some(next) = inner.get("innererror").filter(|v| v.is_object()) {
                inner = next;
            }
            error_record_message(&json!({ "error": inner }))
        })
        .collect();
    if details.is_empty() {
        outer
    } else {
        format!("{outer} ({})", details.join("; "))
    }
}

/// Runs Microsoft Sentinel queries (`MSSentinel` environment) against one or more
/// workspaces.
pub struct LogAnalyticsDriver {
    client: LogAnalyticsClient,
    workspaces: Vec<String>,
    blocking: Blocking,
}

impl LogAnalyticsDriver {
    /// A driver querying `workspaces` (ids) with `client`.
    pub fn new(
        client: LogAnalyticsClient,
        workspaces: Vec<String>,
    ) -> Result<LogAnalyticsDriver, RemoteError> {
        if workspaces.is_empty() {
            return Err(RemoteError::Setup {
                service: SERVICE,
                problem: "no workspace to query; give at least one workspace id".into(),
            });
        }
        Ok(LogAnalyticsDriver {
            client,
            workspaces,
            blocking: Blocking::new(SERVICE)?,
        })
    }

    /// A driver for the workspaces called `names` under `AzureSentinel.Workspaces`
    /// (`Default` when none is named), signed in as [`credential_from_config`] says
    /// for the first workspace's tenant, unless `access` says otherwise.
    pub fn from_config(
        config: &Config,
        resolver: &SecretResolver,
        names: &[&str],
        options: QueryOptions,
        access: &AzureAccess,
    ) -> Result<LogAnalyticsDriver, RemoteError> {
        let setup = |problem: String| RemoteError::Setup {
            service: SERVICE,
            problem,
        };
        let names: Vec<Option<&str>> = if names.is_empty() {
            vec![None]
        } else {
            names.iter().map(|n| Some(*n)).collect()
        };
        let workspaces = names
            .into_iter()
            .map(|name| config.workspace(name).map_err(|p| setup(p.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let tenant = workspaces.first().map(|w| w.tenant_id.clone());
        let tokens = access.tokens(
            SERVICE,
            config,
            resolver,
            &["MSSentinel", "AzureSentinel", "LogAnalytics"],
            tenant.as_deref(),
        )?;
        let client = LogAnalyticsClient::new(access.endpoint_or(PUBLIC_ENDPOINT), tokens, options)?;
        LogAnalyticsDriver::new(
            client,
            workspaces.into_iter().map(|w| w.workspace_id).collect(),
        )
    }
}

impl Driver for LogAnalyticsDriver {
    fn environment(&self) -> Environment {
        Environment::MSSentinel
    }

    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError> {
        self.blocking
            .run(self.client.query(&self.workspaces, request.text, None))
            .map_err(|e| driver_error(&request.source.name, e))
    }

    /// The first workspace's tables.
    fn schema(&self) -> Result<Vec<TableColumns>, DriverError> {
        self.blocking
            .run(self.client.tables(&self.workspaces[0]))
            .map_err(|e| DriverError::Other(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::fakes::{self, FakeLogAnalytics, StaticToken};
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use axum::http::StatusCode;
    use huntbook_http::testkit::refuse_first;

    fn options() -> QueryOptions {
        QueryOptions {
            server_timeout: Duration::from_secs(20),
            allow_partial: false,
        }
    }

    async fn client(fake: &FakeLogAnalytics, options: QueryOptions) -> LogAnalyticsClient {
        LogAnalyticsClient::new(&fake.url(), fakes::entra_tokens(&fake.entra).await, options)
            .unwrap()
    }

    #[tokio::test]
    async fn query_returns_typed_rows_and_sends_what_the_api_documents() {
        let fake = FakeLogAnalytics::start(|r| r).await;
        let client = client(&fake, options()).await;
        let table = client
            .query(
                &[fakes::WORKSPACE_A.into()],
                "SigninLogs | take 3",
                Some("P1D"),
            )
            .await
            .unwrap();
        assert_eq!(table.num_rows(), 3);
        assert_eq!(table.schema.field(0).name(), "TimeGenerated");
        let request = fake
            .server
            .requests()
            .into_iter()
            .find(|r| r.path.ends_with("/query"))
            .unwrap();
        assert_eq!(
            request.path,
            format!("/v1/workspaces/{}/query", fakes::WORKSPACE_A)
        );
        assert_eq!(request.header("prefer"), Some("wait=20"));
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({"query": "SigninLogs | take 3", "timespan": "P1D"})
        );
    }

    #[tokio::test]
    async fn several_workspaces_are_queried_at_once() {
        let fake = FakeLogAnalytics::start(|r| r).await;
        let client = client(&fake, options()).await;
        let both = [
            fakes::WORKSPACE_A.to_string(),
            fakes::WORKSPACE_B.to_string(),
        ];
        let table = client.query(&both, "SigninLogs", None).await.unwrap();
        let single = client.query(&both[..1], "SigninLogs", None).await.unwrap();
        assert_eq!(table.num_rows(), 2 * single.num_rows());
        let body: Value =
            serde_json::from_slice(&fake.server.requests().iter().rev().nth(1).unwrap().body)
                .unwrap();
        assert_eq!(body["workspaces"], json!([fakes::WORKSPACE_B]));
        let tenants = table.batches[0]
            .column_by_name("TenantId")
            .unwrap()
            .as_string::<i32>()
            .iter()
            .flatten()
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(tenants.len(), 2);
    }

    #[tokio::test]
    async fn a_syntax_error_names_the_line_and_column() {
        let fake = FakeLogAnalytics::start(|r| r).await;
        let client = client(&fake, options()).await;
        let err = client
            .query(&[fakes::WORKSPACE_A.into()], "SigninLogs\n| whre x", None)
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, RemoteError::Query { .. }), "{message}");
        assert!(message.contains("at line 2, column 3"), "{message}");
        assert!(message.contains("'whre'"), "{message}");
    }

    #[tokio::test]
    async fn a_partial_result_fails_unless_allowed() {
        let fake = FakeLogAnalytics::start(|r| r).await;
        let strict = client(&fake, options()).await;
        // Three workspaces hold more rows than the fake's result cap.
        let all = [fakes::WORKSPACE_A, fakes::WORKSPACE_B, fakes::WORKSPACE_C].map(String::from);
        let err = strict.query(&all, "SigninLogs", None).await.unwrap_err();
        assert!(matches!(err, RemoteError::Partial { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("exceeded the internal record count limit"),
            "{err}"
        );
        let lenient = client(
            &fake,
            QueryOptions {
                allow_partial: true,
                ..options()
            },
        )
        .await;
        let table = lenient.query(&all, "SigninLogs", None).await.unwrap();
        assert_eq!(table.num_rows(), fakes::ROW_LIMIT);
        assert!(table.schema.metadata()[PARTIAL_ERROR_KEY].contains("PartialError"));
    }

    #[tokio::test]
    async fn a_wrong_token_gets_401_and_a_clear_error() {
        let fake = FakeLogAnalytics::start(|r| r).await;
        let client = LogAnalyticsClient::new(
            &fake.url(),
            Arc::new(StaticToken("forged-token")),
            options(),
        )
        .unwrap();
        let err = client
            .query(&[fakes::WORKSPACE_A.into()], "SigninLogs", None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, RemoteError::Http(e) if e.status() == Some(401)),
            "{err}"
        );
        let message = err.to_string();
        assert!(message.contains("InvalidTokenError"), "{message}");
        assert!(!message.contains("forged-token"), "{message}");
    }

    #[tokio::test]
    async fn throttling_is_waited_out() {
        let fake = FakeLogAnalytics::start(|r| {
            refuse_first(r, 2, StatusCode::TOO_MANY_REQUESTS, Some("1"))
        })
        .await;
        let client = client(&fake, options()).await;
        let started = std::time::Instant::now();
        let table = client
            .query(&[fakes::WORKSPACE_A.into()], "SigninLogs | take 1", None)
            .await
            .unwrap();
        assert_eq!(table.num_rows(), 1);
        assert!(started.elapsed() >= Duration::from_secs(2));
        assert_eq!(fake.server.requests().len(), 3);
    }

    #[test]
    fn driver_runs_a_template_query_from_sync_code() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let fake = runtime.block_on(FakeLogAnalytics::start(|r| r));
        let tokens = runtime.block_on(fakes::entra_tokens(&fake.entra));
        let client = LogAnalyticsClient::new(&fake.url(), tokens, options()).unwrap();
        let driver = LogAnalyticsDriver::new(client, vec![fakes::WORKSPACE_A.into()]).unwrap();
        let (source, bindings) =
            fakes::query_source(Environment::MSSentinel, "SigninLogs | take 2");
        let table = driver
            .run(&QueryRequest {
                source: &source,
                bindings: &bindings,
                text: "SigninLogs | take 2",
            })
            .unwrap();
        assert_eq!(table.num_rows(), 2);
        let count = table.batches[0]
            .column_by_name("ResultType")
            .unwrap()
            .as_primitive::<Int64Type>()
            .len();
        assert_eq!(count, 2);
        let err = driver
            .run(&QueryRequest {
                source: &source,
                bindings: &bindings,
                text: "NoSuchTable",
            })
            .unwrap_err();
        assert!(err.to_string().contains("NoSuchTable"), "{err}");
    }

    #[test]
    fn path_segments_cannot_leave_their_place() {
        assert_eq!(path_segment("../x?y"), "..%2Fx%3Fy");
        assert_eq!(path_segment(".."), "%2E%2E");
        assert_eq!(path_segment("a1b2-c3"), "a1b2-c3");
    }
}
