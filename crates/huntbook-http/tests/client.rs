//! The client against real HTTP servers on loopback: retries, Retry-After, rate
//! limits, timeouts, status mapping, redaction.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use huntbook_http::client::{RateLimit, RetryPolicy};
use huntbook_http::testkit::{paged, refuse_first, FakeServer};
use huntbook_http::{HttpClient, HttpError};
use serde_json::{json, Value};

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_wait: Duration::from_secs(5),
    }
}

fn client(policy: RetryPolicy) -> HttpClient {
    HttpClient::builder("Test API")
        .no_proxy()
        .retry(policy)
        .build()
        .unwrap()
}

fn ok_router() -> Router {
    Router::new().route("/items", get(|| async { Json(json!({"ok": true})) }))
}

#[tokio::test]
async fn busy_server_is_retried_until_it_answers() {
    let server = FakeServer::start(refuse_first(
        ok_router(),
        2,
        StatusCode::SERVICE_UNAVAILABLE,
        None,
    ))
    .await;
    let http = client(quick_retries());
    let body: Value = http.get_json(http.get(server.url("/items"))).await.unwrap();
    assert_eq!(body, json!({"ok": true}));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = FakeServer::start(refuse_first(
        ok_router(),
        1,
        StatusCode::TOO_MANY_REQUESTS,
        Some("1"),
    ))
    .await;
    let http = client(quick_retries());
    let started = Instant::now();
    http.send(http.get(server.url("/items"))).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, not the 1 s asked"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn throttling_past_the_retries_is_reported() {
    let server = FakeServer::start(refuse_first(
        ok_router(),
        10,
        StatusCode::TOO_MANY_REQUESTS,
        Some("0"),
    ))
    .await;
    let http = client(quick_retries());
    let err = http.send(http.get(server.url("/items"))).await.unwrap_err();
    assert!(
        matches!(err, HttpError::Throttled { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("429 Too Many Requests"), "{err}");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_wait_longer_than_allowed_fails_at_once() {
    let server = FakeServer::start(refuse_first(
        ok_router(),
        1,
        StatusCode::TOO_MANY_REQUESTS,
        Some("3600"),
    ))
    .await;
    let http = client(quick_retries());
    let started = Instant::now();
    let err = http.send(http.get(server.url("/items"))).await.unwrap_err();
    assert!(matches!(err, HttpError::WaitTooLong { .. }), "{err:?}");
    assert!(err.to_string().contains("3600s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn slow_server_times_out() {
    let router = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let server = FakeServer::start(router).await;
    let http = HttpClient::builder("Slow API")
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = http.send(http.get(server.url("/slow"))).await.unwrap_err();
    assert!(matches!(err, HttpError::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string().contains("did not answer within 200ms"),
        "{err}"
    );
}

#[tokio::test]
async fn refused_connection_is_retried_then_reported() {
    // A port that was just free: bind, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http = client(quick_retries());
    let url = format!("http://127.0.0.1:{port}/x?apikey=s3cr3t")
        .parse()
        .unwrap();
    let err = http.send(http.get(url)).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, HttpError::Connect { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(text.contains("cannot connect to Test API"), "{text}");
    assert!(
        !text.contains("s3cr3t") && !format!("{err:?}").contains("s3cr3t"),
        "{text}"
    );
}

#[tokio::test]
async fn statuses_become_clear_errors_without_secrets() {
    let router = Router::new()
        .route(
            "/401",
            get(|| async {
                (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": "Unauthorized", "message": "The API key is not valid."}})))
            }),
        )
        .route("/403", get(|| async { (StatusCode::FORBIDDEN, Json(json!({"errors": ["permission denied"]}))) }))
        .route("/404", get(|| async { (StatusCode::NOT_FOUND, "no such indicator") }))
        .route("/400", get(|| async { (StatusCode::BAD_REQUEST, "<html>bad</html>") }));
    let server = FakeServer::start(router).await;
    let http = client(RetryPolicy::never());
    let fetch = |path: &str| {
        let url = server.url(&format!("{path}?apikey=s3cr3t&api-version=2024-01-01"));
        let request = http.get(url).bearer_auth("tok3n");
        let http = http.clone();
        async move { http.send(request).await.unwrap_err() }
    };

    let e = fetch("/401").await;
    assert_eq!(e.status(), Some(401));
    assert_eq!(
        e.to_string(),
        format!(
            "Test API rejected the credentials (401 at {}401?apikey=REDACTED&api-version=2024-01-01): Unauthorized: The API key is not valid.; check the credentials for Test API",
            server.base()
        )
    );
    let e = fetch("/403").await;
    assert!(matches!(e, HttpError::Forbidden { .. }));
    assert!(
        e.to_string()
            .contains(": permission denied; check that the identity has permission"),
        "{e}"
    );
    let e = fetch("/404").await;
    assert!(
        e.to_string()
            .contains("(404): no such indicator; check the name"),
        "{e}"
    );
    let e = fetch("/400").await;
    assert!(matches!(e, HttpError::Status { status: 400, .. }));
    for e in [
        fetch("/401").await,
        fetch("/403").await,
        fetch("/400").await,
    ] {
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("tok3n"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn malformed_json_names_the_place() {
    let router = Router::new()
        .route("/broken", get(|| async { "{\"value\": [1, 2,,]}" }))
        .route("/shape", get(|| async { Json(json!({"values": []})) }));
    let server = FakeServer::start(router).await;
    let http = client(RetryPolicy::never());

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Page {
        value: Vec<u32>,
    }
    let e = http
        .get_json::<Page>(http.get(server.url("/broken")))
        .await
        .unwrap_err();
    assert!(matches!(e, HttpError::Malformed { .. }), "{e:?}");
    assert!(e.to_string().contains("line 1 column 17"), "{e}");
    let e = http
        .get_json::<Page>(http.get(server.url("/shape")))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("missing field `value`"), "{e}");
}

#[tokio::test]
async fn rate_limit_spaces_requests_to_one_host() {
    let server = FakeServer::start(ok_router()).await;
    let http = HttpClient::builder("Limited API")
        .no_proxy()
        .rate_limit(RateLimit::new(5, Duration::from_secs(1)).with_burst(1))
        .build()
        .unwrap();
    // Timed on the client: server-side arrival times can bunch up on a busy machine,
    // but the limiter's waits put a floor under the sender's elapsed time.
    let started = Instant::now();
    for _ in 0..4 {
        http.send(http.get(server.url("/items"))).await.unwrap();
    }
    let spread = started.elapsed();
    // One at once, then one every 200 ms.
    assert!(
        spread >= Duration::from_millis(590),
        "4 requests within {spread:?}"
    );
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn user_agent_is_sent() {
    let server = FakeServer::start(ok_router()).await;
    let http = HttpClient::builder("UA API")
        .no_proxy()
        .user_agent("huntbook-test/1.0")
        .build()
        .unwrap();
    http.send(http.get(server.url("/items"))).await.unwrap();
    assert_eq!(
        server.requests()[0].header("user-agent"),
        Some("huntbook-test/1.0")
    );
}

#[tokio::test]
async fn paged_server_links_its_pages() {
    let items: Vec<Value> = (0..7).map(|i| json!({"id": i})).collect();
    let server = FakeServer::start(paged("/alerts", items, 3)).await;
    let http = client(RetryPolicy::never());
    let mut url = server.url("/alerts");
    let mut seen = Vec::new();
    loop {
        let page: Value = http.get_json(http.get(url)).await.unwrap();
        seen.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_u64().unwrap()),
        );
        match page["nextLink"].as_str() {
            Some(next) => url = next.parse().unwrap(),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).collect::<Vec<u64>>());
    assert_eq!(server.requests().len(), 3);
}
