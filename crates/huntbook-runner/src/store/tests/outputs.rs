//! Run outputs, findings, the local incident store and deliveries, on both stores.

use std::time::Duration;

use serde_json::json;

use super::{Fixture, Kind};
use crate::findings::sinks::DeliveryState;
use crate::findings::{FindingFilter, NewFinding, RunOutputs};
use crate::*;

on_both_stores!(
    outputs_are_recorded_on_the_run,
    findings_are_stored_linked_and_listed,
    a_finding_raises_one_local_incident,
    deliveries_retry_with_backoff_then_become_dead_letters,
);

/// A store and the id of a claimed run of `notebook`.
async fn claimed(fixture: &Fixture, notebook: &str) -> (JobStore, uuid::Uuid) {
    let store = fixture.open(|_| {}).await;
    store
        .enqueue(NewJob::new(notebook, TriggerKind::Event))
        .await
        .unwrap();
    let claim = store.claim("w").await.unwrap().unwrap();
    (store, claim.run.id)
}

fn new_finding(description: &str) -> NewFinding {
    NewFinding {
        description: description.into(),
        severity: huntbook_sentinel::Severity::Low,
        entities: json!([{"Type": "ip", "Address": "10.1.2.3"}]),
        warnings: vec!["a note".into()],
    }
}

async fn outputs_are_recorded_on_the_run(fixture: Fixture) {
    let (store, run) = claimed(&fixture, "nb").await;
    assert_eq!(store.run_outputs(run).await.unwrap(), RunOutputs::default());
    let outputs = RunOutputs {
        notebook: Some("/out/a.ipynb".into()),
        html: Some("/out/a.html".into()),
    };
    store.record_outputs(run, outputs.clone()).await.unwrap();
    assert_eq!(store.run_outputs(run).await.unwrap(), outputs);
    let missing = uuid::Uuid::new_v4();
    assert!(matches!(
        store.record_outputs(missing, outputs).await,
        Err(StoreError::RunNotFound(id)) if id == missing
    ));
}

async fn findings_are_stored_linked_and_listed(fixture: Fixture) {
    let (store, run) = claimed(&fixture, "nb").await;
    let outputs = RunOutputs {
        notebook: Some("s3://b/a.ipynb".into()),
        html: None,
    };
    store.record_outputs(run, outputs.clone()).await.unwrap();
    let first = store
        .add_finding(run, new_finding("first"), Some("inc-1".into()))
        .await
        .unwrap();
    fixture.advance(1);
    let second = store
        .add_finding(run, new_finding("second"), None)
        .await
        .unwrap();
    assert_eq!(first.notebook, "nb");
    assert_eq!(first.outputs, outputs);
    assert_eq!(first.triage_incident.as_deref(), Some("inc-1"));
    assert_eq!(first.warnings, ["a note"]);
    assert_eq!(first.entities[0]["Address"], "10.1.2.3");
    assert_eq!(store.finding(first.id).await.unwrap(), first);

    let all = store.findings(FindingFilter::default()).await.unwrap();
    assert_eq!(all, [second.clone(), first.clone()], "newest first");
    let of_run = FindingFilter {
        run: Some(run),
        limit: Some(1),
        ..FindingFilter::default()
    };
    assert_eq!(store.findings(of_run).await.unwrap(), [second]);
    let other = FindingFilter {
        notebook: Some("other".into()),
        ..FindingFilter::default()
    };
    assert!(store.findings(other).await.unwrap().is_empty());
    assert!(store
        .add_finding(uuid::Uuid::new_v4(), new_finding("x"), None)
        .await
        .is_err());
}

async fn a_finding_raises_one_local_incident(fixture: Fixture) {
    let (store, run) = claimed(&fixture, "nb").await;
    let finding = store
        .add_finding(run, new_finding("beacon"), None)
        .await
        .unwrap();
    let incident = store.raise_incident(finding.id).await.unwrap();
    assert_eq!(incident.title, "nb: beacon");
    assert_eq!(incident.severity, huntbook_sentinel::Severity::Low);
    assert_eq!(incident.status, huntbook_sentinel::Status::New);
    assert_eq!(incident.entities, finding.entities);
    // A retried delivery gets the same incident back.
    assert_eq!(store.raise_incident(finding.id).await.unwrap(), incident);
    let other = store
        .add_finding(run, new_finding("other"), None)
        .await
        .unwrap();
    let next = store.raise_incident(other.id).await.unwrap();
    assert_eq!(next.number, incident.number + 1);
    assert_eq!(
        store.incidents(None).await.unwrap(),
        [next, incident.clone()]
    );
    assert_eq!(store.incident(incident.number).await.unwrap(), incident);
    assert!(matches!(
        store.incident(999).await,
        Err(StoreError::NotFound {
            what: "incident",
            ..
        })
    ));
}

async fn deliveries_retry_with_backoff_then_become_dead_letters(fixture: Fixture) {
    let (store, run) = claimed(&fixture, "nb").await;
    let finding = store
        .add_finding(run, new_finding("x"), None)
        .await
        .unwrap();
    let added = store
        .add_deliveries(finding.id, vec!["local".into(), "webhook".into()])
        .await
        .unwrap();
    assert_eq!(added.len(), 2);
    let lease = Duration::from_secs(60);
    let backoff = Backoff {
        initial: Duration::from_secs(10),
        max: Duration::from_secs(100),
    };
    let claimed = store.claim_deliveries(lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|d| d.attempts == 1));
    // Held by the claim: nobody else takes them.
    assert!(store.claim_deliveries(lease, 10).await.unwrap().is_empty());
    let (local, hook) = (&claimed[0], &claimed[1]);
    let done = store
        .delivered(local.id, "local incident 1".into())
        .await
        .unwrap();
    assert_eq!(done.state, DeliveryState::Delivered);
    assert_eq!(done.receipt.as_deref(), Some("local incident 1"));

    let failed = store
        .delivery_failed(hook.id, "HTTP 500".into(), 2, backoff)
        .await
        .unwrap();
    assert_eq!(failed.state, DeliveryState::Pending);
    fixture.advance(9);
    assert!(
        store.claim_deliveries(lease, 10).await.unwrap().is_empty(),
        "backing off"
    );
    fixture.advance(1);
    let again = store.claim_deliveries(lease, 10).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 2));
    let dead = store
        .delivery_failed(hook.id, "HTTP 502".into(), 2, backoff)
        .await
        .unwrap();
    assert_eq!(dead.state, DeliveryState::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("HTTP 502"));
    assert_eq!(store.dead_letters().await.unwrap(), [dead]);
    fixture.advance(1000);
    assert!(store.claim_deliveries(lease, 10).await.unwrap().is_empty());

    assert!(matches!(
        store.redeliver(local.id).await,
        Err(StoreError::NotADeadLetter {
            state: "delivered",
            ..
        })
    ));
    let revived = store.redeliver(hook.id).await.unwrap();
    assert_eq!(
        (revived.state, revived.attempts),
        (DeliveryState::Pending, 0)
    );
    assert_eq!(store.claim_deliveries(lease, 10).await.unwrap().len(), 1);
    assert!(store.dead_letters().await.unwrap().is_empty());
    assert_eq!(store.deliveries(None, None).await.unwrap().len(), 2);
}
