//! Enrichment: what is known about an observable (an IP address, a domain, a URL, a
//! file hash).
//!
//! - [`ip`]: the type of an IP address (Public, Private, Loopback, ...).
//! - [`geoip`]: locations from MaxMind `.mmdb` databases and IPStack.
//! - [`whois`]: registration data through RDAP and ASNs through Team Cymru.
//! - [`ti`]: threat-intelligence lookups over many providers at once, MSTICPy's
//!   lookup model; [`feeds`] are the offline providers (CSV, STIX 2.1, MISP) and
//!   [`cache`] keeps answers so a repeated lookup never calls a service again.

pub mod cache;
pub mod feeds;
pub mod geoip;
pub mod ip;
pub mod ti;
pub mod whois;
