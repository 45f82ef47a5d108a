//! The testkit's guards, as a provider's fake would use them: a service that wants a
//! token issued for it and an api-version, answering either mistake with its own
//! documented error body.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use huntbook_http::azure::{Authority, ClientSecretCredential};
use huntbook_http::client::RetryPolicy;
use huntbook_http::testkit::{
    json_error, require_bearer, require_query, Accept, FakeEntraId, FakeEntraIdConfig, FakeServer,
};
use huntbook_http::{HttpClient, HttpError, Scope, Secret, TokenSource};
use serde_json::{json, Value};

const RESOURCE: &str = "https://api.loganalytics.io";

fn unauthorized() -> Response {
    json_error(
        StatusCode::UNAUTHORIZED,
        json!({"error": {"code": "InvalidAuthenticationTokenAudience", "message": "The access token is missing or was issued for another audience."}}),
    )
}

fn wrong_version(found: Option<&str>) -> Response {
    json_error(
        StatusCode::BAD_REQUEST,
        json!({"error": {"code": "InvalidApiVersionParameter", "message": format!("The api-version '{}' is invalid. The supported version is '2022-10-27'.", found.unwrap_or(""))}}),
    )
}

async fn service(entra: &FakeEntraId) -> FakeServer {
    let routes = Router::new().route(
        "/v1/workspaces/{id}/query",
        get(|| async { Json(json!({"tables": []})) }),
    );
    let accept = Accept::IssuedFor {
        tokens: entra.issued(),
        resource: RESOURCE.into(),
    };
    let guarded = require_query(
        require_bearer(routes, accept, unauthorized),
        "api-version",
        "2022-10-27",
        wrong_version,
    );
    FakeServer::start(guarded).await
}

#[tokio::test]
async fn guarded_service_takes_only_its_tokens_and_api_version() {
    let entra = FakeEntraId::start(FakeEntraIdConfig {
        client_secret: Some("s".into()),
        ..FakeEntraIdConfig::default()
    })
    .await;
    let server = service(&entra).await;
    let config = FakeEntraIdConfig::default();
    let credential = Arc::new(
        ClientSecretCredential::new(
            Authority::custom(&entra.authority()).unwrap(),
            &config.tenant,
            &config.client_id,
            Secret::new("s"),
        )
        .unwrap(),
    );
    let http = HttpClient::builder("Log Analytics")
        .no_proxy()
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let url = |version: &str| server.url(&format!("/v1/workspaces/w1/query?api-version={version}"));

    let right = credential.token(&Scope::new(RESOURCE)).await.unwrap();
    let body: Value = http
        .get_json(
            http.get(url("2022-10-27"))
                .bearer_auth(right.token.expose()),
        )
        .await
        .unwrap();
    assert_eq!(body, json!({"tables": []}));

    // A token for another resource, and no token at all: 401 with the service's body.
    let vault = credential
        .token(&Scope::new("https://vault.azure.net"))
        .await
        .unwrap();
    for request in [
        http.get(url("2022-10-27"))
            .bearer_auth(vault.token.expose()),
        http.get(url("2022-10-27")),
    ] {
        let err = http.send(request).await.unwrap_err();
        assert!(matches!(err, HttpError::Unauthorized { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("InvalidAuthenticationTokenAudience"),
            "{err}"
        );
    }

    let err = http
        .send(
            http.get(url("2020-01-01"))
                .bearer_auth(right.token.expose()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(
        err.to_string()
            .contains("The api-version '2020-01-01' is invalid"),
        "{err}"
    );
}
