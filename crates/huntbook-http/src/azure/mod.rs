//! Microsoft Entra ID (Azure AD) token sources.
//!
//! | source | how it gets a token |
//! |---|---|
//! | [`ClientSecretCredential`] | OAuth 2.0 client credentials with a client secret |
//! | [`ClientCertificateCredential`] | client credentials with a JWT assertion signed by a certificate's key |
//! | [`ManagedIdentityCredential`] | the App Service / Functions identity endpoint, or IMDS on a VM |
//! | [`AzureCliCredential`] | `az account get-access-token` |
//! | [`DeviceCodeCredential`] | the device code flow: the user signs in on another device |
//!
//! Each implements [`crate::TokenSource`] and caches its tokens. The sign-in host is an
//! [`Authority`], so that sovereign clouds (and test servers) work the same way.

mod certificate;
mod cli;
mod client_secret;
mod device_code;
mod managed_identity;

use std::time::{Duration, SystemTime};

use reqwest::Url;
use serde::Deserialize;

use crate::client::{HttpClient, HttpError};
use crate::token::{AccessToken, TokenError};
use crate::Secret;

pub use certificate::{ClientCertificate, ClientCertificateCredential};
pub use cli::AzureCliCredential;
pub use client_secret::ClientSecretCredential;
pub use device_code::{DeviceCodeCredential, DeviceCodePrompt};
pub use managed_identity::{ManagedIdentityCredential, ManagedIdentityEndpoint};

/// The service name in errors from the sign-in endpoints.
const ENTRA_ID: &str = "Microsoft Entra ID";

/// The Microsoft identity platform host that issues tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    base: Url,
}

impl Authority {
    /// Azure's public cloud: `https://login.microsoftonline.com`.
    pub fn public() -> Authority {
        Authority::from_known("https://login.microsoftonline.com/")
    }

    /// Azure Government: `https://login.microsoftonline.us`.
    pub fn us_government() -> Authority {
        Authority::from_known("https://login.microsoftonline.us/")
    }

    /// Azure operated by 21Vianet (China): `https://login.chinacloudapi.cn`.
    pub fn china() -> Authority {
        Authority::from_known("https://login.chinacloudapi.cn/")
    }

    fn from_known(url: &str) -> Authority {
        Authority {
            base: Url::parse(url).expect("the built-in authority URLs are valid"),
        }
    }

    /// Any other host, such as a test server (`http://127.0.0.1:PORT`).
    pub fn custom(url: &str) -> Result<Authority, TokenError> {
        let mut base = Url::parse(url).map_err(|e| TokenError::Setup {
            source_name: ENTRA_ID,
            problem: format!("the authority {url:?} is not a URL ({e})"),
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(TokenError::Setup {
                source_name: ENTRA_ID,
                problem: format!("the authority {url:?} is not an http(s) URL with a host"),
            });
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        Ok(Authority { base })
    }

    /// `{authority}/{tenant}/oauth2/v2.0/{endpoint}`.
    fn endpoint(&self, tenant: &Tenant, endpoint: &str) -> Url {
        self.base
            .join(&format!("{}/oauth2/v2.0/{endpoint}", tenant.0))
            .expect("a checked tenant makes a valid path")
    }
}

impl Default for Authority {
    fn default() -> Authority {
        Authority::public()
    }
}

/// A tenant id (GUID), domain name (`contoso.onmicrosoft.com`) or one of the aliases
/// `organizations`, `common`, `consumers`. Checked because it becomes part of a URL
/// path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tenant(String);

impl Tenant {
    pub(crate) fn new(tenant: &str, source_name: &'static str) -> Result<Tenant, TokenError> {
        let ok = !tenant.is_empty()
            && tenant.len() <= 256
            && !tenant.starts_with('.')
            && !tenant.contains("..")
            && tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if ok {
            Ok(Tenant(tenant.to_string()))
        } else {
            Err(TokenError::Setup {
                source_name,
                problem: format!(
                    "the tenant {tenant:?} is not a tenant id or domain name (letters, digits, '-' and '.')"
                ),
            })
        }
    }
}

/// The client for the sign-in endpoints.
fn entra_client() -> Result<HttpClient, HttpError> {
    HttpClient::builder(ENTRA_ID)
        .timeout(Duration::from_secs(30))
        .build()
}

/// A successful answer from the v2.0 token endpoint.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Seconds,
}

impl TokenResponse {
    fn into_token(self, now: SystemTime) -> AccessToken {
        AccessToken {
            token: Secret::new(self.access_token),
            expires_at: now + Duration::from_secs(self.expires_in.0),
        }
    }
}

/// A number of seconds that some endpoints send as a JSON number and others (managed
/// identity) as a string.
#[derive(Debug, Clone, Copy)]
struct Seconds(u64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(Seconds(n)),
            Raw::Text(t) => t.trim().parse().map(Seconds).map_err(|_| {
                serde::de::Error::custom(format!("expected a number of seconds, found {t:?}"))
            }),
        }
    }
}

/// POST a client-credentials form to the token endpoint and read the token.
async fn request_token(
    http: &HttpClient,
    url: Url,
    form: &[(&str, &str)],
) -> Result<AccessToken, TokenError> {
    let now = SystemTime::now();
    let response: TokenResponse = http.get_json(http.post(url).form(form)).await?;
    Ok(response.into_token(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_that_could_change_the_path_are_refused() {
        for bad in [
            "",
            "../admin",
            "a/b",
            "contoso..com",
            ".hidden",
            "x?y=1",
            "a b",
        ] {
            assert!(Tenant::new(bad, "test").is_err(), "{bad:?} accepted");
        }
        for good in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "contoso.onmicrosoft.com",
            "organizations",
        ] {
            assert!(Tenant::new(good, "test").is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn endpoints_under_a_custom_authority_path() {
        let authority = Authority::custom("http://127.0.0.1:8080/login").unwrap();
        let tenant = Tenant::new("contoso.com", "test").unwrap();
        assert_eq!(
            authority.endpoint(&tenant, "token").as_str(),
            "http://127.0.0.1:8080/login/contoso.com/oauth2/v2.0/token"
        );
        assert_eq!(
            Authority::public().endpoint(&tenant, "devicecode").as_str(),
            "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/devicecode"
        );
        assert!(Authority::custom("file:///etc").is_err());
        assert!(Authority::custom("not a url").is_err());
    }

    #[test]
    fn seconds_as_number_or_text() {
        let n: Seconds = serde_json::from_str("3599").unwrap();
        let t: Seconds = serde_json::from_str("\"3599\"").unwrap();
        assert_eq!((n.0, t.0), (3599, 3599));
        assert!(serde_json::from_str::<Seconds>("\"soon\"").is_err());
    }
}
