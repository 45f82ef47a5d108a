//! Locations from the IPStack web service.
//!
//! IPStack's documented API: `GET http://api.ipstack.com/{ip}?access_key=KEY` for one
//! address and `GET http://api.ipstack.com/{ip1},{ip2},...?access_key=KEY` for up to
//! 50 (the bulk endpoint of the paid plans), answering a JSON object, or a list of
//! them, with `country_code`, `country_name`, `region_name`, `city`, `latitude`,
//! `longitude` and, on plans that have it, `connection.asn` and `connection.isp`.
//! Failures come back as HTTP 200 with `{"success": false, "error": {"code",
//! "type", "info"}}`. A plan without the bulk endpoint answers code 303; then each
//! address is asked for on its own.

use std::collections::HashMap;
use std::net::IpAddr;

use huntbook_http::HttpClient;
use serde_json::Value;

use super::{public_or_placeholder, GeoError, GeoLocation, IpStackSettings};

/// The most addresses IPStack takes in one request.
pub const IPSTACK_BATCH: usize = 50;

/// IPStack's error code for "bulk requests are not supported on your plan".
const BATCH_NOT_SUPPORTED: i64 = 303;

/// An IPStack client.
#[derive(Debug, Clone)]
pub struct IpStackLookup {
    client: HttpClient,
    settings: IpStackSettings,
}

impl IpStackLookup {
    pub fn new(client: HttpClient, settings: IpStackSettings) -> IpStackLookup {
        IpStackLookup { client, settings }
    }

    /// A client of its own for these settings.
    pub fn from_settings(settings: IpStackSettings) -> Result<IpStackLookup, GeoError> {
        Ok(IpStackLookup::new(
            HttpClient::builder("IPStack").build()?,
            settings,
        ))
    }

    /// The locations of `ips`, in the same order: the placeholder for non-public or
    /// invalid addresses (which are not sent), `None` where IPStack knows nothing.
    pub async fn lookup(&self, ips: &[String]) -> Result<Vec<Option<GeoLocation>>, GeoError> {
        let mut answers: Vec<Option<GeoLocation>> = vec![None; ips.len()];
        let mut wanted: Vec<(usize, IpAddr)> = Vec::new();
        for (i, text) in ips.iter().enumerate() {
            match public_or_placeholder(text) {
                Err(label) => answers[i] = Some(GeoLocation::placeholder(text, label)),
                Ok(ip) => wanted.push((i, ip)),
            }
        }
        let mut bulk = true;
        for chunk in wanted.chunks(IPSTACK_BATCH) {
            let addresses: Vec<IpAddr> = chunk.iter().map(|(_, ip)| *ip).collect();
            let found = if bulk {
                match self.request(&addresses).await {
                    Err(GeoError::IpStack { code, .. }) if code == BATCH_NOT_SUPPORTED => {
                        bulk = false;
                        self.one_by_one(&addresses).await?
                    }
                    other => other?,
                }
            } else {
                self.one_by_one(&addresses).await?
            };
            for (i, ip) in chunk {
                answers[*i] = found
                    .get(ip)
                    .map(|record| location(&ips[*i], record))
                    .filter(has_place);
            }
        }
        Ok(answers)
    }

    async fn one_by_one(&self, ips: &[IpAddr]) -> Result<HashMap<IpAddr, Value>, GeoError> {
        let mut all = HashMap::new();
        for ip in ips {
            all.extend(self.request(std::slice::from_ref(ip)).await?);
        }
        Ok(all)
    }

    /// One request for `ips`, its records keyed by the address they describe.
    async fn request(&self, ips: &[IpAddr]) -> Result<HashMap<IpAddr, Value>, GeoError> {
        let list: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
        let mut url =
            self.settings
                .base_url
                .join(&list.join(","))
                .map_err(|e| GeoError::Config {
                    setting: "IPStack URL".into(),
                    problem: e.to_string(),
                })?;
        url.query_pairs_mut()
            .append_pair("access_key", self.settings.access_key.expose())
            .append_pair("output", "json");
        let body: Value = self.client.get_json(self.client.get(url)).await?;
        if let Some(error) = refusal(&body) {
            return Err(error);
        }
        let records = match body {
            Value::Array(items) => items,
            one => vec![one],
        };
        Ok(records
            .into_iter()
            .filter_map(|r| {
                let ip = r.get("ip")?.as_str()?.parse().ok()?;
                Some((ip, r))
            })
            .collect())
    }
}

/// The error of an `{"success": false, "error": {...}}` answer.
fn refusal(body: &Value) -> Option<GeoError> {
    if body.get("success").and_then(Value::as_bool) != Some(false) {
        return None;
    }
    let error = body.get("error").cloned().unwrap_or(Value::Null);
    let text = |key: &str| {
        error
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    Some(GeoError::IpStack {
        code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
        kind: text("type"),
        info: text("info"),
    })
}

fn location(ip: &str, record: &Value) -> GeoLocation {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let connection = record.get("connection");
    GeoLocation {
        ip: ip.trim().to_string(),
        country_code: text(record.get("country_code")),
        country_name: text(record.get("country_name")),
        state: text(record.get("region_name")),
        city: text(record.get("city")),
        longitude: record.get("longitude").and_then(Value::as_f64),
        latitude: record.get("latitude").and_then(Value::as_f64),
        asn: connection
            .and_then(|c| c.get("asn"))
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        asn_org: text(connection.and_then(|c| c.get("isp"))),
    }
}

/// IPStack answers an address it cannot place with every field null.
fn has_place(found: &GeoLocation) -> bool {
    found.country_code.is_some() || found.latitude.is_some() || found.asn.is_some()
}
