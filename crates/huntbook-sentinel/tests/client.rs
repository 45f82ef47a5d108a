//! The client against the fake management API, which checks paths, `api-version`,
//! tokens and bodies as Sentinel documents them.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use huntbook_core::entities::Entity;
use huntbook_http::azure::{Authority, ClientSecretCredential};
use huntbook_http::client::{HttpClient, RetryPolicy};
use huntbook_http::testkit::{
    refuse_first, FakeEntraId, FakeEntraIdConfig, FakeServer, IssuedTokens, RecordedRequest,
};
use huntbook_http::token::BoxFuture;
use huntbook_http::{AccessToken, HttpError, Scope, Secret, TokenError, TokenSource};
use huntbook_sentinel::testkit::FakeSentinel;
use huntbook_sentinel::{
    BookmarkProperties, IncidentProperties, IncidentQuery, SentinelClient, SentinelError, Severity,
    Status, WatchlistProperties, API_VERSION,
};
use serde_json::{json, Value};

const ARM: &str = "https://management.azure.com";

/// Hands out one token without signing in.
struct FixedToken(&'static str);

impl TokenSource for FixedToken {
    fn token<'a>(&'a self, _: &'a Scope) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            Ok(AccessToken {
                token: Secret::new(self.0),
                expires_at: SystemTime::now() + Duration::from_secs(3600),
            })
        })
    }
}

async fn fake() -> (FakeSentinel, SentinelClient) {
    let tokens = IssuedTokens::default();
    tokens.insert("good-token", ARM);
    let arm = FakeSentinel::start(tokens).await;
    let client = client_for(&arm, "good-token");
    (arm, client)
}

fn client_for(arm: &FakeSentinel, token: &'static str) -> SentinelClient {
    SentinelClient::new(
        &FakeSentinel::workspace(),
        Arc::new(FixedToken(token)),
        Some(&arm.url()),
    )
    .unwrap()
}

fn seed(arm: &FakeSentinel, n: usize) -> Vec<String> {
    let severities = ["High", "Medium", "Low", "Informational"];
    (0..n)
        .map(|i| {
            arm.add_incident(json!({
                "title": format!("incident {i}"),
                "severity": severities[i % 4],
                "status": if i % 2 == 0 { "New" } else { "Active" },
            }))
        })
        .collect()
}

fn body(request: &RecordedRequest) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test]
async fn lists_follow_next_link_with_version_and_token_on_every_page() {
    let (arm, client) = fake().await;
    arm.set_page_size(2);
    seed(&arm, 5);
    let incidents = client
        .list_incidents(&IncidentQuery::default())
        .await
        .unwrap();
    let titles: Vec<&str> = incidents
        .iter()
        .map(|i| i.properties.title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "incident 0",
            "incident 1",
            "incident 2",
            "incident 3",
            "incident 4"
        ]
    );
    let requests = arm.requests();
    assert_eq!(requests.len(), 3, "three pages");
    for request in &requests {
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.path,
            "/subscriptions/d0cfe6b2-9ac0-4464-9919-dccaee2e48c0/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/contoso-sentinel/providers/Microsoft.SecurityInsights/incidents"
        );
        assert_eq!(request.query_param("api-version"), Some(API_VERSION));
        assert_eq!(request.header("authorization"), Some("Bearer good-token"));
    }
    assert_eq!(requests[2].query_param("$skipToken"), Some("4"));
}

#[tokio::test]
async fn filter_order_and_top_reach_the_service() {
    let (arm, client) = fake().await;
    arm.set_page_size(2);
    seed(&arm, 8);
    let query = IncidentQuery {
        filter: Some("properties/status eq 'New'".into()),
        orderby: Some("properties/title desc".into()),
        top: Some(3),
    };
    let incidents = client.list_incidents(&query).await.unwrap();
    let titles: Vec<&str> = incidents
        .iter()
        .map(|i| i.properties.title.as_str())
        .collect();
    assert_eq!(titles, ["incident 6", "incident 4", "incident 2"]);
    let first = &arm.requests()[0];
    assert_eq!(
        first.query_param("$filter"),
        Some("properties/status eq 'New'")
    );
    assert_eq!(first.query_param("$top"), Some("3"));

    let bad = IncidentQuery {
        filter: Some("properties/status has 'New'".into()),
        ..IncidentQuery::default()
    };
    let e = client.list_incidents(&bad).await.unwrap_err();
    assert!(
        matches!(&e, SentinelError::Rejected { status: 400, code, .. } if code == "BadRequest"),
        "{e:?}"
    );
}

#[tokio::test]
async fn create_sends_the_documented_body_and_returns_the_saved_incident() {
    let (arm, client) = fake().await;
    let mut new = IncidentProperties::new("Beaconing from ws1", Severity::Medium)
        .with_labels(["huntbook", "beaconing"]);
    new.description = Some("Every 60 s to 203.0.113.7".into());
    // Fields the service sets are not sent even when present.
    new.incident_number = Some(99);
    let incident = client.create_incident(&new).await.unwrap();
    assert_eq!(incident.properties.title, "Beaconing from ws1");
    assert_eq!(incident.properties.status, Status::New);
    assert_eq!(incident.properties.incident_number, Some(1));
    assert!(incident.etag.is_some());
    assert_eq!(
        incident.properties.extra["providerName"],
        json!("Azure Sentinel")
    );

    let put = arm.requests().pop().unwrap();
    assert_eq!(put.method, "PUT");
    assert!(put.path.ends_with(&format!("/incidents/{}", incident.name)));
    assert_eq!(put.header("content-type"), Some("application/json"));
    assert_eq!(
        body(&put),
        json!({"properties": {
            "title": "Beaconing from ws1", "severity": "Medium", "status": "New",
            "description": "Every 60 s to 203.0.113.7",
            "labels": [{"labelName": "huntbook", "labelType": "User"}, {"labelName": "beaconing", "labelType": "User"}]
        }})
    );
    let stored = arm.incident(&incident.name).unwrap();
    assert_eq!(stored["properties"]["labels"][1]["labelName"], "beaconing");

    let again = client.get_incident(&incident.name).await.unwrap();
    assert_eq!(again, incident);
}

#[tokio::test]
async fn update_sends_the_etag_read_and_a_change_in_between_is_a_conflict() {
    let (arm, client) = fake().await;
    let id = &seed(&arm, 1)[0];
    let updated = client
        .update_incident(id, |p| {
            p.severity = Severity::High;
            p.owner = Some(huntbook_sentinel::Owner {
                assigned_to: Some("Bob SOC".into()),
                ..Default::default()
            });
        })
        .await
        .unwrap();
    assert_eq!(updated.properties.severity, Severity::High);
    let requests = arm.requests();
    let (get, put) = (&requests[0], &requests[1]);
    assert_eq!(get.method, "GET");
    let sent = body(put);
    assert_eq!(sent["properties"]["owner"]["assignedTo"], "Bob SOC");
    assert!(sent["etag"].is_string(), "the etag read is sent back");

    // Another analyst changes it after we read it.
    let mut stale = client.get_incident(id).await.unwrap();
    arm.touch_incident(id);
    stale.properties.status = Status::Active;
    let e = client.save_incident(&stale).await.unwrap_err();
    assert!(
        matches!(e, SentinelError::Conflict { status: 409, .. }),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!("the incident {id} changed since you read it (HTTP 409); get it again and reapply your change")
    );
    assert_eq!(arm.incident(id).unwrap()["properties"]["status"], "New");
}

#[tokio::test]
async fn service_errors_are_named() {
    let (arm, client) = fake().await;
    let id = &seed(&arm, 1)[0];

    let missing = "00000000-0000-0000-0000-000000000000";
    let e = client.get_incident(missing).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("incident {missing} was not found in workspace contoso-sentinel; check the id, or list them to see which exist")
    );
    let e = client.post_comment(missing, "hi").await.unwrap_err();
    assert!(matches!(e, SentinelError::NotFound { .. }), "{e:?}");

    // Closing without a classification: a 400 with ARM's error body.
    let e = client
        .update_incident(id, |p| p.status = Status::Closed)
        .await
        .unwrap_err();
    match &e {
        SentinelError::Rejected {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!((*status, code.as_str()), (400, "BadRequest"));
            assert!(message.contains("Classification is required"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.status(), Some(400));
}

#[tokio::test]
async fn a_wrong_token_gets_401_and_the_token_is_not_shown() {
    let (arm, _) = fake().await;
    let client = client_for(&arm, "stolen-or-expired-token");
    let e = client
        .list_incidents(&IncidentQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert!(matches!(
        e,
        SentinelError::Http(HttpError::Unauthorized { .. })
    ));
    let text = format!("{e} {e:?}");
    assert!(
        text.contains("InvalidAuthenticationToken: The access token is invalid."),
        "{text}"
    );
    assert!(!text.contains("stolen-or-expired-token"), "{text}");
}

#[tokio::test]
async fn the_fake_checks_what_the_service_checks() {
    let (arm, _) = fake().await;
    let http = reqwest::Client::new();
    let incidents = arm.server.url(
        "subscriptions/d0cfe6b2-9ac0-4464-9919-dccaee2e48c0/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/contoso-sentinel/providers/Microsoft.SecurityInsights/incidents",
    );
    let answer = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        (status, body["error"]["code"].as_str().unwrap().to_string())
    };
    let no_token = http.get(incidents.clone()).send().await.unwrap();
    assert_eq!(answer(no_token).await, (401, "AuthenticationFailed".into()));
    let no_version = http
        .get(incidents.clone())
        .bearer_auth("good-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(no_version).await,
        (400, "MissingApiVersionParameter".into())
    );
    let mut old = incidents.clone();
    old.set_query(Some("api-version=2019-01-01-preview"));
    let old_version = http
        .get(old)
        .bearer_auth("good-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(old_version).await,
        (400, "InvalidApiVersionParameter".into())
    );
}

#[tokio::test]
async fn throttling_is_retried_after_the_wait_asked_for() {
    let tokens = IssuedTokens::default();
    tokens.insert("good-token", ARM);
    let arm = FakeSentinel::start_wrapped(tokens, |router| {
        refuse_first(router, 1, StatusCode::TOO_MANY_REQUESTS, Some("1"))
    })
    .await;
    seed(&arm, 2);
    let client = client_for(&arm, "good-token");
    let started = Instant::now();
    let incidents = client
        .list_incidents(&IncidentQuery::default())
        .await
        .unwrap();
    assert_eq!(incidents.len(), 2);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(arm.requests().len(), 2);

    // A service that keeps refusing ends in an error that says so.
    let tokens = IssuedTokens::default();
    tokens.insert("good-token", ARM);
    let arm = FakeSentinel::start_wrapped(tokens, |router| {
        refuse_first(router, 10, StatusCode::TOO_MANY_REQUESTS, Some("0"))
    })
    .await;
    let client = client_for(&arm, "good-token").with_http(
        HttpClient::builder("Microsoft Sentinel")
            .retry(RetryPolicy {
                max_retries: 2,
                ..RetryPolicy::default()
            })
            .build()
            .unwrap(),
    );
    let e = client.list_bookmarks().await.unwrap_err();
    assert!(
        matches!(
            e,
            SentinelError::Http(HttpError::Throttled { attempts: 3, .. })
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn comments_alerts_and_entities_of_an_incident() {
    let (arm, client) = fake().await;
    let id = &seed(&arm, 1)[0];
    let comment = client
        .post_comment(id, "Host isolated by the on-call analyst.")
        .await
        .unwrap();
    assert_eq!(
        comment.properties.message,
        "Host isolated by the on-call analyst."
    );
    assert!(comment.properties.created_time_utc.is_some());
    let put = arm.requests().pop().unwrap();
    assert!(put
        .path
        .ends_with(&format!("/incidents/{id}/comments/{}", comment.name)));
    assert_eq!(
        body(&put),
        json!({"properties": {"message": "Host isolated by the on-call analyst."}})
    );
    let comments = client.list_comments(id).await.unwrap();
    assert_eq!(comments, vec![comment]);

    arm.set_alerts(
        id,
        vec![
            json!({"kind": "SecurityAlert", "properties": {"alertDisplayName": "Encoded PowerShell"}}),
        ],
    );
    arm.set_entities(
        id,
        vec![
            json!({"id": "/e/h", "kind": "Host", "properties": {"hostName": "ws1", "dnsDomain": "contoso.com"}}),
            json!({"id": "/e/p", "kind": "Process", "properties": {"processId": "4242", "commandLine": "powershell -enc AAAA", "hostEntityId": "/e/h"}}),
        ],
    );
    let alerts = client.incident_alerts(id).await.unwrap();
    assert_eq!(
        alerts[0]["properties"]["alertDisplayName"],
        "Encoded PowerShell"
    );
    assert_eq!(arm.requests().pop().unwrap().method, "POST");

    let graph = client.incident_entities(id).await.unwrap();
    let hosts: Vec<_> = graph.of_kind("host").collect();
    assert_eq!(hosts.len(), 1);
    let (_, process) = graph.of_kind("process").next().unwrap();
    let Entity::Process(process) = process else {
        panic!("{process:?}")
    };
    assert_eq!(
        process.command_line.as_deref(),
        Some("powershell -enc AAAA")
    );
    // The API's `hostEntityId` link is resolved to the host entity.
    let host = &graph[process.host.expect("the process has its host")];
    assert_eq!(host.description(&graph), "ws1.contoso.com");
}

#[tokio::test]
async fn bookmarks_are_created_listed_and_deleted() {
    let (arm, client) = fake().await;
    let mut new = BookmarkProperties::new(
        "Rare parent of powershell",
        "SecurityEvent | where EventID == 4688",
    );
    new.notes = Some("seen on three hosts".into());
    new.labels = vec!["hunt-42".into()];
    let bookmark = client.create_bookmark(&new).await.unwrap();
    assert_eq!(
        bookmark.properties.display_name,
        "Rare parent of powershell"
    );
    assert!(bookmark.properties.created.is_some());
    assert_eq!(
        body(&arm.requests().pop().unwrap()),
        json!({"properties": {"displayName": "Rare parent of powershell", "query": "SecurityEvent | where EventID == 4688", "notes": "seen on three hosts", "labels": ["hunt-42"]}})
    );
    assert_eq!(
        client.list_bookmarks().await.unwrap(),
        vec![bookmark.clone()]
    );
    assert_eq!(client.get_bookmark(&bookmark.name).await.unwrap(), bookmark);
    client.delete_bookmark(&bookmark.name).await.unwrap();
    assert!(client.list_bookmarks().await.unwrap().is_empty());

    let e = client
        .create_bookmark(&BookmarkProperties::new("no query", ""))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("'query'"), "{e}");
}

#[tokio::test]
async fn watchlists_with_items_from_csv_and_one_by_one() {
    let (arm, client) = fake().await;
    arm.set_page_size(2);
    let props = WatchlistProperties::new("High value assets", "huntbook", "Hostname")
        .with_csv("Hostname,Owner\nws1,alice\ndc1,it-ops\nfs1,it-ops\n");
    let watchlist = client.create_watchlist("hva", &props).await.unwrap();
    assert_eq!(watchlist.name, "hva");
    assert_eq!(watchlist.properties.watchlist_alias.as_deref(), Some("hva"));
    let sent = body(&arm.requests().pop().unwrap());
    assert_eq!(sent["properties"]["contentType"], "text/csv");
    assert_eq!(sent["properties"]["itemsSearchKey"], "Hostname");

    let item = json!({"Hostname": "ws9", "Owner": "bob"});
    let added = client
        .put_watchlist_item("hva", None, item.as_object().unwrap())
        .await
        .unwrap();
    assert_eq!(added.properties.items_key_value["Hostname"], "ws9");
    let items = client.list_watchlist_items("hva").await.unwrap();
    let hosts: Vec<&Value> = items
        .iter()
        .map(|i| &i.properties.items_key_value["Hostname"])
        .collect();
    assert_eq!(hosts, ["ws1", "dc1", "fs1", "ws9"]);
    assert_eq!(client.list_watchlists().await.unwrap().len(), 1);

    // Adding an item that is already there: refused, or replacing it.
    let again = json!({"Hostname": "dc1", "Owner": "it-ops"});
    let fresh = json!({"Hostname": "ws10", "Owner": "carol"});
    let batch = [
        fresh.as_object().unwrap().clone(),
        again.as_object().unwrap().clone(),
    ];
    let e = client
        .add_watchlist_items("hva", &batch, false)
        .await
        .unwrap_err();
    assert!(
        matches!(e, SentinelError::ItemExists { index: 1, .. }),
        "{e:?}"
    );
    assert_eq!(
        client.list_watchlist_items("hva").await.unwrap().len(),
        4,
        "nothing written"
    );
    let added = client
        .add_watchlist_items("hva", &batch, true)
        .await
        .unwrap();
    let dc1 = items
        .iter()
        .find(|i| i.properties.items_key_value["Hostname"] == "dc1")
        .unwrap();
    assert_eq!(added[1].name, dc1.name, "the existing item is replaced");
    assert_eq!(client.list_watchlist_items("hva").await.unwrap().len(), 5);

    let e = client
        .put_watchlist_item("nope", None, item.as_object().unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "watchlist nope was not found in workspace contoso-sentinel; check the id, or list them to see which exist"
    );
    client.delete_watchlist("hva").await.unwrap();
    assert!(client.list_watchlists().await.unwrap().is_empty());
}

#[tokio::test]
async fn ids_that_would_leave_their_path_are_refused_before_sending() {
    let (arm, client) = fake().await;
    for bad in ["../bookmarks", "a/b", "x?api-version=1", ""] {
        let e = client.get_incident(bad).await.unwrap_err();
        assert!(matches!(e, SentinelError::Invalid { .. }), "{bad}: {e:?}");
    }
    assert!(client.get_watchlist("..").await.is_err());
    assert!(arm.requests().is_empty());
}

#[tokio::test]
async fn next_links_to_another_host_are_not_followed() {
    let router = Router::new().route(
        "/{*rest}",
        get(|| async {
            Json(json!({"value": [], "nextLink": "https://attacker.example/collect?api-version=2024-03-01"}))
        }),
    );
    let server = FakeServer::start(router).await;
    let client = SentinelClient::new(
        &FakeSentinel::workspace(),
        Arc::new(FixedToken("good-token")),
        Some(server.base().as_str()),
    )
    .unwrap();
    let e = client.list_watchlists().await.unwrap_err();
    assert!(matches!(e, SentinelError::ForeignNextLink { .. }), "{e:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn signs_in_through_entra_id_for_the_management_scope() {
    let config = FakeEntraIdConfig {
        client_secret: Some("app-secret".into()),
        ..FakeEntraIdConfig::default()
    };
    let entra = FakeEntraId::start(config.clone()).await;
    let arm = FakeSentinel::start(entra.issued()).await;
    seed(&arm, 1);
    let credential = ClientSecretCredential::new(
        Authority::custom(&entra.authority()).unwrap(),
        &config.tenant,
        &config.client_id,
        Secret::new("app-secret"),
    )
    .unwrap();
    let client = SentinelClient::new(
        &FakeSentinel::workspace(),
        Arc::new(credential),
        Some(&arm.url()),
    )
    .unwrap();
    assert_eq!(
        client
            .list_incidents(&IncidentQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(client.list_bookmarks().await.unwrap().len(), 0);
    let token_requests = entra.requests();
    assert_eq!(token_requests.len(), 1, "the token is reused");
    assert_eq!(
        token_requests[0].form_value("scope").as_deref(),
        Some("https://management.azure.com/.default")
    );
}
