//! [`ApiError`]: every refusal the API answers, as a status and a message that says
//! what to change, turned into a JSON response.
//!
//! The message also travels in the response's extensions as a [`Reason`], where
//! the request log ([`super::metrics::track`]) reads it: the log line and the
//! client see the same words, and neither ever holds a token or a parameter value.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::config::RequestError;
use crate::error::StoreError;
use crate::store::Scope;

/// Why a request was refused (or failed).
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    /// Seconds for `Retry-After` (a full queue).
    retry_after: Option<u64>,
}

/// The reason a response gives, for the request log.
#[derive(Debug, Clone)]
pub(crate) struct Reason(pub String);

/// How long a client refused by a full queue should wait.
const QUEUE_FULL_RETRY_SECONDS: u64 = 5;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// No usable token (401, with the challenge that names the scheme).
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// A token whose scope is below `needed`.
    pub fn forbidden(has: Scope, needed: Scope) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this needs a token with scope '{needed}' (or above); the token given has \
                 scope '{has}': create one with `huntbook token create --scope {needed}`"
            ),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        let status = match &error {
            StoreError::QueueFull { .. } => {
                return ApiError {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    message: error.to_string(),
                    retry_after: Some(QUEUE_FULL_RETRY_SECONDS),
                }
            }
            StoreError::InvalidJob(_) => StatusCode::BAD_REQUEST,
            StoreError::JobNotFound(_)
            | StoreError::RunNotFound(_)
            | StoreError::TokenNotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<RequestError> for ApiError {
    fn from(error: RequestError) -> ApiError {
        let status = match &error {
            RequestError::UnknownNotebook(_) => StatusCode::NOT_FOUND,
            RequestError::UnknownParameters { .. }
            | RequestError::CredentialName(_)
            | RequestError::SecretValue(_) => StatusCode::BAD_REQUEST,
            RequestError::NotebookUnreadable { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.message, "status": self.status.as_u16()});
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(Reason(self.message));
        response
    }
}

/// The answer for a path no route serves.
pub(crate) async fn no_route() -> ApiError {
    ApiError::not_found("no such route: the routes are listed at /api/v1/openapi.json")
}
