//! Managed identity: the token comes from an endpoint of the Azure host itself.
//!
//! Two protocols, chosen from the environment as Microsoft's libraries do:
//! - App Service and Functions ("Managed identities for App Service and Azure
//!   Functions", REST endpoint reference): `GET {IDENTITY_ENDPOINT}?resource=...&
//!   api-version=2019-08-01` with the header `X-IDENTITY-HEADER: {IDENTITY_HEADER}`.
//! - Virtual machines, IMDS ("How to use managed identities for Azure resources on an
//!   Azure VM to acquire an access token"): `GET http://169.254.169.254/metadata/identity/
//!   oauth2/token?api-version=2018-02-01&resource=...` with `Metadata: true`.
//!
//! Both answer `access_token` and `expires_on` (Unix seconds, as a string). A
//! user-assigned identity is picked with `client_id`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use serde::Deserialize;

use crate::azure::Seconds;
use crate::client::{HttpClient, HttpError};
use crate::token::{AccessToken, BoxFuture, Scope, TokenCache, TokenError, TokenSource};
use crate::Secret;

const SOURCE: &str = "Azure managed identity";
const IMDS_URL: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
const IMDS_API_VERSION: &str = "2018-02-01";
const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// Where the host's identity endpoint is.
#[derive(Debug, Clone)]
pub enum ManagedIdentityEndpoint {
    /// App Service / Functions: `IDENTITY_ENDPOINT` and the `IDENTITY_HEADER` value.
    AppService { endpoint: Url, header: Secret },
    /// The instance metadata service of a VM (or another URL speaking its protocol).
    Imds { endpoint: Url },
}

impl ManagedIdentityEndpoint {
    /// IMDS at its fixed link-local address.
    pub fn imds() -> ManagedIdentityEndpoint {
        ManagedIdentityEndpoint::Imds {
            endpoint: Url::parse(IMDS_URL).expect("the IMDS URL is valid"),
        }
    }

    /// App Service when `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set, IMDS when
    /// neither is.
    pub fn from_env() -> Result<ManagedIdentityEndpoint, TokenError> {
        ManagedIdentityEndpoint::from_vars(
            std::env::var("IDENTITY_ENDPOINT").ok(),
            std::env::var("IDENTITY_HEADER").ok(),
        )
    }

    fn from_vars(
        endpoint: Option<String>,
        header: Option<String>,
    ) -> Result<ManagedIdentityEndpoint, TokenError> {
        match (endpoint, header) {
            (Some(endpoint), Some(header)) => Ok(ManagedIdentityEndpoint::AppService {
                endpoint: Url::parse(&endpoint).map_err(|e| TokenError::Setup {
                    source_name: SOURCE,
                    problem: format!("IDENTITY_ENDPOINT {endpoint:?} is not a URL ({e})"),
                })?,
                header: Secret::new(header),
            }),
            (None, None) => Ok(ManagedIdentityEndpoint::imds()),
            (Some(_), None) | (None, Some(_)) => Err(TokenError::Setup {
                source_name: SOURCE,
                problem: "only one of IDENTITY_ENDPOINT and IDENTITY_HEADER is set; App Service sets both".into(),
            }),
        }
    }
}

/// The identity of the Azure resource this runs on.
#[derive(Debug)]
pub struct ManagedIdentityCredential {
    endpoint: ManagedIdentityEndpoint,
    client_id: Option<String>,
    http: HttpClient,
    cache: TokenCache,
}

#[derive(Deserialize)]
struct IdentityResponse {
    access_token: String,
    expires_on: Option<Seconds>,
    expires_in: Option<Seconds>,
}

impl ManagedIdentityCredential {
    pub fn new(endpoint: ManagedIdentityEndpoint) -> Result<ManagedIdentityCredential, TokenError> {
        let service = match endpoint {
            ManagedIdentityEndpoint::AppService { .. } => "App Service managed identity endpoint",
            ManagedIdentityEndpoint::Imds { .. } => "Azure Instance Metadata Service (IMDS)",
        };
        // The endpoints are local to the host (link-local or loopback): a proxy from
        // the environment could not reach them.
        let http = HttpClient::builder(service)
            .no_proxy()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(ManagedIdentityCredential {
            endpoint,
            client_id: None,
            http,
            cache: TokenCache::new(),
        })
    }

    /// The endpoint from the environment ([`ManagedIdentityEndpoint::from_env`]).
    pub fn from_env() -> Result<ManagedIdentityCredential, TokenError> {
        ManagedIdentityCredential::new(ManagedIdentityEndpoint::from_env()?)
    }

    /// Use a user-assigned identity rather than the system-assigned one.
    pub fn with_client_id(mut self, client_id: &str) -> ManagedIdentityCredential {
        self.client_id = Some(client_id.to_string());
        self
    }

    /// Use this client (timeouts, retries) for the endpoint.
    pub fn with_http(mut self, http: HttpClient) -> ManagedIdentityCredential {
        self.http = http;
        self
    }

    async fn fetch(&self, scope: &Scope) -> Result<AccessToken, TokenError> {
        let (mut url, api_version) = match &self.endpoint {
            ManagedIdentityEndpoint::AppService { endpoint, .. } => {
                (endpoint.clone(), APP_SERVICE_API_VERSION)
            }
            ManagedIdentityEndpoint::Imds { endpoint } => (endpoint.clone(), IMDS_API_VERSION),
        };
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("api-version", api_version)
                .append_pair("resource", scope.as_resource());
            if let Some(id) = &self.client_id {
                query.append_pair("client_id", id);
            }
        }
        let request = match &self.endpoint {
            ManagedIdentityEndpoint::AppService { header, .. } => self
                .http
                .get(url.clone())
                .header("X-IDENTITY-HEADER", header.expose()),
            ManagedIdentityEndpoint::Imds { .. } => {
                self.http.get(url.clone()).header("Metadata", "true")
            }
        };
        let now = SystemTime::now();
        let response: IdentityResponse = self.http.get_json(request).await?;
        let expires_at = match (response.expires_on, response.expires_in) {
            (Some(on), _) => UNIX_EPOCH + Duration::from_secs(on.0),
            (None, Some(within)) => now + Duration::from_secs(within.0),
            (None, None) => {
                return Err(HttpError::Malformed {
                    service: self.http.service().to_string(),
                    url: crate::client::redact_url(&url),
                    problem: "the token has neither expires_on nor expires_in".into(),
                }
                .into())
            }
        };
        Ok(AccessToken {
            token: Secret::new(response.access_token),
            expires_at,
        })
    }
}

impl TokenSource for ManagedIdentityCredential {
    fn token<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(self.cache.get_or_fetch(scope, || self.fetch(scope)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_from_the_environment() {
        let none = ManagedIdentityEndpoint::from_vars(None, None).unwrap();
        assert!(
            matches!(none, ManagedIdentityEndpoint::Imds { endpoint } if endpoint.as_str() == IMDS_URL)
        );
        let app = ManagedIdentityEndpoint::from_vars(
            Some("http://127.0.0.1:41000/msi/token".into()),
            Some("abc".into()),
        )
        .unwrap();
        assert!(matches!(app, ManagedIdentityEndpoint::AppService { .. }));
        let half = ManagedIdentityEndpoint::from_vars(Some("http://x/".into()), None).unwrap_err();
        assert!(half.to_string().contains("IDENTITY_HEADER"));
        let bad =
            ManagedIdentityEndpoint::from_vars(Some("::".into()), Some("h".into())).unwrap_err();
        assert!(bad.to_string().contains("IDENTITY_ENDPOINT"));
        assert!(!format!("{app:?}").contains("abc"));
    }
}
