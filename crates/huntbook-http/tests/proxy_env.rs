//! The proxy from the environment is used by default. Alone in its test binary
//! because it sets process environment variables.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use huntbook_http::testkit::FakeServer;
use huntbook_http::HttpClient;

#[tokio::test]
async fn http_proxy_from_the_environment_is_used() {
    // A plain-HTTP proxy receives the request with the target's Host header.
    let proxy = FakeServer::start(Router::new().route(
        "/feed",
        get(|headers: HeaderMap| async move {
            format!("via proxy for {}", headers["host"].to_str().unwrap())
        }),
    ))
    .await;
    for var in ["NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"] {
        std::env::remove_var(var);
    }
    std::env::set_var("HTTP_PROXY", proxy.base().as_str());
    std::env::set_var("http_proxy", proxy.base().as_str());

    let http = HttpClient::builder("Feed").build().unwrap();
    let response = http
        .send(http.get("http://feeds.huntbook.invalid/feed".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        "via proxy for feeds.huntbook.invalid"
    );

    // no_proxy() ignores it: the made-up host then cannot be resolved.
    let direct = HttpClient::builder("Feed")
        .no_proxy()
        .retry(huntbook_http::client::RetryPolicy::never())
        .build()
        .unwrap();
    assert!(direct
        .send(direct.get("http://feeds.huntbook.invalid/feed".parse().unwrap()))
        .await
        .is_err());
}
