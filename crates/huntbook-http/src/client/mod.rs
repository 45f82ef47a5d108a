//! The HTTP client every remote huntbook component uses.
//!
//! [`HttpClient`] wraps a `reqwest::Client` with what each service client would
//! otherwise write again: timeouts, a user agent, the proxy from `HTTPS_PROXY` /
//! `HTTP_PROXY` / `NO_PROXY` (honoured unless [`HttpClientBuilder::no_proxy`]), a
//! per-host [`RateLimit`], retries with backoff and `Retry-After` ([`RetryPolicy`]), and
//! statuses turned into [`HttpError`]s that say what to check and never show secrets.

mod error;
mod rate;
mod redact;
mod retry;

use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime};

use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

pub use error::{error_detail, Detail, HttpError};
pub use rate::RateLimit;
pub use redact::redact_url;
pub use retry::{parse_retry_after, RetryPolicy};

use rate::RateLimiter;

/// Settings for an [`HttpClient`]; start from [`HttpClient::builder`].
#[derive(Debug, Clone)]
pub struct HttpClientBuilder {
    service: String,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    proxy_from_env: bool,
    follow_redirects: bool,
    rate_limit: Option<RateLimit>,
    retry: RetryPolicy,
}

impl HttpClientBuilder {
    /// The longest wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest wait for a whole request, from sending to the end of the body
    /// (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Ignore the proxy environment variables and connect directly.
    pub fn no_proxy(mut self) -> Self {
        self.proxy_from_env = false;
        self
    }

    /// Answer a redirect as the final answer (an error) instead of following it:
    /// for requests carrying a credential in a header of their own, which reqwest
    /// only strips from `Authorization` and cookies when a redirect leaves the host.
    pub fn no_redirects(mut self) -> Self {
        self.follow_redirects = false;
        self
    }

    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    pub fn build(self) -> Result<HttpClient, HttpError> {
        use_ring_for_tls();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent.clone());
        if !self.proxy_from_env {
            builder = builder.no_proxy();
        }
        if !self.follow_redirects {
            builder = builder.redirect(reqwest::redirect::Policy::none());
        }
        let inner = builder.build().map_err(|e| HttpError::Setup {
            service: self.service.clone(),
            reason: error_chain(&e),
        })?;
        Ok(HttpClient {
            inner,
            shared: Arc::new(Shared {
                limiter: self.rate_limit.map(RateLimiter::new),
                settings: self,
            }),
        })
    }
}

/// rustls needs a crypto provider chosen once per process; huntbook uses ring
/// everywhere (aws-lc would add a C build). Another component may have installed one
/// already, which is fine.
fn use_ring_for_tls() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client for one service. Cheap to clone; clones share connections, rate limits
/// and settings.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: HttpClientBuilder,
    limiter: Option<RateLimiter>,
}

/// What the retry loop ended with: a final answer, and how many attempts it took.
struct Outcome {
    response: Response,
    attempts: u32,
}

impl HttpClient {
    /// A builder for a client of `service`, the name errors use ("Azure Key Vault",
    /// "Microsoft Entra ID"...).
    pub fn builder(service: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            service: service.into(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            user_agent: concat!("huntbook/", env!("CARGO_PKG_VERSION")).to_string(),
            proxy_from_env: true,
            follow_redirects: true,
            rate_limit: None,
            retry: RetryPolicy::default(),
        }
    }

    /// The service name used in errors.
    pub fn service(&self) -> &str {
        &self.shared.settings.service
    }

    /// Start a request; send it with [`HttpClient::send`].
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.inner.request(method, url)
    }

    pub fn get(&self, url: Url) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: Url) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Send a request, retrying as the policy allows, and return a successful (2xx)
    /// response; any other final answer becomes an [`HttpError`].
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, HttpError> {
        let outcome = self.execute(request).await?;
        if outcome.response.status().is_success() {
            Ok(outcome.response)
        } else {
            Err(self.status_error(outcome).await)
        }
    }

    /// Like [`HttpClient::send`], but a 4xx answer (other than 429) is returned rather
    /// than turned into an error, for protocols that answer an expected state with one
    /// (OAuth's device code flow polls through `400 authorization_pending`).
    pub async fn send_allowing_client_errors(
        &self,
        request: RequestBuilder,
    ) -> Result<Response, HttpError> {
        let outcome = self.execute(request).await?;
        let status = outcome.response.status();
        let expected_answer = status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS;
        if status.is_success() || expected_answer {
            Ok(outcome.response)
        } else {
            Err(self.status_error(outcome).await)
        }
    }

    /// Send and read the body as JSON of type `T`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, HttpError> {
        let response = self.send(request).await?;
        self.json(response).await
    }

    /// Read a response body as JSON of type `T`; a body that is not, or lacks a
    /// field, is named with the place serde found the problem.
    pub async fn json<T: DeserializeOwned>(&self, response: Response) -> Result<T, HttpError> {
        let url = redact_url(response.url());
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&url, &e, 1))?;
        serde_json::from_slice(&body).map_err(|e| HttpError::Malformed {
            service: self.service().to_string(),
            url,
            problem: format!("{e}"),
        })
    }

    async fn execute(&self, request: RequestBuilder) -> Result<Outcome, HttpError> {
        let request = request.build().map_err(|e| HttpError::Request {
            service: self.service().to_string(),
            url: e.url().map(redact_url).unwrap_or_default(),
            reason: error_chain(&e),
        })?;
        let policy = self.shared.settings.retry;
        let host = request.url().host_str().unwrap_or_default().to_string();
        let url = redact_url(request.url());
        let mut pending = Some(request);
        let mut attempts = 0;
        loop {
            let request = pending.take().expect("a request is ready for each attempt");
            // A streamed body cannot be sent twice; such a request gets one attempt.
            let again = request.try_clone();
            let may_retry = attempts < policy.max_retries && again.is_some();
            if let Some(limiter) = &self.shared.limiter {
                limiter.acquire(&host).await;
            }
            attempts += 1;
            let wait = match self.inner.execute(request).await {
                Ok(response) if may_retry && retry::is_retryable(response.status()) => {
                    match retry::retry_after(response.headers(), SystemTime::now()) {
                        Some(wait) if wait > policy.max_wait => {
                            return Err(HttpError::WaitTooLong {
                                service: self.service().to_string(),
                                url,
                                wait,
                                max_wait: policy.max_wait,
                            })
                        }
                        Some(wait) => wait,
                        None => policy.backoff(attempts - 1),
                    }
                }
                Ok(response) => return Ok(Outcome { response, attempts }),
                Err(e) if may_retry && e.is_connect() => policy.backoff(attempts - 1),
                Err(e) => return Err(self.transport_error(&url, &e, attempts)),
            };
            tokio::time::sleep(wait).await;
            pending = again;
        }
    }

    async fn status_error(&self, outcome: Outcome) -> HttpError {
        let service = self.service().to_string();
        let url = redact_url(outcome.response.url());
        let status = outcome.response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return HttpError::Throttled {
                service,
                url,
                attempts: outcome.attempts,
            };
        }
        // The body only adds detail; a body that cannot be read leaves it out.
        let body = outcome.response.bytes().await.unwrap_or_default();
        let detail = error_detail(&body);
        match status {
            StatusCode::UNAUTHORIZED => HttpError::Unauthorized {
                service,
                url,
                detail,
            },
            StatusCode::FORBIDDEN => HttpError::Forbidden {
                service,
                url,
                detail,
            },
            StatusCode::NOT_FOUND => HttpError::NotFound {
                service,
                url,
                detail,
            },
            _ => HttpError::Status {
                service,
                url,
                status: status.as_u16(),
                detail,
            },
        }
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error, attempts: u32) -> HttpError {
        let service = self.service().to_string();
        let url = url.to_string();
        let settings = &self.shared.settings;
        if e.is_timeout() {
            let after = if e.is_connect() {
                settings.connect_timeout
            } else {
                settings.timeout
            };
            HttpError::Timeout {
                service,
                url,
                after,
            }
        } else if e.is_connect() {
            HttpError::Connect {
                service,
                url,
                reason: error_chain(e),
                attempts,
            }
        } else {
            HttpError::Request {
                service,
                url,
                reason: error_chain(e),
            }
        }
    }
}

/// The causes under a reqwest error, without reqwest's own message: that one
/// includes the full URL, query string and all.
fn error_chain(e: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        next = cause.source();
    }
    if causes.is_empty() {
        if e.is_body() || e.is_decode() {
            "the response body could not be read".to_string()
        } else {
            "the request could not be sent".to_string()
        }
    } else {
        causes.join(": ")
    }
}
