//! Secrets from vaults: Azure Key Vault and HashiCorp Vault (KV version 2).
//!
//! [`KeyVaultClient`] reads a secret with a bearer token from any
//! [`crate::TokenSource`]; [`HashiVaultClient`] reads one key of a KV v2 secret with a
//! Vault token. Both are async; [`Blocking`] runs either from synchronous code, and
//! `Blocking<KeyVaultClient>` and `Blocking<HashiVaultClient>` are `huntbook-core`
//! `SecretSource`s, so that a `SecretResolver` resolves the `{KeyVault: ...}` and
//! `{HashiCorpVault: ...}` references of the configuration through them.

mod blocking;
mod hashicorp;
mod key_vault;
mod source;

pub use blocking::Blocking;
pub use hashicorp::HashiVaultClient;
pub use key_vault::KeyVaultClient;

use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;

use crate::client::HttpError;
use crate::token::TokenError;

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("{what} {value:?} is not valid: {rule}")]
    BadName {
        what: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error(
        "the secret at {path} has no key {key:?}; its keys are: {}",
        list(available)
    )]
    MissingKey {
        path: String,
        key: String,
        available: Vec<String>,
    },
    #[error("the secret at {path} has been deleted or destroyed (version {version}); restore it or write a new version")]
    Deleted { path: String, version: u64 },
    #[error("{service} is not set up: {problem}")]
    Setup {
        service: &'static str,
        problem: String,
    },
}

/// The resolver for the credentials of `config`: environment variables and files,
/// plus Azure Key Vault when a `KeyVault` section is configured (signed in as the
/// Azure CLI user of its tenant, as MSTICPy's default is) and HashiCorp Vault when a
/// `HashiCorpVault` section is.
///
/// A vault that cannot be set up (a malformed section, a Vault token that is not
/// there) is left out, and a reference to it then fails with the reason when it is
/// resolved: a configuration whose values need no vault still works.
pub fn resolver(config: &Config) -> SecretResolver {
    let mut resolver = SecretResolver::local();
    if let Ok(Some(settings)) = config.key_vault() {
        let suffix = match settings.authority.as_str() {
            "usgov" => "vault.usgovcloudapi.net",
            "cn" => "vault.azure.cn",
            "de" => "vault.microsoftazure.de",
            _ => "vault.azure.net",
        };
        let client = crate::azure::AzureCliCredential::new()
            .with_tenant(&settings.tenant_id)
            .map_err(VaultError::from)
            .and_then(|cli| KeyVaultClient::new(std::sync::Arc::new(cli)))
            .and_then(|client| client.with_vault_suffix(suffix))
            .and_then(Blocking::new);
        if let Ok(source) = client {
            resolver = resolver.with_source(source);
        }
    }
    if let Ok(Some(settings)) = config.hashicorp_vault() {
        let client = SecretResolver::local()
            .resolve(&settings.token)
            .map_err(|e| VaultError::Setup {
                service: "HashiCorp Vault",
                problem: e.to_string(),
            })
            .and_then(|token| HashiVaultClient::new(&settings.url, token))
            .map(|client| {
                let client = client.with_default_mount(&settings.mount);
                match &settings.namespace {
                    Some(namespace) => client.with_namespace(namespace),
                    None => client,
                }
            })
            .and_then(Blocking::new);
        if let Ok(source) = client {
            resolver = resolver.with_source(source);
        }
    }
    resolver
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}
