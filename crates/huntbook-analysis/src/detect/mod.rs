//! Detections of classic attacks, each returning its evidence rows and a severity.
//!
//! - [`brute_force`]: bursts of failed logons from one source (brute force on one
//!   account, password spraying over many), worse when a success follows;
//! - [`impossible_travel`]: consecutive sign-ins of one user too far apart for the
//!   time between them;
//! - [`beaconing`]: regular calls from one source to one destination, found by
//!   [polling detection](crate::polling).
//!
//! A detection returns [`Finding`]s; [`evidence`] turns them into a table of the
//! input rows behind each finding with `FindingId, Detection, Severity, Reason`
//! columns added, the shape analysts triage from and incidents are raised from.

mod beacon;
mod logons;
mod travel;

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema};

use crate::AnalysisError;

pub use beacon::{beaconing, BeaconingOptions};
pub use logons::{brute_force, BruteForceOptions};
pub use travel::{impossible_travel, ImpossibleTravelOptions};

/// How bad a finding is, on Microsoft Sentinel's incident scale so that a finding
/// can become an incident as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
        }
    }
}

/// One thing a detection found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// What was found, e.g. `password spray`.
    pub detection: &'static str,
    pub severity: Severity,
    /// One line for the analyst: who, where, how many, how fast.
    pub reason: String,
    /// The input rows behind the finding, in time order.
    pub rows: Vec<usize>,
}

/// The columns [`evidence`] adds, in order.
pub const EVIDENCE_COLUMNS: [&str; 4] = ["FindingId", "Detection", "Severity", "Reason"];

/// The input rows behind each finding (a row twice if two findings share it), with
/// the finding's number (from 0, in the order given), detection, severity and reason.
pub fn evidence(batch: &RecordBatch, findings: &[Finding]) -> Result<RecordBatch, AnalysisError> {
    for name in EVIDENCE_COLUMNS {
        if batch.column_by_name(name).is_some() {
            return Err(AnalysisError::Invalid(format!(
                "the table already has a '{name}' column, which the evidence adds; rename or drop it first"
            )));
        }
    }
    let (mut rows, mut ids) = (Vec::new(), Vec::new());
    let (mut detection, mut severity, mut reason) = (Vec::new(), Vec::new(), Vec::new());
    for (id, f) in findings.iter().enumerate() {
        for &row in &f.rows {
            rows.push(row as u32);
            ids.push(id as u32);
            detection.push(f.detection);
            severity.push(f.severity.as_str());
            reason.push(f.reason.as_str());
        }
    }
    let taken = arrow_select::take::take_record_batch(batch, &UInt32Array::from(rows))
        .map_err(|e| AnalysisError::Invalid(format!("cannot take the evidence rows: {e}")))?;
    let mut fields: Vec<Field> = taken
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns = taken.columns().to_vec();
    fields.push(Field::new("FindingId", DataType::UInt32, false));
    columns.push(Arc::new(UInt32Array::from(ids)));
    for (name, values) in [
        ("Detection", detection),
        ("Severity", severity),
        ("Reason", reason),
    ] {
        fields.push(Field::new(name, DataType::Utf8, false));
        columns.push(Arc::new(StringArray::from(values)) as ArrayRef);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| AnalysisError::Invalid(format!("cannot build the evidence table: {e}")))
}

/// The first of `candidates` that the table has, for detections that know the usual
/// names of a column (`IpAddress` in Windows events, `IPAddress` in Entra sign-ins).
fn pick_column(
    batch: &RecordBatch,
    given: Option<&str>,
    what: &str,
    candidates: &[&str],
) -> Result<String, AnalysisError> {
    if let Some(name) = given {
        crate::columns::column(batch, name)?;
        return Ok(name.to_string());
    }
    candidates
        .iter()
        .find(|c| batch.column_by_name(c).is_some())
        .map(|c| c.to_string())
        .ok_or_else(|| {
            AnalysisError::Invalid(format!(
                "no {what} column: the table has none of {}; name it explicitly",
                candidates.join(", ")
            ))
        })
}

/// A duration in nanoseconds as people say it: `19m 57s`, `2h 5m`, `40s`.
fn human_duration(nanos: i64) -> String {
    let secs = nanos / 1_000_000_000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray};
    use arrow_schema::{Field, Schema};

    use super::*;

    /// A table of text columns and a `TimeGenerated` column in seconds.
    pub fn table(times: &[i64], text: &[(&str, Vec<&str>)]) -> RecordBatch {
        let mut fields = vec![Field::new(
            "TimeGenerated",
            arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, None),
            false,
        )];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(TimestampNanosecondArray::from(
            times.iter().map(|s| s * 1_000_000_000).collect::<Vec<_>>(),
        ))];
        for (name, values) in text {
            fields.push(Field::new(*name, arrow_schema::DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from(values.clone())));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
    }

    #[test]
    fn evidence_repeats_rows_per_finding_and_names_them() {
        let t = table(&[0, 1, 2], &[("Who", vec!["a", "b", "c"])]);
        let findings = [
            Finding {
                detection: "x",
                severity: Severity::High,
                reason: "r1".into(),
                rows: vec![2, 0],
            },
            Finding {
                detection: "y",
                severity: Severity::Low,
                reason: "r2".into(),
                rows: vec![0],
            },
        ];
        let e = evidence(&t, &findings).unwrap();
        assert_eq!(e.num_rows(), 3);
        let text = |c: &str| {
            crate::columns::texts(&e, c)
                .unwrap()
                .into_iter()
                .map(Option::unwrap)
                .collect::<Vec<_>>()
        };
        assert_eq!(text("Who"), ["c", "a", "a"]);
        assert_eq!(text("FindingId"), ["0", "0", "1"]);
        assert_eq!(text("Severity"), ["High", "High", "Low"]);
        assert_eq!(text("Reason"), ["r1", "r1", "r2"]);
    }

    #[test]
    fn evidence_refuses_to_shadow_a_column() {
        let t = table(&[0], &[("Severity", vec!["x"])]);
        assert!(evidence(&t, &[])
            .unwrap_err()
            .to_string()
            .contains("'Severity'"));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(40_000_000_000), "40s");
        assert_eq!(human_duration(1_197_000_000_000), "19m 57s");
        assert_eq!(human_duration(7_500_000_000_000), "2h 5m");
    }
}
