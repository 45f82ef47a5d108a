//! The Microsoft Sentinel sink: a new incident per finding, or, in triage mode, the
//! triggering incident updated.
//!
//! A notebook in triage mode (`triage: true` in its catalogue entry) is run for an
//! incident, whose id comes as the job's `incident_id` parameter. Its finding then
//! sets that incident's severity to the finding's and adds a comment with the
//! description and the link to the report, instead of raising a second incident
//! about the same thing.
//!
//! Both use the finding's id as the id of what they write (the incident, the
//! comment): a delivery sent again after a crash between Sentinel's answer and the
//! store's record of it rewrites the same incident or comment instead of adding one.

use huntbook_sentinel::{IncidentProperties, SentinelClient};

use super::{IncidentSink, SinkError, SinkFuture};
use crate::findings::Finding;

/// Raises or updates Sentinel incidents through one workspace's client.
#[derive(Debug)]
pub struct SentinelSink {
    client: SentinelClient,
}

impl SentinelSink {
    pub fn new(client: SentinelClient) -> SentinelSink {
        SentinelSink { client }
    }
}

/// The text a finding adds to an incident: its description, the report and any
/// notes on its scraps.
fn summary(finding: &Finding) -> String {
    let mut text = format!(
        "huntbook notebook {} found: {}",
        finding.notebook, finding.description
    );
    if let Some(report) = finding.outputs.report() {
        text.push_str(&format!("\nReport: {report}"));
    }
    for warning in &finding.warnings {
        text.push_str(&format!("\nNote: {warning}"));
    }
    text
}

impl IncidentSink for SentinelSink {
    fn name(&self) -> &str {
        "sentinel"
    }

    fn deliver<'a>(&'a self, finding: &'a Finding) -> SinkFuture<'a> {
        let failed = |e: huntbook_sentinel::SentinelError| SinkError::failed("sentinel", e);
        Box::pin(async move {
            match &finding.triage_incident {
                Some(id) => {
                    let severity = finding.severity;
                    self.client
                        .update_incident(id, |p| p.severity = severity)
                        .await
                        .map_err(failed)?;
                    self.client
                        .put_comment(id, &finding.id.to_string(), &summary(finding))
                        .await
                        .map_err(failed)?;
                    Ok(format!("sentinel incident {id} updated to {severity}"))
                }
                None => {
                    let mut properties = IncidentProperties::new(finding.title(), finding.severity)
                        .with_labels(["huntbook", finding.notebook.as_str()]);
                    properties.description = Some(summary(finding));
                    let incident = self
                        .client
                        .put_incident(&finding.id.to_string(), &properties)
                        .await
                        .map_err(failed)?;
                    let number = incident
                        .properties
                        .incident_number
                        .map_or_else(String::new, |n| format!(" (number {n})"));
                    Ok(format!("sentinel incident {}{number}", incident.name))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use huntbook_sentinel::testkit::SignedIn;
    use huntbook_sentinel::{IncidentQuery, Severity};
    use serde_json::json;

    use super::*;
    use crate::findings::RunOutputs;

    fn finding(triage_incident: Option<String>) -> Finding {
        Finding {
            id: uuid::Uuid::new_v4(),
            run_id: uuid::Uuid::new_v4(),
            job_id: uuid::Uuid::new_v4(),
            notebook: "alert_triage".into(),
            description: "host ws1 beacons to 203.0.113.9".into(),
            severity: Severity::High,
            entities: json!([]),
            warnings: Vec::new(),
            triage_incident,
            outputs: RunOutputs {
                notebook: Some("file:///out/run.ipynb".into()),
                html: Some("file:///out/run.html".into()),
            },
            created_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn a_finding_raises_a_sentinel_incident() {
        let fake = SignedIn::start().await;
        let client = fake.client();
        let sink = SentinelSink::new(client);
        let found = finding(None);
        let receipt = sink.deliver(&found).await.unwrap();
        // Delivered again (the store never recorded the first answer): the same
        // incident, not a second one.
        assert_eq!(sink.deliver(&found).await.unwrap(), receipt);
        assert!(receipt.starts_with("sentinel incident "), "{receipt}");
        let incidents = sink
            .client
            .list_incidents(&IncidentQuery::default())
            .await
            .unwrap();
        assert_eq!(incidents.len(), 1);
        let p = &incidents[0].properties;
        assert_eq!(p.title, "alert_triage: host ws1 beacons to 203.0.113.9");
        assert_eq!(p.severity, Severity::High);
        assert!(p.description.as_deref().unwrap().contains("run.html"));
    }

    #[tokio::test]
    async fn triage_updates_the_triggering_incident_and_comments_with_the_report() {
        let fake = SignedIn::start().await;
        let (arm, client) = (&fake.arm, fake.client());
        let id = arm.add_incident(json!({"title": "Suspicious beacon", "severity": "Low",
                                         "status": "New"}));
        let sink = SentinelSink::new(client);
        let found = finding(Some(id.clone()));
        sink.deliver(&found).await.unwrap();
        sink.deliver(&found).await.unwrap();
        let incident = sink.client.get_incident(&id).await.unwrap();
        assert_eq!(incident.properties.severity, Severity::High);
        assert_eq!(incident.properties.title, "Suspicious beacon");
        let comments = sink.client.list_comments(&id).await.unwrap();
        assert_eq!(comments.len(), 1);
        assert!(comments[0]
            .properties
            .message
            .contains("Report: file:///out/run.html"));
        let all = sink
            .client
            .list_incidents(&IncidentQuery::default())
            .await
            .unwrap();
        assert_eq!(all.len(), 1, "no second incident in triage mode");
    }

    #[tokio::test]
    async fn an_unknown_triage_incident_is_an_error_naming_it() {
        let fake = SignedIn::start().await;
        let client = fake.client();
        let sink = SentinelSink::new(client);
        let missing = uuid::Uuid::new_v4().to_string();
        let error = sink
            .deliver(&finding(Some(missing.clone())))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("sentinel: ") && error.contains(&missing),
            "{error}"
        );
    }
}
