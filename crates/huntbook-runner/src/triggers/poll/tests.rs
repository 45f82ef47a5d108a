//! The pollers against real HTTP on loopback: the fake Sentinel management API of
//! huntbook-sentinel's testkit, and a small axum endpoint for the HTTP source.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use huntbook_http::testkit::{refuse_first, FakeServer};
use huntbook_sentinel::testkit::{
    FakeSentinel, SignedIn, RESOURCE_GROUP, SUBSCRIPTION_ID, WORKSPACE_NAME,
};
use serde_json::json;

use super::*;
use crate::store::tests::{on_both_stores, Fixture, Kind};
use crate::triggers::testing::{eventually, jobs_by_key, no_azure, probe, problems_of, Probe};
use crate::triggers::Triggers;
use crate::TriggerKind;

#[test]
fn bad_settings_are_reported_with_their_line() {
    let problems = problems_of(
        "    poll:\n      source: jira\n      every: often\n      parameters: {title: [x]}\n      colour: red\n",
    );
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(
        has("Notebooks.probe.poll.source (") && has("huntbook.yaml:5"),
        "{text:#?}"
    );
    assert!(has("Notebooks.probe.poll.every"), "{text:#?}");
    assert!(has("Notebooks.probe.poll.parameters.title"), "{text:#?}");
    assert!(has("Notebooks.probe.poll.colour"), "{text:#?}");
    let http = problems_of(
        "    poll: {source: http, url: \"ftp://x\", auth: {header: \"bad header\", secret: x}}\n",
    );
    let text: Vec<String> = http.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("poll.url") && t.contains("not an http(s) URL")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|t| t.contains("poll.auth.header")),
        "{text:#?}"
    );
}

#[test]
fn json_paths_reach_into_objects_and_lists() {
    let value = json!({"name": "a1", "properties": {"title": "T", "labels": [{"labelName": "x"}]}});
    let find = |path: &str| JsonPath(path.into()).find(&value).cloned();
    assert_eq!(find("name"), Some(json!("a1")));
    assert_eq!(find("properties.labels.0.labelName"), Some(json!("x")));
    assert_eq!(find("properties.owner"), None);
    assert_eq!(find("properties.labels.9"), None);
}

/// The poller of `probe`'s settings, connected through `access`.
fn poller(catalogue: &Probe, context: Context, access: &SourceAccess) -> Poller {
    let poll = Triggers::from_service(&catalogue.service)
        .unwrap()
        .polls
        .remove(0);
    let mut problems = Problems::default();
    let source = poll
        .connect(
            &catalogue.service.config,
            &context.store,
            access,
            &mut problems,
        )
        .unwrap_or_else(|| panic!("{:?}", problems.0));
    Poller::new(context, poll, source)
}

on_both_stores!(
    local_incidents_run_once_each,
    sentinel_incidents_run_once_across_polls_and_restarts,
    http_incidents_are_paged_and_throttling_is_honoured,
    a_failing_source_is_polled_again,
);

/// Raise a local incident as the `local` sink does: a run of another notebook, its
/// finding, the incident.
async fn raise_local(context: &Context, description: &str) -> i64 {
    let store = &context.store;
    store
        .enqueue(crate::NewJob::new("hunt", TriggerKind::Scheduled))
        .await
        .unwrap();
    let run = store.claim("w").await.unwrap().unwrap().run.id;
    let finding = crate::findings::NewFinding {
        description: description.into(),
        severity: huntbook_sentinel::Severity::High,
        entities: json!([]),
        warnings: Vec::new(),
    };
    let finding = store.add_finding(run, finding, None).await.unwrap();
    store.raise_incident(finding.id).await.unwrap().number
}

async fn local_incidents_run_once_each(f: Fixture) {
    let catalogue = probe(
        "    poll:\n      source: local\n      every: 1s\n      parameters: {incident_id: number, title: title, severity: severity}\n",
    );
    let context = catalogue.context(&f).await;
    let first = raise_local(&context, "beacon").await;
    let second = raise_local(&context, "travel").await;
    let poller = poller(&catalogue, context.clone(), &no_azure());
    assert_eq!(poller.round().await.map(|r| r.new), Some(2));
    // The poller's jobs, beside the runs that raised the incidents.
    let mut jobs: Vec<_> = context
        .store
        .jobs(crate::JobFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.trigger == TriggerKind::Event)
        .map(|job| (job.idempotency_key.unwrap(), job.parameters))
        .collect();
    jobs.sort_by(|a, b| a.0.cmp(&b.0));
    let keys: Vec<&str> = jobs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            format!("poll:probe:local:{first}"),
            format!("poll:probe:local:{second}")
        ]
    );
    assert_eq!(jobs[0].1["title"], "hunt: beacon");
    assert_eq!(jobs[0].1["severity"], "High");
    assert_eq!(jobs[0].1["incident_id"], first);
    // Seen again next round (the mark is inclusive): no new jobs; a new incident: one.
    assert_eq!(poller.round().await.map(|r| r.new), Some(0));
    raise_local(&context, "download").await;
    assert_eq!(poller.round().await.map(|r| r.new), Some(1));
}

async fn sentinel_incidents_run_once_across_polls_and_restarts(f: Fixture) {
    let fake = SignedIn::start().await;
    let arm = &fake.arm;
    arm.set_page_size(2);
    let workspace = FakeSentinel::workspace();
    let catalogue = probe(&format!(
        "    poll:\n      source: sentinel\n      workspace: Default\n      every: 1s\n      parameters: {{incident_id: name, title: properties.title, severity: properties.severity}}\n\
         AzureSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: {}\n      TenantId: {}\n      SubscriptionId: {SUBSCRIPTION_ID}\n      ResourceGroup: {RESOURCE_GROUP}\n      WorkspaceName: {WORKSPACE_NAME}\n",
        workspace.workspace_id, workspace.tenant_id
    ));
    let credential = fake.credential.clone();
    let access = SourceAccess {
        secrets: SecretResolver::local(),
        azure: Box::new(move |_| Ok(credential.clone() as Arc<dyn TokenSource>)),
        arm_url: Some(arm.url()),
    };
    let first = arm.add_incident(
        json!({"title": "Beaconing from ws1", "severity": "Medium", "status": "New"}),
    );
    let second = arm
        .add_incident(json!({"title": "Impossible travel", "severity": "High", "status": "New"}));
    let third =
        arm.add_incident(json!({"title": "Mass download", "severity": "Low", "status": "New"}));

    let context = catalogue.context(&f).await;
    let poller = poller(&catalogue, context.clone(), &access);
    assert_eq!(
        poller.round().await,
        Some(PollRound {
            new: 3,
            ..PollRound::default()
        })
    );
    let jobs = jobs_by_key(&context, TriggerKind::Event).await;
    let expected = |id: &str| format!("poll:probe:sentinel:{id}");
    let keys: Vec<&str> = jobs.iter().map(|(k, _)| k.as_str()).collect();
    let mut want = [expected(&first), expected(&second), expected(&third)];
    want.sort();
    assert_eq!(keys, want.iter().map(String::as_str).collect::<Vec<_>>());
    let beaconing = &jobs.iter().find(|(k, _)| *k == expected(&first)).unwrap().1;
    assert_eq!(beaconing["incident_id"], first.as_str());
    assert_eq!(beaconing["title"], "Beaconing from ws1");
    assert_eq!(beaconing["severity"], "Medium");
    // The filter carries the mark.
    let listed = arm
        .requests()
        .into_iter()
        .rfind(|r| r.method == "GET")
        .unwrap();
    assert!(
        listed
            .query_param("$filter")
            .is_some_and(|f| f.starts_with("properties/lastModifiedTimeUtc ge ")),
        "{listed:?}"
    );

    // The same incidents again, then after a restart: nothing new.
    let again = poller.round().await.unwrap();
    assert_eq!(again.new, 0);
    drop(poller);
    let restarted = self::poller(&catalogue, catalogue.context(&f).await, &access);
    assert_eq!(restarted.round().await.unwrap().new, 0);
    // An incident modified since is still the same incident.
    arm.touch_incident(&second);
    let fourth =
        arm.add_incident(json!({"title": "New admin", "severity": "High", "status": "New"}));
    let round = restarted.round().await.unwrap();
    assert_eq!((round.new, round.skipped), (1, 0), "{round:?}");
    assert!(round.seen >= 1);
    let jobs = jobs_by_key(&context, TriggerKind::Event).await;
    assert_eq!(jobs.len(), 4);
    assert!(jobs.iter().any(|(k, _)| *k == expected(&fourth)));
    assert!(context
        .store
        .trigger_mark("poll:probe:sentinel")
        .await
        .unwrap()
        .is_some());
}

/// An endpoint serving incidents in two pages behind a bearer token; `broken`
/// makes it answer 401.
struct Endpoint {
    server: FakeServer,
    broken: Arc<AtomicBool>,
}

async fn endpoint(throttle_first: u32) -> Endpoint {
    #[derive(Clone)]
    struct Shared {
        broken: Arc<AtomicBool>,
    }
    async fn incidents(
        State(shared): State<Shared>,
        headers: HeaderMap,
        Query(query): Query<Vec<(String, String)>>,
    ) -> Response {
        let authorized =
            headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer tok-123");
        if shared.broken.load(Ordering::SeqCst) || !authorized {
            return (StatusCode::UNAUTHORIZED, "no").into_response();
        }
        let page = query
            .iter()
            .find(|(k, _)| k == "page")
            .map(|(_, v)| v.as_str());
        let item = |id: u32, minute: u32| json!({"id": id, "title": format!("incident {id}"), "updated_at": format!("2026-11-28T10:{minute:02}:00Z"), "fields": {"severity": "High"}});
        Json(match page {
            None => json!({"data": {"items": [item(1, 5), item(2, 1)]}, "links": {"next": "/api/incidents?page=2"}}),
            _ => json!({"data": {"items": [item(3, 30), item(4, 0)]}, "links": {"next": null}}),
        })
        .into_response()
    }
    let broken = Arc::new(AtomicBool::new(false));
    let router = Router::new()
        .route("/api/incidents", get(incidents))
        .with_state(Shared {
            broken: broken.clone(),
        });
    let router = refuse_first(
        router,
        throttle_first,
        StatusCode::TOO_MANY_REQUESTS,
        Some("1"),
    );
    Endpoint {
        server: FakeServer::start(router).await,
        broken,
    }
}

fn http_settings(endpoint: &Endpoint) -> String {
    format!(
        "    poll:\n      source: http\n      url: {}\n      items: data.items\n      next: links.next\n      modified: updated_at\n      since_param: updated_after\n      lookback: 1000d\n      auth: {{header: Authorization, scheme: Bearer, secret: tok-123}}\n      parameters: {{incident_id: id, title: title, severity: fields.severity}}\n",
        endpoint.server.url("/api/incidents")
    )
}

async fn http_incidents_are_paged_and_throttling_is_honoured(f: Fixture) {
    let endpoint = endpoint(1).await;
    let catalogue = probe(&http_settings(&endpoint));
    let context = catalogue.context(&f).await;
    let poller = poller(&catalogue, context.clone(), &no_azure());
    assert_eq!(
        poller.round().await,
        Some(PollRound {
            new: 4,
            ..PollRound::default()
        })
    );
    let requests = endpoint.server.requests();
    assert_eq!(requests.len(), 3, "a 429, then two pages");
    assert!(
        requests[1].at - requests[0].at >= Duration::from_millis(950),
        "the second request waited for Retry-After"
    );
    assert!(requests[1].query_param("updated_after").is_some());
    assert_eq!(requests[2].query_param("page"), Some("2"));
    let jobs = jobs_by_key(&context, TriggerKind::Event).await;
    let keys: Vec<&str> = jobs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "poll:probe:http:1",
            "poll:probe:http:2",
            "poll:probe:http:3",
            "poll:probe:http:4"
        ]
    );
    assert_eq!(jobs[2].1["incident_id"], 3);
    assert_eq!(jobs[2].1["title"], "incident 3");
    assert_eq!(jobs[2].1["severity"], "High");
    // The mark is the newest modified time; the next poll asks from there.
    let mark = DateTime::parse_from_rfc3339("2026-11-28T10:30:00Z").unwrap();
    assert_eq!(
        context.store.trigger_mark("poll:probe:http").await.unwrap(),
        Some(mark.with_timezone(&Utc))
    );
    let again = self::poller(&catalogue, catalogue.context(&f).await, &no_azure());
    let before = endpoint.server.requests().len();
    assert_eq!(
        again.round().await,
        Some(PollRound {
            seen: 1,
            ..PollRound::default()
        })
    );
    let asked = &endpoint.server.requests()[before];
    assert_eq!(
        asked.query_param("updated_after"),
        Some("2026-11-28T10:30:00.000Z")
    );
    // The token never appears in what the test can see of the source.
    assert!(!format!("{:?}", again.poll).contains("tok-123"));
}

async fn a_failing_source_is_polled_again(f: Fixture) {
    let endpoint = endpoint(0).await;
    let catalogue = probe(
        &http_settings(&endpoint).replace("lookback: 1000d", "lookback: 1000d\n      every: 50ms"),
    );
    let context = catalogue.context(&f).await;
    let poller = poller(&catalogue, context.clone(), &no_azure());
    endpoint.broken.store(true, Ordering::SeqCst);
    assert_eq!(poller.round().await, None);
    assert_eq!(context.store.counts().await.unwrap().total(), 0);
    assert_eq!(
        context.store.trigger_mark("poll:probe:http").await.unwrap(),
        None
    );

    // Running: the loop survives the failures and picks the incidents up once the
    // source is back.
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(poller.run(shutdown));
    eventually("three polls", || endpoint.server.requests().len() >= 3).await;
    assert_eq!(context.store.counts().await.unwrap().total(), 0);
    endpoint.broken.store(false, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while context.store.counts().await.unwrap().total() < 4 && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(context.store.counts().await.unwrap().total(), 4);
}

#[tokio::test]
async fn the_auth_header_does_not_follow_a_redirect_to_another_server() {
    let f = Fixture::new(Kind::Sqlite).await;
    let elsewhere = FakeServer::start(
        Router::new().route("/collect", get(|| async { Json(json!([{"id": "x"}])) })),
    )
    .await;
    let target = elsewhere.url("/collect").to_string();
    let moved = FakeServer::start(Router::new().route(
        "/api/incidents",
        get(move || {
            let target = target.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [("location", target)]).into_response() }
        }),
    ))
    .await;
    let catalogue = probe(&format!(
        "    poll:\n      source: http\n      url: {}\n      auth: {{header: X-Api-Key, secret: tok-123}}\n",
        moved.url("/api/incidents")
    ));
    let context = catalogue.context(&f).await;
    let poller = poller(&catalogue, context.clone(), &no_azure());
    assert_eq!(poller.round().await, None);
    assert_eq!(moved.requests()[0].header("x-api-key"), Some("tok-123"));
    assert!(elsewhere.requests().is_empty());
    assert_eq!(context.store.counts().await.unwrap().total(), 0);
}
