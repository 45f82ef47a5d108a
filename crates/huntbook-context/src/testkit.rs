//! Fake whois services for tests, on loopback, speaking the documented protocols:
//! - [`FakeRegistry`]: an RDAP server of one registry (RFC 9082 queries `ip/ADDR` and
//!   `ip/ADDR/LEN`, RFC 9083 `ip network` answers with entities, events, `cidr0_cidrs`
//!   and `up` links, `{"errorCode": 404, ...}` for unknown addresses), which can refer
//!   ranges to another registry by HTTP redirect or by a `related` link;
//! - [`fake_iana`]: IANA's RDAP bootstrap files (RFC 9224) listing registries;
//! - [`FakeCymru`]: Team Cymru's bulk whois protocol on TCP.
//!
//! Behind the `testkit` cargo feature; the kit panics on its own setup failures.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use huntbook_http::testkit::FakeServer;
use ipnetwork::IpNetwork;
use reqwest::Url;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A network a fake registry holds.
#[derive(Debug, Clone)]
pub struct RegisteredNet {
    pub network: IpNetwork,
    pub handle: String,
    pub name: String,
    pub country: String,
    /// The registrant's organisation, postal address and abuse e-mail.
    pub org: String,
    pub address: String,
    pub abuse_email: String,
    /// The enclosing network, linked as `up`.
    pub parent: Option<IpNetwork>,
}

/// How a registry sends a client to the registry that holds a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Referral {
    /// `301 Moved Permanently` with a `Location` (RFC 7480 section 5.2).
    Redirect,
    /// A 200 answer whose `links` hold `rel: related` to the query on the other
    /// server.
    RelatedLink,
}

#[derive(Clone)]
struct Registry {
    nets: Arc<Vec<RegisteredNet>>,
    referrals: Arc<Vec<(IpNetwork, Url, Referral)>>,
    base: Arc<Mutex<Option<Url>>>,
}

/// A running fake RDAP server of one registry.
pub struct FakeRegistry {
    server: FakeServer,
}

impl FakeRegistry {
    /// Serves `nets` and refers the addresses of `referrals` to the given base URLs.
    pub async fn start(
        nets: Vec<RegisteredNet>,
        referrals: Vec<(IpNetwork, Url, Referral)>,
    ) -> FakeRegistry {
        let registry = Registry {
            nets: Arc::new(nets),
            referrals: Arc::new(referrals),
            base: Arc::new(Mutex::new(None)),
        };
        let router = Router::new()
            .route("/rdap/ip/{*query}", get(answer))
            .with_state(registry.clone());
        let server = FakeServer::start(router).await;
        *registry.base.lock().expect("usable") = Some(server.url("rdap/"));
        FakeRegistry { server }
    }

    /// The RDAP base URL, `http://127.0.0.1:PORT/rdap/`.
    pub fn base(&self) -> Url {
        self.server.url("rdap/")
    }

    pub fn server(&self) -> &FakeServer {
        &self.server
    }
}

fn rdap_error(status: StatusCode, title: &str) -> Response {
    let body = json!({"errorCode": status.as_u16(), "title": title, "description": [title]});
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/rdap+json".parse().expect("valid"),
    );
    response
}

async fn answer(State(registry): State<Registry>, Path(query): Path<String>) -> Response {
    let base = registry
        .base
        .lock()
        .expect("usable")
        .clone()
        .expect("set at start");
    let (address, length) = match query.split_once('/') {
        Some((a, l)) => (a.to_string(), l.parse::<u8>().ok()),
        None => (query.clone(), None),
    };
    let Ok(ip) = address.parse::<IpAddr>() else {
        return rdap_error(StatusCode::BAD_REQUEST, "Malformed IP address query");
    };
    if let Some((_, target, how)) = registry
        .referrals
        .iter()
        .find(|(net, _, _)| net.contains(ip))
    {
        let elsewhere = target.join(&format!("ip/{query}")).expect("valid referral");
        return match how {
            Referral::Redirect => (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, elsewhere.to_string())],
            )
                .into_response(),
            Referral::RelatedLink => Json(json!({
                "objectClassName": "ip network",
                "rdapConformance": ["rdap_level_0"],
                "handle": "IANA-BLK",
                "name": "NON-REGISTRY-BLOCK",
                "notices": [{"title": "Referral", "description": ["This range is held by another registry."]}],
                "links": [
                    {"value": base.join(&format!("ip/{query}")).expect("valid").to_string(), "rel": "self", "type": "application/rdap+json", "href": base.join(&format!("ip/{query}")).expect("valid").to_string()},
                    {"value": base.join(&format!("ip/{query}")).expect("valid").to_string(), "rel": "related", "type": "application/rdap+json", "href": elsewhere.to_string()}
                ]
            }))
            .into_response(),
        };
    }
    let found = registry
        .nets
        .iter()
        .filter(|n| match length {
            Some(len) => n.network.prefix() == len && n.network.contains(ip),
            None => n.network.contains(ip),
        })
        .max_by_key(|n| n.network.prefix());
    match found {
        Some(net) => {
            let mut response = Json(network_object(net, &base)).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                "application/rdap+json".parse().expect("valid"),
            );
            response
        }
        None => rdap_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// An RFC 9083 `ip network` object as the regional registries write them.
fn network_object(net: &RegisteredNet, base: &Url) -> Value {
    let (v, prefix_key) = match net.network {
        IpNetwork::V4(_) => ("v4", "v4prefix"),
        IpNetwork::V6(_) => ("v6", "v6prefix"),
    };
    let self_url = base
        .join(&format!(
            "ip/{}/{}",
            net.network.network(),
            net.network.prefix()
        ))
        .expect("valid");
    let mut links = vec![
        json!({"value": self_url.to_string(), "rel": "self", "type": "application/rdap+json", "href": self_url.to_string()}),
    ];
    if let Some(parent) = net.parent {
        let up = base
            .join(&format!("ip/{}/{}", parent.network(), parent.prefix()))
            .expect("valid");
        links.push(json!({"value": self_url.to_string(), "rel": "up", "type": "application/rdap+json", "href": up.to_string()}));
    }
    json!({
        "rdapConformance": ["nro_rdap_profile_0", "rdap_level_0", "cidr0"],
        "objectClassName": "ip network",
        "handle": net.handle,
        "startAddress": net.network.network().to_string(),
        "endAddress": net.network.broadcast().to_string(),
        "ipVersion": v,
        "name": net.name,
        "type": "DIRECT ALLOCATION",
        "country": net.country,
        "status": ["active"],
        "cidr0_cidrs": [{prefix_key: net.network.network().to_string(), "length": net.network.prefix()}],
        "events": [
            {"eventAction": "registration", "eventDate": "2015-03-26T14:39:02-04:00"},
            {"eventAction": "last changed", "eventDate": "2021-12-14T20:28:24-05:00"}
        ],
        "entities": [{
            "objectClassName": "entity",
            "handle": format!("{}-ORG", net.handle),
            "roles": ["registrant"],
            "vcardArray": ["vcard", [
                ["version", {}, "text", "4.0"],
                ["fn", {}, "text", net.org],
                ["adr", {"label": net.address}, "text", ["", "", "", "", "", "", ""]],
                ["kind", {}, "text", "org"]
            ]],
            "entities": [{
                "objectClassName": "entity",
                "handle": format!("{}-ABUSE", net.handle),
                "roles": ["abuse"],
                "vcardArray": ["vcard", [
                    ["version", {}, "text", "4.0"],
                    ["fn", {}, "text", "Abuse"],
                    ["kind", {}, "text", "group"],
                    ["email", {}, "text", net.abuse_email]
                ]]
            }]
        }],
        "links": links,
        "port43": "whois.example.net"
    })
}

/// IANA's bootstrap folder with `ipv4.json` and `ipv6.json` listing `services`:
/// (prefixes, RDAP base URL). Its URL is `server.url("rdap/")`.
pub async fn fake_iana(services: Vec<(Vec<&str>, Url)>) -> FakeServer {
    let file = |v6: bool| {
        let entries: Vec<Value> = services
            .iter()
            .filter_map(|(prefixes, url)| {
                let chosen: Vec<&&str> =
                    prefixes.iter().filter(|p| p.contains(':') == v6).collect();
                (!chosen.is_empty()).then(|| json!([chosen, [url.to_string()]]))
            })
            .collect();
        json!({
            "description": format!("RDAP bootstrap file for IPv{} address allocations", if v6 { 6 } else { 4 }),
            "publication": "2026-11-01T00:00:00Z",
            "services": entries,
            "version": "1.0"
        })
    };
    let (v4, v6) = (file(false), file(true));
    let router = Router::new()
        .route("/rdap/ipv4.json", get(move || async move { Json(v4) }))
        .route("/rdap/ipv6.json", get(move || async move { Json(v6) }));
    FakeServer::start(router).await
}

/// A Team Cymru style bulk whois server on loopback; stops when dropped.
pub struct FakeCymru {
    address: String,
    queries: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeCymru {
    /// Answers each address with its line of `routes` (`AS | IP | prefix | CC |
    /// registry | allocated | AS name`, the IP field filled in), and `NA` lines for
    /// the others. `routes` maps networks to `(AS, CC, registry, allocated, AS name)`.
    pub async fn start(routes: Vec<(IpNetwork, [&'static str; 5])>) -> FakeCymru {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port is free");
        let address = listener.local_addr().expect("bound").to_string();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let log = queries.clone();
        let routes = Arc::new(routes);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let routes = routes.clone();
                let log = log.clone();
                tokio::spawn(async move { serve(stream, &routes, &log).await });
            }
        });
        FakeCymru {
            address,
            queries,
            task,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Each query received, as its text.
    pub fn queries(&self) -> Vec<String> {
        self.queries.lock().expect("usable").clone()
    }
}

impl Drop for FakeCymru {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    routes: &[(IpNetwork, [&'static str; 5])],
    log: &Mutex<Vec<String>>,
) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut query = String::new();
    let mut answer = String::from("Bulk mode; whois.cymru.com [2026-11-28 10:00:00 +0000]\n");
    let mut in_bulk = false;
    let mut verbose = false;
    let mut line_number = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        line_number += 1;
        query.push_str(&line);
        query.push('\n');
        match line.trim() {
            "begin" => in_bulk = true,
            "verbose" => verbose = true,
            "end" => break,
            text if in_bulk => match text.parse::<IpAddr>() {
                Ok(ip) => {
                    let route = routes
                        .iter()
                        .filter(|(n, _)| n.contains(ip))
                        .max_by_key(|(n, _)| n.prefix());
                    answer.push_str(&match (route, verbose) {
                        (Some((net, [asn, cc, registry, date, name])), true) => {
                            format!("{asn:<7} | {ip:<16} | {net:<19} | {cc} | {registry:<8} | {date} | {name}\n")
                        }
                        (Some((net, [asn, ..])), false) => format!("{asn:<7} | {ip:<16} | {net}\n"),
                        (None, _) => format!("NA      | {ip:<16} | NA                  |    | other    |            | NA\n"),
                    })
                }
                Err(_) => answer.push_str(&format!(
                    "Error: no ASN or IP match on line {line_number}.\n"
                )),
            },
            _ => {}
        }
    }
    log.lock().expect("usable").push(query);
    let _ = write.write_all(answer.as_bytes()).await;
    let _ = write.shutdown().await;
}
