//! Device code flow: the user signs in on another device with a short code.
//!
//! Follows "Microsoft identity platform and the OAuth 2.0 device authorization grant
//! flow": `POST {authority}/{tenant}/oauth2/v2.0/devicecode` with `client_id` and
//! `scope` gives a `user_code`, a `verification_uri`, a ready-made `message`, an
//! `interval` and an `expires_in`. The message is shown ([`DeviceCodePrompt`]); then the
//! token endpoint is polled with `grant_type=urn:ietf:params:oauth:grant-type:device_code`
//! every `interval` seconds. Its documented answers while waiting are errors:
//! `authorization_pending` (keep polling), `slow_down` (poll less often; RFC 8628 adds
//! 5 s), `authorization_declined`, `expired_token` and `bad_verification_code` (stop).
//!
//! Only the access token is kept: when it expires the user is asked to sign in again.

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::azure::{entra_client, Authority, Seconds, Tenant, TokenResponse};
use crate::client::HttpClient;
use crate::token::{AccessToken, BoxFuture, Scope, TokenCache, TokenError, TokenSource};

const SOURCE: &str = "Azure device code sign-in";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 section 3.5: on `slow_down` the interval grows by 5 seconds.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The interval when the server names none (RFC 8628).
const DEFAULT_INTERVAL: u64 = 5;

/// What the user must do to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: String,
    /// The server's instruction, e.g. "To sign in, use a web browser to open the page
    /// `https://microsoft.com/devicelogin` and enter the code ABCD1234 to
    /// authenticate."
    pub message: String,
    /// How long the code is valid.
    pub expires_in: Duration,
}

type ShowPrompt = Box<dyn Fn(&DeviceCodePrompt) + Send + Sync>;

/// A user signing in through the device code flow.
pub struct DeviceCodeCredential {
    authority: Authority,
    tenant: Tenant,
    client_id: String,
    show: ShowPrompt,
    http: HttpClient,
    cache: TokenCache,
}

impl std::fmt::Debug for DeviceCodeCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCodeCredential")
            .field("authority", &self.authority)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct DeviceCodeResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: Seconds,
    interval: Option<Seconds>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    error_description: Option<String>,
}

impl DeviceCodeCredential {
    /// Signs in to `client_id` (a public client app registration); the prompt is
    /// printed to standard error.
    pub fn new(
        authority: Authority,
        tenant: &str,
        client_id: &str,
    ) -> Result<DeviceCodeCredential, TokenError> {
        Ok(DeviceCodeCredential {
            authority,
            tenant: Tenant::new(tenant, SOURCE)?,
            client_id: client_id.to_string(),
            show: Box::new(|prompt| eprintln!("{}", prompt.message)),
            http: entra_client()?,
            cache: TokenCache::new(),
        })
    }

    /// Show the prompt some other way (a notebook widget, a log line).
    pub fn with_prompt(
        mut self,
        show: impl Fn(&DeviceCodePrompt) + Send + Sync + 'static,
    ) -> DeviceCodeCredential {
        self.show = Box::new(show);
        self
    }

    /// Use this client (timeouts, retries, proxy) for the sign-in endpoints.
    pub fn with_http(mut self, http: HttpClient) -> DeviceCodeCredential {
        self.http = http;
        self
    }

    async fn fetch(&self, scope: &Scope) -> Result<AccessToken, TokenError> {
        let scope = scope.as_scope();
        let url = self.authority.endpoint(&self.tenant, "devicecode");
        let form = [
            ("client_id", self.client_id.as_str()),
            ("scope", scope.as_str()),
        ];
        let code: DeviceCodeResponse = self.http.get_json(self.http.post(url).form(&form)).await?;
        let expires_in = Duration::from_secs(code.expires_in.0);
        let prompt = DeviceCodePrompt {
            message: code.message.unwrap_or_else(|| {
                format!(
                    "To sign in, open {} and enter the code {}",
                    code.verification_uri, code.user_code
                )
            }),
            user_code: code.user_code,
            verification_uri: code.verification_uri,
            expires_in,
        };
        (self.show)(&prompt);

        let deadline = tokio::time::Instant::now() + expires_in;
        // A zero interval would poll in a busy loop.
        let mut interval =
            Duration::from_secs(code.interval.map_or(DEFAULT_INTERVAL, |s| s.0).max(1));
        let token_url = self.authority.endpoint(&self.tenant, "token");
        let form = [
            ("grant_type", GRANT_TYPE),
            ("client_id", self.client_id.as_str()),
            ("device_code", code.device_code.as_str()),
        ];
        loop {
            tokio::time::sleep(interval).await;
            if tokio::time::Instant::now() >= deadline {
                return Err(expired(expires_in));
            }
            let now = SystemTime::now();
            let response = self
                .http
                .send_allowing_client_errors(self.http.post(token_url.clone()).form(&form))
                .await?;
            if response.status().is_success() {
                let token: TokenResponse = self.http.json(response).await?;
                return Ok(token.into_token(now));
            }
            let error: OAuthError = self.http.json(response).await?;
            match error.error.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += SLOW_DOWN_STEP,
                "authorization_declined" => {
                    return Err(TokenError::Refused {
                        source_name: SOURCE,
                        problem: "the user declined the sign-in".into(),
                        hint: "run again and approve the sign-in on the verification page",
                    })
                }
                "expired_token" => return Err(expired(expires_in)),
                "bad_verification_code" => {
                    return Err(TokenError::Refused {
                        source_name: SOURCE,
                        problem: "the sign-in service does not know the device code".into(),
                        hint: "run again to get a new code",
                    })
                }
                other => {
                    let description = error.error_description.unwrap_or_default();
                    let first = description.lines().next().unwrap_or("").trim();
                    return Err(TokenError::Refused {
                        source_name: SOURCE,
                        problem: format!("sign-in failed with {other}: {first}"),
                        hint: "check the client id, tenant and scope",
                    });
                }
            }
        }
    }
}

fn expired(valid_for: Duration) -> TokenError {
    TokenError::Refused {
        source_name: SOURCE,
        problem: format!(
            "the code expired ({} s) before sign-in finished",
            valid_for.as_secs()
        ),
        hint: "run again and enter the code promptly",
    }
}

impl TokenSource for DeviceCodeCredential {
    fn token<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(self.cache.get_or_fetch(scope, || self.fetch(scope)))
    }
}
