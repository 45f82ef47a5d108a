//! GeoIP against MaxMind's own test databases (exact answers from their JSON
//! sources), the GeoLite2 download against a local server speaking MaxMind's download
//! protocol, and IPStack against a local server speaking its API.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use huntbook_context::geoip::{
    GeoError, GeoLiteLookup, GeoLiteSettings, IpStackLookup, IpStackSettings, MmdbWriter, Refresh,
    CITY_FILE,
};
use huntbook_http::client::RetryPolicy;
use huntbook_http::testkit::FakeServer;
use huntbook_http::{HttpClient, Secret};
use ipnetwork::IpNetwork;
use serde_json::{json, Value};

/// MaxMind's test databases, beside the repository (absent in a user's clone).
fn test_dbs() -> Option<PathBuf> {
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/maxmind-test-dbs");
    if folder.is_dir() {
        Some(folder)
    } else {
        eprintln!(
            "SKIPPED: MaxMind test databases not found at {}",
            folder.display()
        );
        None
    }
}

/// The networks of a test database's JSON source, as positions in an IPv6 tree
/// (IPv4 networks under `::/96`) with their records.
fn json_source(path: &Path) -> Vec<(IpNetwork, u128, u8, Value)> {
    let entries: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    entries
        .into_iter()
        .flat_map(|e| e.as_object().unwrap().clone().into_iter())
        .map(|(net, record)| {
            let net: IpNetwork = net.parse().unwrap();
            let (bits, prefix) = match net.network() {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), net.prefix() + 96),
                IpAddr::V6(v6) => (u128::from(v6), net.prefix()),
            };
            (net, bits, prefix, record)
        })
        .collect()
}

/// The record the most specific source network gives `probe`.
fn expected_for(source: &[(IpNetwork, u128, u8, Value)], probe: u128) -> &Value {
    source
        .iter()
        .filter(|(_, bits, prefix, _)| {
            let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
            probe & mask == *bits
        })
        .max_by_key(|(_, _, prefix, _)| *prefix)
        .map(|(_, _, _, record)| record)
        .unwrap()
}

fn en(v: &Value, path: &[&str]) -> Option<String> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().map(str::to_string)
}

#[test]
fn maxmind_city_test_databases_give_their_sources_answers() {
    let Some(folder) = test_dbs() else { return };
    for name in ["GeoIP2-City-Test", "GeoLite2-City-Test"] {
        let geo = GeoLiteLookup::open(&[folder.join(format!("{name}.mmdb"))]).unwrap();
        let source = json_source(&folder.join(format!("{name}.json")));
        let mut checked = 0;
        for (net, bits, _, _) in &source {
            let probe = net.network();
            let Some(found) = geo.lookup(&probe.to_string()).unwrap() else {
                panic!("{name}: {probe} of {net} not found");
            };
            if huntbook_context::ip::ip_type(probe) != huntbook_context::ip::IpType::Public {
                assert_eq!(found.city.as_deref(), Some("location unknown"));
                continue;
            }
            let want = expected_for(&source, *bits);
            let state = want
                .get("subdivisions")
                .and_then(|s| s.get(0))
                .and_then(|s| en(s, &["names", "en"]));
            assert_eq!(
                found.country_code,
                en(want, &["country", "iso_code"]),
                "{name} {probe}"
            );
            assert_eq!(
                found.country_name,
                en(want, &["country", "names", "en"]),
                "{name} {probe}"
            );
            assert_eq!(found.state, state, "{name} {probe}");
            assert_eq!(
                found.city,
                en(want, &["city", "names", "en"]),
                "{name} {probe}"
            );
            let coordinate = |key: &str| {
                want.get("location")
                    .and_then(|l| l.get(key))
                    .and_then(Value::as_f64)
            };
            assert_eq!(found.latitude, coordinate("latitude"), "{name} {probe}");
            assert_eq!(found.longitude, coordinate("longitude"), "{name} {probe}");
            checked += 1;
        }
        assert!(checked > 100, "{name}: only {checked} networks checked");
    }
}

#[test]
fn maxmind_city_and_asn_test_databases_together() {
    let Some(folder) = test_dbs() else { return };
    let geo = GeoLiteLookup::open(&[
        folder.join("GeoIP2-City-Test.mmdb"),
        folder.join("GeoLite2-ASN-Test.mmdb"),
    ])
    .unwrap();
    // 2.125.160.216/29 is Boxford in the City source; the ASN source has no entry
    // for it, while 1.128.0.0/11 is Telstra's in the ASN source only.
    let boxford = geo.lookup("2.125.160.216").unwrap().unwrap();
    assert_eq!(boxford.city.as_deref(), Some("Boxford"));
    assert_eq!(boxford.state.as_deref(), Some("England"));
    assert_eq!(
        (boxford.latitude, boxford.longitude),
        (Some(51.75), Some(-1.25))
    );
    let telstra = geo.lookup("1.128.0.1").unwrap().unwrap();
    assert_eq!(telstra.asn, Some(1221));
    assert_eq!(telstra.asn_org.as_deref(), Some("Telstra Pty Ltd"));
    let source = json_source(&folder.join("GeoLite2-ASN-Test.json"));
    for (net, bits, _, _) in &source {
        if huntbook_context::ip::ip_type(net.network()) != huntbook_context::ip::IpType::Public {
            continue;
        }
        let want = expected_for(&source, *bits);
        let found = geo.lookup(&net.network().to_string()).unwrap().unwrap();
        assert_eq!(
            found.asn.map(u64::from),
            want.get("autonomous_system_number").and_then(Value::as_u64),
            "{net}"
        );
        assert_eq!(
            found.asn_org,
            en(want, &["autonomous_system_organization"]),
            "{net}"
        );
    }
}

#[test]
fn the_country_test_database_gives_countries_only() {
    let Some(folder) = test_dbs() else { return };
    let geo = GeoLiteLookup::open(&[folder.join("GeoLite2-Country-Test.mmdb")]).unwrap();
    let found = geo.lookup("2.125.160.216").unwrap().unwrap();
    assert_eq!(found.country_code.as_deref(), Some("GB"));
    assert_eq!(found.city, None);
}

// ------------------------------------------------------------------------------------
// Download

const ACCOUNT: &str = "123456";
const LICENSE: &str = "lic_0a1b2c3d";

fn city_archive() -> Vec<u8> {
    let mut db = MmdbWriter::new("GeoLite2-City");
    db.insert(
        "81.2.69.0/24",
        json!({"city": {"names": {"en": "London"}}, "country": {"iso_code": "GB"}}),
    )
    .unwrap();
    let bytes = db.to_bytes().unwrap();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in [
        (
            "GeoLite2-City_20261124/COPYRIGHT.txt",
            b"Database and Contents Copyright (c) 2026 MaxMind, Inc.".as_slice(),
        ),
        (
            "GeoLite2-City_20261124/GeoLite2-City.mmdb",
            bytes.as_slice(),
        ),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// MaxMind's download: HTTP Basic with account id and licence key, then a redirect
/// to the archive; a wrong key gets 401 "Invalid license key".
async fn fake_maxmind(archive: Vec<u8>) -> FakeServer {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{LICENSE}"))
    );
    let router =
        Router::new()
            .route(
                "/geoip/databases/GeoLite2-City/download",
                get(
                    move |headers: HeaderMap, Query(q): Query<Vec<(String, String)>>| {
                        let expected = expected.clone();
                        async move {
                            let auth = headers
                                .get(header::AUTHORIZATION)
                                .and_then(|v| v.to_str().ok());
                            if auth != Some(expected.as_str()) {
                                return (StatusCode::UNAUTHORIZED, "Invalid license key\n")
                                    .into_response();
                            }
                            if !q.contains(&("suffix".to_string(), "tar.gz".to_string())) {
                                return (StatusCode::BAD_REQUEST, "Invalid suffix\n")
                                    .into_response();
                            }
                            (
                                StatusCode::FOUND,
                                [(
                                    header::LOCATION,
                                    "/r2/GeoLite2-City_20261124.tar.gz?X-Amz-Signature=abc",
                                )],
                            )
                                .into_response()
                        }
                    },
                ),
            )
            .route(
                "/r2/GeoLite2-City_20261124.tar.gz",
                get(move || {
                    let archive = archive.clone();
                    async move {
                        ([(header::CONTENT_TYPE, "application/gzip")], archive).into_response()
                    }
                }),
            );
    FakeServer::start(router).await
}

fn settings(server: &FakeServer, folder: &Path, license: &str) -> GeoLiteSettings {
    let mut s = GeoLiteSettings::in_folder(folder.to_path_buf());
    s.account_id = Some(Secret::new(ACCOUNT));
    s.license_key = Some(Secret::new(license));
    s.download_url = server.url("geoip/databases/GeoLite2-City/download?suffix=tar.gz");
    s
}

fn client() -> HttpClient {
    HttpClient::builder("MaxMind")
        .no_proxy()
        .retry(RetryPolicy::never())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_missing_database_is_downloaded_and_a_fresh_one_kept() {
    let server = fake_maxmind(city_archive()).await;
    let dir = tempfile::tempdir().unwrap();
    let s = settings(&server, dir.path(), LICENSE);
    assert_eq!(
        s.ensure_database(&client()).await.unwrap(),
        Refresh::Downloaded
    );
    let geo = GeoLiteLookup::from_folder(dir.path()).unwrap();
    assert_eq!(
        geo.lookup("81.2.69.160").unwrap().unwrap().city.as_deref(),
        Some("London")
    );
    // Young enough: no second download.
    assert_eq!(
        s.ensure_database(&client()).await.unwrap(),
        Refresh::Current
    );
    assert_eq!(server.requests().len(), 2, "one download and its redirect");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [CITY_FILE], "no temporary files are left");
}

#[tokio::test]
async fn an_old_database_is_replaced_and_kept_when_the_download_fails() {
    let server = fake_maxmind(city_archive()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CITY_FILE);
    MmdbWriter::new("GeoLite2-City").write(&path).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(31 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old)
        .unwrap();

    let wrong = settings(&server, dir.path(), "wrong-key");
    let Refresh::Old { reason } = wrong.ensure_database(&client()).await.unwrap() else {
        panic!("the old database should be kept")
    };
    assert!(
        reason.contains("401") && reason.contains("Invalid license key"),
        "{reason}"
    );
    assert!(
        !reason.contains("wrong-key"),
        "the key never shows: {reason}"
    );

    let right = settings(&server, dir.path(), LICENSE);
    assert_eq!(
        right.ensure_database(&client()).await.unwrap(),
        Refresh::Downloaded
    );
    assert!(GeoLiteLookup::from_folder(dir.path())
        .unwrap()
        .lookup("81.2.69.1")
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn without_credentials_nothing_is_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    let s = GeoLiteSettings::in_folder(dir.path().to_path_buf());
    assert_eq!(s.ensure_database(&client()).await.unwrap(), Refresh::Absent);
    let err = GeoLiteLookup::from_folder(dir.path()).unwrap_err();
    assert!(matches!(err, GeoError::NoDatabase { .. }));
}

#[tokio::test]
async fn a_download_that_is_not_a_database_is_refused() {
    let server = fake_maxmind(b"<html>maintenance</html>".to_vec()).await;
    let dir = tempfile::tempdir().unwrap();
    let err = settings(&server, dir.path(), LICENSE)
        .ensure_database(&client())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a tar.gz archive"), "{err}");
    assert!(!dir.path().join(CITY_FILE).exists());
}

// ------------------------------------------------------------------------------------
// IPStack

const IPSTACK_KEY: &str = "ipstack-key-5678";

fn ipstack_record(ip: &str) -> Value {
    match ip {
        "134.201.250.155" => json!({
            "ip": "134.201.250.155", "type": "ipv4", "continent_code": "NA", "continent_name": "North America",
            "country_code": "US", "country_name": "United States", "region_code": "CA", "region_name": "California",
            "city": "Los Angeles", "zip": "90013", "latitude": 34.0655, "longitude": -118.2405,
            "location": {"geoname_id": 5368361, "capital": "Washington D.C."},
            "connection": {"asn": 25876, "isp": "Los Angeles Department of Water & Power"}
        }),
        "72.229.28.185" => json!({
            "ip": "72.229.28.185", "type": "ipv4", "country_code": "US", "country_name": "United States",
            "region_name": "New York", "city": "Brooklyn", "latitude": 40.6501, "longitude": -73.9496
        }),
        other => json!({"ip": other, "type": "ipv4", "country_code": null, "country_name": null,
            "region_name": null, "city": null, "latitude": null, "longitude": null}),
    }
}

/// IPStack: `/{ip}` or `/{ip1,ip2,...}` with `access_key`; errors are HTTP 200 with
/// `{"success": false, "error": {...}}`. With `bulk` false the plan has no bulk
/// endpoint (error 303).
async fn fake_ipstack(bulk: bool, log: Arc<Mutex<Vec<String>>>) -> FakeServer {
    let router = Router::new().route(
        "/{ips}",
        get(move |UrlPath(ips): UrlPath<String>, Query(q): Query<Vec<(String, String)>>| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(ips.clone());
                let key = q.iter().find(|(k, _)| k == "access_key").map(|(_, v)| v.as_str());
                let error = |code: i64, kind: &str, info: &str| -> Response {
                    Json(json!({"success": false, "error": {"code": code, "type": kind, "info": info}})).into_response()
                };
                if key != Some(IPSTACK_KEY) {
                    return error(101, "invalid_access_key", "You have not supplied a valid API Access Key. [Technical Support: support@apilayer.com]");
                }
                let list: Vec<&str> = ips.split(',').collect();
                if list.len() > 1 && !bulk {
                    return error(303, "batch_not_supported_on_plan", "Bulk requests are not supported on your plan. Please upgrade your subscription.");
                }
                if list.len() > 50 {
                    return error(302, "too_many_ips", "Too many IPs have been specified for the Bulk Lookup Endpoint. (max. 50)");
                }
                if list.len() == 1 {
                    Json(ipstack_record(list[0])).into_response()
                } else {
                    Json(Value::Array(list.iter().map(|ip| ipstack_record(ip)).collect())).into_response()
                }
            }
        }),
    );
    FakeServer::start(router).await
}

fn ipstack(server: &FakeServer, key: &str) -> IpStackLookup {
    let mut settings = IpStackSettings::new(Secret::new(key));
    settings.base_url = server.base().clone();
    let client = HttpClient::builder("IPStack")
        .no_proxy()
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    IpStackLookup::new(client, settings)
}

#[tokio::test]
async fn ipstack_answers_many_addresses_per_request() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = fake_ipstack(true, log.clone()).await;
    let mut ips: Vec<String> = vec![
        "134.201.250.155".into(),
        "10.1.1.1".into(),
        "72.229.28.185".into(),
    ];
    ips.extend((1..=60).map(|i| format!("45.33.{i}.1")));
    let found = ipstack(&server, IPSTACK_KEY).lookup(&ips).await.unwrap();
    assert_eq!(found.len(), ips.len());
    let la = found[0].as_ref().unwrap();
    assert_eq!(la.city.as_deref(), Some("Los Angeles"));
    assert_eq!(la.state.as_deref(), Some("California"));
    assert_eq!(
        (la.latitude, la.longitude),
        (Some(34.0655), Some(-118.2405))
    );
    assert_eq!(la.asn, Some(25876));
    assert_eq!(
        found[1].as_ref().unwrap().country_name.as_deref(),
        Some("Private address")
    );
    assert_eq!(found[2].as_ref().unwrap().city.as_deref(), Some("Brooklyn"));
    assert!(
        found[3].is_none(),
        "an address IPStack cannot place has no location"
    );
    // 62 public addresses: one request of 50 and one of 12; the private one not sent.
    let requests = log.lock().unwrap().clone();
    assert_eq!(
        requests
            .iter()
            .map(|r| r.split(',').count())
            .collect::<Vec<_>>(),
        [50, 12]
    );
    assert!(!requests.iter().any(|r| r.contains("10.1.1.1")));
    let sent = &server.requests()[0];
    assert_eq!(sent.query_param("access_key"), Some(IPSTACK_KEY));
    assert_eq!(sent.query_param("output"), Some("json"));
}

#[tokio::test]
async fn a_plan_without_bulk_lookups_is_asked_one_address_at_a_time() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = fake_ipstack(false, log.clone()).await;
    let ips = vec!["134.201.250.155".to_string(), "72.229.28.185".to_string()];
    let found = ipstack(&server, IPSTACK_KEY).lookup(&ips).await.unwrap();
    assert_eq!(found[1].as_ref().unwrap().city.as_deref(), Some("Brooklyn"));
    assert_eq!(
        *log.lock().unwrap(),
        [
            "134.201.250.155,72.229.28.185",
            "134.201.250.155",
            "72.229.28.185"
        ]
    );
}

#[tokio::test]
async fn ipstack_errors_are_reported_without_the_key() {
    let server = fake_ipstack(true, Arc::new(Mutex::new(Vec::new()))).await;
    let err = ipstack(&server, "bad-key-000")
        .lookup(&["8.8.8.8".to_string()])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("IPStack refused the request: invalid_access_key (code 101)"),
        "{text}"
    );
    assert!(!text.contains("bad-key-000"));
}
