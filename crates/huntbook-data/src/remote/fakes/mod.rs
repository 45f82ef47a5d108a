//! Fake query services for the drivers' tests: real HTTP on loopback (the testkit of
//! huntbook-http), each following the documentation page named in its module, with
//! sign-in through the testkit's fake Entra ID where the service uses it.
//!
//! The Microsoft fakes share a small data set (a sign-in log per workspace) and a
//! tiny KQL reader: `Table`, optionally followed by `| take N` or `| limit N`. Any
//! other text is answered with the service's syntax error for the word where reading
//! stopped, and an unknown table with its semantic error.

// Checks return the error answer itself, as axum handlers do; its size does not
// matter in a test server.
#![allow(clippy::result_large_err)]

pub mod defender;
pub mod elastic;
pub mod kusto;
pub mod log_analytics;
pub mod splunk;

pub use defender::FakeDefender;
pub use elastic::FakeElastic;
pub use kusto::FakeKusto;
pub use log_analytics::FakeLogAnalytics;
pub use splunk::FakeSplunk;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use huntbook_http::azure::{Authority, ClientSecretCredential};
use huntbook_http::testkit::{FakeEntraId, FakeEntraIdConfig};
use huntbook_http::token::BoxFuture;
use huntbook_http::{AccessToken, Scope, Secret, TokenError, TokenSource};
use serde_json::{json, Value};

use crate::environment::Environment;
use crate::render::Bindings;
use crate::template::QuerySource;

pub const WORKSPACE_A: &str = "8ecf8077-cf51-4820-aadd-14040956f35d";
pub const WORKSPACE_B: &str = "2d7e8a1c-50f6-4b53-8d6a-8f4a3d9c1e07";
pub const WORKSPACE_C: &str = "c0ffee00-1234-4abc-9def-0123456789ab";
/// Rows each workspace's sign-in log holds.
pub const ROWS_PER_WORKSPACE: usize = 20;
/// The fakes' result cap (the services' is 500,000 rows; a small one keeps tests
/// quick while taking the same path).
pub const ROW_LIMIT: usize = 50;
/// The test app's client secret at the fake Entra ID.
pub const APP_SECRET: &str = "app-secret-for-tests";

/// A token source that always gives the same token.
pub struct StaticToken(pub &'static str);

impl TokenSource for StaticToken {
    fn token<'a>(&'a self, _scope: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            Ok(AccessToken {
                token: Secret::new(self.0),
                expires_at: SystemTime::now() + Duration::from_secs(3600),
            })
        })
    }
}

/// A fake identity platform that knows the test app's secret.
pub async fn start_entra() -> FakeEntraId {
    FakeEntraId::start(FakeEntraIdConfig {
        client_secret: Some(APP_SECRET.into()),
        ..FakeEntraIdConfig::default()
    })
    .await
}

/// The test app's sign-in at `entra`.
pub async fn entra_tokens(entra: &FakeEntraId) -> Arc<dyn TokenSource> {
    let config = FakeEntraIdConfig::default();
    Arc::new(
        ClientSecretCredential::new(
            Authority::custom(&entra.authority()).unwrap(),
            &config.tenant,
            &config.client_id,
            Secret::new(APP_SECRET),
        )
        .unwrap(),
    )
}

/// A query as a driver receives it.
pub fn query_source(environment: Environment, text: &str) -> (QuerySource, Bindings) {
    let source = QuerySource::from_driver(
        environment,
        "Tests",
        "test_query",
        "a test query".into(),
        text,
        Vec::new(),
    )
    .unwrap();
    (source, Bindings::new())
}

/// The tenant of a workspace's rows.
fn tenant_of(workspace: &str) -> String {
    format!("tenant-of-{}", &workspace[..8])
}

/// The sign-in log's columns, as Kusto types.
pub fn signin_columns() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TimeGenerated", "datetime"),
        ("TenantId", "string"),
        ("UserPrincipalName", "string"),
        ("IPAddress", "string"),
        ("ResultType", "long"),
        ("IsInteractive", "bool"),
        ("RiskScore", "real"),
        ("ProcessingTime", "timespan"),
        ("LocationDetails", "dynamic"),
    ]
}

/// A workspace's sign-in rows. Log Analytics writes dynamic values as JSON text in a
/// string, Kusto as JSON values (`dynamic_as_text`).
pub fn signin_rows(workspace: &str, dynamic_as_text: bool) -> Vec<Vec<Value>> {
    let tenant = tenant_of(workspace);
    (0..ROWS_PER_WORKSPACE)
        .map(|i| {
            let city = ["Oslo", "Lima", "Pune"][i % 3];
            let location = json!({"city": city, "countryOrRegion": "XX"});
            vec![
                json!(format!(
                    "2024-03-31T{:02}:{:02}:07.1234567Z",
                    i / 60,
                    i % 60
                )),
                json!(tenant),
                json!(format!("user{}@contoso.com", i % 5)),
                json!(format!("10.0.{}.{i}", workspace.len() % 7)),
                json!(if i % 4 == 0 { 50126 } else { 0 }),
                json!(i % 2 == 0),
                json!(i as f64 / 4.0),
                json!(format!("00:00:0{}.250", i % 10)),
                if dynamic_as_text {
                    json!(location.to_string())
                } else {
                    location
                },
            ]
        })
        .collect()
}

/// What the tiny KQL reader understood.
pub struct Parsed {
    pub take: Option<usize>,
}

/// Why the tiny KQL reader refused a query: Kusto's error code, message and place
/// (1-based line and column).
pub struct KqlProblem {
    pub semantic: bool,
    pub code: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub token: String,
}

/// Reads `Table [| take N | limit N]...`.
pub fn parse_kql(text: &str, tables: &[&str]) -> Result<Parsed, KqlProblem> {
    let mut tokens = Vec::new();
    for (l, line) in text.lines().enumerate() {
        let mut start = None;
        for (c, ch) in line
            .char_indices()
            .chain(std::iter::once((line.len(), ' ')))
        {
            let boundary = ch.is_whitespace() || ch == '|';
            match (start, boundary) {
                (None, false) => start = Some(c),
                (Some(s), true) => {
                    tokens.push((line[s..c].to_string(), l + 1, s + 1));
                    start = None;
                }
                _ => {}
            }
            if ch == '|' {
                tokens.push(("|".to_string(), l + 1, c + 1));
            }
        }
    }
    let syntax = |(token, line, column): &(String, usize, usize)| KqlProblem {
        semantic: false,
        code: "SYN0002",
        message: format!("Query could not be parsed at '{token}' on line [{line},{column}]"),
        line: *line,
        column: *column,
        token: token.clone(),
    };
    let mut rest = tokens.iter();
    let first = rest.next().ok_or_else(|| KqlProblem {
        semantic: false,
        code: "SYN0002",
        message: "Query could not be parsed: the query is empty".into(),
        line: 1,
        column: 1,
        token: String::new(),
    })?;
    if !tables.contains(&first.0.as_str()) {
        return Err(KqlProblem {
            semantic: true,
            code: "SEM0100",
            message: format!(
                "'{}' operator: Failed to resolve table or column expression named '{}'",
                first.0, first.0
            ),
            line: first.1,
            column: first.2,
            token: first.0.clone(),
        });
    }
    let mut take = None;
    while let Some(pipe) = rest.next() {
        if pipe.0 != "|" {
            return Err(syntax(pipe));
        }
        let operator = rest.next().ok_or_else(|| syntax(pipe))?;
        if operator.0 != "take" && operator.0 != "limit" {
            return Err(syntax(operator));
        }
        let count = rest.next().ok_or_else(|| syntax(operator))?;
        let n: usize = count.0.parse().map_err(|_| syntax(count))?;
        take = Some(take.map_or(n, |t: usize| t.min(n)));
    }
    Ok(Parsed { take })
}
