//! Secrets and where they come from.
//!
//! A credential in the configuration is a [`SecretRef`]: a literal, an environment
//! variable, a file, an Azure Key Vault secret or a HashiCorp Vault KV v2 field. A
//! [`SecretResolver`] turns a reference into a [`Secret`] through the
//! [`SecretSource`] registered for its [`SecretKind`]. This crate provides the
//! environment and file sources; the vault sources, which need HTTP, implement the
//! same trait in `huntbook-http`.
//!
//! A [`Secret`] never shows its value in `Debug` or `Display` output, so it can sit
//! in structs that are logged or printed in errors.
//!
//! ```
//! use huntbook_core::secret::{EnvSource, SecretRef, SecretResolver, SecretError};
//!
//! let resolver = SecretResolver::new().with_source(EnvSource);
//! let reference = SecretRef::EnvironmentVar { name: "HUNTBOOK_DOC_EXAMPLE_UNSET".into() };
//! let err = resolver.resolve(&reference).unwrap_err();
//! assert!(matches!(err, SecretError::EnvNotSet { .. }));
//! assert_eq!(format!("{:?}", huntbook_core::secret::Secret::new("hunter2")), "Secret(***)");
//! ```

mod reference;
mod sources;

pub use reference::{SecretKind, SecretRef};
pub use sources::{EnvSource, FileSource};

use std::fmt;
use std::path::PathBuf;

/// A secret value. `Debug` and `Display` print `***`; read the value with
/// [`Secret::expose`] at the one place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why a secret could not be resolved. No variant holds a secret value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {name} is not set; export it or change the reference")]
    EnvNotSet { name: String },
    #[error("environment variable {name} is set but empty")]
    EnvEmpty { name: String },
    #[error("environment variable {name} does not hold valid UTF-8")]
    EnvNotUnicode { name: String },
    #[error("cannot read secret file {}: {source}", path.display())]
    FileUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret file {} is empty", path.display())]
    FileEmpty { path: PathBuf },
    #[error("no source is registered for {kind} secrets ({reference})")]
    NoSource { kind: SecretKind, reference: String },
    /// A failure inside a source, e.g. a vault answering 403. `message` must not
    /// contain the secret.
    #[error("{kind} secret {reference}: {message}")]
    Source {
        kind: SecretKind,
        reference: String,
        message: String,
    },
}

/// Something that can resolve references of one kind. Implementations are blocking;
/// an async client wraps its call.
pub trait SecretSource: Send + Sync {
    /// The kind of reference this source resolves.
    fn kind(&self) -> SecretKind;

    /// Fetches the secret `reference` names. Called only with references of
    /// [`kind`](SecretSource::kind).
    fn resolve(&self, reference: &SecretRef) -> Result<Secret, SecretError>;
}

/// Resolves references through the source registered for their kind. Literals need
/// no source.
#[derive(Default)]
pub struct SecretResolver {
    sources: Vec<Box<dyn SecretSource>>,
}

impl SecretResolver {
    pub fn new() -> SecretResolver {
        SecretResolver::default()
    }

    /// The environment and file sources, the ones that need no network.
    pub fn local() -> SecretResolver {
        SecretResolver::new()
            .with_source(EnvSource)
            .with_source(FileSource)
    }

    /// Adds `source`, replacing any earlier source of the same kind.
    pub fn with_source(mut self, source: impl SecretSource + 'static) -> SecretResolver {
        self.sources.retain(|s| s.kind() != source.kind());
        self.sources.push(Box::new(source));
        self
    }

    /// Whether a reference of `kind` can be resolved here.
    pub fn handles(&self, kind: SecretKind) -> bool {
        kind == SecretKind::Literal || self.sources.iter().any(|s| s.kind() == kind)
    }

    pub fn resolve(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        if let SecretRef::Literal(secret) = reference {
            return Ok(secret.clone());
        }
        let kind = reference.kind();
        self.sources
            .iter()
            .find(|s| s.kind() == kind)
            .ok_or_else(|| SecretError::NoSource {
                kind,
                reference: reference.to_string(),
            })?
            .resolve(reference)
    }
}

impl fmt::Debug for SecretResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<SecretKind> = self.sources.iter().map(|s| s.kind()).collect();
        f.debug_struct("SecretResolver")
            .field("sources", &kinds)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_their_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(secret.to_string(), "***");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(***))");
        assert_eq!(secret.expose(), "hunter2");
    }

    struct FixedVault;

    impl SecretSource for FixedVault {
        fn kind(&self) -> SecretKind {
            SecretKind::KeyVault
        }

        fn resolve(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
            match reference {
                SecretRef::KeyVault { vault, name } => Ok(Secret::new(format!("{vault}:{name}"))),
                other => panic!("called with {other}"),
            }
        }
    }

    #[test]
    fn references_go_to_the_source_of_their_kind() {
        let resolver = SecretResolver::local().with_source(FixedVault);
        let kv = SecretRef::KeyVault {
            vault: "v1".into(),
            name: "otx".into(),
        };
        assert_eq!(resolver.resolve(&kv).unwrap().expose(), "v1:otx");
        let literal = SecretRef::Literal(Secret::new("abc"));
        assert_eq!(resolver.resolve(&literal).unwrap().expose(), "abc");
        assert!(resolver.handles(SecretKind::File));
        assert!(!resolver.handles(SecretKind::HashiCorpVault));
    }

    #[test]
    fn a_kind_without_a_source_is_named_in_the_error() {
        let reference = SecretRef::HashiCorpVault {
            mount: None,
            path: "huntbook/ti".into(),
            key: "vt".into(),
        };
        let err = SecretResolver::local().resolve(&reference).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no source is registered for HashiCorpVault secrets (HashiCorpVault huntbook/ti#vt)"
        );
    }
}
