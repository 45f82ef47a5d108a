//! HTTP plumbing shared by huntbook's remote clients: one client with retries, rate
//! limits and clear errors; bearer tokens from Microsoft Entra ID; secrets from Azure
//! Key Vault and HashiCorp Vault; and fake servers that speak those protocols for
//! tests.
//!
//! - [`client::HttpClient`] sends requests with timeouts, the proxy from the
//!   environment, a per-host [`client::RateLimit`], and retries with exponential
//!   backoff and jitter on connection errors, 5xx and 429, honouring `Retry-After`
//!   ([`client::RetryPolicy`]). Final failures are [`HttpError`]s that name the
//!   service, the URL (with keys and passwords redacted) and what to check.
//! - A [`TokenSource`] gives a bearer token for a [`Scope`] and caches it until
//!   shortly before it expires. [`azure`] has one per Microsoft sign-in method: client
//!   secret, certificate, managed identity, Azure CLI and device code, each against an
//!   [`azure::Authority`] (public cloud, sovereign clouds, or a test server).
//! - [`vault`] reads secrets: [`vault::KeyVaultClient`] with a token from any token
//!   source, [`vault::HashiVaultClient`] with a Vault token; [`vault::Blocking`] runs
//!   either from synchronous code.
//! - `testkit` (cargo feature `testkit`) starts axum servers on loopback that record
//!   requests, throttle, page, and play Entra ID, Key Vault and HashiCorp Vault with
//!   their documented requests and error bodies. Other crates take it as a
//!   dev-dependency for their own provider fakes.
//!
//! Secrets (client secrets, tokens, vault values) are `huntbook-core`'s [`Secret`]s,
//! whose `Debug` and `Display` print `***`.
//!
//! TLS is rustls with the `ring` provider, and certificate sign-in signs with `ring`
//! too, so the crate builds without C libraries other than ring's own. A cold build
//! of the crate and its 109 dependencies (`cargo build -p huntbook-http -j 2`, the
//! workspace's dev profile, which optimises dependencies) took 450 s of CPU time
//! (425 s user, 25 s system) and 311 MB of target folder; on an idle 2-core machine
//! that is about 4 minutes. The dependencies are the HTTP stack that every networked
//! huntbook crate shares (tokio, hyper, rustls with ring, reqwest), serde, chrono and
//! huntbook-core.
//!
//! Reading a Key Vault secret with an app's client secret, here against the fake
//! servers of the testkit:
//!
//! ```
//! use std::sync::Arc;
//! use huntbook_http::azure::{Authority, ClientSecretCredential};
//! use huntbook_http::testkit::{FakeEntraId, FakeEntraIdConfig, FakeKeyVault};
//! use huntbook_http::vault::KeyVaultClient;
//! use huntbook_http::Secret;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let entra = FakeEntraId::start(FakeEntraIdConfig {
//!     client_secret: Some("app-secret".into()),
//!     ..FakeEntraIdConfig::default()
//! })
//! .await;
//! let vault = FakeKeyVault::start(entra.issued(), &[("vt-api-key", "0123abcd")]).await;
//!
//! let config = FakeEntraIdConfig::default();
//! let credential = ClientSecretCredential::new(
//!     Authority::custom(&entra.authority())?,
//!     &config.tenant,
//!     &config.client_id,
//!     Secret::new("app-secret"),
//! )?;
//! let key_vault = KeyVaultClient::new(Arc::new(credential))?;
//! let key = key_vault.get_secret(&vault.url(), "vt-api-key").await?;
//! assert_eq!(key.expose(), "0123abcd");
//! assert_eq!(format!("{key:?}"), "Secret(***)");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod azure;
pub mod client;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod token;
pub mod vault;

pub use client::{HttpClient, HttpError};
pub use huntbook_core::secret::Secret;
pub use token::{AccessToken, Scope, TokenError, TokenSource};
