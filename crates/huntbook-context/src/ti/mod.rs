//! Threat-intelligence lookups over many providers at once, MSTICPy's `TILookup`
//! model in Rust.
//!
//! # How a lookup goes
//!
//! [`TiLookup`] holds the providers, loaded from the `TIProviders` section of the
//! configuration ([`TiLookup::from_config`]) or added one by one. A lookup takes
//! observables with an optional type and query subtype ([`LookupItem`]), checks and
//! cleans each once ([`preprocess`]), and asks every chosen provider about the ones it
//! supports: answers already in the [`Cache`](crate::cache::Cache) are taken from it,
//! the rest go to the providers concurrently, each provider with its own concurrency
//! limit, batch size and rate limit. Every (observable, provider) pair becomes one
//! [`LookupRow`]; [`to_record_batch`] makes them an Arrow table with MSTICPy's columns
//! `Ioc, IocType, SafeIoc, QuerySubtype, Provider, Result, Severity, Details,
//! RawResult, Reference, Status`. A provider that fails or times out only marks its
//! own rows.
//!
//! # Providers
//!
//! [`TiProvider`] is the seam. [`http::HttpProvider`] serves every web service from
//! one row of [`http::SERVICES`] each (VirusTotal v3, OTX, X-Force, GreyNoise,
//! AbuseIPDB, CrowdSec, IPQualityScore, Pulsedive, URLhaus, ThreatFox, MalwareBazaar,
//! Open PageRank); [`tor::TorProvider`] checks Tor exit nodes; and
//! [`crate::feeds::FeedProvider`] answers offline from local CSV, STIX 2.1 and MISP
//! feeds; [`sentinel::SentinelTiProvider`] searches Microsoft Sentinel's threat-intel
//! table through a query provider.
//!
//! ```
//! use std::sync::Arc;
//! use huntbook_context::feeds::{Feed, FeedProvider};
//! use huntbook_context::ti::{LookupItem, LookupOptions, TiLookup};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let csv = dir.path().join("bad.csv");
//! std::fs::write(&csv, "Indicator,Type,Description\n38.75.137.9,ipv4,C2 server\n").unwrap();
//! let feed = FeedProvider::load("Watchlist", &[Feed::path(&csv)]).unwrap();
//!
//! let mut ti = TiLookup::new();
//! ti.add_provider(Arc::new(feed), true);
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let rows = runtime
//!     .block_on(ti.lookup(&[LookupItem::new("38[.]75[.]137[.]9")], &LookupOptions::default()))
//!     .unwrap();
//! assert_eq!(rows[0].provider, "Watchlist");
//! assert_eq!(rows[0].safe_ioc, "38.75.137.9");
//! assert!(rows[0].answer.result);
//! assert_eq!(rows[0].answer.severity.name(), "high");
//! ```

pub mod http;
mod lookup;
mod model;
pub mod preprocess;
mod provider;
pub mod sentinel;
mod setup;
mod table;
pub mod tor;

pub use lookup::{LookupItem, LookupOptions, Progress, ProviderStatus, Scope, TiLookup};
pub use model::{query_key, Answer, LookupRow, Observable, Severity, Status};
pub use provider::{BoxFuture, TiProvider};
pub use setup::{available_providers, parse_duration, parse_rate};
pub use table::{result_schema, to_record_batch, RESULT_COLUMNS};

/// What can stop a lookup from starting. Failures of single lookups are not
/// errors: they are in the rows' `Status` and `Details`.
#[derive(Debug, thiserror::Error)]
pub enum TiError {
    #[error("TI provider {provider} needs Args.{arg}; add it to its TIProviders entry")]
    MissingArg { provider: String, arg: String },
    #[error("cannot set up TI provider {provider}: {reason}")]
    Setup { provider: String, reason: String },
    #[error("{key} ({origin}): {message}")]
    Config {
        key: String,
        origin: String,
        message: String,
    },
    #[error("no TI provider named {name}; loaded: {loaded}")]
    UnknownProvider { name: String, loaded: String },
    #[error("TI provider {name} is configured but not loaded: {reason}")]
    NotLoaded { name: String, reason: String },
    #[error("no TI providers to ask: {0}")]
    NoProviders(String),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Feed(#[from] crate::feeds::FeedError),
    #[error("building the result table failed: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}
