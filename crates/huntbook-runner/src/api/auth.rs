//! Bearer tokens: the [`Caller`] extractor authenticates a request's
//! `Authorization: Bearer hb_...` against the store, and each handler states the
//! [`Scope`] it needs with [`Caller::require`].
//!
//! Missing, malformed, unknown and revoked tokens all get the same 401, so that a
//! client cannot tell a revoked token from one that never existed.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use super::ApiState;
use crate::store::{Scope, TokenInfo};

/// The token a request was authenticated with.
pub(crate) struct Caller(pub TokenInfo);

impl Caller {
    /// Refuse (403) unless the token's scope includes `needed`.
    pub fn require(&self, needed: Scope) -> Result<(), ApiError> {
        if self.0.scope.allows(needed) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.0.scope, needed))
        }
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Caller, ApiError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "no token: send `Authorization: Bearer <token>` (`huntbook token create` makes one)",
            ));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
            })?;
        match state.store.authenticate(token).await? {
            Some(info) => Ok(Caller(info)),
            None => Err(ApiError::unauthorized(
                "the token is unknown or revoked: `huntbook token list` shows the valid ones",
            )),
        }
    }
}
