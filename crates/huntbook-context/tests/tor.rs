//! The Tor exit-node provider against a local server publishing an exit list.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use huntbook_context::ti::tor::{TorProvider, TorSettings};
use huntbook_context::ti::{LookupItem, LookupOptions, Severity, TiLookup};
use huntbook_http::testkit::FakeServer;
use serde_json::json;

const LIST: &str = "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E
Published 2026-11-27 10:02:13
LastStatus 2026-11-27 11:00:00
ExitAddress 162.247.74.201 2026-11-27 11:04:35
ExitNode 0111BA9B604669E636FFD5B503F382A4B7AD6E80
Published 2026-11-27 09:00:00
LastStatus 2026-11-27 10:00:00
ExitAddress 176.10.99.200 2026-11-27 10:13:01
";

#[tokio::test]
async fn exit_nodes_are_warnings_and_the_list_is_fetched_once_a_day() {
    let fetched = Arc::new(AtomicUsize::new(0));
    let counter = fetched.clone();
    let server = FakeServer::start(Router::new().route(
        "/exit-addresses",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { LIST }
        }),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let settings = TorSettings {
        url: server.url("/exit-addresses"),
        list_file: Some(dir.path().join("tor/exit-addresses.txt")),
        ..TorSettings::default()
    };
    let mut ti = TiLookup::new();
    ti.add_provider(
        Arc::new(TorProvider::new("Tor", settings.clone()).unwrap()),
        true,
    );
    let items = [LookupItem::new("176.10.99.200"), LookupItem::new("8.8.8.8")];
    let rows = ti.lookup(&items, &LookupOptions::default()).await.unwrap();
    assert_eq!(rows[0].answer.severity, Severity::Warning);
    assert!(rows[0].answer.result);
    assert_eq!(
        rows[0].answer.details,
        json!({"NodeID": "0111BA9B604669E636FFD5B503F382A4B7AD6E80", "LastStatus": "2026-11-27 10:00:00"})
    );
    assert!(!rows[1].answer.result);
    assert_eq!(rows[1].answer.details, json!("Not found."));
    ti.lookup(&items, &LookupOptions::default()).await.unwrap();
    assert_eq!(
        fetched.load(Ordering::SeqCst),
        1,
        "a fresh list is not fetched again"
    );

    // A new provider (a new process) reads the list file while it is fresh...
    let mut again = TiLookup::new();
    again.add_provider(
        Arc::new(TorProvider::new("Tor", settings.clone()).unwrap()),
        true,
    );
    again
        .lookup(&items, &LookupOptions::default())
        .await
        .unwrap();
    assert_eq!(fetched.load(Ordering::SeqCst), 1);

    // ...and fetches it when it is older than the maximum age.
    let stale = TorSettings {
        max_age: Duration::ZERO,
        ..settings
    };
    let mut late = TiLookup::new();
    late.add_provider(Arc::new(TorProvider::new("Tor", stale).unwrap()), true);
    late.lookup(&items, &LookupOptions::default())
        .await
        .unwrap();
    assert_eq!(fetched.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn without_any_list_every_row_says_why() {
    let server = FakeServer::start(Router::new()).await;
    let settings = TorSettings {
        url: server.url("/exit-addresses"),
        ..TorSettings::default()
    };
    let mut ti = TiLookup::new();
    ti.add_provider(Arc::new(TorProvider::new("Tor", settings).unwrap()), true);
    let rows = ti
        .lookup(
            &[LookupItem::new("176.10.99.200")],
            &LookupOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(rows[0].answer.status.code(), 3);
    assert!(
        rows[0].answer.details.as_str().unwrap().contains("404"),
        "{:?}",
        rows[0].answer.details
    );
}
