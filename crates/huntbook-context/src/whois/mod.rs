//! Who holds an IP address: the announcing AS from Team Cymru, and the registered
//! network from the regional registry over RDAP, as MSTICPy's `ip_whois` reports
//! them.
//!
//! A [`WhoisLookup`] takes a list of addresses and, for the public ones:
//! 1. asks Team Cymru's bulk whois ([`CymruClient`]) for all of them in one TCP
//!    connection: `asn`, `asn_cidr`, `asn_country_code`, `asn_registry`, `asn_date`,
//!    `asn_description`;
//! 2. finds each address's registry in IANA's RDAP bootstrap files ([`Bootstrap`],
//!    fetched once per lookup object) and asks it over RDAP, following referrals,
//!    for the `nets` ([`Net`]: cidr, range, name, handle, address, emails, dates).
//!
//! RDAP requests run a few at a time ([`WhoisSettings::concurrency`]) under a
//! per-registry rate limit, with the shared HTTP client's retries and `Retry-After`.
//! A failure for one address is kept in its [`WhoisResult::error`]; it never fails
//! the others. [`whois_batch`] and [`join_whois`] make Arrow columns of the results.
//!
//! The servers are settings, so the lookup can be pointed at mirrors, or at local
//! servers in tests.

mod bootstrap;
mod cymru;
mod rdap;
mod table;

pub use bootstrap::{Bootstrap, IANA_BOOTSTRAP};
pub use cymru::{AsnInfo, CymruClient, CYMRU_SERVER};
pub use rdap::Net;
pub use table::{join_whois, whois_batch, WHOIS_COLUMNS};

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use huntbook_http::client::RateLimit;
use huntbook_http::{HttpClient, HttpError};
use reqwest::Url;
use tokio::sync::{OnceCell, Semaphore};

use crate::ip::{ip_type, parse_ip, IpType};

/// Where the whois services are and how hard to press them.
#[derive(Debug, Clone)]
pub struct WhoisSettings {
    /// The folder of IANA's bootstrap files (`ipv4.json`, `ipv6.json`).
    pub bootstrap_url: Url,
    /// The Team Cymru whois server, `host:port`.
    pub cymru_server: String,
    /// RDAP lookups in flight at once.
    pub concurrency: usize,
    /// RDAP requests per second to one registry.
    pub requests_per_second: u32,
    /// The longest wait for one answer.
    pub timeout: Duration,
}

impl Default for WhoisSettings {
    fn default() -> WhoisSettings {
        WhoisSettings {
            bootstrap_url: Url::parse(IANA_BOOTSTRAP).expect("the IANA URL is valid"),
            cymru_server: CYMRU_SERVER.to_string(),
            concurrency: 8,
            // Registries throttle bulk users (ARIN and RIPE answer 429); MSTICPy waits
            // half a second between lookups.
            requests_per_second: 4,
            timeout: Duration::from_secs(30),
        }
    }
}

/// What is known about one address.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WhoisResult {
    /// The address as given (`query`).
    pub query: String,
    pub asn: Option<AsnInfo>,
    /// The registered networks, most specific first.
    pub nets: Vec<Net>,
    /// Why part of the answer is missing (a registry that failed, an address that
    /// is not public...).
    pub error: Option<String>,
}

/// Why a whois lookup could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WhoisError {
    #[error("the RDAP bootstrap file {file} is not in IANA's format: {problem}")]
    Bootstrap { file: String, problem: String },
    #[error("Team Cymru whois at {server}: {problem}")]
    Cymru { server: String, problem: String },
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// Team Cymru and RDAP lookups; see the module documentation.
#[derive(Debug, Clone)]
pub struct WhoisLookup {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: WhoisSettings,
    client: HttpClient,
    cymru: CymruClient,
    ipv4: OnceCell<Bootstrap>,
    ipv6: OnceCell<Bootstrap>,
}

impl WhoisLookup {
    pub fn new(settings: WhoisSettings) -> Result<WhoisLookup, WhoisError> {
        let client = HttpClient::builder("RDAP")
            .timeout(settings.timeout)
            .rate_limit(RateLimit::new(
                settings.requests_per_second,
                Duration::from_secs(1),
            ))
            .build()?;
        let cymru = CymruClient::new(settings.cymru_server.clone(), settings.timeout);
        Ok(WhoisLookup {
            inner: Arc::new(Inner {
                settings,
                client,
                cymru,
                ipv4: OnceCell::new(),
                ipv6: OnceCell::new(),
            }),
        })
    }

    /// The results for `ips`, in the same order.
    pub async fn lookup(&self, ips: &[String]) -> Vec<WhoisResult> {
        let mut results: Vec<WhoisResult> = ips
            .iter()
            .map(|q| WhoisResult {
                query: q.trim().to_string(),
                ..WhoisResult::default()
            })
            .collect();
        let mut public: Vec<(usize, IpAddr)> = Vec::new();
        for (i, text) in ips.iter().enumerate() {
            match parse_ip(text) {
                Err(e) => results[i].error = Some(e.to_string()),
                Ok(ip) => match ip_type(ip) {
                    IpType::Public => public.push((i, ip)),
                    other => {
                        results[i].error = Some(format!("{} address: not looked up", other.name()))
                    }
                },
            }
        }
        let addresses: Vec<IpAddr> = public.iter().map(|(_, ip)| *ip).collect();
        let (asns, nets) = tokio::join!(
            self.inner.cymru.lookup(&addresses),
            self.all_networks(&addresses)
        );
        let asns = asns.map_err(|e| e.to_string());
        for ((i, ip), nets) in public.iter().zip(nets) {
            let result = &mut results[*i];
            match &asns {
                Ok(found) => result.asn = found.get(ip).cloned(),
                Err(e) => result.error = Some(e.clone()),
            }
            match nets {
                Ok(nets) => result.nets = nets,
                Err(e) => {
                    let message = e.to_string();
                    result.error = Some(match result.error.take() {
                        Some(earlier) => format!("{earlier}; {message}"),
                        None => message,
                    });
                }
            }
        }
        results
    }

    /// RDAP networks for each address, a few lookups at a time.
    async fn all_networks(&self, ips: &[IpAddr]) -> Vec<Result<Vec<Net>, WhoisError>> {
        let permits = Arc::new(Semaphore::new(self.inner.settings.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, ip) in ips.iter().copied().enumerate() {
            let lookup = self.clone();
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                (i, lookup.networks(ip).await)
            });
        }
        let mut found: HashMap<usize, Result<Vec<Net>, WhoisError>> = HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            let (i, result) = joined.expect("an RDAP lookup task does not panic");
            found.insert(i, result);
        }
        (0..ips.len())
            .map(|i| found.remove(&i).expect("every address has a result"))
            .collect()
    }

    /// The registered networks of one address.
    pub async fn networks(&self, ip: IpAddr) -> Result<Vec<Net>, WhoisError> {
        let bootstrap = self.bootstrap(ip).await?;
        let Some(server) = bootstrap.server_for(ip) else {
            return Ok(Vec::new());
        };
        rdap::networks(&self.inner.client, server, ip).await
    }

    /// The bootstrap file for the address family of `ip`, fetched on first use.
    async fn bootstrap(&self, ip: IpAddr) -> Result<&Bootstrap, WhoisError> {
        let (cell, name) = match ip {
            IpAddr::V4(_) => (&self.inner.ipv4, "ipv4.json"),
            IpAddr::V6(_) => (&self.inner.ipv6, "ipv6.json"),
        };
        cell.get_or_try_init(|| async {
            let url = self.inner.settings.bootstrap_url.join(name).map_err(|e| {
                WhoisError::Bootstrap {
                    file: name.to_string(),
                    problem: e.to_string(),
                }
            })?;
            let response = self
                .inner
                .client
                .send(self.inner.client.get(url.clone()))
                .await?;
            let body = response.bytes().await.map_err(|e| WhoisError::Bootstrap {
                file: url.to_string(),
                problem: format!("the download broke off: {e}"),
            })?;
            Bootstrap::parse(url.as_str(), &body)
        })
        .await
    }
}
