//! One way to connect to any remote environment, taking what MSTICPy's
//! `QueryProvider.connect(**kwargs)` takes.
//!
//! A call's keyword arguments are laid over the configuration as the settings they
//! stand for (`connect(host=...)` for Splunk is `DataProviders.Splunk.Args.host`), so
//! each driver reads one place, and `config check`-style messages name the argument
//! when one is wrong.

use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;

use super::azure::AzureAccess;
use super::defender::{HuntingApi, HuntingDriver};
use super::elastic::{ElasticDriver, ElasticOptions, Flavor};
use super::kusto::KustoDriver;
use super::log_analytics::LogAnalyticsDriver;
use super::splunk::{SplunkDriver, SplunkOptions};
use super::{QueryOptions, RemoteError};
use crate::driver::Driver;
use crate::environment::Environment;

/// Where the arguments of a connect call come from, in messages.
const GIVEN_BY: &str = "connect() arguments";

/// What a caller gives when connecting, beyond the configuration files.
#[derive(Clone, Default)]
pub struct Connect {
    /// MSTICPy's keyword arguments (see [`accepted`] for each environment's).
    pub args: Vec<(String, String)>,
    /// Endpoint and sign-in for the Microsoft services, when not the configured ones.
    pub access: AzureAccess,
    pub options: QueryOptions,
}

/// The keyword arguments `connect` takes for `environment`, and the setting each
/// stands for (`{name}` is the workspace or entry the call names).
pub fn accepted(environment: &Environment) -> &'static [(&'static str, &'static str)] {
    match environment {
        Environment::MSSentinel => &[
            (
                "workspace",
                "the name of a workspace under AzureSentinel.Workspaces",
            ),
            ("workspaces", "several workspace names, comma-separated"),
            (
                "workspace_id",
                "AzureSentinel.Workspaces.{name}.WorkspaceId",
            ),
            ("tenant_id", "AzureSentinel.Workspaces.{name}.TenantId"),
        ],
        Environment::Kusto => &[
            ("cluster", "the default cluster: a configured name or a URL"),
            ("database", "the default database"),
        ],
        Environment::MDE | Environment::M365D => &[
            ("tenant_id", "DataProviders.MicrosoftDefender.Args.TenantId"),
            ("client_id", "DataProviders.MicrosoftDefender.Args.ClientId"),
            (
                "client_secret",
                "DataProviders.MicrosoftDefender.Args.ClientSecret",
            ),
        ],
        Environment::M365DGraph => &[
            ("tenant_id", "DataProviders.MicrosoftGraph.Args.TenantId"),
            ("client_id", "DataProviders.MicrosoftGraph.Args.ClientId"),
            (
                "client_secret",
                "DataProviders.MicrosoftGraph.Args.ClientSecret",
            ),
        ],
        Environment::Splunk => &[
            ("host", "DataProviders.Splunk.Args.host"),
            ("port", "DataProviders.Splunk.Args.port"),
            ("protocol", "DataProviders.Splunk.Args.protocol"),
            ("username", "DataProviders.Splunk.Args.username"),
            ("password", "DataProviders.Splunk.Args.password"),
            ("bearer_token", "DataProviders.Splunk.Args.bearer_token"),
        ],
        Environment::Elastic => &[
            ("url", "DataProviders.Elastic.Args.url"),
            ("index", "DataProviders.Elastic.Args.index"),
            ("api_key", "DataProviders.Elastic.Args.api_key"),
            ("username", "DataProviders.Elastic.Args.username"),
            ("password", "DataProviders.Elastic.Args.password"),
        ],
        Environment::OpenSearch => &[
            ("url", "DataProviders.OpenSearch.Args.url"),
            ("index", "DataProviders.OpenSearch.Args.index"),
            ("api_key", "DataProviders.OpenSearch.Args.api_key"),
            ("username", "DataProviders.OpenSearch.Args.username"),
            ("password", "DataProviders.OpenSearch.Args.password"),
        ],
        _ => &[],
    }
}

/// The driver of a remote `environment`, from `config` and what the caller gave;
/// `None` for an environment with no remote driver.
pub fn connect(
    environment: &Environment,
    config: &Config,
    resolver: &SecretResolver,
    given: &Connect,
) -> Result<Option<Box<dyn Driver>>, RemoteError> {
    let accepted = accepted(environment);
    let service = service_name(environment);
    let given = &with_connection_string(service, given)?;
    let arg = |name: &str| {
        given
            .args
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some((unknown, _)) = given
        .args
        .iter()
        .find(|(k, _)| !accepted.iter().any(|(a, _)| a == k))
    {
        let names: Vec<&str> = accepted.iter().map(|(a, _)| *a).collect();
        return Err(RemoteError::Setup {
            service,
            problem: format!(
                "connect() does not take {unknown:?} for {environment}; it takes {}",
                if names.is_empty() {
                    "no arguments".to_string()
                } else {
                    names.join(", ")
                }
            ),
        });
    }
    // Arguments that stand for a setting, laid over the configuration.
    let entry = arg("workspace").unwrap_or("Default");
    let settings: Vec<(String, &str)> = given
        .args
        .iter()
        .filter_map(|(k, v)| {
            let (_, path) = accepted.iter().find(|(a, _)| a == k)?;
            path.contains('.')
                .then(|| (path.replace("{name}", entry), v.as_str()))
        })
        .collect();
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let config = config.with_settings(GIVEN_BY, &settings);
    let (config, access, options) = (&config, &given.access, given.options);
    Ok(Some(match environment {
        Environment::MSSentinel => {
            let names: Vec<&str> = match (arg("workspaces"), arg("workspace")) {
                (Some(list), _) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .collect(),
                (None, Some(one)) => vec![one],
                (None, None) => Vec::new(),
            };
            Box::new(LogAnalyticsDriver::from_config(
                config, resolver, &names, options, access,
            )?)
        }
        Environment::Kusto => {
            let mut access = access.clone();
            if let Some(cluster) = arg("cluster") {
                access.endpoint = Some(cluster.to_string());
            }
            let driver = KustoDriver::from_config(config, resolver, options, &access)?;
            Box::new(match arg("database") {
                Some(database) => driver.with_default_database(database),
                None => driver,
            })
        }
        Environment::MDE => Box::new(HuntingDriver::from_config(
            HuntingApi::Endpoint,
            config,
            resolver,
            access,
        )?),
        Environment::M365D => Box::new(HuntingDriver::from_config(
            HuntingApi::M365,
            config,
            resolver,
            access,
        )?),
        Environment::M365DGraph => Box::new(HuntingDriver::from_config(
            HuntingApi::Graph,
            config,
            resolver,
            access,
        )?),
        Environment::Splunk => Box::new(SplunkDriver::from_config(
            config,
            resolver,
            SplunkOptions::default(),
        )?),
        Environment::Elastic => Box::new(ElasticDriver::from_config(
            Flavor::Elasticsearch,
            config,
            resolver,
            ElasticOptions::default(),
        )?),
        Environment::OpenSearch => Box::new(ElasticDriver::from_config(
            Flavor::OpenSearch,
            config,
            resolver,
            ElasticOptions::default(),
        )?),
        _ => return Ok(None),
    }))
}

/// `given` with MSTICPy's Log Analytics connection string
/// (`loganalytics://code().tenant('T').workspace('W')`) read into `tenant_id` and
/// `workspace_id`.
fn with_connection_string(service: &'static str, given: &Connect) -> Result<Connect, RemoteError> {
    let mut given = given.clone();
    let Some(at) = given.args.iter().position(|(k, _)| k == "connection_str") else {
        return Ok(given);
    };
    let (_, text) = given.args.remove(at);
    let part = |name: &str| -> Option<String> {
        let rest = &text[text.find(&format!("{name}("))? + name.len() + 1..];
        let rest = rest.trim_start();
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let value = &rest[1..];
        Some(value[..value.find(quote)?].to_string())
    };
    let workspace = part("workspace").ok_or_else(|| RemoteError::Setup {
        service,
        problem: "the connection string names no workspace('...'); give workspace= or workspace_id= and tenant_id= instead".into(),
    })?;
    given.args.push(("workspace_id".into(), workspace));
    if let Some(tenant) = part("tenant") {
        given.args.push(("tenant_id".into(), tenant));
    }
    Ok(given)
}

/// The service an environment's errors name.
fn service_name(environment: &Environment) -> &'static str {
    match environment {
        Environment::MSSentinel => "Log Analytics",
        Environment::Kusto => "Azure Data Explorer",
        Environment::MDE => HuntingApi::Endpoint.service(),
        Environment::M365D => HuntingApi::M365.service(),
        Environment::M365DGraph => HuntingApi::Graph.service(),
        Environment::Splunk => "Splunk",
        Environment::Elastic => Flavor::Elasticsearch.service(),
        Environment::OpenSearch => Flavor::OpenSearch.service(),
        _ => "the query provider",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::QueryProvider;
    use crate::remote::fakes::{self, FakeElastic, FakeLogAnalytics, FakeSplunk};
    use std::path::Path;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Runs `text` on the provider of `environment` connected with `given`, off the
    /// test's runtime (drivers block, and the fakes need the runtime to answer).
    async fn exec(
        environment: Environment,
        config: Config,
        given: Connect,
        text: &'static str,
    ) -> Result<usize, String> {
        tokio::task::spawn_blocking(move || {
            let driver = connect(&environment, &config, &SecretResolver::local(), &given)
                .map_err(|e| e.to_string())?
                .expect("a remote environment");
            let provider = QueryProvider::connected(driver, &[]).map_err(|e| e.to_string())?;
            provider
                .exec(text)
                .map(|t| t.num_rows())
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap()
    }

    async fn azure(fake: &FakeLogAnalytics, pairs: &[(&str, &str)]) -> Connect {
        Connect {
            args: args(pairs),
            access: AzureAccess {
                endpoint: Some(fake.url()),
                tokens: Some(fakes::entra_tokens(&fake.entra).await),
            },
            options: QueryOptions::default(),
        }
    }

    fn no_config() -> Config {
        Config::from_yaml(&[]).unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sentinel_workspace_from_arguments_or_by_configured_names() {
        let fake = FakeLogAnalytics::start(|r| r).await;
        let given = azure(
            &fake,
            &[("workspace_id", fakes::WORKSPACE_A), ("tenant_id", TENANT)],
        )
        .await;
        let rows = exec(
            Environment::MSSentinel,
            no_config(),
            given,
            "SigninLogs | take 3",
        )
        .await;
        assert_eq!(rows, Ok(3));

        let yaml = format!(
            "AzureSentinel:\n  Workspaces:\n    Prod:\n      WorkspaceId: {}\n      TenantId: {TENANT}\n    Lab:\n      WorkspaceId: {}\n      TenantId: {TENANT}\n",
            fakes::WORKSPACE_A,
            fakes::WORKSPACE_B
        );
        let config = Config::from_yaml(&[(Path::new("msticpyconfig.yaml"), &yaml)]).unwrap();
        let given = azure(&fake, &[("workspaces", "Prod, Lab")]).await;
        let rows = exec(Environment::MSSentinel, config.clone(), given, "SigninLogs").await;
        assert_eq!(rows, Ok(2 * fakes::ROWS_PER_WORKSPACE));

        let given = azure(&fake, &[("workspace", "Nope")]).await;
        let e = exec(Environment::MSSentinel, config, given, "SigninLogs")
            .await
            .unwrap_err();
        assert!(
            e.contains("no such workspace; configured: Prod, Lab"),
            "{e}"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn connections_added_to_a_provider_are_all_queried() {
        let fake = FakeLogAnalytics::start(|r| r).await;
        let a = azure(
            &fake,
            &[("workspace_id", fakes::WORKSPACE_A), ("tenant_id", TENANT)],
        )
        .await;
        let b = azure(
            &fake,
            &[("workspace_id", fakes::WORKSPACE_B), ("tenant_id", TENANT)],
        )
        .await;
        let rows = tokio::task::spawn_blocking(move || {
            let driver = |given: &Connect| {
                connect(
                    &Environment::MSSentinel,
                    &no_config(),
                    &SecretResolver::local(),
                    given,
                )
                .unwrap()
                .unwrap()
            };
            let mut provider = QueryProvider::new(Environment::MSSentinel, &[]).unwrap();
            let e = provider.exec("SigninLogs").unwrap_err().to_string();
            assert!(e.contains("not connected; call connect()"), "{e}");
            provider.connect(driver(&a)).unwrap();
            provider.add_connection("lab", driver(&b)).unwrap();
            assert_eq!(provider.connections(), vec!["Default", "lab"]);
            let e = provider
                .add_connection("lab", driver(&b))
                .unwrap_err()
                .to_string();
            assert!(e.contains("already a connection called \"lab\""), "{e}");
            let schema = provider.schema().unwrap();
            assert_eq!(schema.len(), 1);
            assert_eq!(schema[0].table, "SigninLogs");
            assert_eq!(
                schema[0].columns[0],
                ("TimeGenerated".into(), "datetime".into())
            );
            provider.exec("SigninLogs | take 4").unwrap().num_rows()
        })
        .await
        .unwrap();
        assert_eq!(rows, 8);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn splunk_from_arguments_laid_over_the_configuration() {
        let fake = FakeSplunk::start().await;
        let url = reqwest::Url::parse(&fake.url()).unwrap();
        let port = url.port().unwrap().to_string();
        // The file names the host; the call gives the rest.
        let yaml = "DataProviders:\n  Splunk:\n    Args:\n      host: 127.0.0.1\n      port: 1\n";
        let config = Config::from_yaml(&[(Path::new("msticpyconfig.yaml"), yaml)]).unwrap();
        let given = Connect {
            args: args(&[
                ("port", &port),
                ("protocol", "http"),
                ("username", fakes::splunk::USER),
                ("password", fakes::splunk::PASSWORD),
            ]),
            ..Connect::default()
        };
        let rows = exec(Environment::Splunk, config, given, "index=main").await;
        assert_eq!(rows, Ok(fakes::splunk::EVENTS));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn elastic_from_arguments_alone() {
        let fake = FakeElastic::start(Flavor::Elasticsearch, |r| r).await;
        let given = Connect {
            args: args(&[
                ("url", &fake.url()),
                ("api_key", fakes::elastic::API_KEY),
                ("index", fakes::elastic::INDEX),
            ]),
            ..Connect::default()
        };
        let rows = exec(
            Environment::Elastic,
            no_config(),
            given,
            r#"{"size": 25, "query": {"match_all": {}}}"#,
        )
        .await;
        assert_eq!(rows, Ok(25));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sentinel_from_msticpys_connection_string() {
        let fake = FakeLogAnalytics::start(|r| r).await;
        let text = format!(
            "loganalytics://code().tenant('{TENANT}').workspace(\"{}\")",
            fakes::WORKSPACE_B
        );
        let given = azure(&fake, &[("connection_str", &text)]).await;
        let rows = exec(Environment::MSSentinel, no_config(), given, "SigninLogs").await;
        assert_eq!(rows, Ok(fakes::ROWS_PER_WORKSPACE));
        let given = azure(&fake, &[("connection_str", "loganalytics://code()")]).await;
        let e = exec(Environment::MSSentinel, no_config(), given, "SigninLogs").await;
        assert!(e.unwrap_err().contains("names no workspace('...')"));
    }

    #[test]
    fn wrong_arguments_and_missing_settings_are_named() {
        let given = Connect {
            args: args(&[("hostname", "x")]),
            ..Connect::default()
        };
        let e = connect(
            &Environment::Splunk,
            &no_config(),
            &SecretResolver::local(),
            &given,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains(
                "connect() does not take \"hostname\" for Splunk; it takes host, port, protocol"
            ),
            "{e}"
        );
        let e = connect(
            &Environment::Splunk,
            &no_config(),
            &SecretResolver::local(),
            &Connect::default(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("DataProviders.Splunk is not configured"), "{e}");
        let local = connect(
            &Environment::LocalData,
            &no_config(),
            &SecretResolver::local(),
            &Connect::default(),
        );
        assert!(matches!(local, Ok(None)));
    }
}
