//! `Service.incidents` in `huntbook.yaml`: which sinks raise incidents from findings,
//! and how hard deliveries try.
//!
//! ```yaml
//! Service:
//!   incidents:
//!     max_attempts: 5            # then the delivery is a dead letter
//!     sinks:
//!       - local                  # the default when `incidents` is absent
//!       - sentinel: {workspace: Default}   # AzureSentinel.Workspaces.Default
//!       - webhook: {url: https://hooks.example/huntbook, secret: {EnvironmentVar: HOOK_KEY}}
//! ```
//!
//! The Sentinel sink signs in as the Azure CLI user of the workspace's tenant, or as
//! an app when `client_id` and `client_secret` are given; `arm_url` points it at
//! another cloud's Resource Manager. Secrets are references, resolved when the sinks
//! are built, and never shown in messages.

use std::sync::Arc;

use huntbook_core::config::{Config, Problem, Severity, Value, Workspace};
use huntbook_core::secret::{SecretRef, SecretResolver};
use huntbook_http::azure::{Authority, AzureCliCredential, ClientSecretCredential};
use huntbook_http::TokenSource;
use huntbook_sentinel::SentinelClient;
use reqwest::Url;

use super::local::LocalSink;
use super::sentinel::SentinelSink;
use super::webhook::WebhookSink;
use super::{DeliveryPolicy, IncidentSink, SinkError};
use crate::store::JobStore;

/// One configured sink, before it is built.
#[derive(Debug, Clone)]
pub enum SinkSetting {
    Local,
    Webhook {
        url: Url,
        secret: SecretRef,
    },
    Sentinel {
        workspace: Workspace,
        arm_url: Option<String>,
        client_id: Option<String>,
        client_secret: Option<SecretRef>,
    },
}

/// The `Service.incidents` section.
#[derive(Debug, Clone)]
pub struct IncidentSettings {
    pub sinks: Vec<SinkSetting>,
    pub policy: DeliveryPolicy,
}

const SECTION: &str = "Service.incidents";

fn error(key: &str, value: &Value, message: impl Into<String>) -> Problem {
    Problem {
        severity: Severity::Error,
        key: key.to_owned(),
        origin: Some(value.origin.clone()),
        message: message.into(),
    }
}

impl IncidentSettings {
    /// The settings in `config`, or every problem found in them.
    pub fn from_config(config: &Config) -> Result<IncidentSettings, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut settings = IncidentSettings {
            sinks: vec![SinkSetting::Local],
            policy: DeliveryPolicy::default(),
        };
        let Some(section) = config.get(SECTION).filter(|v| !v.is_null()) else {
            return Ok(settings);
        };
        for (key, value) in section.entries().unwrap_or_default() {
            let at = format!("{SECTION}.{key}");
            match key.as_str() {
                "max_attempts" => match value.scalar_text().and_then(|t| t.parse().ok()) {
                    Some(n) if n > 0 => settings.policy.max_attempts = n,
                    _ => problems.push(error(&at, value, "expected a whole number above 0")),
                },
                "sinks" => match &value.kind {
                    huntbook_core::config::Kind::List(items) => {
                        settings.sinks = items
                            .iter()
                            .enumerate()
                            .filter_map(|(i, item)| {
                                sink(config, &format!("{at}[{i}]"), item)
                                    .map_err(|p| problems.push(p))
                                    .ok()
                            })
                            .collect();
                    }
                    _ => problems.push(error(&at, value, "expected a list of sinks")),
                },
                _ => problems.push(error(
                    &at,
                    value,
                    "unknown setting; the settings here are sinks, max_attempts",
                )),
            }
        }
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems)
        }
    }

    /// The sinks, with their secrets resolved and clients made.
    pub fn build(
        &self,
        store: Arc<JobStore>,
        resolver: &SecretResolver,
    ) -> Result<Vec<Arc<dyn IncidentSink>>, SinkError> {
        self.sinks
            .iter()
            .map(|setting| -> Result<Arc<dyn IncidentSink>, SinkError> {
                Ok(match setting {
                    SinkSetting::Local => Arc::new(LocalSink::new(store.clone())),
                    SinkSetting::Webhook { url, secret } => {
                        let secret = resolver
                            .resolve(secret)
                            .map_err(|e| SinkError::failed("webhook", e))?;
                        Arc::new(WebhookSink::new(url.clone(), secret)?)
                    }
                    SinkSetting::Sentinel {
                        workspace,
                        arm_url,
                        client_id,
                        client_secret,
                    } => {
                        let failed = |e: &dyn std::fmt::Display| SinkError::failed("sentinel", e);
                        let tokens: Arc<dyn TokenSource> = match (client_id, client_secret) {
                            (Some(id), Some(secret)) => Arc::new(
                                ClientSecretCredential::new(
                                    Authority::public(),
                                    &workspace.tenant_id,
                                    id,
                                    resolver.resolve(secret).map_err(|e| failed(&e))?,
                                )
                                .map_err(|e| failed(&e))?,
                            ),
                            _ => Arc::new(
                                AzureCliCredential::new()
                                    .with_tenant(&workspace.tenant_id)
                                    .map_err(|e| failed(&e))?,
                            ),
                        };
                        let client = SentinelClient::new(workspace, tokens, arm_url.as_deref())
                            .map_err(|e| failed(&e))?;
                        Arc::new(SentinelSink::new(client))
                    }
                })
            })
            .collect()
    }
}

/// One entry of the sinks list.
fn sink(config: &Config, at: &str, item: &Value) -> Result<SinkSetting, Problem> {
    if item.as_str() == Some("local") {
        return Ok(SinkSetting::Local);
    }
    let expected =
        "expected `local`, `sentinel: {workspace: NAME}` or `webhook: {url: URL, secret: REF}`";
    let Some([(kind, body)]) = item.entries() else {
        return Err(error(at, item, expected));
    };
    let at = format!("{at}.{kind}");
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    match kind.as_str() {
        "webhook" => {
            let url = text("url")
                .and_then(|u| Url::parse(&u).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| error(&format!("{at}.url"), body, "expected an http(s) URL"))?;
            let secret = match body.get("secret") {
                Some(value) => config.secret_in(&format!("{at}.secret"), value)?,
                None => None,
            }
            .ok_or_else(|| {
                error(
                    &format!("{at}.secret"),
                    body,
                    "a webhook needs a secret to sign with, such as {EnvironmentVar: HOOK_KEY}",
                )
            })?;
            Ok(SinkSetting::Webhook { url, secret })
        }
        "sentinel" => {
            let workspace = config.workspace(text("workspace").as_deref())?;
            let client_secret = match body.get("client_secret") {
                Some(value) => config.secret_in(&format!("{at}.client_secret"), value)?,
                None => None,
            };
            Ok(SinkSetting::Sentinel {
                workspace,
                arm_url: text("arm_url"),
                client_id: text("client_id"),
                client_secret,
            })
        }
        _ => Err(error(&at, item, expected)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(yaml: &str) -> Config {
        Config::from_yaml(&[(Path::new("huntbook.yaml"), yaml)]).unwrap()
    }

    #[test]
    fn without_the_section_the_local_store_is_the_sink() {
        let settings = IncidentSettings::from_config(&config("Service: {}\n")).unwrap();
        assert!(matches!(settings.sinks[..], [SinkSetting::Local]));
        assert_eq!(settings.policy, DeliveryPolicy::default());
    }

    #[test]
    fn the_three_sinks_are_read() {
        let yaml = "\
AzureSentinel:
  Workspaces:
    Default:
      WorkspaceId: 52b1ab41-869e-4138-9e40-2a4457f09bf0
      TenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
      SubscriptionId: d0cfe6b2-9ac0-4464-9919-dccaee2e48c0
      ResourceGroup: soc-rg
      WorkspaceName: soc
Service:
  incidents:
    max_attempts: 3
    sinks:
      - local
      - sentinel: {workspace: Default}
      - webhook: {url: 'https://hooks.example/huntbook', secret: {EnvironmentVar: HOOK_KEY}}
";
        let settings = IncidentSettings::from_config(&config(yaml)).unwrap();
        assert_eq!(settings.policy.max_attempts, 3);
        assert!(matches!(settings.sinks[0], SinkSetting::Local));
        assert!(
            matches!(&settings.sinks[1], SinkSetting::Sentinel { workspace, .. } if workspace.workspace_name.as_deref() == Some("soc"))
        );
        assert!(
            matches!(&settings.sinks[2], SinkSetting::Webhook { url, .. } if url.as_str() == "https://hooks.example/huntbook")
        );
    }

    #[test]
    fn mistakes_are_named_by_key() {
        let yaml = "\
Service:
  incidents:
    max_attempts: 0
    sinks:
      - pager
      - webhook: {url: 'ftp://x'}
      - webhook: {url: 'https://x.example'}
";
        let problems = IncidentSettings::from_config(&config(yaml)).unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "Service.incidents.max_attempts",
                "Service.incidents.sinks[0]",
                "Service.incidents.sinks[1].webhook.url",
                "Service.incidents.sinks[2].webhook.secret",
            ]
        );
    }
}
