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

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}
