//! Findings: what a run reports through its scraps, and the incidents raised from it.
//!
//! A notebook reports a finding by gluing a truthy `finding` scrap (Python's idea of
//! truth: `True`, a non-zero number, a non-empty text, list or mapping). Three more
//! scraps complete it: `finding_desc` (what was found), `severity` (mapped to the
//! incident scale by [`severity::incident_severity`]) and `entities` (Sentinel entity
//! JSON, read with huntbook-core's entity model). [`read_finding`] turns a run's
//! output notebook into a [`NewFinding`]; the store keeps it as a [`Finding`] linked
//! to its run and outputs, and [`sinks`] raise an incident from it in every
//! configured sink, durably.
//!
//! ```
//! use huntbook_notebook::scraps::scrap_output;
//! use huntbook_notebook::{Cell, Notebook};
//! use huntbook_runner::findings::read_finding;
//! use huntbook_sentinel::Severity;
//! use serde_json::json;
//!
//! let mut cell = Cell::code("glue(...)");
//! for (name, value) in [("finding", json!(true)), ("finding_desc", json!("beaconing")),
//!                       ("severity", json!("warning"))] {
//!     cell.outputs.push(scrap_output(name, value, "json").unwrap());
//! }
//! let mut nb = Notebook::new();
//! nb.cells.push(cell);
//! let finding = read_finding(&nb).unwrap();
//! assert_eq!((finding.description.as_str(), finding.severity), ("beaconing", Severity::Medium));
//! ```

pub mod severity;
pub mod sinks;

use chrono::{DateTime, Utc};
use huntbook_core::entities::EntityGraph;
use huntbook_notebook::scraps::{read_scraps, truthy};
use huntbook_notebook::Notebook;
use huntbook_sentinel::Severity;
use serde_json::{json, Value};
use uuid::Uuid;

/// Where a run's outputs were stored (the storage's own URLs or paths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutputs {
    /// The output notebook.
    pub notebook: Option<String>,
    /// Its HTML copy, when one was made.
    pub html: Option<String>,
}

impl RunOutputs {
    /// The link to give a reader: the HTML copy, else the notebook.
    pub fn report(&self) -> Option<&str> {
        self.html.as_deref().or(self.notebook.as_deref())
    }
}

/// A finding read from a run, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    /// What was found (`finding_desc`).
    pub description: String,
    /// On the incident scale.
    pub severity: Severity,
    /// The `entities` scrap as a JSON array (empty when absent or unreadable).
    pub entities: Value,
    /// What was wrong with the scraps (an unknown severity, unreadable entities):
    /// the finding is kept, and these say what to fix in the notebook.
    pub warnings: Vec<String>,
}

/// A stored finding, linked to its run and outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: Uuid,
    pub run_id: Uuid,
    pub job_id: Uuid,
    pub notebook: String,
    pub description: String,
    pub severity: Severity,
    pub entities: Value,
    pub warnings: Vec<String>,
    /// In triage mode, the incident whose run found this: sinks update it rather
    /// than raise a new one.
    pub triage_incident: Option<String>,
    pub outputs: RunOutputs,
    pub created_at: DateTime<Utc>,
}

impl Finding {
    /// The title of the incident raised from it.
    pub fn title(&self) -> String {
        format!("{}: {}", self.notebook, self.description)
    }

    /// The finding as sinks send it (webhook bodies, the API).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "run_id": self.run_id.to_string(),
            "job_id": self.job_id.to_string(),
            "notebook": self.notebook,
            "title": self.title(),
            "description": self.description,
            "severity": self.severity.as_str(),
            "entities": self.entities,
            "warnings": self.warnings,
            "triage_incident": self.triage_incident,
            "outputs": {"notebook": self.outputs.notebook, "html": self.outputs.html},
            "created_at": self.created_at.to_rfc3339(),
        })
    }
}

/// Which findings to list (newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingFilter {
    /// Only those of this run.
    pub run: Option<Uuid>,
    /// Only those of this notebook.
    pub notebook: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// The finding a run's output notebook reports, if its `finding` scrap is truthy.
pub fn read_finding(nb: &Notebook) -> Option<NewFinding> {
    let scraps = read_scraps(nb);
    let data = |name: &str| scraps.get(name).and_then(|s| s.data.clone());
    if !data("finding").as_ref().is_some_and(truthy) {
        return None;
    }
    let mut warnings = Vec::new();
    let description = match data("finding_desc") {
        Some(Value::String(text)) if !text.trim().is_empty() => text.trim().to_owned(),
        Some(Value::Null) | None => "finding reported with no finding_desc".to_owned(),
        Some(other) => other.to_string(),
    };
    let severity = match data("severity") {
        None | Some(Value::Null) => Severity::Medium,
        Some(value) => {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            severity::incident_severity(&text).unwrap_or_else(|| {
                warnings.push(format!(
                    "severity scrap {text:?} is not a known severity ({}): Medium used",
                    severity::KNOWN
                ));
                Severity::Medium
            })
        }
    };
    let entities = match data("entities") {
        None | Some(Value::Null) => json!([]),
        Some(value) => match read_entities(value) {
            Ok(entities) => entities,
            Err(reason) => {
                warnings.push(format!(
                    "entities scrap is not Sentinel entity JSON ({reason}): glue a list of \
                     entity objects, each with a Type"
                ));
                json!([])
            }
        },
    };
    Some(NewFinding {
        description,
        severity,
        entities,
        warnings,
    })
}

/// The entities scrap as an array checked by the entity model: a list, one entity
/// object, or either as JSON text.
fn read_entities(value: Value) -> Result<Value, String> {
    let value = match value {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| e.to_string())?,
        other => other,
    };
    let array = match value {
        Value::Object(_) => Value::Array(vec![value]),
        other => other,
    };
    EntityGraph::from_value(array.clone()).map_err(|e| e.to_string())?;
    Ok(array)
}

#[cfg(test)]
mod tests {
    use huntbook_notebook::scraps::scrap_output;
    use huntbook_notebook::Cell;

    use super::*;

    fn notebook(scraps: &[(&str, Value)]) -> Notebook {
        let mut cell = Cell::code("glue");
        for (name, value) in scraps {
            cell.outputs
                .push(scrap_output(name, value.clone(), "json").unwrap());
        }
        let mut nb = Notebook::new();
        nb.cells.push(cell);
        nb
    }

    #[test]
    fn a_finding_exists_only_when_the_scrap_is_truthy() {
        for falsy in [json!(false), json!(0), json!(""), json!([]), json!({})] {
            assert_eq!(read_finding(&notebook(&[("finding", falsy)])), None);
        }
        assert_eq!(read_finding(&notebook(&[("other", json!(true))])), None);
        for truthy in [json!(true), json!(2), json!("yes"), json!(["x"])] {
            assert!(read_finding(&notebook(&[("finding", truthy)])).is_some());
        }
    }

    #[test]
    fn description_severity_and_entities_complete_it() {
        let entities = json!([{"Type": "ip", "Address": "10.0.0.5"},
                              {"Type": "host", "HostName": "ws1"}]);
        let nb = notebook(&[
            ("finding", json!(true)),
            ("finding_desc", json!("  beaconing to 10.0.0.5 ")),
            ("severity", json!("HIGH")),
            ("entities", entities.clone()),
        ]);
        let finding = read_finding(&nb).unwrap();
        assert_eq!(finding.description, "beaconing to 10.0.0.5");
        assert_eq!(finding.severity, Severity::High);
        assert_eq!(finding.entities, entities);
        assert!(finding.warnings.is_empty());
    }

    #[test]
    fn one_entity_or_json_text_is_read_as_a_list() {
        let one = json!({"Type": "account", "Name": "alice"});
        for scrap in [one.clone(), json!(one.to_string())] {
            let nb = notebook(&[("finding", json!(1)), ("entities", scrap)]);
            assert_eq!(read_finding(&nb).unwrap().entities, json!([one]));
        }
    }

    #[test]
    fn bad_scraps_keep_the_finding_and_say_what_to_fix() {
        let nb = notebook(&[
            ("finding", json!(true)),
            ("severity", json!("apocalyptic")),
            ("entities", json!(42)),
        ]);
        let finding = read_finding(&nb).unwrap();
        assert_eq!(finding.severity, Severity::Medium);
        assert_eq!(finding.entities, json!([]));
        assert_eq!(finding.description, "finding reported with no finding_desc");
        assert_eq!(finding.warnings.len(), 2, "{:?}", finding.warnings);
        assert!(finding.warnings[0].contains("apocalyptic"));
        assert!(finding.warnings[1].contains("entities"));
    }
}
