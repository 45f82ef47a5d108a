//! Lookups across providers configured in YAML: scope, provider status, the cache,
//! progress, and one provider down and one throttling while the others answer.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use huntbook_context::ti::{
    to_record_batch, LookupItem, LookupOptions, Scope, TiLookup, RESULT_COLUMNS,
};
use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;
use huntbook_http::testkit::FakeServer;
use serde_json::json;

const KEY: &str = "vt-key-for-tests";

/// VirusTotal's IP report route, answering a hit for every address.
fn virustotal_router() -> Router {
    Router::new().route(
        "/api/v3/ip_addresses/{ip}",
        get(|UrlPath(ip): UrlPath<String>, headers: HeaderMap| async move {
            if headers.get("x-apikey").and_then(|v| v.to_str().ok()) != Some(KEY) {
                return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": "WrongCredentialsError"}}))).into_response();
            }
            Json(json!({"data": {"id": ip, "attributes": {"last_analysis_stats": {"malicious": 3, "suspicious": 0}}}})).into_response()
        }),
    )
}

/// The start of the current second and the requests seen in it.
type Window = Arc<Mutex<(Instant, usize)>>;

/// A server that allows `per_second` requests a second and answers the rest with 429
/// and `Retry-After: 1`, as services with quotas do.
fn throttled(router: Router, per_second: usize) -> Router {
    let window = Arc::new(Mutex::new((Instant::now(), 0usize)));
    router.layer(axum::middleware::from_fn_with_state(
        (window, per_second),
        |State((window, limit)): State<(Window, usize)>,
         request: axum::extract::Request,
         next: axum::middleware::Next| async move {
            let over = {
                let mut w = window.lock().unwrap();
                if w.0.elapsed() >= Duration::from_secs(1) {
                    *w = (Instant::now(), 0);
                }
                w.1 += 1;
                w.1 > limit
            };
            if over {
                let mut response: Response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"error": {"code": "QuotaExceededError"}})),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert("retry-after", "1".parse().unwrap());
                return response;
            }
            next.run(request).await
        },
    ))
}

fn config(yaml: &str) -> Config {
    Config::from_yaml(&[(Path::new("/tmp/huntbook.yaml"), yaml)]).unwrap()
}

fn public_ips(n: usize) -> Vec<LookupItem> {
    (0..n)
        .map(|i| LookupItem::new(format!("45.{}.{}.{}", 10 + i / 250, i % 250, 7)))
        .collect()
}

#[tokio::test]
async fn one_provider_down_and_one_throttling_still_give_every_row() {
    std::env::set_var("HUNTBOOK_TEST_VT_KEY", KEY);
    let good = FakeServer::start(virustotal_router()).await;
    let busy = FakeServer::start(throttled(virustotal_router(), 60)).await;
    // A port nobody listens on: connections are refused.
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "TIProviders:
  Good:
    Provider: VirusTotal
    Primary: true
    Args:
      AuthKey: {{EnvironmentVar: HUNTBOOK_TEST_VT_KEY}}
      BaseUrl: {good_url}
      Concurrency: 20
  Busy:
    Provider: VirusTotal
    Primary: true
    Args:
      AuthKey: {{EnvironmentVar: HUNTBOOK_TEST_VT_KEY}}
      BaseUrl: {busy_url}
      Concurrency: 20
  Down:
    Provider: VirusTotal
    Primary: true
    Args:
      AuthKey: {{EnvironmentVar: HUNTBOOK_TEST_VT_KEY}}
      BaseUrl: http://{down}/
      MaxRetries: 1
      Concurrency: 50
      Timeout: 2s
  Unset:
    Provider: OTX
    Args:
      AuthKey: {{EnvironmentVar: HUNTBOOK_TEST_UNSET_OTX_KEY}}
TICache:
  Path: {cache}
",
        good_url = good.base(),
        busy_url = busy.base(),
        cache = dir.path().join("cache.sqlite").display()
    );
    let ti = TiLookup::from_config(&config(&yaml), &SecretResolver::local()).unwrap();
    let status = ti.provider_status();
    let unset = status.iter().find(|s| s.name == "Unset").unwrap();
    assert!(!unset.loaded);
    assert!(
        unset.detail.contains("HUNTBOOK_TEST_UNSET_OTX_KEY"),
        "{unset:?}"
    );

    let items = public_ips(200);
    let progress_calls = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(Mutex::new((0, 0)));
    let options = LookupOptions {
        progress: Some({
            let calls = progress_calls.clone();
            let last = last.clone();
            Arc::new(move |done, total| {
                calls.fetch_add(1, Ordering::SeqCst);
                *last.lock().unwrap() = (done, total);
            })
        }),
        ..LookupOptions::default()
    };
    let started = Instant::now();
    let rows = ti.lookup(&items, &options).await.unwrap();
    let took = started.elapsed();
    assert_eq!(rows.len(), 600);
    let count = |provider: &str, code: i32| {
        rows.iter()
            .filter(|r| r.provider == provider && r.answer.status.code() == code)
            .count()
    };
    assert_eq!(count("Good", 0), 200);
    assert_eq!(
        count("Busy", 0),
        200,
        "throttled requests are retried after Retry-After"
    );
    assert_eq!(
        count("Down", 3),
        200,
        "a provider that is down fails only its rows"
    );
    assert!(rows.iter().filter(|r| r.provider == "Down").all(|r| r
        .answer
        .details
        .as_str()
        .unwrap()
        .contains("cannot connect")));
    assert!(busy.requests().len() > 200, "the busy server did throttle");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_eq!(*last.lock().unwrap(), (600, 600));
    assert!(progress_calls.load(Ordering::SeqCst) > 2);

    // Again: the answers come from the cache, and the failures are asked again.
    let good_before = good.requests().len();
    let rows = ti.lookup(&items, &LookupOptions::default()).await.unwrap();
    assert_eq!(
        good.requests().len(),
        good_before,
        "cached answers must not call the service"
    );
    assert_eq!(
        rows.iter().filter(|r| r.answer.status.code() == 0).count(),
        400
    );

    let batch = to_record_batch(&rows).unwrap();
    assert_eq!(batch.num_rows(), 600);
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, RESULT_COLUMNS);
}

#[tokio::test]
async fn scope_and_named_providers_choose_who_is_asked() {
    std::env::set_var("HUNTBOOK_TEST_VT_KEY2", KEY);
    let server = FakeServer::start(virustotal_router()).await;
    let yaml = format!(
        "TIProviders:
  First:
    Provider: VirusTotal
    Primary: true
    Args: {{AuthKey: {{EnvironmentVar: HUNTBOOK_TEST_VT_KEY2}}, BaseUrl: {0}}}
  Second:
    Provider: VirusTotal
    Primary: false
    Args: {{AuthKey: {{EnvironmentVar: HUNTBOOK_TEST_VT_KEY2}}, BaseUrl: {0}}}
  Sentinel:
    Provider: AzSTI
TICache:
  Enabled: false
",
        server.base()
    );
    let ti = TiLookup::from_config(&config(&yaml), &SecretResolver::local()).unwrap();
    assert!(ti.cache().is_none());
    let items = [
        LookupItem::new("38.75.137.9"),
        LookupItem::new("10.0.0.1"),
        LookupItem::new("evil-site.com"),
    ];
    let providers = |rows: &[huntbook_context::ti::LookupRow]| {
        let mut p: Vec<String> = rows.iter().map(|r| r.provider.clone()).collect();
        p.dedup();
        p
    };
    let rows = ti.lookup(&items, &LookupOptions::default()).await.unwrap();
    assert_eq!(providers(&rows), ["First"]);
    assert_eq!(
        rows.len(),
        2,
        "the private IP is left out as bad format: {rows:?}"
    );
    assert_eq!(
        rows[1].answer.status.code(),
        404,
        "the fake has no domain reports"
    );
    let all = LookupOptions {
        scope: Scope::All,
        show_bad_items: true,
        show_not_supported: true,
        ..LookupOptions::default()
    };
    let rows = ti.lookup(&items, &all).await.unwrap();
    assert_eq!(providers(&rows), ["First", "Second"]);
    let private = rows.iter().find(|r| r.ioc == "10.0.0.1").unwrap();
    assert_eq!(private.answer.status.code(), 2);
    assert_eq!(private.answer.details, json!("IP address is not global"));

    let named = LookupOptions {
        providers: Some(vec!["second".into()]),
        ..LookupOptions::default()
    };
    assert_eq!(
        providers(&ti.lookup(&items, &named).await.unwrap()),
        ["Second"]
    );
    let err = ti
        .lookup(
            &items,
            &LookupOptions {
                providers: Some(vec!["Sentinel".into()]),
                ..LookupOptions::default()
            },
        )
        .await
        .unwrap_err();
    // An AzSTI entry without a workspace to reach is configured but not loaded.
    assert!(err.to_string().contains("not loaded"), "{err}");
    assert!(err.to_string().contains("no workspaces are configured"), "{err}");
    let err = ti
        .lookup(
            &items,
            &LookupOptions {
                providers: Some(vec!["Nope".into()]),
                ..LookupOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no TI provider named Nope; loaded: First, Second"
    );
}

#[test]
fn malformed_args_are_errors_that_name_the_place() {
    let err = TiLookup::from_config(
        &config("TIProviders:\n  VT:\n    Provider: VirusTotal\n    Args:\n      AuthKey: abc\n      RateLimit: lots\n"),
        &SecretResolver::local(),
    )
    .err()
    .unwrap();
    assert_eq!(
        err.to_string(),
        "TIProviders.VT.Args.RateLimit (/tmp/huntbook.yaml:6): `lots` is not a rate; write it as 10/s, 4/min, 500/h or 1000/d"
    );
    let err = TiLookup::from_config(
        &config("TIProviders:\n  X:\n    Provider: Shodan\n"),
        &SecretResolver::local(),
    )
    .err()
    .unwrap();
    assert!(err.to_string().starts_with("TIProviders.X.Provider (/tmp/huntbook.yaml:2): unknown provider Shodan; known: VirusTotal, OTX"), "{err}");
}
