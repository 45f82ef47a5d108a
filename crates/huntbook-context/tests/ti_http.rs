//! Every web service against a local server that plays it: the documented paths,
//! key placement, query parameters and bodies, answer shapes for a hit, a miss and an
//! unknown observable, and the failures (401, 403, 429 with Retry-After, a timeout,
//! a body that is not JSON).

// A fake's refusal is the HTTP response itself; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine as _;
use huntbook_context::ti::http::{HttpProvider, HttpSettings, Service};
use huntbook_context::ti::{LookupItem, LookupOptions, LookupRow, Severity, TiLookup};
use huntbook_http::client::RetryPolicy;
use huntbook_http::testkit::FakeServer;
use huntbook_http::Secret;
use serde_json::{json, Value};

const KEY: &str = "k-0123456789abcdef";
const API_ID: &str = "app-id-42";

/// What the fake does with a request it accepts.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Play {
    Hit,
    Miss,
    Forbidden,
    Slow,
    Garbled,
}

/// A request as the fake sees it.
struct Seen {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn form(&self, name: &str) -> Option<String> {
        form_urlencoded(&self.body)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn form_urlencoded(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A service as its documentation describes it: whether the key is right, and which
/// observable (if any) a request asks about. `None` means the service does not know
/// the route (404 from the web server, not the API).
type Reader = fn(&Seen) -> Result<Option<String>, Response>;

/// The answers of one service.
struct Fake {
    key: &'static str,
    read: Reader,
    hit: fn(&str) -> Value,
    miss: fn(&str) -> Response,
    /// The service's documented 401 answer.
    unauthorized: fn() -> Response,
}

/// The fixtures that a service rates one step lower than a hit.
fn warned(observable: &str) -> bool {
    observable.contains("warn") || observable == "104.16.0.77" || observable.starts_with("5f4dcc3b")
}

/// Which play an observable triggers: the fixtures use distinct observables.
fn play_for(observable: &str) -> Play {
    match observable {
        o if o.starts_with("45.33.32.156")
            || o.contains("clean-site")
            || o.starts_with("e99a18c4") =>
        {
            Play::Miss
        }
        o if o.starts_with("185.220.101.1") || o.contains("forbidden-site") => Play::Forbidden,
        o if o.starts_with("1.1.1.1") || o.contains("slow-site") => Play::Slow,
        o if o.starts_with("9.9.9.9") || o.contains("garbled-site") => Play::Garbled,
        _ => Play::Hit,
    }
}

async fn serve(State(fake): State<Arc<Fake>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let seen = Seen {
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        query: parts
            .uri
            .query()
            .map(|q| form_urlencoded(q.as_bytes()))
            .unwrap_or_default(),
        headers: parts.headers.clone(),
        body: axum::body::to_bytes(body, 1 << 20).await.unwrap(),
    };
    let observable = match (fake.read)(&seen) {
        Err(refused) => return refused,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such route").into_response(),
        Ok(Some(o)) => o,
    };
    match play_for(&observable) {
        Play::Hit => Json((fake.hit)(&observable)).into_response(),
        Play::Miss => (fake.miss)(&observable),
        Play::Forbidden => {
            (StatusCode::FORBIDDEN, Json(json!({"error": "Forbidden"}))).into_response()
        }
        Play::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Json((fake.hit)(&observable)).into_response()
        }
        Play::Garbled => (StatusCode::OK, "<html>upstream error</html>").into_response(),
    }
}

async fn start(fake: Fake) -> FakeServer {
    FakeServer::start(Router::new().fallback(serve).with_state(Arc::new(fake))).await
}

fn provider(service: &str, server: &FakeServer) -> HttpProvider {
    let mut settings = HttpSettings::new(service);
    settings.base_url = Some(server.base().clone());
    settings.auth_key = Some(Secret::new(KEY));
    settings.api_id = Some(Secret::new(API_ID));
    settings.timeout = Duration::from_secs(1);
    settings.retry = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    };
    HttpProvider::new(Service::find(service).unwrap(), settings).unwrap()
}

async fn look(provider: HttpProvider, items: &[LookupItem]) -> Vec<LookupRow> {
    let mut ti = TiLookup::new();
    ti.add_provider(Arc::new(provider), true);
    ti.lookup(items, &LookupOptions::default()).await.unwrap()
}

fn header_key(seen: &Seen, name: &str, unauthorized: fn() -> Response) -> Result<(), Response> {
    if seen.header(name) == Some(KEY) {
        Ok(())
    } else {
        Err(unauthorized())
    }
}

fn last_segment(path: &str, prefix: &str) -> Option<String> {
    path.strip_prefix(prefix)
        .filter(|rest| !rest.contains('/'))
        .map(percent_decode)
}

fn not_found_json(body: Value) -> Response {
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

// ---- the fakes, one per service, from each API's documentation ----

fn virustotal() -> Fake {
    fn unauthorized() -> Response {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": "WrongCredentialsError", "message": "Wrong API key"}})),
        )
            .into_response()
    }
    Fake {
        key: "VirusTotal",
        read: |seen| {
            header_key(seen, "x-apikey", unauthorized)?;
            for prefix in [
                "/api/v3/ip_addresses/",
                "/api/v3/domains/",
                "/api/v3/files/",
            ] {
                if let Some(id) = last_segment(&seen.path, prefix) {
                    return Ok(Some(id));
                }
            }
            // URL identifiers are the URL in unpadded URL-safe base64.
            Ok(last_segment(&seen.path, "/api/v3/urls/").map(|id| {
                String::from_utf8(
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(id)
                        .unwrap(),
                )
                .unwrap()
            }))
        },
        hit: |o| {
            let malicious = if warned(o) { 1 } else { 5 };
            json!({"data": {"id": o, "type": "ip_address", "attributes": {"reputation": -11,
                "last_analysis_stats": {"harmless": 60, "malicious": malicious, "suspicious": 0, "undetected": 20, "timeout": 0}}}})
        },
        miss: |_| {
            not_found_json(
                json!({"error": {"code": "NotFoundError", "message": "Resource not found"}}),
            )
        },
        unauthorized,
    }
}

fn otx() -> Fake {
    fn unauthorized() -> Response {
        (
            StatusCode::FORBIDDEN,
            Json(json!({"detail": "Authentication required"})),
        )
            .into_response()
    }
    Fake {
        key: "OTX",
        read: |seen| {
            header_key(seen, "X-OTX-API-KEY", unauthorized)?;
            let rest = seen.path.strip_prefix("/api/v1/indicators/").unwrap_or("");
            let parts: Vec<&str> = rest.split('/').collect();
            match parts.as_slice() {
                [kind, obs, section]
                    if ["IPv4", "IPv6", "domain", "hostname", "file", "url"].contains(kind)
                        && ["general", "passive_dns", "geo"].contains(section) =>
                {
                    Ok(Some(percent_decode(obs)))
                }
                _ => Ok(None),
            }
        },
        hit: |o| {
            let count = if warned(o) { 1 } else { 3 };
            json!({"indicator": o, "pulse_info": {"count": count, "pulses": [], "references": ["https://blog.example/c2"]}})
        },
        miss: |o| {
            Json(
                json!({"indicator": o, "pulse_info": {"count": 0, "pulses": [], "references": []}}),
            )
            .into_response()
        },
        unauthorized,
    }
}

fn xforce() -> Fake {
    fn unauthorized() -> Response {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "Not authorized."})),
        )
            .into_response()
    }
    Fake {
        key: "XForce",
        read: |seen| {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{API_ID}:{KEY}"))
            );
            if seen.header("authorization") != Some(expected.as_str()) {
                return Err(unauthorized());
            }
            for prefix in ["/ipr/", "/malware/", "/url/"] {
                if let Some(o) = last_segment(&seen.path, prefix) {
                    return Ok(Some(o));
                }
            }
            Ok(None)
        },
        hit: |o| {
            if o.len() == 32 {
                json!({"malware": {"risk": "high", "family": ["eicar"]}})
            } else {
                json!({"ip": o, "score": if warned(o) { 3.0 } else { 7.1 }, "cats": {"Botnet Command and Control Server": 71}, "geo": {"country": "United States"}})
            }
        },
        miss: |_| not_found_json(json!({"error": "Not found."})),
        unauthorized,
    }
}

fn greynoise() -> Fake {
    fn unauthorized() -> Response {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Authentication required"})),
        )
            .into_response()
    }
    Fake {
        key: "GreyNoise",
        read: |seen| {
            header_key(seen, "key", unauthorized)?;
            Ok(last_segment(&seen.path, "/v3/community/"))
        },
        hit: |o| json!({"ip": o, "noise": true, "riot": false, "classification": if warned(o) { "benign" } else { "malicious" }, "name": "unknown", "link": "https://viz.greynoise.io/ip/x", "last_seen": "2026-11-27", "message": "Success"}),
        miss: |o| {
            not_found_json(
                json!({"ip": o, "noise": false, "riot": false, "message": "IP not observed scanning the internet or contained in RIOT data set."}),
            )
        },
        unauthorized,
    }
}

fn abuseipdb() -> Fake {
    fn unauthorized() -> Response {
        (StatusCode::UNAUTHORIZED, Json(json!({"errors": [{"detail": "Authentication failed. Your API key is either missing, incorrect, or revoked.", "status": 401}]}))).into_response()
    }
    Fake {
        key: "AbuseIPDB",
        read: |seen| {
            header_key(seen, "Key", unauthorized)?;
            if seen.path != "/api/v2/check" || seen.param("maxAgeInDays").is_none() {
                return Ok(None);
            }
            Ok(seen.param("ipAddress").map(str::to_string))
        },
        hit: |o| json!({"data": {"ipAddress": o, "isPublic": true, "abuseConfidenceScore": if warned(o) { 20 } else { 100 }, "countryCode": "US", "usageType": "Data Center/Web Hosting/Transit", "isp": "Example", "totalReports": 12}}),
        miss: |o| {
            Json(json!({"data": {"ipAddress": o, "isPublic": true, "abuseConfidenceScore": 0, "totalReports": 0}})).into_response()
        },
        unauthorized,
    }
}

fn crowdsec() -> Fake {
    fn unauthorized() -> Response {
        (StatusCode::FORBIDDEN, Json(json!({"message": "Forbidden"}))).into_response()
    }
    Fake {
        key: "CrowdSec",
        read: |seen| {
            header_key(seen, "x-api-key", unauthorized)?;
            Ok(last_segment(&seen.path, "/v2/smoke/"))
        },
        hit: |o| json!({"ip": o, "reputation": "malicious", "as_name": "EXAMPLE", "behaviors": [{"name": "ssh:bruteforce"}], "scores": {"overall": {"aggressiveness": 5, "threat": 4, "trust": 5, "anomaly": 1, "total": if warned(o) { 3 } else { 5 }}}}),
        miss: |_| not_found_json(json!({"message": "IP address information not found"})),
        unauthorized,
    }
}

fn ipqs() -> Fake {
    fn unauthorized() -> Response {
        Json(json!({"success": false, "message": "Invalid or unauthorized key. Please check the API key and try again.", "request_id": "x"})).into_response()
    }
    Fake {
        key: "IPQualityScore",
        read: |seen| {
            let rest = seen.path.strip_prefix("/api/json/ip/").unwrap_or("");
            let Some((key, ip)) = rest.split_once('/') else {
                return Ok(None);
            };
            if key != KEY {
                return Err(unauthorized());
            }
            Ok(Some(percent_decode(ip)))
        },
        hit: |o| json!({"success": true, "message": "Success", "fraud_score": if warned(o) { 60 } else { 92 }, "country_code": "US", "ISP": "Example", "proxy": true, "vpn": true, "tor": false}),
        miss: |_| {
            Json(json!({"success": true, "message": "Success", "fraud_score": 0, "proxy": false, "vpn": false, "tor": false})).into_response()
        },
        unauthorized,
    }
}

fn pulsedive() -> Fake {
    fn unauthorized() -> Response {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "Invalid API key."})),
        )
            .into_response()
    }
    Fake {
        key: "Pulsedive",
        read: |seen| {
            if seen.param("key") != Some(KEY) {
                return Err(unauthorized());
            }
            if seen.path != "/api/info.php" {
                return Ok(None);
            }
            Ok(seen.param("indicator").map(str::to_string))
        },
        hit: |o| json!({"iid": 1, "indicator": o, "type": "ip", "risk": if warned(o) { "medium" } else { "high" }, "threats": [{"name": "Cobalt Strike"}], "feeds": [], "stamp_seen": "2026-11-27 10:00:00"}),
        miss: |_| not_found_json(json!({"error": "Indicator not found."})),
        unauthorized,
    }
}

fn abuse_ch_key(seen: &Seen) -> Result<(), Response> {
    if seen.header("Auth-Key") == Some(KEY) {
        Ok(())
    } else {
        Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"query_status": "unknown_auth_key"})),
        )
            .into_response())
    }
}

fn urlhaus() -> Fake {
    Fake {
        key: "URLhaus",
        read: |seen| {
            abuse_ch_key(seen)?;
            if seen.method != Method::POST {
                return Ok(None);
            }
            Ok(match seen.path.as_str() {
                "/v1/url/" => seen.form("url"),
                "/v1/host/" => seen.form("host"),
                "/v1/payload/" => seen.form("md5_hash").or_else(|| seen.form("sha256_hash")),
                _ => None,
            })
        },
        hit: |o| json!({"query_status": "ok", "url": o, "url_status": "online", "threat": "malware_download", "tags": ["elf", "mozi"], "urlhaus_reference": "https://urlhaus.abuse.ch/url/1/"}),
        miss: |_| Json(json!({"query_status": "no_results"})).into_response(),
        unauthorized: || {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"query_status": "unknown_auth_key"})),
            )
                .into_response()
        },
    }
}

fn threatfox() -> Fake {
    Fake {
        key: "ThreatFox",
        read: |seen| {
            abuse_ch_key(seen)?;
            if seen.method != Method::POST || seen.path != "/api/v1/" {
                return Ok(None);
            }
            let body = seen.json();
            Ok(match body["query"].as_str() {
                Some("search_ioc") => body["search_term"].as_str().map(str::to_string),
                Some("search_hash") => body["hash"].as_str().map(str::to_string),
                _ => None,
            })
        },
        hit: |o| json!({"query_status": "ok", "data": [{"ioc": format!("{o}:443"), "threat_type": "botnet_cc", "malware_printable": "Cobalt Strike", "confidence_level": if warned(o) { 50 } else { 100 }, "first_seen": "2026-11-01 10:00:00 UTC", "tags": ["CobaltStrike"]}]}),
        miss: |_| {
            Json(json!({"query_status": "no_result", "data": "Your search did not yield any results"})).into_response()
        },
        unauthorized: || {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"query_status": "unknown_auth_key"})),
            )
                .into_response()
        },
    }
}

fn malwarebazaar() -> Fake {
    Fake {
        key: "MalwareBazaar",
        read: |seen| {
            abuse_ch_key(seen)?;
            if seen.method != Method::POST
                || seen.path != "/api/v1/"
                || seen.form("query").as_deref() != Some("get_info")
            {
                return Ok(None);
            }
            Ok(seen.form("hash"))
        },
        hit: |o| json!({"query_status": "ok", "data": [{"sha256_hash": o, "file_type": "exe", "signature": "AgentTesla", "first_seen": "2026-11-01 10:00:00", "tags": ["exe"]}]}),
        miss: |_| Json(json!({"query_status": "hash_not_found"})).into_response(),
        unauthorized: || {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"query_status": "unknown_auth_key"})),
            )
                .into_response()
        },
    }
}

// ---- each service: hit, miss, severity ----

struct Case {
    fake: fn() -> Fake,
    /// A supported observable type and the fixtures of that type.
    kind: &'static str,
    hit: &'static str,
    warn: &'static str,
    miss: &'static str,
    hit_severity: Severity,
    warn_severity: Severity,
    /// Status and result of a miss.
    miss_status: i32,
    miss_severity: Severity,
}

fn cases() -> Vec<Case> {
    use Severity::*;
    let ip = |fake, hit_severity, warn_severity, miss_status, miss_severity| Case {
        fake,
        kind: "ipv4",
        hit: "38.75.137.9",
        warn: "104.16.0.77",
        miss: "45.33.32.156",
        hit_severity,
        warn_severity,
        miss_status,
        miss_severity,
    };
    vec![
        ip(virustotal, High, Warning, 404, Unknown),
        ip(otx, High, Warning, 0, Information),
        ip(xforce, High, Warning, 404, Unknown),
        ip(greynoise, High, Information, 404, Unknown),
        ip(abuseipdb, High, Warning, 0, Information),
        ip(crowdsec, High, Warning, 404, Unknown),
        ip(ipqs, High, Warning, 0, Information),
        ip(pulsedive, High, Warning, 404, Unknown),
        Case {
            kind: "url",
            hit: "http://evil-site.com/bins/mozi.m",
            warn: "http://warn-evil-site.com/x",
            miss: "http://clean-site.com/",
            ..ip(urlhaus, High, High, 4, Information)
        },
        Case {
            kind: "dns",
            hit: "evil-site.com",
            warn: "warn-evil-site.com",
            miss: "clean-site.com",
            ..ip(threatfox, High, Warning, 4, Information)
        },
        Case {
            kind: "sha256_hash",
            hit: "094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d",
            warn: "5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99",
            miss: "e99a18c428cb38d5f260853678922e03e99a18c428cb38d5f260853678922e03",
            ..ip(malwarebazaar, High, High, 4, Information)
        },
    ]
}

fn row<'a>(rows: &'a [LookupRow], ioc: &str) -> &'a LookupRow {
    rows.iter()
        .find(|r| r.ioc == ioc)
        .unwrap_or_else(|| panic!("no row for {ioc}: {rows:?}"))
}

#[tokio::test]
async fn each_service_answers_hits_and_misses_with_its_severities() {
    for case in cases() {
        let fake = (case.fake)();
        let name = fake.key;
        let server = start(fake).await;
        let items: Vec<LookupItem> = [case.hit, case.warn, case.miss]
            .iter()
            .map(|o| LookupItem::typed(*o, case.kind))
            .collect();
        let rows = look(provider(name, &server), &items).await;
        assert_eq!(rows.len(), 3, "{name}: {rows:?}");

        let hit = row(&rows, case.hit);
        assert_eq!(hit.answer.status.code(), 0, "{name} hit: {hit:?}");
        assert!(hit.answer.result, "{name}");
        assert_eq!(
            hit.answer.severity, case.hit_severity,
            "{name} hit: {hit:?}"
        );
        assert_eq!(hit.provider, name);
        assert!(
            hit.answer.reference.starts_with(server.base().as_str()),
            "{name}: {}",
            hit.answer.reference
        );
        assert!(
            !hit.answer.reference.contains(KEY),
            "{name} shows its key: {}",
            hit.answer.reference
        );
        assert!(
            hit.answer.details.is_object(),
            "{name}: {:?}",
            hit.answer.details
        );

        let warn = row(&rows, case.warn);
        assert_eq!(
            warn.answer.severity, case.warn_severity,
            "{name} warn: {warn:?}"
        );

        let miss = row(&rows, case.miss);
        assert_eq!(
            miss.answer.status.code(),
            case.miss_status,
            "{name} miss: {miss:?}"
        );
        assert_eq!(
            miss.answer.severity, case.miss_severity,
            "{name} miss: {miss:?}"
        );
        if case.miss_status == 404 {
            assert!(!miss.answer.result);
            assert_eq!(miss.answer.details, json!("Not found."));
        }
        // Every request carried the key as the service expects it (the fake said 401
        // otherwise) and asked about the observable by the documented route.
        assert_eq!(server.requests().len(), 3, "{name}");
    }
}

#[tokio::test]
async fn each_service_reports_failures_in_its_rows() {
    for case in cases() {
        let fake = (case.fake)();
        let name = fake.key;
        let unauthorized_status = (fake.unauthorized)().status().as_u16();
        let server = start(fake).await;
        let (forbidden, slow, garbled) = match case.kind {
            "ipv4" => ("185.220.101.1", "1.1.1.1", "9.9.9.9"),
            "url" => (
                "http://forbidden-site.com/a",
                "http://slow-site.com/a",
                "http://garbled-site.com/a",
            ),
            "dns" => ("forbidden-site.com", "slow-site.com", "garbled-site.com"),
            _ => continue,
        };
        let items: Vec<LookupItem> = [forbidden, slow, garbled]
            .iter()
            .map(|o| LookupItem::typed(*o, case.kind))
            .collect();
        let rows = look(provider(name, &server), &items).await;
        let forbidden_row = row(&rows, forbidden);
        assert_eq!(
            forbidden_row.answer.status.code(),
            403,
            "{name}: {forbidden_row:?}"
        );
        assert_eq!(
            forbidden_row.answer.details,
            json!("Request forbidden. Allowed query rate may have been exceeded.")
        );
        let slow_row = row(&rows, slow);
        assert_eq!(slow_row.answer.status.code(), 3, "{name}: {slow_row:?}");
        assert!(
            slow_row
                .answer
                .details
                .as_str()
                .unwrap()
                .contains("did not answer within"),
            "{name}: {slow_row:?}"
        );
        let garbled_row = row(&rows, garbled);
        assert_eq!(
            garbled_row.answer.status.code(),
            3,
            "{name}: {garbled_row:?}"
        );
        assert!(
            garbled_row
                .answer
                .details
                .as_str()
                .unwrap()
                .contains("not JSON"),
            "{name}: {garbled_row:?}"
        );

        // A wrong key: the service's own refusal, never the key in the message.
        let mut settings = HttpSettings::new(name);
        settings.base_url = Some(server.base().clone());
        settings.auth_key = Some(Secret::new("wrong-key-value"));
        settings.api_id = Some(Secret::new(API_ID));
        let wrong = HttpProvider::new(Service::find(name).unwrap(), settings).unwrap();
        let rows = look(wrong, &[LookupItem::typed(case.hit, case.kind)]).await;
        let refused = &rows[0].answer;
        assert!(!refused.result, "{name}");
        if name == "IPQualityScore" {
            // IPQualityScore refuses a key with 200 and success: false.
            assert_eq!(refused.status.code(), 10, "{name}: {refused:?}");
            assert!(refused
                .details
                .as_str()
                .unwrap()
                .contains("Invalid or unauthorized key"));
        } else {
            assert_eq!(
                refused.status.code(),
                i32::from(unauthorized_status),
                "{name}: {refused:?}"
            );
        }
        let text = format!("{refused:?}");
        assert!(
            !text.contains("wrong-key-value"),
            "{name} leaks the key: {text}"
        );
    }
}

#[tokio::test]
async fn throttling_is_waited_out_as_retry_after_says() {
    let server = FakeServer::start(huntbook_http::testkit::refuse_first(
        Router::new()
            .fallback(serve)
            .with_state(Arc::new(virustotal())),
        1,
        StatusCode::TOO_MANY_REQUESTS,
        Some("1"),
    ))
    .await;
    let started = Instant::now();
    let rows = look(
        provider("VirusTotal", &server),
        &[LookupItem::new("38.75.137.9")],
    )
    .await;
    assert_eq!(rows[0].answer.status.code(), 0, "{rows:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at.duration_since(requests[0].at) >= Duration::from_millis(950));

    // Still throttled after the retries: status 429 in the row.
    let server = FakeServer::start(huntbook_http::testkit::refuse_first(
        Router::new()
            .fallback(serve)
            .with_state(Arc::new(virustotal())),
        100,
        StatusCode::TOO_MANY_REQUESTS,
        Some("0"),
    ))
    .await;
    let rows = look(
        provider("VirusTotal", &server),
        &[LookupItem::new("38.75.137.9")],
    )
    .await;
    assert_eq!(rows[0].answer.status.code(), 429, "{rows:?}");
    assert_eq!(server.requests().len(), 3, "one try and two retries");
}

#[tokio::test]
async fn virustotal_urls_and_hashes_use_v3_identifiers() {
    let server = start(virustotal()).await;
    let url = "hxxps[://]evil-site[.]com/a?b=1";
    let hash = "44d88612fea8a8f36de82e1278abb02f";
    let rows = look(
        provider("VirusTotal", &server),
        &[LookupItem::new(url), LookupItem::new(hash)],
    )
    .await;
    assert!(rows.iter().all(|r| r.answer.status.code() == 0), "{rows:?}");
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("https://evil-site.com/a?b=1");
    assert!(paths.contains(&format!("/api/v3/urls/{id}")), "{paths:?}");
    assert!(
        paths.contains(&format!("/api/v3/files/{hash}")),
        "{paths:?}"
    );
    assert_eq!(row(&rows, url).safe_ioc, "https://evil-site.com/a?b=1");
}

#[tokio::test]
async fn otx_subtypes_reach_their_sections() {
    let server = start(otx()).await;
    let rows = look(
        provider("OTX", &server),
        &[
            LookupItem::new("38.75.137.9").with_subtype("passivedns"),
            LookupItem::typed("evil-site.com", "dns").with_subtype("geo"),
            LookupItem::typed("http://evil-site.com/a?q=1", "url"),
        ],
    )
    .await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths.contains(&"/api/v1/indicators/IPv4/38.75.137.9/passive_dns".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"/api/v1/indicators/domain/evil-site.com/geo".to_string()),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p == "/api/v1/indicators/url/http%3A%2F%2Fevil-site.com%2Fa%3Fq%3D1/general"),
        "{paths:?}"
    );
    assert_eq!(rows[0].query_subtype.as_deref(), Some("passivedns"));
}

#[tokio::test]
async fn open_pagerank_asks_for_up_to_a_hundred_domains_at_once() {
    async fn page_rank(headers: HeaderMap, request: Request) -> Response {
        if headers.get("API-OPR").and_then(|v| v.to_str().ok()) != Some(KEY) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"status_code": 401, "error": "Invalid API key"})),
            )
                .into_response();
        }
        let query = request.uri().query().unwrap_or("").to_string();
        let domains: Vec<String> = form_urlencoded(query.as_bytes())
            .into_iter()
            .filter(|(k, _)| k.starts_with("domains["))
            .map(|(_, v)| v)
            .collect();
        let response: Vec<Value> = domains
            .iter()
            .map(|d| {
                if d.starts_with("unknown") {
                    json!({"status_code": 404, "error": "Domain not found", "page_rank_integer": 0, "page_rank_decimal": 0, "rank": null, "domain": d})
                } else {
                    json!({"status_code": 200, "error": "", "page_rank_integer": 6, "page_rank_decimal": 5.5, "rank": "1043", "domain": d})
                }
            })
            .collect();
        Json(json!({"status_code": 200, "response": response, "last_updated": "26th Nov 2026"}))
            .into_response()
    }
    let server = FakeServer::start(
        Router::new().route("/api/v1.0/getPageRank", axum::routing::get(page_rank)),
    )
    .await;
    let mut items: Vec<LookupItem> = (0..150)
        .map(|i| LookupItem::typed(format!("site{i}.com"), "dns"))
        .collect();
    items.push(LookupItem::typed("unknown-site.com", "dns"));
    let rows = look(provider("OPR", &server), &items).await;
    assert_eq!(rows.len(), 151);
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "151 domains need two requests of at most 100"
    );
    assert!(requests.iter().all(|r| r.query.len() <= 100));
    assert_eq!(
        row(&rows, "site7.com").answer.severity,
        Severity::Information
    );
    assert_eq!(
        row(&rows, "site7.com").answer.details["rank"],
        json!("1043")
    );
    assert_eq!(
        row(&rows, "unknown-site.com").answer.severity,
        Severity::Warning
    );
}
