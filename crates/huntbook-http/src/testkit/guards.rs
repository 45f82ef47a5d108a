//! Checks a fake service puts in front of its routes: a bearer token it accepts and
//! the query parameters its documentation requires. A request that fails a check gets
//! the service's own documented error answer, given by the caller.

use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::Router;

use super::{bearer, IssuedTokens};

/// Which bearer tokens a fake service accepts.
#[derive(Debug, Clone)]
pub enum Accept {
    /// Exactly this token.
    Token(String),
    /// Tokens the fake identity platform issued for this resource (a resource URL
    /// such as `https://api.loganalytics.io`).
    IssuedFor {
        tokens: IssuedTokens,
        resource: String,
    },
}

impl Accept {
    fn accepts(&self, token: &str) -> bool {
        match self {
            Accept::Token(expected) => token == expected,
            Accept::IssuedFor { tokens, resource } => {
                tokens.resource_of(token).as_deref() == Some(resource.trim_end_matches('/'))
            }
        }
    }
}

/// Answer requests without an accepted `Authorization: Bearer` token with `reject()`,
/// the service's documented 401 answer.
pub fn require_bearer(router: Router, accept: Accept, reject: fn() -> Response) -> Router {
    router.layer(from_fn_with_state((accept, reject), check_bearer))
}

async fn check_bearer(
    State((accept, reject)): State<(Accept, fn() -> Response)>,
    request: Request,
    next: Next,
) -> Response {
    match bearer(request.headers()) {
        Some(token) if accept.accepts(token) => next.run(request).await,
        _ => reject(),
    }
}

/// Answer requests whose query parameter `name` is not `value` with
/// `reject(found)`, the service's documented answer (usually 400). For the
/// `api-version` that most Azure APIs require.
pub fn require_query(
    router: Router,
    name: &'static str,
    value: &'static str,
    reject: fn(Option<&str>) -> Response,
) -> Router {
    router.layer(from_fn_with_state((name, value, reject), check_query))
}

type QueryCheck = (&'static str, &'static str, fn(Option<&str>) -> Response);

async fn check_query(
    State((name, value, reject)): State<QueryCheck>,
    request: Request,
    next: Next,
) -> Response {
    let found = request.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    });
    if found.as_deref() == Some(value) {
        next.run(request).await
    } else {
        reject(found.as_deref())
    }
}
