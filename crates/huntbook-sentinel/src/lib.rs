//! A client for the Microsoft Sentinel management API (Azure Resource Manager,
//! `Microsoft.SecurityInsights`, api-version 2024-03-01): incidents (list, get,
//! create, update, comment, alerts, entities), bookmarks and watchlists.
//!
//! - [`SentinelClient`] talks to one workspace, named by a configured
//!   [`huntbook_core::config::Workspace`] (`AzureSentinel.Workspaces.<name>` with
//!   `SubscriptionId`, `ResourceGroup`, `WorkspaceName`) or a [`WorkspacePath`]. It
//!   takes bearer tokens from any [`huntbook_http::TokenSource`] and sends requests
//!   through [`huntbook_http::HttpClient`], which retries 429 and 5xx answers
//!   honouring `Retry-After`. Lists follow `nextLink` to the end.
//! - [`model`] has the objects as typed structs mirroring the JSON
//!   ([`Incident`], [`Comment`], [`Bookmark`], [`Watchlist`], [`WatchlistItem`]); fields
//!   the model does not name are kept, so nothing is lost on a round trip. An
//!   incident's entities come back as a [`huntbook_core::entities::EntityGraph`].
//! - [`SentinelError`] says what went wrong in Sentinel's terms: an incident that is
//!   not there, an incident someone changed since it was read (the etag sent no
//!   longer matches), or the service's own error code and message.
//! - `testkit` (cargo feature `testkit`) is a fake of the API on loopback that checks
//!   paths, `api-version`, tokens and bodies as the service documents them.
//!
//! This crate is apart from the query providers so that the automation service can
//! raise incidents without depending on query templates.
//!
//! Raising an incident and commenting on it, here against the fake API and the fake
//! Entra ID of `huntbook-http`:
//!
//! ```
//! use std::sync::Arc;
//! use huntbook_http::azure::{Authority, ClientSecretCredential};
//! use huntbook_http::testkit::{FakeEntraId, FakeEntraIdConfig};
//! use huntbook_http::Secret;
//! use huntbook_sentinel::testkit::FakeSentinel;
//! use huntbook_sentinel::{IncidentProperties, SentinelClient, Severity, Status};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let config = FakeEntraIdConfig { client_secret: Some("app-secret".into()), ..Default::default() };
//! let entra = FakeEntraId::start(config.clone()).await;
//! let arm = FakeSentinel::start(entra.issued()).await;
//! let credential = ClientSecretCredential::new(
//!     Authority::custom(&entra.authority())?,
//!     &config.tenant,
//!     &config.client_id,
//!     Secret::new("app-secret"),
//! )?;
//!
//! let sentinel = SentinelClient::new(&FakeSentinel::workspace(), Arc::new(credential), Some(&arm.url()))?;
//! let new = IncidentProperties::new("Beaconing from ws1", Severity::Medium).with_labels(["huntbook"]);
//! let incident = sentinel.create_incident(&new).await?;
//! assert_eq!(incident.properties.status, Status::New);
//! assert!(incident.properties.incident_number.is_some());
//!
//! sentinel.post_comment(&incident.name, "Confirmed with the host owner.").await?;
//! let closed = sentinel
//!     .update_incident(&incident.name, |p| {
//!         p.status = Status::Closed;
//!         p.classification = Some("BenignPositive".into());
//!     })
//!     .await?;
//! assert_eq!(closed.properties.status, Status::Closed);
//! assert_eq!(sentinel.list_comments(&incident.name).await?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod client;
mod error;
pub mod model;
#[cfg(feature = "testkit")]
pub mod testkit;
mod workspace;

pub use client::{IncidentQuery, SentinelClient, API_VERSION, PUBLIC_ARM, SCOPE};
pub use error::SentinelError;
pub use model::{
    Bookmark, BookmarkProperties, Comment, Incident, IncidentProperties, Label, Owner, Severity,
    Status, Watchlist, WatchlistItem, WatchlistProperties,
};
pub use workspace::WorkspacePath;
