//! What can go wrong talking to the Sentinel management API, said so that the reader
//! knows what to do next.
//!
//! Answers that only Sentinel gives meaning to are mapped here: 404 on an object is
//! [`SentinelError::NotFound`] naming the object, 409 or 412 on a write is
//! [`SentinelError::Conflict`] (someone changed it since it was read), and other 4xx
//! answers carry the Azure Resource Manager error body's `code` and `message`
//! ([`SentinelError::Rejected`]). Credentials, throttling, network and server failures
//! stay [`HttpError`]s, which already say what to check.

use huntbook_core::entities::EntityError;
use huntbook_http::{HttpError, TokenError};

/// A Sentinel management API call that did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum SentinelError {
    #[error("AzureSentinel.Workspaces.{workspace}: {setting} is missing; the management API needs SubscriptionId, ResourceGroup and WorkspaceName")]
    MissingSetting {
        workspace: String,
        setting: &'static str,
    },
    #[error("{what} {value:?} is not valid: {rule}")]
    Invalid {
        what: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error("the changes to the {what} are not valid: {problem}")]
    BadChange { what: &'static str, problem: String },
    #[error("{what} {id} was not found in workspace {workspace}; check the id, or list them to see which exist")]
    NotFound {
        what: &'static str,
        id: String,
        workspace: String,
    },
    #[error("the {what} {id} changed since you read it (HTTP {status}); get it again and reapply your change")]
    Conflict {
        what: &'static str,
        id: String,
        status: u16,
    },
    #[error("Microsoft Sentinel refused the request ({status} {code}: {message}) at {url}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
        url: String,
    },
    #[error("watchlist {alias} already has an item with the values of item {index} ({item}); pass overwrite to replace it")]
    ItemExists {
        alias: String,
        index: usize,
        item: String,
    },
    #[error("Microsoft Sentinel's next page link {link} does not point at {expected}; refusing to send the token there")]
    ForeignNextLink { link: String, expected: String },
    #[error("Microsoft Sentinel's paging at {url} did not end after {pages} pages (it may be repeating itself)")]
    EndlessPaging { url: String, pages: usize },
    #[error("cannot read the entities of incident {incident}: {source}")]
    Entities {
        incident: String,
        source: EntityError,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl SentinelError {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            SentinelError::NotFound { .. } => Some(404),
            SentinelError::Conflict { status, .. } | SentinelError::Rejected { status, .. } => {
                Some(*status)
            }
            SentinelError::Http(e) => e.status(),
            SentinelError::Token(TokenError::Http(e)) => e.status(),
            _ => None,
        }
    }
}
