//! End to end on a real ipykernel: a worker runs a notebook that glues a finding,
//! and its after-run step stores the output under the naming scheme with its HTML
//! copy, stores the finding, raises a local incident and delivers the signed
//! webhook; or, when the webhook keeps failing, leaves a dead letter.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use huntbook_http::Secret;
use serde_json::json;

use super::{HtmlMode, NotebookOutputs, OutputSettings, Publisher};
use crate::findings::sinks::local::LocalSink;
use crate::findings::sinks::webhook::tests::{receiver, SECRET};
use crate::findings::sinks::webhook::WebhookSink;
use crate::findings::sinks::{DeliveryPolicy, DeliveryState, Dispatcher, IncidentSink};
use crate::findings::FindingFilter;
use crate::worker::tests::{notebook, python};
use crate::*;

const GLUE: &str = "\
from IPython.display import display
def glue(name, data):
    display({'application/scrapbook.scrap.json+json':
             {'name': name, 'data': data, 'encoder': 'json', 'version': 1}},
            raw=True, metadata={'scrapbook': {'name': name, 'data': True, 'display': False}})
found = ip.startswith('10.')
glue('finding', found)
glue('finding_desc', 'beaconing from ' + ip)
glue('severity', 'warning')
glue('entities', [{'Type': 'ip', 'Address': ip}])";

struct Service {
    folder: tempfile::TempDir,
    store: Arc<JobStore>,
    worker: Worker,
}

/// The local sink and a webhook sink posting to `hook`.
fn local_and_webhook(hook: reqwest::Url) -> impl FnOnce(&Arc<JobStore>) -> Sinks {
    move |store| {
        vec![
            Arc::new(LocalSink::new(store.clone())),
            Arc::new(WebhookSink::new(hook, Secret::new(SECRET)).unwrap()),
        ]
    }
}

type Sinks = Vec<Arc<dyn IncidentSink>>;

/// A worker with the after-run step: outputs in `outputs/`, the `hunt` notebook
/// keyed by `ip` (a triage notebook when `triage`), the `sinks` (two attempts, no
/// wait between).
async fn service(
    sinks: impl FnOnce(&Arc<JobStore>) -> Sinks,
    report: bool,
    triage: bool,
) -> Service {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let hunt = notebook(dir, "hunt", "ip = '1.1.1.1'\nincident_id = ''", &[GLUE]);
    let store = Arc::new(
        JobStore::open(
            &StoreLocation::Sqlite(dir.join("jobs.db")),
            StoreOptions::default(),
        )
        .await
        .unwrap(),
    );
    let mut settings = OutputSettings::in_folder(dir.join("outputs"));
    settings.report = report;
    settings.notebooks.insert(
        "hunt".into(),
        NotebookOutputs {
            key_parameters: vec!["ip".into()],
            triage,
            ..NotebookOutputs::default()
        },
    );
    assert_eq!(settings.html, HtmlMode::Findings);
    let sinks = sinks(&store);
    let policy = DeliveryPolicy {
        max_attempts: 2,
        backoff: Backoff {
            initial: Duration::ZERO,
            max: Duration::ZERO,
        },
        ..DeliveryPolicy::default()
    };
    let dispatcher = Dispatcher::new(store.clone(), sinks, policy);
    let publisher = Publisher::new(store.clone(), settings, dispatcher).unwrap();
    let mut options = WorkerOptions::new(
        "w1",
        BTreeMap::from([("hunt".to_owned(), hunt)]),
        dir.join("tmp"),
    );
    options.python = Some(python());
    options.after_run = Some(Arc::new(publisher));
    let worker = Worker::new(store.clone(), options);
    Service {
        folder,
        store,
        worker,
    }
}

async fn run(s: &Service, parameters: serde_json::Value) -> Settled {
    let mut new = NewJob::new("hunt", TriggerKind::Event);
    new.parameters = parameters.as_object().unwrap().clone();
    s.store.enqueue(new).await.unwrap();
    let settled = s.worker.run_one().await.unwrap().unwrap();
    assert_eq!(settled.run.state, State::Succeeded, "{settled:?}");
    settled
}

#[tokio::test]
async fn a_glued_finding_is_stored_raised_locally_and_delivered_by_webhook() {
    let (hook, accepted) = receiver(StatusCode::OK).await;
    let s = service(local_and_webhook(hook), false, false).await;
    let settled = run(&s, json!({"ip": "10.0.0.5"})).await;
    let run_id = settled.run.id;

    let outputs = s.store.run_outputs(run_id).await.unwrap();
    let stored = outputs.notebook.clone().unwrap();
    let started = settled.run.started_at;
    let expected = format!(
        "{}/{}_10.0.0.5_{run_id}_{}.ipynb",
        started.format("%Y/%m/%d"),
        "hunt",
        started.format("%Y-%m-%d")
    );
    let root = s.folder.path().join("outputs").canonicalize().unwrap();
    assert_eq!(stored, root.join(&expected).display().to_string());
    let text = std::fs::read_to_string(&stored).unwrap();
    assert!(text.contains("beaconing from 10.0.0.5"));
    let html = outputs
        .html
        .clone()
        .expect("a run with a finding gets an HTML copy");
    assert!(html.ends_with(".html"));
    assert!(std::fs::read_to_string(&html).unwrap().contains("<html"));
    // The engine's temporary copy is gone once stored.
    let temporary = s
        .folder
        .path()
        .join("tmp/hunt")
        .join(format!("{run_id}.ipynb"));
    assert!(!temporary.exists());

    let findings = s.store.findings(FindingFilter::default()).await.unwrap();
    assert_eq!(findings.len(), 1);
    let finding = &findings[0];
    assert_eq!(
        (
            finding.run_id,
            finding.description.as_str(),
            finding.severity
        ),
        (
            run_id,
            "beaconing from 10.0.0.5",
            huntbook_sentinel::Severity::Medium
        )
    );
    assert_eq!(
        finding.entities,
        json!([{"Type": "ip", "Address": "10.0.0.5"}])
    );
    assert_eq!(finding.outputs, outputs);

    let incidents = s.store.incidents(None).await.unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].finding_id, finding.id);
    assert_eq!(incidents[0].title, "hunt: beaconing from 10.0.0.5");

    let bodies = accepted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "the receiver verified one signed body");
    assert_eq!(bodies[0]["id"], finding.id.to_string());
    assert_eq!(bodies[0]["outputs"]["html"], json!(html));
    let deliveries = s.store.deliveries(None, None).await.unwrap();
    assert!(deliveries
        .iter()
        .all(|d| d.state == DeliveryState::Delivered));
    assert_eq!(deliveries.len(), 2);
}

#[tokio::test]
async fn a_failing_webhook_ends_on_the_dead_letter_list() {
    let (hook, accepted) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let s = service(local_and_webhook(hook), true, false).await;
    run(&s, json!({"ip": "10.9.9.9"})).await;
    let dead = s.store.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!((dead[0].sink.as_str(), dead[0].attempts), ("webhook", 2));
    let error = dead[0].last_error.as_deref().unwrap();
    assert!(error.contains("500") && !error.contains(SECRET), "{error}");
    // The receiver saw both attempts, and the local incident was still raised.
    assert_eq!(accepted.lock().unwrap().len(), 2);
    assert_eq!(s.store.incidents(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_run_without_a_finding_gets_no_html_and_report_mode_hides_inputs() {
    let (hook, accepted) = receiver(StatusCode::OK).await;
    let s = service(local_and_webhook(hook), true, false).await;
    let settled = run(&s, json!({"ip": "192.0.2.1"})).await;
    let outputs = s.store.run_outputs(settled.run.id).await.unwrap();
    assert_eq!(outputs.html, None);
    let nb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outputs.notebook.unwrap()).unwrap()).unwrap();
    let cells = nb["cells"].as_array().unwrap();
    assert!(cells
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .all(|c| c["metadata"]["jupyter"]["source_hidden"] == json!(true)));
    assert!(s
        .store
        .findings(FindingFilter::default())
        .await
        .unwrap()
        .is_empty());
    assert!(accepted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_triage_run_updates_the_sentinel_incident_that_triggered_it() {
    use huntbook_sentinel::testkit::SignedIn;
    use huntbook_sentinel::{IncidentQuery, Severity};

    use crate::findings::sinks::sentinel::SentinelSink;

    let fake = SignedIn::start().await;
    let (arm, sentinel) = (&fake.arm, fake.client());
    let id = arm.add_incident(json!({"title": "Beacon alert", "severity": "Low", "status": "New"}));
    let s = service(
        |_| vec![Arc::new(SentinelSink::new(fake.client())) as Arc<dyn IncidentSink>],
        false,
        true,
    )
    .await;
    let settled = run(&s, json!({"ip": "10.0.0.7", "incident_id": id})).await;

    let incident = sentinel.get_incident(&id).await.unwrap();
    assert_eq!(incident.properties.severity, Severity::Medium);
    let comments = sentinel.list_comments(&id).await.unwrap();
    assert_eq!(comments.len(), 1);
    let html = s
        .store
        .run_outputs(settled.run.id)
        .await
        .unwrap()
        .html
        .unwrap();
    let message = &comments[0].properties.message;
    assert!(message.contains("beaconing from 10.0.0.7"), "{message}");
    assert!(message.contains(&format!("Report: {html}")), "{message}");
    let all = sentinel
        .list_incidents(&IncidentQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "triage updates; it raises no new incident");
    let finding = &s.store.findings(FindingFilter::default()).await.unwrap()[0];
    assert_eq!(finding.triage_incident.as_deref(), Some(id.as_str()));
}
