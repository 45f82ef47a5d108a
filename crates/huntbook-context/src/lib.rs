//! Enrichment: what is known about an observable (an IP address, a domain, a URL, a
//! file hash).
//!
//! - [`ip`]: the type of an IP address (Public, Private, Loopback, ...).
//! - [`geoip`]: locations from MaxMind `.mmdb` databases and IPStack.
//! - [`whois`]: registration data through RDAP and ASNs through Team Cymru.
//! - [`columns`]: answers joined to the input rows as new Arrow columns.
//! - [`ti`]: threat-intelligence lookups over many providers at once, MSTICPy's
//!   lookup model; [`feeds`] are the offline providers (CSV, STIX 2.1, MISP) and
//!   [`cache`] keeps answers so a repeated lookup never calls a service again.

pub mod cache;
pub mod columns;
pub mod feeds;
pub mod geoip;
pub mod ip;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod ti;
pub mod whois;
