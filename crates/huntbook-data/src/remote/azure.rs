//! What the Microsoft services share: sign-in from configuration, and their error
//! bodies (`{"error": {"code", "message", "innererror"}}`).

use std::sync::Arc;

use huntbook_core::config::{Config, ProviderSettings};
use huntbook_core::secret::SecretResolver;
use huntbook_http::azure::{Authority, AzureCliCredential, ClientSecretCredential};
use huntbook_http::{Secret, TokenSource};
use serde_json::Value;

use super::{Position, RemoteError};

/// A `DataProviders` entry by any of its names (MSTICPy spells some several ways).
pub(crate) fn provider_settings(
    service: &'static str,
    config: &Config,
    names: &[&str],
) -> Result<Option<ProviderSettings>, RemoteError> {
    let providers = config
        .providers("DataProviders")
        .map_err(|problem| RemoteError::Setup {
            service,
            problem: problem.to_string(),
        })?;
    Ok(providers
        .into_iter()
        .find(|p| names.iter().any(|n| p.name.eq_ignore_ascii_case(n))))
}

/// A text argument of a provider entry.
pub(crate) fn arg_text(settings: &ProviderSettings, name: &str) -> Option<String> {
    settings
        .args
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.scalar_text())
        .filter(|v| !v.trim().is_empty())
}

/// A credential argument of a provider entry, resolved through `resolver`.
pub(crate) fn arg_secret(
    service: &'static str,
    config: &Config,
    resolver: &SecretResolver,
    settings: &ProviderSettings,
    name: &str,
) -> Result<Option<Secret>, RemoteError> {
    let Some((key, _)) = settings
        .args
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
    else {
        return Ok(None);
    };
    let setup = |problem: String| RemoteError::Setup { service, problem };
    let Some(reference) = config
        .secret(&settings.arg_path(key))
        .map_err(|p| setup(p.to_string()))?
    else {
        return Ok(None);
    };
    resolver
        .resolve(&reference)
        .map(Some)
        .map_err(|e| setup(format!("{}: {e}", settings.arg_path(key))))
}

/// Where a caller points a Microsoft service instead of what the configuration and
/// the public cloud say: another endpoint (a sovereign cloud, a proxy, a test
/// server) and another sign-in (a Python credential object).
#[derive(Clone, Default)]
pub struct AzureAccess {
    pub endpoint: Option<String>,
    pub tokens: Option<Arc<dyn TokenSource>>,
}

impl AzureAccess {
    /// The caller's endpoint, else `public`.
    pub(crate) fn endpoint_or<'a>(&'a self, public: &'a str) -> &'a str {
        self.endpoint.as_deref().unwrap_or(public)
    }

    /// The caller's sign-in, else [`credential_from_config`]'s.
    pub(crate) fn tokens(
        &self,
        service: &'static str,
        config: &Config,
        resolver: &SecretResolver,
        own_entry: &[&str],
        tenant: Option<&str>,
    ) -> Result<Arc<dyn TokenSource>, RemoteError> {
        match &self.tokens {
            Some(tokens) => Ok(tokens.clone()),
            None => credential_from_config(service, config, resolver, own_entry, tenant),
        }
    }
}

/// The sign-in for a Microsoft service from configuration: an app's client secret
/// when the provider entry (or `DataProviders.AzureCLI`, as in MSTICPy) has
/// `ClientId` and `ClientSecret`, else the signed-in Azure CLI user.
pub fn credential_from_config(
    service: &'static str,
    config: &Config,
    resolver: &SecretResolver,
    own_entry: &[&str],
    tenant: Option<&str>,
) -> Result<Arc<dyn TokenSource>, RemoteError> {
    let mut entries = Vec::new();
    if let Some(own) = provider_settings(service, config, own_entry)? {
        entries.push(own);
    }
    if let Some(cli) = provider_settings(service, config, &["AzureCLI"])? {
        entries.push(cli);
    }
    let setup = |problem: String| RemoteError::Setup { service, problem };
    for settings in &entries {
        let client_id = arg_text(settings, "ClientId");
        let secret = arg_secret(service, config, resolver, settings, "ClientSecret")?;
        if let (Some(client_id), Some(secret)) = (client_id, secret) {
            let tenant = arg_text(settings, "TenantId")
                .or_else(|| tenant.map(str::to_string))
                .ok_or_else(|| {
                    setup(format!(
                        "{} has ClientId and ClientSecret but no TenantId",
                        settings.arg_path("TenantId")
                    ))
                })?;
            let credential =
                ClientSecretCredential::new(Authority::public(), &tenant, &client_id, secret)
                    .map_err(|e| setup(e.to_string()))?;
            return Ok(Arc::new(credential));
        }
    }
    let mut cli = AzureCliCredential::new();
    if let Some(tenant) = tenant {
        cli = cli.with_tenant(tenant).map_err(|e| setup(e.to_string()))?;
    }
    Ok(Arc::new(cli))
}

/// The message of an Azure error body, from its innermost `innererror` (where Log
/// Analytics puts the parser's own words), with the line and column when given.
pub(crate) fn azure_error(body: &[u8]) -> Option<(String, Position)> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let mut error = json.get("error")?;
    let mut messages = Vec::new();
    let mut at = Position::default();
    loop {
        let code = error.get("code").and_then(Value::as_str);
        // Kusto puts the detailed text in "@message".
        let message = error
            .get("@message")
            .or_else(|| error.get("message"))
            .and_then(Value::as_str);
        if let Some(m) = message {
            let text = match code {
                Some(c) if messages.is_empty() => format!("{c}: {m}"),
                _ => m.to_string(),
            };
            if !messages.contains(&text) {
                messages.push(text);
            }
        }
        if let Some(line) = error.get("line").and_then(Value::as_u64) {
            at = Position {
                line: Some(line),
                column: error.get("pos").and_then(Value::as_u64),
            };
        }
        match error.get("innererror") {
            Some(inner) if inner.is_object() => error = inner,
            _ => break,
        }
    }
    let message = messages.join(" - ");
    if at.line.is_none() {
        at = kusto_position(&message);
    }
    Some((message, at))
}

/// Kusto writes a syntax error's place into its text as `[line:position=1:9]`.
fn kusto_position(message: &str) -> Position {
    let Some(start) = message.find("[line:position=") else {
        return Position::default();
    };
    let rest = &message[start + "[line:position=".len()..];
    let Some((place, _)) = rest.split_once(']') else {
        return Position::default();
    };
    let mut numbers = place.split(':').map(|n| n.trim().parse::<u64>().ok());
    Position {
        line: numbers.next().flatten(),
        column: numbers.next().flatten(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_analytics_syntax_error_gives_the_parser_message_and_place() {
        let body = br#"{"error":{"message":"The request had some invalid properties","code":"BadArgumentError","correlationId":"1","innererror":{"code":"SyntaxError","message":"A recognition error occurred in the query.","innererror":{"code":"SYN0002","message":"Query could not be parsed at 'whre' on line [1,15]","line":1,"pos":15,"token":"whre"}}}}"#;
        let (message, at) = azure_error(body).unwrap();
        assert_eq!(
            message,
            "BadArgumentError: The request had some invalid properties - A recognition error occurred in the query. - Query could not be parsed at 'whre' on line [1,15]"
        );
        assert_eq!(
            at,
            Position {
                line: Some(1),
                column: Some(15)
            }
        );
    }

    #[test]
    fn kusto_error_takes_the_detailed_message() {
        let body = br#"{"error":{"code":"General_BadRequest","message":"Request is invalid and cannot be executed.","@type":"Kusto.Data.Exceptions.SyntaxException","@message":"Syntax error: SYN0002: A recognition error occurred. [line:position=2:7]","@permanent":true}}"#;
        let (message, at) = azure_error(body).unwrap();
        assert!(
            message.starts_with("General_BadRequest: Syntax error: SYN0002"),
            "{message}"
        );
        assert_eq!(
            at,
            Position {
                line: Some(2),
                column: Some(7)
            }
        );
        assert!(azure_error(b"not json").is_none());
    }
}
