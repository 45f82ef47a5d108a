//! What can go wrong with a request, said so that the reader knows what to do next.
//!
//! Every variant names the service and the (redacted) URL. Server error bodies are
//! reduced to their message ([`error_detail`]) so that an Entra ID `AADSTS...` code or
//! a Key Vault `SecretNotFound` reaches the user, but never whole bodies, headers or
//! tokens.

use std::time::Duration;

use serde_json::Value;

/// An HTTP request that did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{service} rejected the credentials (401 at {url}){detail}; check the credentials for {service}")]
    Unauthorized {
        service: String,
        url: String,
        detail: Detail,
    },
    #[error("{service} denied access (403 at {url}){detail}; check that the identity has permission for this resource")]
    Forbidden {
        service: String,
        url: String,
        detail: Detail,
    },
    #[error("{service} has nothing at {url} (404){detail}; check the name or address")]
    NotFound {
        service: String,
        url: String,
        detail: Detail,
    },
    #[error("{service} still answered 429 Too Many Requests at {url} after {attempts} attempts; wait and try again, or lower the request rate")]
    Throttled {
        service: String,
        url: String,
        attempts: u32,
    },
    #[error("{service} asked to wait {wait:?} before retrying {url}, more than the {max_wait:?} allowed; try again later or raise the maximum wait")]
    WaitTooLong {
        service: String,
        url: String,
        wait: Duration,
        max_wait: Duration,
    },
    #[error("{service} did not answer within {after:?} at {url}; check the network, or raise the timeout")]
    Timeout {
        service: String,
        url: String,
        after: Duration,
    },
    #[error("cannot connect to {service} at {url} ({reason}) after {attempts} attempts; check the address, the network and the proxy settings")]
    Connect {
        service: String,
        url: String,
        reason: String,
        attempts: u32,
    },
    #[error("{service} answered {status} at {url}{detail}")]
    Status {
        service: String,
        url: String,
        status: u16,
        detail: Detail,
    },
    #[error("{service} sent a response at {url} that is not what its API documents: {problem}")]
    Malformed {
        service: String,
        url: String,
        problem: String,
    },
    #[error("request to {service} at {url} failed: {reason}")]
    Request {
        service: String,
        url: String,
        reason: String,
    },
    #[error("cannot set up the HTTP client for {service}: {reason}")]
    Setup { service: String, reason: String },
}

impl HttpError {
    /// The HTTP status the server answered with, when the error is about one.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Unauthorized { .. } => Some(401),
            HttpError::Forbidden { .. } => Some(403),
            HttpError::NotFound { .. } => Some(404),
            HttpError::Throttled { .. } | HttpError::WaitTooLong { .. } => Some(429),
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The message from a server's error body, shown after the status as `: message`
/// (empty when the body had none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail(pub Option<String>);

impl Detail {
    pub fn message(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(message) => write!(f, ": {message}"),
            None => Ok(()),
        }
    }
}

/// Longest message taken from an error body: enough for a sentence and a code, not
/// enough to echo a large body.
const MAX_DETAIL: usize = 300;

/// The message in an error body, from the shapes the services we talk to document:
/// Microsoft identity platform (`error`, `error_description`), Azure REST APIs
/// (`error.code`, `error.message`), HashiCorp Vault (`errors: [...]`), or plain text.
/// Entra ID descriptions end with trace and correlation ids on further lines; only the
/// first line is kept.
pub fn error_detail(body: &[u8]) -> Detail {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return Detail(None);
    }
    let message = match serde_json::from_str::<Value>(text) {
        Ok(json) => json_message(&json),
        // HTML error pages from proxies and gateways say nothing useful.
        Err(_) if text.starts_with('<') => None,
        Err(_) => Some(text.to_string()),
    };
    Detail(message.map(|m| shorten(first_line(&m))))
}

fn json_message(json: &Value) -> Option<String> {
    let str_at = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    if let Some(description) = str_at(json, "error_description") {
        return Some(description);
    }
    if let Some(error) = json.get("error") {
        if let Some(code) = error.as_str() {
            return Some(code.to_string());
        }
        let code = str_at(error, "code");
        let message = str_at(error, "message");
        return match (code, message) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (c, m) => c.or(m),
        };
    }
    if let Some(errors) = json.get("errors").and_then(Value::as_array) {
        let all: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
        return (!all.is_empty()).then(|| all.join("; "));
    }
    str_at(json, "message")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

fn shorten(text: &str) -> String {
    if text.len() <= MAX_DETAIL {
        return text.to_string();
    }
    let mut end = MAX_DETAIL;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_id_description_keeps_its_first_line() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]}"#;
        assert_eq!(
            error_detail(body).message(),
            Some("AADSTS7000215: Invalid client secret provided.")
        );
    }

    #[test]
    fn azure_rest_error_gives_code_and_message() {
        let body = br#"{"error":{"code":"SecretNotFound","message":"A secret with (name/id) x was not found in this key vault."}}"#;
        assert_eq!(
            error_detail(body).to_string(),
            ": SecretNotFound: A secret with (name/id) x was not found in this key vault."
        );
    }

    #[test]
    fn vault_errors_are_joined_and_html_is_dropped() {
        assert_eq!(
            error_detail(br#"{"errors":["permission denied"]}"#).message(),
            Some("permission denied")
        );
        assert_eq!(error_detail(br#"{"errors":[]}"#).message(), None);
        assert_eq!(
            error_detail(b"<html><body>502</body></html>").message(),
            None
        );
        assert_eq!(error_detail(b"").message(), None);
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = "é".repeat(400);
        let detail = error_detail(body.as_bytes());
        assert!(detail.message().unwrap().len() <= MAX_DETAIL + 3);
    }
}
