//! Local feeds written as the formats define them (CSV lists, STIX 2.1 bundles, a
//! MISP feed folder, a MISP CSV export and `hashes.csv`), loaded, and looked up.

use std::path::Path;
use std::sync::Arc;

use huntbook_context::feeds::{Feed, FeedFormat, FeedProvider};
use huntbook_context::ti::{LookupItem, LookupOptions, LookupRow, Severity, TiLookup};
use serde_json::json;

const SHA256: &str = "094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d";
const MD5: &str = "44d88612fea8a8f36de82e1278abb02f";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn stix_bundle() -> serde_json::Value {
    json!({
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
             "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
             "name": "C2 server", "indicator_types": ["malicious-activity"], "confidence": 85,
             "pattern": "[ipv4-addr:value = '38.75.137.9'] OR [domain-name:value = 'Evil-Site.com']",
             "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z"},
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--1e5ea0a4-7e3b-4a37-a0f6-b52b7c5c7d28",
             "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
             "name": "Dropper", "confidence": 40,
             "pattern": format!("[file:hashes.'SHA-256' = '{SHA256}']"),
             "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z"},
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--0c4e3b6b-3f1a-4a8b-9a54-1c0c6c3e2b11",
             "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
             "name": "Phish landing", "revoked": true,
             "pattern": "[url:value = 'http://revoked.example.com/login']",
             "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z"},
            {"type": "malware", "spec_version": "2.1", "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc",
             "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z", "name": "Mozi", "is_family": true}
        ]
    })
}

fn misp_event() -> serde_json::Value {
    json!({"Event": {
        "uuid": "5f1f7a2e-4b5c-4d3e-9a8b-7c6d5e4f3a2b", "info": "Phishing campaign", "threat_level_id": "2",
        "analysis": "2", "date": "2026-11-20", "published": true, "timestamp": "1795000000",
        "Orgc": {"name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
        "Attribute": [
            {"uuid": "6a1b2c3d-1111-4222-8333-944455566677", "type": "url", "category": "Network activity", "to_ids": true,
             "value": "http://phish.example.net/login.php", "timestamp": "1795000000", "comment": ""},
            {"uuid": "6a1b2c3d-1111-4222-8333-944455566678", "type": "ip-dst|port", "category": "Network activity", "to_ids": true,
             "value": "2606:4700::6810:84e5|443", "timestamp": "1795000000", "comment": ""},
            {"uuid": "6a1b2c3d-1111-4222-8333-944455566679", "type": "comment", "category": "Other", "to_ids": false,
             "value": "seen in mail", "timestamp": "1795000000", "comment": ""}
        ],
        "Object": [{"name": "file", "uuid": "7b2c3d4e-2222-4333-8444-a55566677788", "meta-category": "file", "Attribute": [
            {"uuid": "6a1b2c3d-1111-4222-8333-94445556667a", "type": "filename|md5", "category": "Payload delivery", "to_ids": false,
             "object_relation": "malware-sample", "value": format!("invoice.exe|{MD5}"), "timestamp": "1795000000"}
        ]}]
    }})
}

fn look(provider: FeedProvider, items: &[LookupItem]) -> Vec<LookupRow> {
    let mut ti = TiLookup::new();
    ti.add_provider(Arc::new(provider), true);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(ti.lookup(items, &LookupOptions::default()))
        .unwrap()
}

#[test]
fn every_format_is_recognised_indexed_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("lists/watch.csv"), "Indicator,Type,Description,Severity\n38.75.137.9,ip,Cobalt Strike C2,warning\nhxxp://bad[.]example[.]org/x,url,dropper,\nnot an indicator,,,\n");
    write(&root.join("lists/bundle.json"), &stix_bundle().to_string());
    let event = misp_event();
    let uuid = event["Event"]["uuid"].as_str().unwrap().to_string();
    write(&root.join("misp/manifest.json"), &json!({&uuid: {"info": "Phishing campaign", "threat_level_id": "2", "timestamp": "1795000000"}}).to_string());
    write(&root.join(format!("misp/{uuid}.json")), &event.to_string());
    write(&root.join("export.csv"), "uuid,event_id,category,type,value,comment,to_ids,date,object_relation,attribute_tag,object_uuid,object_name,object_meta_category\n\"0d2a1e0a-0000-4000-8000-000000000001\",1207,\"Network activity\",\"domain\",\"mirror-evil.example.net\",\"\",1,1795000000,\"\",\"\",\"\",\"\",\"\"\n");
    // hashes.csv holds MD5 digests of attribute values: this one is of "185.100.87.41".
    let digest: String = md5_hex("185.100.87.41");
    write(
        &root.join("hashfeed/hashes.csv"),
        &format!("{digest},{uuid}\n"),
    );

    let provider = FeedProvider::load(
        "Local",
        &[
            Feed::path(root.join("lists")),
            Feed::path(root.join("misp")),
            Feed::path(root.join("export.csv")),
            Feed::path(root.join("hashfeed/hashes.csv")),
        ],
    )
    .unwrap();
    let formats: Vec<FeedFormat> = provider.sources().iter().map(|(_, f)| *f).collect();
    assert_eq!(
        formats,
        [
            FeedFormat::Stix,
            FeedFormat::Csv,
            FeedFormat::MispFolder,
            FeedFormat::MispCsv,
            FeedFormat::MispHashes
        ]
    );
    assert_eq!(provider.skipped().len(), 1, "{:?}", provider.skipped());
    assert!(
        provider.skipped()[0].contains("watch.csv line 4"),
        "{:?}",
        provider.skipped()
    );

    let items = [
        LookupItem::new("38.75.137.9"),
        LookupItem::new("evil-site.COM"),
        LookupItem::new(SHA256.to_uppercase()),
        LookupItem::new("http://bad.example.org/x"),
        LookupItem::new("http://phish.example.net/login.php"),
        LookupItem::new("2606:4700:0::6810:84e5"),
        LookupItem::new(MD5),
        LookupItem::new("mirror-evil.example.net"),
        LookupItem::new("185.100.87.41"),
        LookupItem::new("http://revoked.example.com/login"),
        LookupItem::new("8.8.8.8"),
    ];
    let rows = look(provider, &items);
    let by = |ioc: &str| rows.iter().find(|r| r.ioc == ioc).unwrap();
    let severity = |ioc: &str| (by(ioc).answer.result, by(ioc).answer.severity);

    // Listed twice: the CSV says warning, the STIX indicator (confidence 85) high.
    assert_eq!(severity("38.75.137.9"), (true, Severity::High));
    assert_eq!(
        by("38.75.137.9").answer.details["listed_by"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(severity("evil-site.COM"), (true, Severity::High));
    assert_eq!(
        severity(&SHA256.to_uppercase()),
        (true, Severity::Warning),
        "confidence 40"
    );
    assert_eq!(severity("http://bad.example.org/x"), (true, Severity::High));
    assert_eq!(
        severity("http://phish.example.net/login.php"),
        (true, Severity::Warning),
        "threat level 2"
    );
    assert_eq!(
        severity("2606:4700:0::6810:84e5"),
        (true, Severity::Warning)
    );
    assert_eq!(severity(MD5), (true, Severity::Information), "not to_ids");
    assert_eq!(severity("mirror-evil.example.net"), (true, Severity::High));
    assert_eq!(severity("185.100.87.41"), (true, Severity::High));
    assert_eq!(
        severity("http://revoked.example.com/login"),
        (false, Severity::Information)
    );
    assert_eq!(by("8.8.8.8").answer.details, json!("Not found."));
    assert!(by("evil-site.COM")
        .answer
        .reference
        .contains("bundle.json indicator--8e2e2d2b"));
}

fn md5_hex(text: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn broken_feeds_are_named_with_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad_json = dir.path().join("broken.json");
    write(&bad_json, "{\"type\": \"bundle\", \"objects\": [");
    let err = FeedProvider::load("F", &[Feed::path(&bad_json)])
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with(&format!("feed {} is not valid JSON", bad_json.display())),
        "{err}"
    );

    let bad_severity = dir.path().join("list.csv");
    write(
        &bad_severity,
        "Indicator,Severity\n38.75.137.9,catastrophic\n",
    );
    let err = FeedProvider::load("F", &[Feed::path(&bad_severity)])
        .err()
        .unwrap();
    assert_eq!(err.to_string(), format!("feed {} line 2: `catastrophic` is not a severity (unknown, information, warning, high)", bad_severity.display()));

    let folder = dir.path().join("misp");
    write(
        &folder.join("manifest.json"),
        "{\"0b1c2d3e-aaaa-4bbb-8ccc-0d1e2f3a4b5c\": {\"info\": \"x\"}}",
    );
    let err = FeedProvider::load("F", &[Feed::path(&folder)])
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("lists event 0b1c2d3e-aaaa-4bbb-8ccc-0d1e2f3a4b5c, but"),
        "{err}"
    );

    let other = dir.path().join("other.json");
    write(&other, "{\"hello\": 1}");
    let err = FeedProvider::load("F", &[Feed::path(&other)])
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("neither a STIX 2.1 bundle"),
        "{err}"
    );
}

#[test]
fn a_feed_severity_overrides_the_feeds_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.json");
    write(&path, &stix_bundle().to_string());
    let feed = Feed {
        severity: Some(Severity::Information),
        ..Feed::path(&path)
    };
    let rows = look(
        FeedProvider::load("F", &[feed]).unwrap(),
        &[LookupItem::new("38.75.137.9")],
    );
    assert_eq!(rows[0].answer.severity, Severity::Information);
}
