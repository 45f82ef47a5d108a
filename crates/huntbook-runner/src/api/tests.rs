//! The API served on 127.0.0.1:0 over a real SQLite store in a temporary folder,
//! driven through reqwest like any client; every refusal is checked with its log line.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use huntbook_core::config::Config;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use super::*;
use crate::{Progress, Scope, State};

const SECRET: &str = "s3cr3t-value-of-the-vault";

struct Server {
    url: String,
    store: Arc<JobStore>,
    log: Arc<Mutex<Vec<String>>>,
    liveness: Arc<Liveness>,
    client: Client,
    _folder: tempfile::TempDir,
}

impl Server {
    async fn start(queue_capacity: u32) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let folder = tempfile::tempdir().unwrap();
        let notebook = json!({
            "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "cells": [{"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]},
                       "source": "ip_address = \"\"  # the address to look up\nlookback: int = 1\n",
                       "outputs": [], "execution_count": null}]
        });
        std::fs::write(folder.path().join("ip.ipynb"), notebook.to_string()).unwrap();
        let yaml = format!(
            "Service:\n  store: sqlite:jobs.db\n  queue_capacity: {queue_capacity}\n  workers: 1\n\
             Notebooks:\n  ip_context:\n    path: ip.ipynb\n    key_parameters: [ip_address]\n"
        );
        let file = folder.path().join("huntbook.yaml");
        std::fs::write(&file, &yaml).unwrap();
        let config = Config::from_yaml(&[(file.as_path(), yaml.as_str())]).unwrap();
        let service = ServiceConfig::from_config(&config).unwrap();
        let store = Arc::new(
            JobStore::open(&service.store, service.store_options())
                .await
                .unwrap(),
        );
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let liveness = Arc::new(Liveness::new(1));
        let state = ApiState::new(
            Arc::new(service),
            store.clone(),
            Arc::new(Scrubber::new([SECRET])),
            liveness.clone(),
        )
        .with_log(Arc::new(move |line| {
            sink.lock().unwrap().push(line.to_owned())
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
        Server {
            url,
            store,
            log,
            liveness,
            client: Client::new(),
            _folder: folder,
        }
    }

    async fn token(&self, scope: Scope) -> String {
        self.store.create_token("test", scope).await.unwrap().token
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.url));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path, token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    async fn cancel(&self, id: &dyn std::fmt::Display, token: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/runs/{id}/cancel");
        self.call(Method::POST, &path, Some(token), None).await
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// Exactly one log line since the last look, starting `start`; it.
    fn logged(&self, start: &str) -> String {
        let lines = self.take_log();
        assert_eq!(lines.len(), 1, "expected one log line, got {lines:?}");
        assert!(
            lines[0].starts_with(start),
            "{:?} does not start {start:?}",
            lines[0]
        );
        lines[0].clone()
    }
}

fn run_body(parameters: Value) -> Value {
    json!({"notebook": "ip_context", "parameters": parameters})
}

#[tokio::test]
async fn bad_tokens_get_401_and_low_scopes_403() {
    let s = Server::start(10).await;
    let reader = s.token(Scope::Read).await;
    let runner = s.token(Scope::Run).await;
    let body = run_body(json!({"ip_address": "1.2.3.4"}));

    let response = s
        .request(Method::GET, "/api/v1/runs", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    s.logged("GET /api/v1/runs 401 no token");

    let revoked = s.store.create_token("old", Scope::Admin).await.unwrap();
    s.store.revoke_token(revoked.info.id).await.unwrap();
    let unknown = format!("{}x", &runner[..runner.len() - 1]);
    for bad in [unknown.as_str(), revoked.token.as_str(), "not-a-token"] {
        let (status, answer) = s
            .call(Method::POST, "/api/v1/runs", Some(bad), Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        let line = s.logged("POST /api/v1/runs 401 the token is unknown or revoked");
        assert!(!line.contains(bad));
    }
    let response = s
        .request(Method::GET, "/api/v1/runs", None)
        .header("authorization", format!("Basic {runner}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(!s
        .logged("GET /api/v1/runs 401 the Authorization header")
        .contains(&runner));

    let (status, answer) = s
        .call(
            Method::POST,
            "/api/v1/runs",
            Some(&reader),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        answer["error"].as_str().unwrap().contains("scope 'run'"),
        "{answer}"
    );
    s.logged("POST /api/v1/runs 403 this needs a token with scope 'run'");
    let (status, _) = s.get("/api/v1/runs", &reader).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .call(Method::POST, "/api/v1/runs", Some(&runner), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(s.take_log().is_empty(), "successes are not logged");
}

#[tokio::test]
async fn runs_are_created_once_per_idempotency_key_and_at_their_time() {
    let s = Server::start(10).await;
    let token = s.token(Scope::Run).await;
    let body = json!({"notebook": "ip_context", "parameters": {"ip_address": "1.2.3.4", "lookback": 7},
                      "at": "2030-01-02T03:04Z", "priority": 42, "idempotency_key": "alert-7"});
    let (status, job) = s
        .call(Method::POST, "/api/v1/runs", Some(&token), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    assert_eq!(job["not_before"], "2030-01-02T03:04:00.000Z");
    assert_eq!(
        (job["priority"].as_i64(), job["state"].as_str()),
        (Some(42), Some("queued"))
    );
    assert_eq!(
        job["parameters"],
        json!({"ip_address": "1.2.3.4", "lookback": 7})
    );
    assert_eq!(job["trigger"], "on_demand");

    let again = s
        .request(Method::POST, "/api/v1/runs", Some(&token))
        .header("Idempotency-Key", "alert-7")
        .json(&run_body(json!({"ip_address": "5.6.7.8"})))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], job["id"]);
    assert_eq!(s.store.counts().await.unwrap().total(), 1);
}

#[tokio::test]
async fn refused_requests_say_why_and_are_logged_without_values() {
    let s = Server::start(2).await;
    let token = s.token(Scope::Run).await;
    let post = |body: Value| s.call(Method::POST, "/api/v1/runs", Some(&token), Some(body));

    let (status, answer) = post(json!({"notebook": "nope"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        answer["error"].as_str().unwrap().contains("ip_context"),
        "{answer}"
    );
    s.logged("POST /api/v1/runs 404 no notebook named \"nope\"");
    for traversal in [
        "../ip",
        "../../etc/passwd",
        "/etc/passwd",
        "ip_context/../ip_context",
    ] {
        let (status, _) = post(json!({"notebook": traversal})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{traversal}");
        s.logged("POST /api/v1/runs 404 no notebook named");
    }

    let (status, answer) = post(run_body(json!({"ip_adress": "1.2.3.4"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains("ip_adress") && error.contains("ip_address, lookback"),
        "{error}"
    );
    let line =
        s.logged("POST /api/v1/runs 400 notebook \"ip_context\" has no parameter named ip_adress");
    assert!(!line.contains("1.2.3.4"));

    let (status, _) = post(run_body(json!({"api_key": "abc"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!s
        .logged("POST /api/v1/runs 400 parameter \"api_key\" looks like a credential")
        .contains("abc"));
    let (status, answer) = post(run_body(json!({"ip_address": SECRET}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!answer.to_string().contains(SECRET));
    assert!(!s
        .logged("POST /api/v1/runs 400 the value of parameter")
        .contains(SECRET));

    let response = s
        .request(Method::POST, "/api/v1/runs", Some(&token))
        .body("{\"notebook\": \"ip_context\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    s.logged("POST /api/v1/runs 400 the body is not valid JSON (line 1, column 27)");
    let (status, _) = post(json!({"notebook": "ip_context", "parameters": "ip=1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.logged("POST /api/v1/runs 400 field 'parameters' must be an object, found a string");

    let huge =
        json!({"notebook": "ip_context", "parameters": {"ip_address": "x".repeat(MAX_BODY)}});
    let (status, _) = post(huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    s.logged("POST /api/v1/runs 413 the body is over the limit of 1024 KiB");

    for _ in 0..2 {
        assert_eq!(post(run_body(json!({}))).await.0, StatusCode::CREATED);
    }
    let full = s
        .request(Method::POST, "/api/v1/runs", Some(&token))
        .json(&run_body(json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(full.headers()["retry-after"], "5");
    s.logged("POST /api/v1/runs 429 the job queue is full (2 jobs queued)");

    let (status, _) = s.get("/api/v1/runs?status=lost", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.logged("GET /api/v1/runs 400 query parameter 'status': unknown state 'lost'");
    let (status, _) = s.get("/api/v1/runs?limit=5000", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.logged("GET /api/v1/runs 400 query parameter 'limit' must be a whole number from 1 to 1000");
    let (status, _) = s.get("/api/v1/nothing/here", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.logged("GET /api/v1/nothing/here 404 no such route");
}

#[tokio::test]
async fn a_burst_beyond_the_queue_is_accepted_or_refused_and_nothing_is_lost() {
    let s = Arc::new(Server::start(50).await);
    let token = Arc::new(s.token(Scope::Run).await);
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let (s, token) = (s.clone(), token.clone());
        burst.spawn(async move {
            let body = run_body(json!({"ip_address": format!("10.0.{}.{}", i / 256, i % 256)}));
            s.call(Method::POST, "/api/v1/runs", Some(&token), Some(body))
                .await
                .0
        });
    }
    let (mut created, mut refused) = (0, 0);
    while let Some(status) = burst.join_next().await {
        match status.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("answered {other}"),
        }
    }
    assert_eq!((created, created + refused), (50, 1000));
    assert_eq!(s.store.counts().await.unwrap().total(), created);
    let lines = s.take_log();
    assert_eq!(lines.len(), refused as usize);
    assert!(lines
        .iter()
        .all(|l| l.starts_with("POST /api/v1/runs 429 ")));
}

#[tokio::test]
async fn jobs_are_listed_shown_cancelled_and_their_log_read() {
    let s = Server::start(10).await;
    let token = s.token(Scope::Run).await;
    let mut ids = Vec::new();
    for ip in ["1.1.1.1", "2.2.2.2"] {
        let (_, job) = s
            .call(
                Method::POST,
                "/api/v1/runs",
                Some(&token),
                Some(run_body(json!({"ip_address": ip}))),
            )
            .await;
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    let claim = s.store.claim("w1").await.unwrap().unwrap();
    assert_eq!(claim.job.id.to_string(), ids[0]);
    s.store
        .append_log(
            claim.run.id,
            "looking up 1.1.1.1\n".into(),
            Some(Progress { cell: 2, total: 5 }),
        )
        .await
        .unwrap();

    let (_, listed) = s.get("/api/v1/runs", &token).await;
    let jobs = listed["jobs"].as_array().unwrap();
    assert_eq!(
        jobs.iter()
            .map(|j| j["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [&ids[1], &ids[0]]
    );
    assert_eq!(jobs[1]["runs"][0]["id"], claim.run.id.to_string());
    assert_eq!(jobs[0]["runs"], json!([]));
    assert_eq!(jobs[1]["started_at"], jobs[1]["runs"][0]["started_at"]);
    assert!(jobs[0]["started_at"].is_null());
    let (_, running) = s
        .get(
            "/api/v1/runs?status=running&notebook=ip_context&limit=5",
            &token,
        )
        .await;
    assert_eq!(running["jobs"].as_array().unwrap().len(), 1);

    let (_, job) = s.get(&format!("/api/v1/runs/{}", ids[0]), &token).await;
    assert_eq!(
        (job["job"]["id"].as_str(), job["runs"][0]["worker"].as_str()),
        (Some(ids[0].as_str()), Some("w1"))
    );
    assert_eq!(job["progress"], json!({"cell": 2, "total": 5}));
    let (_, run) = s
        .get(&format!("/api/v1/runs/{}", claim.run.id), &token)
        .await;
    assert_eq!(
        (run["run"]["kind"].as_str(), run["job"]["id"].as_str()),
        (Some("run"), Some(ids[0].as_str()))
    );
    assert_eq!(run["progress"]["cell"], 2);
    let (status, _) = s
        .get("/api/v1/runs/3f1e9c1e-0000-4000-8000-000000000000", &token)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.logged("GET /api/v1/runs/3f1e9c1e-0000-4000-8000-000000000000 404 no job or run with id");
    let (status, _) = s.get("/api/v1/runs/..%2F..%2Fetc", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.logged("GET /api/v1/runs/..%2F..%2Fetc 404 no job or run with id '../../etc'");

    for id in [&ids[0], &claim.run.id.to_string()] {
        let (_, log) = s.get(&format!("/api/v1/runs/{id}/log"), &token).await;
        assert_eq!(log["text"], "looking up 1.1.1.1\n");
        assert_eq!(
            (log["next"].as_u64(), log["finished"].as_bool()),
            (Some(19), Some(false))
        );
        assert_eq!(log["progress"], json!({"cell": 2, "total": 5}));
    }
    let (_, rest) = s
        .get(&format!("/api/v1/runs/{}/log?after=11", ids[0]), &token)
        .await;
    assert_eq!(rest["text"], "1.1.1.1\n");
    let (_, queued) = s.get(&format!("/api/v1/runs/{}/log", ids[1]), &token).await;
    assert_eq!(
        (queued["text"].as_str(), queued["run_id"].is_null()),
        (Some(""), true)
    );

    let (status, answer) = s.cancel(&ids[1], &token).await;
    assert_eq!(
        (status, answer["result"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (status, answer) = s.cancel(&claim.run.id, &token).await;
    assert_eq!(
        (status, answer["result"].as_str()),
        (StatusCode::ACCEPTED, Some("cancel_requested"))
    );
    assert!(
        s.store
            .heartbeat(claim.run.id)
            .await
            .unwrap()
            .cancel_requested
    );
    let (_, again) = s.cancel(&ids[1], &token).await;
    assert_eq!(again["result"], "already_finished");
    let (_, never_ran) = s.get(&format!("/api/v1/runs/{}/log", ids[1]), &token).await;
    assert_eq!(never_ran["state"], "cancelled");
    assert_eq!(never_ran["finished"], true);
    assert_eq!(
        s.store.job(ids[1].parse().unwrap()).await.unwrap().state,
        State::Cancelled
    );
}

#[tokio::test]
async fn notebooks_show_their_parameters() {
    let s = Server::start(10).await;
    let token = s.token(Scope::Read).await;
    let (_, listed) = s.get("/api/v1/notebooks", &token).await;
    let ip = &listed["notebooks"][0];
    assert_eq!(
        (ip["name"].as_str(), ip["key_parameters"].clone()),
        (Some("ip_context"), json!(["ip_address"]))
    );
    assert_eq!(
        ip["parameters"],
        json!([{"name": "ip_address", "type": "None", "default": "\"\"", "help": "the address to look up"},
               {"name": "lookback", "type": "int", "default": "1", "help": ""}])
    );
    let (status, one) = s.get("/api/v1/notebooks/ip_context", &token).await;
    assert_eq!((status, &one), (StatusCode::OK, ip));
    for traversal in ["..%2Fip", "..%2F..%2Fetc%2Fpasswd", "ip.ipynb"] {
        let (status, _) = s
            .get(&format!("/api/v1/notebooks/{traversal}"), &token)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{traversal}");
        s.logged(&format!(
            "GET /api/v1/notebooks/{traversal} 404 no notebook named"
        ));
    }
}

#[tokio::test]
async fn health_and_metrics() {
    let s = Server::start(10).await;
    let (status, health) = s.call(Method::GET, "/api/v1/health", None, None).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "no worker alive yet: {health}"
    );
    s.logged("GET /api/v1/health 503");
    let alive = s.liveness.alive();
    let token = s.token(Scope::Run).await;
    s.call(
        Method::POST,
        "/api/v1/runs",
        Some(&token),
        Some(run_body(json!({}))),
    )
    .await;
    let (status, health) = s.call(Method::GET, "/api/v1/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        health,
        json!({"status": "ok", "store": {"reachable": true}, "workers": {"configured": 1, "alive": 1}, "queue_depth": 1})
    );
    drop(alive);

    let claim = s.store.claim("w").await.unwrap().unwrap();
    s.store
        .finish(claim.run.id, crate::Outcome::Succeeded)
        .await
        .unwrap();
    let (status, _) = s.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.take_log();
    let text = s
        .request(Method::GET, "/metrics", Some(&token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "huntbook_jobs{state=\"succeeded\"} 1",
        "huntbook_jobs{state=\"queued\"} 0",
        "huntbook_queue_depth 0",
        "huntbook_workers{status=\"alive\"} 0",
        "huntbook_http_requests_total{route=\"/api/v1/runs\",method=\"POST\",status=\"201\"} 1",
        "huntbook_http_requests_total{route=\"/api/v1/health\",method=\"GET\",status=\"503\"} 1",
        "huntbook_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"401\"} 1",
        "huntbook_run_duration_seconds_bucket{state=\"succeeded\",le=\"+Inf\"} 1",
        "huntbook_run_duration_seconds_count{state=\"succeeded\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let s = Server::start(10).await;
    let (status, doc) = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = routes()
        .iter()
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(documented, served);
    // The dashboard's page comes from the same server, outside the API and its tokens.
    let page = s.request(Method::GET, "/", None).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // Each documented operation that needs a token says so, and the rest do not.
    for (method, path) in &documented {
        let op = &doc["paths"][path][method.to_lowercase()];
        let public = path.ends_with("/health") || path.ends_with("/openapi.json");
        assert_eq!(op["security"] == json!([]), public, "{method} {path}");
        // And the router agrees: a request without a token is refused, or not.
        let concrete = path
            .replace("{id}", "3f1e9c1e-0000-4000-8000-000000000000")
            .replace("{name}", "ip_context");
        let (status, _) = s
            .call(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &concrete,
                None,
                None,
            )
            .await;
        assert_eq!(
            status == StatusCode::UNAUTHORIZED,
            !public,
            "{method} {path}: {status}"
        );
    }
}
