//! Client credentials with a client secret.
//!
//! Follows "Microsoft identity platform and the OAuth 2.0 client credentials flow",
//! first case (shared secret): `POST {authority}/{tenant}/oauth2/v2.0/token` with the
//! form `client_id`, `client_secret`, `scope` (`{resource}/.default`) and
//! `grant_type=client_credentials`.

use crate::azure::{entra_client, request_token, Authority, Tenant};
use crate::client::HttpClient;
use crate::token::{AccessToken, BoxFuture, Scope, TokenCache, TokenError, TokenSource};
use crate::Secret;

const SOURCE: &str = "Azure client secret credential";

/// An app registration signing in with its client secret.
#[derive(Debug)]
pub struct ClientSecretCredential {
    authority: Authority,
    tenant: Tenant,
    client_id: String,
    secret: Secret,
    http: HttpClient,
    cache: TokenCache,
}

impl ClientSecretCredential {
    pub fn new(
        authority: Authority,
        tenant: &str,
        client_id: &str,
        secret: Secret,
    ) -> Result<ClientSecretCredential, TokenError> {
        Ok(ClientSecretCredential {
            authority,
            tenant: Tenant::new(tenant, SOURCE)?,
            client_id: client_id.to_string(),
            secret,
            http: entra_client()?,
            cache: TokenCache::new(),
        })
    }

    /// Use this client (timeouts, retries, proxy) for the token endpoint.
    pub fn with_http(mut self, http: HttpClient) -> ClientSecretCredential {
        self.http = http;
        self
    }

    async fn fetch(&self, scope: &Scope) -> Result<AccessToken, TokenError> {
        let url = self.authority.endpoint(&self.tenant, "token");
        let scope = scope.as_scope();
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.expose()),
            ("scope", scope.as_str()),
            ("grant_type", "client_credentials"),
        ];
        request_token(&self.http, url, &form).await
    }
}

impl TokenSource for ClientSecretCredential {
    fn token<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(self.cache.get_or_fetch(scope, || self.fetch(scope)))
    }
}
