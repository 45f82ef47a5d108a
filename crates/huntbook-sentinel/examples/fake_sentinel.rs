//! Runs the fake Sentinel management API and a fake Entra ID on loopback, for tests
//! written in other languages (the Python package's).
//!
//! Prints one JSON line with the addresses and credentials to use, then serves until
//! its standard input closes:
//!
//! ```text
//! cargo run -p huntbook-sentinel --features testkit --example fake_sentinel -- --page-size 2
//! {"arm": "http://127.0.0.1:PORT/", "authority": "...", "tenant_id": "...", "client_id": "...",
//!  "client_secret": "...", "token": "...", "subscription_id": "...", "resource_group": "...",
//!  "workspace_name": "...", "incidents": ["<id>", ...]}
//! ```
//!
//! The workspace holds three incidents; the first has two alerts and three entities.

use std::io::Read;

use huntbook_http::testkit::{FakeEntraId, FakeEntraIdConfig};
use huntbook_sentinel::testkit::{FakeSentinel, RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME};
use serde_json::json;

const CLIENT_SECRET: &str = "fake-sentinel-app-secret";
/// A token valid for the fake API without signing in, for tests of other things.
const STATIC_TOKEN: &str = "fake-arm-token-for-tests";

fn main() {
    let page_size = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => 50,
        [flag, n] if flag == "--page-size" => n.parse().unwrap_or_else(|_| {
            eprintln!("--page-size takes a number, not {n:?}");
            std::process::exit(2)
        }),
        _ => {
            eprintln!("usage: fake_sentinel [--page-size N]");
            std::process::exit(2)
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    runtime.block_on(async {
        let config = FakeEntraIdConfig {
            client_secret: Some(CLIENT_SECRET.into()),
            ..FakeEntraIdConfig::default()
        };
        let entra = FakeEntraId::start(config.clone()).await;
        let tokens = entra.issued();
        tokens.insert(STATIC_TOKEN, "https://management.azure.com");
        let arm = FakeSentinel::start(tokens).await;
        arm.set_page_size(page_size);
        let incidents = seed(&arm);
        let ready = json!({
            "arm": arm.url(),
            "authority": entra.authority(),
            "tenant_id": config.tenant,
            "client_id": config.client_id,
            "client_secret": CLIENT_SECRET,
            "token": STATIC_TOKEN,
            "subscription_id": SUBSCRIPTION_ID,
            "resource_group": RESOURCE_GROUP,
            "workspace_name": WORKSPACE_NAME,
            "incidents": incidents,
        });
        println!("{ready}");
        // Serve until the test closes our standard input (or dies).
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await
        .expect("the stdin reader does not panic");
    });
}

fn seed(arm: &FakeSentinel) -> Vec<String> {
    let first = arm.add_incident(json!({
        "title": "Suspicious PowerShell on ws1", "severity": "High", "status": "New",
        "description": "Encoded command run by a service account.",
        "firstActivityTimeUtc": "2024-03-01T10:00:00Z", "lastActivityTimeUtc": "2024-03-01T10:05:00Z",
    }));
    let second = arm.add_incident(json!({
        "title": "Impossible travel for alice", "severity": "Medium", "status": "Active",
        "owner": {"assignedTo": "Bob SOC", "email": "bob@contoso.com"},
    }));
    let third = arm.add_incident(json!({
        "title": "Test alert", "severity": "Informational", "status": "Closed",
        "classification": "BenignPositive", "classificationReason": "SuspiciousButExpected",
    }));
    arm.set_alerts(
        &first,
        vec![
            json!({"id": "/alerts/1", "name": "a1", "kind": "SecurityAlert", "type": "Microsoft.SecurityInsights/Entities",
                   "properties": {"alertDisplayName": "Encoded PowerShell", "severity": "High", "productName": "Microsoft Defender for Endpoint", "friendlyName": "Encoded PowerShell"}}),
            json!({"id": "/alerts/2", "name": "a2", "kind": "SecurityAlert", "type": "Microsoft.SecurityInsights/Entities",
                   "properties": {"alertDisplayName": "Outbound connection to rare domain", "severity": "Medium", "productName": "Azure Sentinel", "friendlyName": "Rare domain"}}),
        ],
    );
    arm.set_entities(
        &first,
        vec![
            json!({"id": "/entities/host1", "name": "host1", "kind": "Host", "properties": {"hostName": "ws1", "dnsDomain": "contoso.com", "friendlyName": "ws1"}}),
            json!({"id": "/entities/acct1", "name": "acct1", "kind": "Account", "properties": {"accountName": "svc-backup", "ntDomain": "CONTOSO", "friendlyName": "svc-backup"}}),
            json!({"id": "/entities/ip1", "name": "ip1", "kind": "Ip", "properties": {"address": "203.0.113.7", "friendlyName": "203.0.113.7"}}),
        ],
    );
    vec![first, second, third]
}
