//! Microsoft Defender advanced hunting: the Defender for Endpoint API, the Microsoft
//! 365 Defender API and Microsoft Graph `runHuntingQuery`.
//!
//! All three take `POST {"Query": "<KQL>"}` with a bearer token for their host and
//! answer the schema (column name and .NET type) with the rows as objects keyed by
//! column: `{"Schema": [{"Name", "Type"}], "Results": [{...}]}` for the Defender APIs
//! and `{"schema": [{"name", "type"}], "results": [{...}]}` for Graph. Throttling is
//! 429 with `Retry-After` (Defender allows 45 calls a minute and 1,500 an hour).

use std::sync::Arc;
use std::time::Duration;

use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;
use huntbook_http::{HttpClient, Scope, TokenSource};
use huntbook_table::Table;
use reqwest::Url;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::azure::{azure_error, AzureAccess};
use super::decode::{ColumnType, RowShape, TableBuilder};
use super::{body_text, driver_error, endpoint_url, send_query, Blocking, RemoteError};
use crate::driver::{Driver, DriverError, QueryRequest};
use crate::environment::Environment;

/// Which hunting API to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuntingApi {
    /// Defender for Endpoint: `POST {host}/api/advancedqueries/run`.
    Endpoint,
    /// Microsoft 365 Defender: `POST {host}/api/advancedhunting/run`.
    M365,
    /// Microsoft Graph: `POST {host}/v1.0/security/runHuntingQuery`.
    Graph,
}

impl HuntingApi {
    /// The public cloud host.
    pub fn public_host(self) -> &'static str {
        match self {
            HuntingApi::Endpoint => "https://api.securitycenter.microsoft.com/",
            HuntingApi::M365 => "https://api.security.microsoft.com/",
            HuntingApi::Graph => "https://graph.microsoft.com/",
        }
    }

    fn path(self) -> &'static str {
        match self {
            HuntingApi::Endpoint => "api/advancedqueries/run",
            HuntingApi::M365 => "api/advancedhunting/run",
            HuntingApi::Graph => "v1.0/security/runHuntingQuery",
        }
    }

    pub(crate) fn service(self) -> &'static str {
        match self {
            HuntingApi::Endpoint => "Microsoft Defender for Endpoint",
            HuntingApi::M365 => "Microsoft 365 Defender",
            HuntingApi::Graph => "Microsoft Graph",
        }
    }

    /// The environment whose queries it runs.
    pub fn environment(self) -> Environment {
        match self {
            HuntingApi::Endpoint => Environment::MDE,
            HuntingApi::M365 => Environment::M365D,
            HuntingApi::Graph => Environment::M365DGraph,
        }
    }
}

/// An async client of one hunting API.
pub struct HuntingClient {
    api: HuntingApi,
    http: HttpClient,
    url: Url,
    scope: Scope,
    tokens: Arc<dyn TokenSource>,
}

impl HuntingClient {
    /// A client of `api` at `host` (normally [`HuntingApi::public_host`]); tokens are
    /// asked for the public host's audience, which the sovereign clouds share.
    pub fn new(
        api: HuntingApi,
        host: &str,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<HuntingClient, RemoteError> {
        let service = api.service();
        let url =
            endpoint_url(service, host)?
                .join(api.path())
                .map_err(|e| RemoteError::Setup {
                    service,
                    problem: format!("{host:?} does not make a URL: {e}"),
                })?;
        // Hunting queries run for up to 10 minutes on the service's side.
        let http = HttpClient::builder(service)
            .timeout(Duration::from_secs(630))
            .build()?;
        Ok(HuntingClient {
            api,
            http,
            url,
            scope: Scope::new(api.public_host().trim_end_matches('/')),
            tokens,
        })
    }

    pub async fn query(&self, query: &str) -> Result<Table, RemoteError> {
        let service = self.api.service();
        let token = self
            .tokens
            .token(&self.scope)
            .await
            .map_err(|source| RemoteError::Token { service, source })?;
        let request = self
            .http
            .post(self.url.clone())
            .bearer_auth(token.token.expose())
            .json(&json!({ "Query": query }));
        let response = send_query(service, &self.http, request, azure_error).await?;
        let text = body_text(service, &self.http, response).await?;
        decode_results(service, &text)
    }
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(alias = "schema", rename = "Schema")]
    schema: Vec<SchemaColumn>,
    #[serde(alias = "results", rename = "Results", borrow)]
    results: &'a RawValue,
}

#[derive(Deserialize)]
struct SchemaColumn {
    #[serde(alias = "name", rename = "Name")]
    name: String,
    #[serde(alias = "type", rename = "Type")]
    kind: String,
}

/// The rows of a hunting answer, typed from its schema.
pub fn decode_results(service: &'static str, text: &str) -> Result<Table, RemoteError> {
    let response: Response = serde_json::from_str(text)
        .map_err(|e| RemoteError::malformed(service, "hunting response", e))?;
    let columns = response
        .schema
        .iter()
        .map(|c| (c.name.clone(), ColumnType::from_name(&c.kind)))
        .collect();
    let mut builder = TableBuilder::new("Results", columns);
    builder
        .push_rows(response.results.get(), RowShape::Objects)
        .map_err(|e| RemoteError::decode(service, e))?;
    builder
        .finish()
        .map_err(|e| RemoteError::decode(service, e))
}

/// Runs advanced hunting queries (`MDE`, `M365D` or `M365DGraph` environment).
pub struct HuntingDriver {
    client: HuntingClient,
    blocking: Blocking,
}

impl HuntingDriver {
    pub fn new(client: HuntingClient) -> Result<HuntingDriver, RemoteError> {
        Ok(HuntingDriver {
            blocking: Blocking::new(client.api.service())?,
            client,
        })
    }

    /// A driver for `api` signed in as MSTICPy's `DataProviders.MicrosoftDefender`
    /// (or `MicrosoftGraph` for Graph) entry says: `ClientId`, `ClientSecret`,
    /// `TenantId`; else the Azure CLI user.
    pub fn from_config(
        api: HuntingApi,
        config: &Config,
        resolver: &SecretResolver,
        access: &AzureAccess,
    ) -> Result<HuntingDriver, RemoteError> {
        let entries: &[&str] = match api {
            HuntingApi::Graph => &["MicrosoftGraph", "M365DGraph"],
            _ => &["MicrosoftDefender", "MDE", "M365D"],
        };
        let tokens = access.tokens(api.service(), config, resolver, entries, None)?;
        HuntingDriver::new(HuntingClient::new(
            api,
            access.endpoint_or(api.public_host()),
            tokens,
        )?)
    }
}

impl Driver for HuntingDriver {
    fn environment(&self) -> Environment {
        self.client.api.environment()
    }

    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError> {
        self.blocking
            .run(self.client.query(request.text))
            .map_err(|e| driver_error(&request.source.name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::fakes::{self, FakeDefender, StaticToken};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampNanosecondType};
    use arrow_array::Array;
    use axum::http::StatusCode;
    use huntbook_http::testkit::refuse_first;
    use serde_json::Value;

    #[tokio::test]
    async fn each_api_answers_typed_rows() {
        for api in [HuntingApi::Endpoint, HuntingApi::M365, HuntingApi::Graph] {
            let fake = FakeDefender::start(|r| r).await;
            let client =
                HuntingClient::new(api, &fake.url(), fakes::entra_tokens(&fake.entra).await)
                    .unwrap();
            let table = client.query("DeviceProcessEvents | take 3").await.unwrap();
            assert_eq!(table.num_rows(), 3, "{api:?}");
            let batch = &table.batches[0];
            let time = batch
                .column_by_name("Timestamp")
                .unwrap()
                .as_primitive::<TimestampNanosecondType>();
            assert!(time.value(0) > 0);
            let pid = batch
                .column_by_name("ProcessId")
                .unwrap()
                .as_primitive::<Int64Type>();
            assert_eq!(pid.value(1), 1001);
            // A row without a value for a column reads as null.
            assert!(batch
                .column_by_name("InitiatingProcessCommandLine")
                .unwrap()
                .is_null(2));
            let request = fake.server.requests().pop().unwrap();
            assert_eq!(format!("/{}", api.path()), request.path);
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(body, json!({"Query": "DeviceProcessEvents | take 3"}));
        }
    }

    #[tokio::test]
    async fn a_bad_query_is_reported_with_the_service_message() {
        let fake = FakeDefender::start(|r| r).await;
        let client = HuntingClient::new(
            HuntingApi::Graph,
            &fake.url(),
            fakes::entra_tokens(&fake.entra).await,
        )
        .unwrap();
        let err = client
            .query("DeviceProcessEvents | whre 1")
            .await
            .unwrap_err();
        assert!(matches!(err, RemoteError::Query { .. }), "{err}");
        assert!(err.to_string().contains("'whre'"), "{err}");
    }

    #[tokio::test]
    async fn a_wrong_token_gets_401_and_a_clear_error() {
        let fake = FakeDefender::start(|r| r).await;
        for api in [HuntingApi::Endpoint, HuntingApi::Graph] {
            let client =
                HuntingClient::new(api, &fake.url(), Arc::new(StaticToken("forged-token")))
                    .unwrap();
            let err = client.query("DeviceProcessEvents").await.unwrap_err();
            assert!(
                matches!(&err, RemoteError::Http(e) if e.status() == Some(401)),
                "{err}"
            );
            let message = err.to_string();
            assert!(message.contains(api.service()), "{message}");
            assert!(!message.contains("forged-token"));
        }
    }

    #[tokio::test]
    async fn throttling_is_waited_out() {
        let fake =
            FakeDefender::start(|r| refuse_first(r, 1, StatusCode::TOO_MANY_REQUESTS, Some("1")))
                .await;
        let client = HuntingClient::new(
            HuntingApi::Endpoint,
            &fake.url(),
            fakes::entra_tokens(&fake.entra).await,
        )
        .unwrap();
        assert_eq!(
            client
                .query("DeviceProcessEvents | take 1")
                .await
                .unwrap()
                .num_rows(),
            1
        );
        assert_eq!(fake.server.requests().len(), 2);
    }

    #[test]
    fn driver_runs_for_its_environment() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let fake = runtime.block_on(FakeDefender::start(|r| r));
        let tokens = runtime.block_on(fakes::entra_tokens(&fake.entra));
        let driver =
            HuntingDriver::new(HuntingClient::new(HuntingApi::Graph, &fake.url(), tokens).unwrap())
                .unwrap();
        assert_eq!(driver.environment(), Environment::M365DGraph);
        let text = "DeviceProcessEvents | take 2";
        let (source, bindings) = fakes::query_source(Environment::M365DGraph, text);
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
