//! Bearer tokens: the [`TokenSource`] trait and the cache its implementations share.
//!
//! A token source answers "a bearer token for this API" ([`Scope`]), such as
//! `https://vault.azure.net` for Key Vault. Each source keeps a [`TokenCache`] and asks
//! its identity provider again only when the cached token is about to expire.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use crate::client::HttpError;
use crate::Secret;

/// A boxed future, so that [`TokenSource`] can be used as `dyn TokenSource`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that can give a bearer token for a scope.
pub trait TokenSource: Send + Sync {
    /// A token for `scope`, from the cache while it has more than a few minutes left.
    fn token<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>>;
}

/// A bearer token and when it stops working.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    pub expires_at: SystemTime,
}

impl AccessToken {
    /// Whether the token has less than `margin` left at `now`.
    pub fn expires_within(&self, margin: Duration, now: SystemTime) -> bool {
        match self.expires_at.duration_since(now) {
            Ok(left) => left < margin,
            Err(_) => true,
        }
    }
}

/// The API a token is for. Microsoft's v2 endpoints take an OAuth scope
/// (`https://vault.azure.net/.default`), while managed identity and older flows take a
/// resource (`https://vault.azure.net`); a `Scope` is written either way and gives
/// both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope(String);

const DEFAULT_SUFFIX: &str = "/.default";

impl Scope {
    pub fn new(scope_or_resource: impl Into<String>) -> Scope {
        Scope(scope_or_resource.into())
    }

    /// As an OAuth 2.0 scope: the resource followed by `/.default`, unless it already
    /// names a scope.
    pub fn as_scope(&self) -> String {
        if self.0.ends_with(DEFAULT_SUFFIX) || self.0.contains(' ') {
            self.0.clone()
        } else {
            format!("{}{DEFAULT_SUFFIX}", self.0.trim_end_matches('/'))
        }
    }

    /// As a resource (audience): without a trailing `/.default`.
    pub fn as_resource(&self) -> &str {
        self.0.strip_suffix(DEFAULT_SUFFIX).unwrap_or(&self.0)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{source_name}: {problem}; {hint}")]
    Refused {
        source_name: &'static str,
        problem: String,
        hint: &'static str,
    },
    #[error("{source_name} is not set up: {problem}")]
    Setup {
        source_name: &'static str,
        problem: String,
    },
}

/// Tokens are renewed this long before they expire, so that a token handed out is
/// still good for the request it is used in. Microsoft's libraries use the same
/// margin.
pub const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Tokens by scope, fetched once and reused until close to expiry.
#[derive(Debug, Default)]
pub struct TokenCache {
    // An async lock held across the fetch, so that callers asking at the same time
    // share one request instead of each signing in.
    tokens: tokio::sync::Mutex<HashMap<Scope, AccessToken>>,
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// The cached token for `scope`, or a new one from `fetch`.
    pub async fn get_or_fetch<F, Fut>(
        &self,
        scope: &Scope,
        fetch: F,
    ) -> Result<AccessToken, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, TokenError>>,
    {
        let mut tokens = self.tokens.lock().await;
        if let Some(token) = tokens.get(scope) {
            if !token.expires_within(RENEW_BEFORE, SystemTime::now()) {
                return Ok(token.clone());
            }
        }
        let token = fetch().await?;
        tokens.insert(scope.clone(), token.clone());
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn scope_and_resource_forms() {
        let vault = Scope::new("https://vault.azure.net");
        assert_eq!(vault.as_scope(), "https://vault.azure.net/.default");
        assert_eq!(vault.as_resource(), "https://vault.azure.net");
        let graph = Scope::new("https://graph.microsoft.com/.default");
        assert_eq!(graph.as_scope(), "https://graph.microsoft.com/.default");
        assert_eq!(graph.as_resource(), "https://graph.microsoft.com");
        assert_eq!(
            Scope::new("https://api.loganalytics.io/").as_scope(),
            "https://api.loganalytics.io/.default"
        );
    }

    #[tokio::test]
    async fn cache_reuses_until_close_to_expiry() {
        let cache = TokenCache::new();
        let fetched = AtomicU32::new(0);
        let fetch = |lifetime: u64| {
            let n = fetched.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(AccessToken {
                    token: Secret::new(format!("t{n}")),
                    expires_at: SystemTime::now() + Duration::from_secs(lifetime),
                })
            }
        };
        let scope = Scope::new("https://vault.azure.net");
        let first = cache.get_or_fetch(&scope, || fetch(3600)).await.unwrap();
        let again = cache.get_or_fetch(&scope, || fetch(3600)).await.unwrap();
        assert_eq!(first.token.expose(), again.token.expose());
        assert_eq!(fetched.load(Ordering::SeqCst), 1);
        // Another scope is another token.
        cache
            .get_or_fetch(&Scope::new("https://management.azure.com"), || fetch(3600))
            .await
            .unwrap();
        assert_eq!(fetched.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn token_near_expiry_is_renewed() {
        let cache = TokenCache::new();
        let scope = Scope::new("https://vault.azure.net");
        let short = |name: &'static str| async move {
            Ok(AccessToken {
                token: Secret::new(name),
                expires_at: SystemTime::now() + Duration::from_secs(60),
            })
        };
        cache.get_or_fetch(&scope, || short("old")).await.unwrap();
        let renewed = cache.get_or_fetch(&scope, || short("new")).await.unwrap();
        assert_eq!(renewed.token.expose(), "new");
    }
}
