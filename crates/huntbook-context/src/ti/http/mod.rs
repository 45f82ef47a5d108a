//! One provider for every threat-intel web service: [`HttpProvider`] reads a
//! [`Service`] row (URL templates, key placement, markers, severity rule) and does
//! the rest the same way for all of them, over the shared
//! [`HttpClient`](huntbook_http::HttpClient): rate limit, retries with `Retry-After`,
//! timeouts.
//!
//! Answers follow MSTICPy: a 2xx answer is read by the service's rules (`Status` 0,
//! or `NoData` when the service says it knows nothing); an HTTP failure keeps its
//! status with MSTICPy's wording ("Not found.", "Authorization failed...", "Request
//! forbidden..."); a timeout, a connection failure or a body that is not JSON is
//! `QueryFailed`. The key never appears in a `Reference` or a message.

pub mod services;
pub mod severity;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use huntbook_core::secret::Secret;
use huntbook_http::client::{error_detail, RateLimit, RetryPolicy};
use huntbook_http::HttpClient;
use reqwest::{Method, RequestBuilder, Url};
use serde_json::{Map, Value};

use super::model::{Answer, Observable, Severity, Status};
use super::provider::{file_hash_key, is_hash, BoxFuture, TiProvider};
use super::TiError;
pub use services::{Auth, Batch, Body, Query, Service, Verb, SERVICES};

/// What a service needs to be called: its credentials and how to pace it.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The name in the `Provider` column.
    pub name: String,
    /// Replaces the service's own base URL (a proxy, a test server).
    pub base_url: Option<Url>,
    pub auth_key: Option<Secret>,
    pub api_id: Option<Secret>,
    pub instance: Option<String>,
    pub rate_limit: Option<RateLimit>,
    pub concurrency: usize,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub cache_ttl: Duration,
}

impl HttpSettings {
    pub fn new(name: impl Into<String>) -> HttpSettings {
        HttpSettings {
            name: name.into(),
            base_url: None,
            auth_key: None,
            api_id: None,
            instance: None,
            rate_limit: None,
            concurrency: 8,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            cache_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

/// A [`TiProvider`] for one [`Service`].
pub struct HttpProvider {
    service: &'static Service,
    settings: HttpSettings,
    base: String,
    client: HttpClient,
    json_bodies: HashMap<&'static str, Value>,
}

/// Where a template is filled in, which decides how the observable is written.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Path,
    Value,
}

impl HttpProvider {
    pub fn new(service: &'static Service, settings: HttpSettings) -> Result<HttpProvider, TiError> {
        let needs = |what: &str| TiError::MissingArg {
            provider: settings.name.clone(),
            arg: what.to_string(),
        };
        if settings.auth_key.is_none() {
            return Err(needs("AuthKey"));
        }
        if service.auth == Auth::Basic && settings.api_id.is_none() {
            return Err(needs("ApiID"));
        }
        let base = settings
            .base_url
            .as_ref()
            .map_or(service.base_url, Url::as_str)
            .trim_end_matches('/')
            .to_string();
        let mut builder = HttpClient::builder(format!("{} ({})", settings.name, service.key))
            .timeout(settings.timeout)
            .retry(settings.retry);
        if let Some(limit) = settings.rate_limit {
            builder = builder.rate_limit(limit);
        }
        let client = builder.build().map_err(|e| TiError::Setup {
            provider: settings.name.clone(),
            reason: e.to_string(),
        })?;
        let json_bodies = service
            .queries
            .iter()
            .filter_map(|q| match q.body {
                Body::Json(text) => Some((
                    q.key,
                    serde_json::from_str(text).expect("service JSON bodies are valid JSON"),
                )),
                _ => None,
            })
            .collect();
        Ok(HttpProvider {
            service,
            settings,
            base,
            client,
            json_bodies,
        })
    }

    pub fn service(&self) -> &'static Service {
        self.service
    }

    fn query_for(&self, item: &Observable) -> Option<&'static Query> {
        self.service.query(&item.query_key()).or_else(|| {
            is_hash(&item.ioc_type)
                .then(|| self.service.query(&file_hash_key(item.subtype.as_deref())))
                .flatten()
        })
    }

    /// `template` with its placeholders filled; with `reveal` false the secrets are
    /// written as `REDACTED` (for references and messages).
    fn fill(&self, template: &str, observable: &str, place: Place, reveal: bool) -> String {
        if !template.contains('{') {
            return template.to_string();
        }
        let secret = |s: &Option<Secret>| match (s, reveal) {
            (Some(s), true) => s.expose().to_string(),
            (Some(_), false) => "REDACTED".to_string(),
            (None, _) => String::new(),
        };
        let observable_text = match place {
            Place::Path => encode_path_segment(observable),
            Place::Value => observable.to_string(),
        };
        template
            .replace(
                "{observable_b64}",
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(observable),
            )
            .replace("{observable}", &observable_text)
            .replace("{AuthKey}", &secret(&self.settings.auth_key))
            .replace("{ApiID}", &secret(&self.settings.api_id))
            .replace(
                "{Instance}",
                self.settings.instance.as_deref().unwrap_or(""),
            )
    }

    /// The request for `query` with `params`, and the URL shown as `Reference`.
    fn request(
        &self,
        query: &Query,
        observable: &str,
        params: Vec<(String, String)>,
    ) -> Result<(RequestBuilder, String), String> {
        let url_text = format!(
            "{}{}",
            self.base,
            self.fill(query.path, observable, Place::Path, true)
        );
        let url = Url::parse(&url_text)
            .map_err(|e| format!("cannot make a URL for {}: {e}", self.settings.name))?;
        let mut reference = Url::parse(&format!(
            "{}{}",
            self.base,
            self.fill(query.path, observable, Place::Path, false)
        ))
        .map_err(|e| format!("cannot make a URL for {}: {e}", self.settings.name))?;
        let method = match query.verb {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
        };
        let mut params = params;
        params.extend(
            query
                .params
                .iter()
                .map(|(k, v)| (k.to_string(), self.fill(v, observable, Place::Value, true))),
        );
        if !params.is_empty() {
            reference.query_pairs_mut().extend_pairs(&params);
        }
        let key = self
            .settings
            .auth_key
            .as_ref()
            .map(Secret::expose)
            .unwrap_or("");
        if let Auth::QueryParam(name) = self.service.auth {
            params.push((name.to_string(), key.to_string()));
            reference.query_pairs_mut().append_pair(name, "REDACTED");
        }
        let mut request = self
            .client
            .request(method, url)
            .header("Accept", "application/json");
        if !params.is_empty() {
            request = request.query(&params);
        }
        match self.service.auth {
            Auth::Header(name) => request = request.header(name, key),
            Auth::Basic => {
                let user = self
                    .settings
                    .api_id
                    .as_ref()
                    .map(Secret::expose)
                    .unwrap_or("");
                request = request.basic_auth(user, Some(key));
            }
            Auth::QueryParam(_) | Auth::InPath => {}
        }
        match query.body {
            Body::None => {}
            Body::Form(fields) => {
                let form: Vec<(&str, String)> = fields
                    .iter()
                    .map(|(k, v)| (*k, self.fill(v, observable, Place::Value, true)))
                    .collect();
                request = request.form(&form);
            }
            Body::Json(_) => {
                let mut body = self.json_bodies[query.key].clone();
                fill_json(&mut body, &|text| {
                    self.fill(text, observable, Place::Value, true)
                });
                request = request.json(&body);
            }
        }
        Ok((request, reference.to_string()))
    }

    /// Send and read a JSON answer; a failure comes back as the answer to give.
    async fn exchange(&self, request: RequestBuilder, reference: &str) -> Result<Value, Answer> {
        let response = match self.client.send_allowing_client_errors(request).await {
            Ok(response) => response,
            Err(e) => {
                let status = e.status().map_or(Status::QueryFailed, Status::Http);
                return Err(Answer::failed(
                    status,
                    self.scrub(&e.to_string()),
                    reference,
                ));
            }
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => {
                return Err(Answer::failed(
                    Status::QueryFailed,
                    self.scrub(&format!("reading the answer failed: {e}")),
                    reference,
                ))
            }
        };
        if !status.is_success() {
            let mut answer = Answer::failed(
                Status::Http(status.as_u16()),
                self.http_failure(status.as_u16(), &body),
                reference,
            );
            answer.raw = serde_json::from_slice(&body).unwrap_or(Value::Null);
            return Err(answer);
        }
        serde_json::from_slice(&body).map_err(|e| {
            Answer::failed(
                Status::QueryFailed,
                format!(
                    "{} sent an answer that is not JSON: {e}",
                    self.settings.name
                ),
                reference,
            )
        })
    }

    fn http_failure(&self, status: u16, body: &[u8]) -> String {
        match status {
            404 => "Not found.".to_string(),
            401 => format!(
                "Authorization failed. Check the AuthKey of {}.",
                self.settings.name
            ),
            403 => "Request forbidden. Allowed query rate may have been exceeded.".to_string(),
            _ => {
                let reason = reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("HTTP error");
                self.scrub(&format!("{status} {reason}{}", error_detail(body)))
            }
        }
    }

    /// Read a 2xx answer about one observable by the service's rules.
    fn judge(&self, json: Value, reference: String) -> Answer {
        let text_at = |pointer: &str| json.pointer(pointer).and_then(severity::scalar_text);
        if let Some((marker, message_at)) = &self.service.failure {
            if text_at(marker.pointer).is_some_and(|t| marker.values.contains(&t.as_str())) {
                let message =
                    text_at(message_at).unwrap_or_else(|| "the service reported a failure".into());
                let mut answer = Answer::failed(Status::Other, self.scrub(&message), reference);
                answer.raw = json;
                return answer;
            }
        }
        if let Some(marker) = &self.service.no_data {
            if text_at(marker.pointer).is_some_and(|t| marker.values.contains(&t.as_str())) {
                return Answer {
                    result: false,
                    severity: Severity::Information,
                    details: Value::String("No data.".into()),
                    raw: json,
                    reference,
                    status: Status::NoData,
                };
            }
        }
        Answer {
            result: true,
            severity: self.service.severity.apply(&json),
            details: self.details(&json),
            raw: json,
            reference,
            status: Status::Ok,
        }
    }

    fn details(&self, json: &Value) -> Value {
        let fields: Map<String, Value> = self
            .service
            .details
            .iter()
            .filter_map(|(name, pointer)| {
                json.pointer(pointer)
                    .filter(|v| !v.is_null())
                    .map(|v| (name.to_string(), v.clone()))
            })
            .collect();
        Value::Object(fields)
    }

    /// A message with any secret value replaced; services sometimes echo the URL,
    /// and a key may sit in its path.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in [&self.settings.auth_key, &self.settings.api_id]
            .into_iter()
            .flatten()
        {
            if !secret.expose().is_empty() {
                text = text.replace(secret.expose(), "REDACTED");
            }
        }
        text
    }

    async fn lookup_one(&self, item: &Observable) -> Answer {
        let Some(query) = self.query_for(item) else {
            return Answer::failed(
                Status::NotSupported,
                format!(
                    "{} does not support {}",
                    self.settings.name,
                    item.query_key()
                ),
                "",
            );
        };
        let (request, reference) = match self.request(query, &item.safe_ioc, Vec::new()) {
            Ok(made) => made,
            Err(message) => return Answer::failed(Status::BadFormat, message, ""),
        };
        match self.exchange(request, &reference).await {
            Ok(json) => self.judge(json, reference),
            Err(failed) => failed,
        }
    }

    async fn lookup_batch(&self, batch: &Batch, items: &[Observable]) -> Vec<Answer> {
        let query = self
            .service
            .query(batch.query)
            .expect("a batch names one of its service's queries");
        let params = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                (
                    batch.param.replace("{i}", &i.to_string()),
                    item.safe_ioc.clone(),
                )
            })
            .collect();
        let (request, reference) = match self.request(query, "", params) {
            Ok(made) => made,
            Err(message) => {
                return vec![Answer::failed(Status::BadFormat, message, ""); items.len()]
            }
        };
        let json = match self.exchange(request, &reference).await {
            Ok(json) => json,
            Err(failed) => return vec![failed; items.len()],
        };
        let listed: Vec<&Value> = json
            .pointer(batch.items)
            .and_then(Value::as_array)
            .map(|list| list.iter().collect())
            .unwrap_or_default();
        items
            .iter()
            .map(|item| {
                let entry = listed.iter().find(|entry| {
                    entry
                        .pointer(batch.item_key)
                        .and_then(Value::as_str)
                        .is_some_and(|key| key.eq_ignore_ascii_case(&item.safe_ioc))
                });
                match entry {
                    Some(entry) => self.judge((*entry).clone(), reference.clone()),
                    None => Answer {
                        result: false,
                        severity: Severity::Information,
                        details: Value::String("No data.".into()),
                        raw: Value::Null,
                        reference: reference.clone(),
                        status: Status::NoData,
                    },
                }
            })
            .collect()
    }
}

impl TiProvider for HttpProvider {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn query_keys(&self) -> Vec<String> {
        self.service
            .queries
            .iter()
            .map(|q| q.key.to_string())
            .collect()
    }

    fn max_batch(&self) -> usize {
        self.service.batch.map_or(1, |b| b.max)
    }

    fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1)
    }

    fn cache_ttl(&self) -> Option<Duration> {
        Some(self.settings.cache_ttl)
    }

    fn lookup<'a>(&'a self, items: &'a [Observable]) -> BoxFuture<'a, Vec<Answer>> {
        Box::pin(async move {
            match (self.service.batch, items) {
                (_, [one]) if self.service.batch.is_none() => vec![self.lookup_one(one).await],
                (Some(batch), _) if items.iter().all(|i| i.query_key() == batch.query) => {
                    self.lookup_batch(&batch, items).await
                }
                _ => {
                    let mut answers = Vec::with_capacity(items.len());
                    for item in items {
                        answers.push(self.lookup_one(item).await);
                    }
                    answers
                }
            }
        })
    }
}

/// Percent-encode everything but RFC 3986's unreserved characters, so that a URL or
/// an IPv6 address stays one path segment.
fn encode_path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn fill_json(value: &mut Value, fill: &dyn Fn(&str) -> String) {
    match value {
        Value::String(text) => *text = fill(text),
        Value::Array(items) => items.iter_mut().for_each(|v| fill_json(v, fill)),
        Value::Object(map) => map.values_mut().for_each(|v| fill_json(v, fill)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(
            encode_path_segment("https://evil.com/a?b=1"),
            "https%3A%2F%2Fevil.com%2Fa%3Fb%3D1"
        );
        assert_eq!(encode_path_segment("2001:db8::1"), "2001%3Adb8%3A%3A1");
        assert_eq!(encode_path_segment("evil-site.com"), "evil-site.com");
    }
}
