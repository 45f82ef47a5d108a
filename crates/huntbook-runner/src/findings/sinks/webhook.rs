//! The webhook sink: each finding POSTed as JSON to a URL, signed so the receiver can
//! tell it came from this service and was not replayed.
//!
//! The body is the finding's JSON ([`Finding::to_json`]). Two headers come with it:
//! `X-Huntbook-Timestamp` (Unix seconds when it was sent) and `X-Huntbook-Signature:
//! sha256=<hex>`, the HMAC-SHA256 under the shared secret of `TIMESTAMP.BODY` (the
//! timestamp, a dot, the exact body bytes). A receiver recomputes it, compares in
//! constant time, and refuses old timestamps. Any 2xx answer is a delivery; the
//! service's own retries take care of the rest, so the HTTP client does not retry.

use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use huntbook_http::client::RetryPolicy;
use huntbook_http::{HttpClient, Secret};
use reqwest::header::CONTENT_TYPE;
use reqwest::Url;
use sha2::Sha256;

use super::{IncidentSink, SinkError, SinkFuture};
use crate::findings::Finding;

/// The header with the send time.
pub const TIMESTAMP_HEADER: &str = "X-Huntbook-Timestamp";
/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "X-Huntbook-Signature";

/// Posts findings to a URL.
#[derive(Debug)]
pub struct WebhookSink {
    url: Url,
    secret: Secret,
    http: HttpClient,
}

impl WebhookSink {
    /// A sink posting to `url`, signing with `secret`.
    pub fn new(url: Url, secret: Secret) -> Result<WebhookSink, SinkError> {
        let http = HttpClient::builder("incident webhook")
            .timeout(Duration::from_secs(15))
            .retry(RetryPolicy {
                max_retries: 0,
                ..RetryPolicy::default()
            })
            .build()
            .map_err(|e| SinkError::failed("webhook", e))?;
        Ok(WebhookSink { url, secret, http })
    }
}

/// `sha256=<hex>` of `timestamp.body` under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl IncidentSink for WebhookSink {
    fn name(&self) -> &str {
        "webhook"
    }

    fn deliver<'a>(&'a self, finding: &'a Finding) -> SinkFuture<'a> {
        Box::pin(async move {
            let body = finding.to_json().to_string().into_bytes();
            let timestamp = Utc::now().timestamp();
            let signed = signature(self.secret.expose().as_bytes(), timestamp, &body);
            let request = self
                .http
                .post(self.url.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, signed)
                .body(body);
            // HttpError names the URL with keys redacted; the secret is never in it.
            let response = self
                .http
                .send(request)
                .await
                .map_err(|e| SinkError::failed("webhook", e))?;
            Ok(format!("webhook answered {}", response.status()))
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use axum::Router;

    use super::*;
    use crate::findings::RunOutputs;

    pub(crate) const SECRET: &str = "hook-key-7f3a";

    fn finding() -> Finding {
        Finding {
            id: uuid::Uuid::new_v4(),
            run_id: uuid::Uuid::new_v4(),
            job_id: uuid::Uuid::new_v4(),
            notebook: "ip_triage".into(),
            description: "beaconing".into(),
            severity: huntbook_sentinel::Severity::High,
            entities: serde_json::json!([]),
            warnings: Vec::new(),
            triage_incident: None,
            outputs: RunOutputs::default(),
            created_at: Utc::now(),
        }
    }

    /// A receiver on loopback that checks signatures as a user's would; the bodies
    /// it accepted.
    pub(crate) async fn receiver(status: StatusCode) -> (Url, Arc<Mutex<Vec<serde_json::Value>>>) {
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let seen = accepted.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| async move {
                let header = |name: &str| headers.get(name)?.to_str().ok().map(str::to_owned);
                let (Some(timestamp), Some(signed)) =
                    (header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER))
                else {
                    return StatusCode::UNAUTHORIZED;
                };
                let Ok(timestamp) = timestamp.parse::<i64>() else {
                    return StatusCode::UNAUTHORIZED;
                };
                let fresh = (Utc::now().timestamp() - timestamp).abs() < 300;
                let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
                mac.update(format!("{timestamp}.").as_bytes());
                mac.update(&body);
                let expected = signed
                    .strip_prefix("sha256=")
                    .and_then(|h| hex::decode(h).ok());
                if !fresh || expected.is_none_or(|e| mac.verify_slice(&e).is_err()) {
                    return StatusCode::UNAUTHORIZED;
                }
                seen.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                status
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url.parse().unwrap(), accepted)
    }

    #[tokio::test]
    async fn a_signed_finding_is_accepted_by_a_verifying_receiver() {
        let (url, accepted) = receiver(StatusCode::NO_CONTENT).await;
        let sink = WebhookSink::new(url, Secret::new(SECRET)).unwrap();
        let finding = finding();
        let receipt = sink.deliver(&finding).await.unwrap();
        assert!(receipt.contains("204"), "{receipt}");
        let bodies = accepted.lock().unwrap();
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies[0]["id"], finding.id.to_string());
        assert_eq!(bodies[0]["severity"], "High");
    }

    #[tokio::test]
    async fn a_wrong_secret_is_refused_and_the_error_never_shows_the_secret() {
        let (url, accepted) = receiver(StatusCode::OK).await;
        let wrong = "not-the-hook-key";
        let sink = WebhookSink::new(url, Secret::new(wrong)).unwrap();
        let error = sink.deliver(&finding()).await.unwrap_err().to_string();
        assert!(error.contains("401"), "{error}");
        assert!(!error.contains(wrong) && !format!("{sink:?}").contains(wrong));
        assert!(accepted.lock().unwrap().is_empty());
    }

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature(b"k", 100, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature(b"k", 101, b"{}"));
        assert_ne!(a, signature(b"k", 100, b"{ }"));
        assert_ne!(a, signature(b"j", 100, b"{}"));
    }
}
