//! IP network registration data over RDAP (RFC 9083 responses, RFC 7480 HTTP usage).
//!
//! `GET {server}ip/{address}` answers an `ip network` object: `handle`,
//! `startAddress`, `endAddress`, `name`, `country`, `events` (`registration`, `last
//! changed`), `entities` with jCard contact data (`vcardArray`), `links`, and often
//! the `cidr0_cidrs` extension. A registry that does not hold the address refers the
//! client elsewhere, with an HTTP redirect (followed by the HTTP client) or with a
//! `related` link to the same query on another server (followed here, a few hops at
//! most). An `up` link names the enclosing network, which is fetched too, as
//! MSTICPy's `nets` list holds both.

use std::net::IpAddr;

use huntbook_http::{HttpClient, HttpError};
use reqwest::Url;
use serde_json::Value;

use super::WhoisError;

/// The most referrals followed for one address.
const MAX_REFERRALS: usize = 3;

/// One registered network, with MSTICPy's `nets` keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Net {
    /// The network as CIDR prefixes, comma-separated when the range needs several.
    pub cidr: String,
    /// `start - end`.
    pub range: String,
    pub name: Option<String>,
    pub handle: Option<String>,
    pub country: Option<String>,
    pub start_address: Option<String>,
    pub end_address: Option<String>,
    /// The `registration` event.
    pub created: Option<String>,
    /// The `last changed` event.
    pub updated: Option<String>,
    /// The postal address of the first entity that gives one.
    pub address: Option<String>,
    /// Every e-mail address of the entities, in order, once each.
    pub emails: Vec<String>,
    /// The URL that answered.
    pub source: String,
}

/// The networks registered for `ip`, most specific first; empty when the registry
/// has no record (404).
pub(crate) async fn networks(
    client: &HttpClient,
    server: &Url,
    ip: IpAddr,
) -> Result<Vec<Net>, WhoisError> {
    let mut url = query_url(server, ip)?;
    let mut object = None;
    for _ in 0..=MAX_REFERRALS {
        let Some((answer, answered_at)) = fetch(client, &url).await? else {
            break;
        };
        let next = referral(&answer, &answered_at);
        object = Some((answer, answered_at));
        match next {
            Some(next) => url = next,
            None => break,
        }
    }
    let Some((object, source)) = object else {
        return Ok(Vec::new());
    };
    let mut nets = vec![net(&object, &source)];
    if let Some(up) = link(&object, "up") {
        if let Some((parent, answered_at)) = fetch(client, &up).await? {
            nets.push(net(&parent, &answered_at));
        }
    }
    Ok(nets)
}

fn query_url(server: &Url, ip: IpAddr) -> Result<Url, WhoisError> {
    server
        .join(&format!("ip/{ip}"))
        .map_err(|e| WhoisError::Bootstrap {
            file: server.to_string(),
            problem: format!("the RDAP base URL cannot take a query: {e}"),
        })
}

/// The JSON object at `url` and the URL that answered (after redirects); `None` for
/// 404.
async fn fetch(client: &HttpClient, url: &Url) -> Result<Option<(Value, Url)>, WhoisError> {
    let request = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/rdap+json");
    let response = match client.send(request).await {
        Ok(response) => response,
        Err(HttpError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let answered_at = response.url().clone();
    let object = client.json::<Value>(response).await?;
    Ok(Some((object, answered_at)))
}

/// A `related` link to the same kind of query on another server.
fn referral(object: &Value, current: &Url) -> Option<Url> {
    let target = link(object, "related")?;
    let is_ip_query = target.path().contains("/ip/");
    (is_ip_query && (target.host_str() != current.host_str() || target.port() != current.port()))
        .then_some(target)
}

/// The `href` of the first RDAP link with relation `rel`.
fn link(object: &Value, rel: &str) -> Option<Url> {
    object
        .get("links")?
        .as_array()?
        .iter()
        .filter(|l| l.get("rel").and_then(Value::as_str) == Some(rel))
        .filter(|l| {
            l.get("type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "application/rdap+json")
        })
        .find_map(|l| Url::parse(l.get("href")?.as_str()?).ok())
}

fn net(object: &Value, source: &Url) -> Net {
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_string);
    let start = text("startAddress");
    let end = text("endAddress");
    let event = |action: &str| {
        object
            .get("events")?
            .as_array()?
            .iter()
            .find(|e| e.get("eventAction").and_then(Value::as_str) == Some(action))?
            .get("eventDate")?
            .as_str()
            .map(str::to_string)
    };
    let mut vcards = Vec::new();
    collect_vcards(object, &mut vcards);
    let mut emails: Vec<String> = Vec::new();
    for email in vcards.iter().flat_map(|v| properties(v, "email")) {
        if let Some(email) = email.get(3).and_then(Value::as_str) {
            if !emails.iter().any(|e| e == email) {
                emails.push(email.to_string());
            }
        }
    }
    Net {
        cidr: cidr(object, start.as_deref(), end.as_deref()),
        range: match (&start, &end) {
            (Some(s), Some(e)) => format!("{s} - {e}"),
            _ => String::new(),
        },
        name: text("name"),
        handle: text("handle"),
        country: text("country"),
        start_address: start,
        end_address: end,
        created: event("registration"),
        updated: event("last changed"),
        address: vcards.iter().find_map(|v| postal_label(v)),
        emails,
        source: source.to_string(),
    }
}

/// The `vcardArray`s of the object's entities, depth first (entities nest: a
/// registrant's abuse contact sits inside the registrant).
fn collect_vcards<'a>(object: &'a Value, out: &mut Vec<&'a Value>) {
    for entity in object
        .get("entities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(vcard) = entity.get("vcardArray") {
            out.push(vcard);
        }
        collect_vcards(entity, out);
    }
}

/// The properties named `name` of a jCard (`["vcard", [[name, params, type, value], ...]]`).
fn properties<'a>(vcard: &'a Value, name: &'a str) -> impl Iterator<Item = &'a Vec<Value>> + 'a {
    vcard
        .get(1)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .filter(move |p| p.first().and_then(Value::as_str) == Some(name))
}

/// The `label` parameter of an `adr` property (the address as printed), else the
/// structured address's non-empty parts.
fn postal_label(vcard: &Value) -> Option<String> {
    properties(vcard, "adr").find_map(|adr| {
        if let Some(label) = adr
            .get(1)
            .and_then(|p| p.get("label"))
            .and_then(Value::as_str)
        {
            return Some(label.to_string());
        }
        let parts: Vec<&str> = adr
            .get(3)?
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n"))
    })
}

/// The `cidr0_cidrs` prefixes, else the prefixes covering start..end.
fn cidr(object: &Value, start: Option<&str>, end: Option<&str>) -> String {
    let listed: Vec<String> = object
        .get("cidr0_cidrs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let prefix = c.get("v4prefix").or_else(|| c.get("v6prefix"))?.as_str()?;
            let length = c.get("length")?.as_u64()?;
            Some(format!("{prefix}/{length}"))
        })
        .collect();
    if !listed.is_empty() {
        return listed.join(", ");
    }
    match (
        start.and_then(|s| s.parse().ok()),
        end.and_then(|e| e.parse().ok()),
    ) {
        (Some(s), Some(e)) => range_to_cidrs(s, e).join(", "),
        _ => String::new(),
    }
}

/// The fewest CIDR prefixes that cover exactly `start..=end`.
fn range_to_cidrs(start: IpAddr, end: IpAddr) -> Vec<String> {
    let (bits, mut low, high) = match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => {
            (32u32, u128::from(u32::from(s)), u128::from(u32::from(e)))
        }
        (IpAddr::V6(s), IpAddr::V6(e)) => (128, u128::from(s), u128::from(e)),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    while low <= high {
        // The largest block that starts at `low` (aligned to its size) and ends by `high`.
        let mut size = low.trailing_zeros().min(bits);
        while size > 0 && block_end(low, size) > high {
            size -= 1;
        }
        let address = if bits == 32 {
            IpAddr::from(std::net::Ipv4Addr::from(low as u32))
        } else {
            IpAddr::from(std::net::Ipv6Addr::from(low))
        };
        out.push(format!("{address}/{}", bits - size));
        let last = block_end(low, size);
        if last >= high {
            break;
        }
        low = last + 1;
    }
    out
}

/// The last address of the block of 2^`size` addresses starting at `low`.
fn block_end(low: u128, size: u32) -> u128 {
    if size >= 128 {
        u128::MAX
    } else {
        low + ((1u128 << size) - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_become_prefixes() {
        let r = |s: &str, e: &str| range_to_cidrs(s.parse().unwrap(), e.parse().unwrap());
        assert_eq!(
            r("13.64.0.0", "13.107.255.255"),
            ["13.64.0.0/11", "13.96.0.0/13", "13.104.0.0/14"]
        );
        assert_eq!(r("8.8.8.0", "8.8.8.255"), ["8.8.8.0/24"]);
        assert_eq!(r("10.0.0.1", "10.0.0.1"), ["10.0.0.1/32"]);
        assert_eq!(r("0.0.0.0", "255.255.255.255"), ["0.0.0.0/0"]);
        assert_eq!(
            r("2001:4860::", "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff"),
            ["2001:4860::/32"]
        );
    }

    #[test]
    fn an_arin_style_network_maps_to_msticpys_keys() {
        let object = json!({
            "objectClassName": "ip network",
            "handle": "NET-13-64-0-0-1",
            "startAddress": "13.64.0.0",
            "endAddress": "13.107.255.255",
            "name": "MSFT",
            "country": "US",
            "cidr0_cidrs": [{"v4prefix": "13.64.0.0", "length": 11}, {"v4prefix": "13.96.0.0", "length": 13}, {"v4prefix": "13.104.0.0", "length": 14}],
            "events": [
                {"eventAction": "last changed", "eventDate": "2021-12-14T20:28:24-05:00"},
                {"eventAction": "registration", "eventDate": "2015-03-26T14:39:02-04:00"}
            ],
            "entities": [{
                "objectClassName": "entity",
                "handle": "MSFT",
                "roles": ["registrant"],
                "vcardArray": ["vcard", [
                    ["version", {}, "text", "4.0"],
                    ["fn", {}, "text", "Microsoft Corporation"],
                    ["adr", {"label": "One Microsoft Way\nRedmond\nWA\n98052\nUnited States"}, "text", ["", "", "", "", "", "", ""]],
                    ["kind", {}, "text", "org"]
                ]],
                "entities": [{
                    "objectClassName": "entity",
                    "handle": "MRPD-ARIN",
                    "roles": ["abuse"],
                    "vcardArray": ["vcard", [
                        ["version", {}, "text", "4.0"],
                        ["email", {}, "text", "abuse@microsoft.com"],
                        ["email", {"pref": "1"}, "text", "abuse@microsoft.com"]
                    ]]
                }]
            }],
            "links": [{"value": "https://rdap.arin.net/registry/ip/13.107.4.50", "rel": "self", "type": "application/rdap+json", "href": "https://rdap.arin.net/registry/ip/13.64.0.0"}]
        });
        let source = Url::parse("https://rdap.arin.net/registry/ip/13.107.4.50").unwrap();
        let n = net(&object, &source);
        assert_eq!(n.cidr, "13.64.0.0/11, 13.96.0.0/13, 13.104.0.0/14");
        assert_eq!(n.range, "13.64.0.0 - 13.107.255.255");
        assert_eq!(n.name.as_deref(), Some("MSFT"));
        assert_eq!(n.created.as_deref(), Some("2015-03-26T14:39:02-04:00"));
        assert_eq!(n.updated.as_deref(), Some("2021-12-14T20:28:24-05:00"));
        assert_eq!(
            n.address.as_deref(),
            Some("One Microsoft Way\nRedmond\nWA\n98052\nUnited States")
        );
        assert_eq!(n.emails, ["abuse@microsoft.com"]);
        assert_eq!(link(&object, "up"), None);
    }

    #[test]
    fn referrals_go_to_other_servers_only() {
        let here = Url::parse("https://rdap.arin.net/registry/ip/2.125.160.216").unwrap();
        let elsewhere = json!({"links": [{"rel": "related", "type": "application/rdap+json", "href": "https://rdap.db.ripe.net/ip/2.125.160.216"}]});
        assert_eq!(
            referral(&elsewhere, &here).unwrap().host_str(),
            Some("rdap.db.ripe.net")
        );
        let same = json!({"links": [{"rel": "related", "href": "https://rdap.arin.net/registry/ip/2.125.160.216"}]});
        assert_eq!(referral(&same, &here), None);
        let not_a_query =
            json!({"links": [{"rel": "related", "href": "https://www.ripe.net/about"}]});
        assert_eq!(referral(&not_a_query, &here), None);
    }
}
