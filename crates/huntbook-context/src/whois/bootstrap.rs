//! Which RDAP server answers for an address: IANA's bootstrap registry (RFC 9224).
//!
//! IANA publishes `ipv4.json`, `ipv6.json` and `asn.json` under
//! `https://data.iana.org/rdap/`, each `{"version", "publication", "description",
//! "services": [[[entries...], [base URLs...]], ...]}`, where the entries are CIDR
//! prefixes (or AS number ranges `"1-1876"`) and the URLs the RDAP services of the
//! registry holding them. The most specific matching prefix wins, and an HTTPS URL is
//! preferred over plain HTTP. The files change a few times a year; a
//! [`Bootstrap`] is fetched once and kept in memory.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use reqwest::Url;
use serde::Deserialize;

use super::WhoisError;

/// IANA's bootstrap folder.
pub const IANA_BOOTSTRAP: &str = "https://data.iana.org/rdap/";

#[derive(Deserialize)]
struct File {
    services: Vec<(Vec<String>, Vec<String>)>,
}

/// The IP address space of one bootstrap file, mapped to RDAP base URLs.
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    networks: Vec<(IpNetwork, Url)>,
}

impl Bootstrap {
    /// Reads a bootstrap file (`ipv4.json` or `ipv6.json`); `source` names it in
    /// errors.
    pub fn parse(source: &str, json: &[u8]) -> Result<Bootstrap, WhoisError> {
        let bad = |problem: String| WhoisError::Bootstrap {
            file: source.to_string(),
            problem,
        };
        let file: File = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
        let mut networks = Vec::new();
        for (entries, urls) in file.services {
            let Some(url) = preferred(&urls) else {
                return Err(bad(format!(
                    "the service for {} has no usable URL",
                    entries.join(", ")
                )));
            };
            for entry in entries {
                let network: IpNetwork = entry
                    .parse()
                    .map_err(|_| bad(format!("'{entry}' is not a CIDR prefix")))?;
                networks.push((network, url.clone()));
            }
        }
        Ok(Bootstrap { networks })
    }

    /// The base URL of the registry for `ip`, from the longest matching prefix.
    pub fn server_for(&self, ip: IpAddr) -> Option<&Url> {
        self.networks
            .iter()
            .filter(|(net, _)| net.contains(ip))
            .max_by_key(|(net, _)| net.prefix())
            .map(|(_, url)| url)
    }

    /// Adds the networks of another file (the IPv6 file to the IPv4 one).
    pub fn extend(&mut self, other: Bootstrap) {
        self.networks.extend(other.networks);
    }
}

/// The HTTPS URL if there is one, else the first; as a base URL ending in `/`.
fn preferred(urls: &[String]) -> Option<Url> {
    let pick = urls
        .iter()
        .find(|u| u.starts_with("https://"))
        .or_else(|| urls.first())?;
    let with_slash = if pick.ends_with('/') {
        pick.clone()
    } else {
        format!("{pick}/")
    };
    Url::parse(&with_slash).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPV4: &str = r#"{
      "description": "RDAP bootstrap file for IPv4 address allocations",
      "publication": "2026-10-01T00:00:00Z",
      "services": [
        [["13.0.0.0/8", "8.0.0.0/8"], ["https://rdap.arin.net/registry/", "http://rdap.arin.net/registry/"]],
        [["2.0.0.0/8"], ["http://rdap.db.ripe.net", "https://rdap.db.ripe.net/"]],
        [["13.107.0.0/16"], ["https://rdap.example.net/rdap/"]]
      ],
      "version": "1.0"
    }"#;

    #[test]
    fn longest_prefix_and_https_win() {
        let b = Bootstrap::parse("ipv4.json", IPV4.as_bytes()).unwrap();
        let server = |ip: &str| b.server_for(ip.parse().unwrap()).map(Url::as_str);
        assert_eq!(server("8.8.8.8"), Some("https://rdap.arin.net/registry/"));
        assert_eq!(
            server("13.107.4.50"),
            Some("https://rdap.example.net/rdap/")
        );
        assert_eq!(server("13.1.1.1"), Some("https://rdap.arin.net/registry/"));
        assert_eq!(server("2.125.160.216"), Some("https://rdap.db.ripe.net/"));
        assert_eq!(server("99.0.0.1"), None);
    }

    #[test]
    fn a_bad_file_is_named() {
        let err = Bootstrap::parse(
            "ipv4.json",
            br#"{"services": [[["13.0.0.0/33"], ["https://x/"]]]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the RDAP bootstrap file ipv4.json is not in IANA's format: '13.0.0.0/33' is not a CIDR prefix"
        );
        let err = Bootstrap::parse("ipv6.json", b"<html>").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("the RDAP bootstrap file ipv6.json"));
    }
}
