//! AS numbers from Team Cymru's IP-to-ASN whois service.
//!
//! The documented bulk protocol on TCP port 43 of `whois.cymru.com`: the client
//! sends `begin`, `verbose`, one address per line and `end`; the server answers a
//! `Bulk mode; whois.cymru.com [date]` line and then, for each address, a line of
//! pipe-separated fields: `AS | IP | BGP Prefix | CC | Registry | Allocated | AS Name`.
//! An address with no route has `NA` for its AS. All addresses of a lookup go in one
//! connection, which is what the service asks of bulk users.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::WhoisError;

/// Team Cymru's whois server.
pub const CYMRU_SERVER: &str = "whois.cymru.com:43";

/// The largest answer read: far more than the lines of the biggest lookup.
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

/// One answer line: the AS announcing the address and its allocation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AsnInfo {
    /// `asn`: the AS number as text ("15169"); MSTICPy keeps it so.
    pub asn: String,
    /// `asn_cidr`: the BGP prefix.
    pub cidr: String,
    /// `asn_country_code`.
    pub country_code: String,
    /// `asn_registry`: arin, ripencc, apnic, lacnic or afrinic.
    pub registry: String,
    /// `asn_date`: when the block was allocated.
    pub allocated: String,
    /// `asn_description`: the AS name.
    pub description: String,
}

/// A client of a Team Cymru style bulk whois server.
#[derive(Debug, Clone)]
pub struct CymruClient {
    server: String,
    timeout: Duration,
}

impl CymruClient {
    /// A client of `server` (`host:port`).
    pub fn new(server: impl Into<String>, timeout: Duration) -> CymruClient {
        CymruClient {
            server: server.into(),
            timeout,
        }
    }

    /// The AS of each address that has one.
    pub async fn lookup(&self, ips: &[IpAddr]) -> Result<HashMap<IpAddr, AsnInfo>, WhoisError> {
        if ips.is_empty() {
            return Ok(HashMap::new());
        }
        let mut query = String::from("begin\nverbose\n");
        for ip in ips {
            query.push_str(&ip.to_string());
            query.push('\n');
        }
        query.push_str("end\n");
        let answer = tokio::time::timeout(self.timeout, self.exchange(&query))
            .await
            .map_err(|_| self.failed(format!("no complete answer within {:?}", self.timeout)))??;
        parse_bulk(&answer).map_err(|problem| self.failed(problem))
    }

    async fn exchange(&self, query: &str) -> Result<String, WhoisError> {
        let mut stream = TcpStream::connect(&self.server)
            .await
            .map_err(|e| self.failed(format!("cannot connect: {e}")))?;
        stream
            .write_all(query.as_bytes())
            .await
            .map_err(|e| self.failed(format!("sending the query: {e}")))?;
        let mut answer = Vec::new();
        (&mut stream)
            .take(MAX_ANSWER)
            .read_to_end(&mut answer)
            .await
            .map_err(|e| self.failed(format!("reading the answer: {e}")))?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }

    fn failed(&self, problem: String) -> WhoisError {
        WhoisError::Cymru {
            server: self.server.clone(),
            problem,
        }
    }
}

/// The answer lines by address. Lines for addresses without an AS are left out.
fn parse_bulk(answer: &str) -> Result<HashMap<IpAddr, AsnInfo>, String> {
    let mut found = HashMap::new();
    for line in answer.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("Bulk mode;") || line.starts_with("AS ") {
            continue;
        }
        if let Some(error) = line.strip_prefix("Error:") {
            return Err(format!("the server answered: {}", error.trim()));
        }
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        if fields.len() < 7 {
            return Err(format!(
                "the answer line '{line}' does not have the 7 fields of verbose mode"
            ));
        }
        let Ok(ip) = fields[1].parse::<IpAddr>() else {
            return Err(format!(
                "the answer line '{line}' has no address in its second field"
            ));
        };
        if fields[0] == "NA" {
            continue;
        }
        found.insert(
            ip,
            AsnInfo {
                asn: fields[0].to_string(),
                cidr: fields[2].to_string(),
                country_code: fields[3].to_string(),
                registry: fields[4].to_string(),
                allocated: fields[5].to_string(),
                // An AS name may itself hold a '|'.
                description: fields[6..].join("|"),
            },
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_bulk_answer() {
        let answer = "Bulk mode; whois.cymru.com [2026-11-28 10:00:00 +0000]\n\
            15169   | 8.8.8.8          | 8.8.8.0/24          | US | arin     | 2023-12-28 | GOOGLE, US\n\
            NA      | 10.0.0.1         | NA                  |    | other    |            | NA\n\
            8075    | 2603:1030::1     | 2603:1030::/32      | US | arin     | 2015-04-29 | MICROSOFT-CORP-MSN-AS-BLOCK, US\n";
        let found = parse_bulk(answer).unwrap();
        assert_eq!(found.len(), 2);
        let google = &found[&"8.8.8.8".parse::<IpAddr>().unwrap()];
        assert_eq!(
            google,
            &AsnInfo {
                asn: "15169".into(),
                cidr: "8.8.8.0/24".into(),
                country_code: "US".into(),
                registry: "arin".into(),
                allocated: "2023-12-28".into(),
                description: "GOOGLE, US".into(),
            }
        );
        assert!(found.contains_key(&"2603:1030::1".parse::<IpAddr>().unwrap()));
    }

    #[test]
    fn errors_and_strange_lines_are_reported() {
        let err = parse_bulk("Error: no ASN or IP match on line 1.\n").unwrap_err();
        assert_eq!(err, "the server answered: no ASN or IP match on line 1.");
        let err = parse_bulk("15169 | 8.8.8.8\n").unwrap_err();
        assert!(err.contains("does not have the 7 fields"), "{err}");
    }
}
