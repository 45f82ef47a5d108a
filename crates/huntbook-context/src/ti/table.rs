//! Lookup rows as an Arrow table with MSTICPy's columns.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use serde_json::Value;

use super::model::LookupRow;

/// The result columns, in MSTICPy's order.
pub const RESULT_COLUMNS: [&str; 11] = [
    "Ioc",
    "IocType",
    "SafeIoc",
    "QuerySubtype",
    "Provider",
    "Result",
    "Severity",
    "Details",
    "RawResult",
    "Reference",
    "Status",
];

/// The schema of [`to_record_batch`]'s tables.
pub fn result_schema() -> Schema {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Schema::new(vec![
        text("Ioc", false),
        text("IocType", false),
        text("SafeIoc", false),
        text("QuerySubtype", true),
        text("Provider", false),
        Field::new("Result", DataType::Boolean, false),
        text("Severity", false),
        text("Details", true),
        text("RawResult", true),
        text("Reference", false),
        Field::new("Status", DataType::Int32, false),
    ])
}

/// `Details` and `RawResult` hold JSON; a plain string is kept as it is, so that
/// "Not found." reads as text.
fn json_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// The rows as one record batch.
pub fn to_record_batch(rows: &[LookupRow]) -> Result<RecordBatch, ArrowError> {
    let n = rows.len();
    let mut ioc = StringBuilder::with_capacity(n, n * 16);
    let mut ioc_type = StringBuilder::with_capacity(n, n * 6);
    let mut safe = StringBuilder::with_capacity(n, n * 16);
    let mut subtype = StringBuilder::with_capacity(n, n);
    let mut provider = StringBuilder::with_capacity(n, n * 8);
    let mut result = BooleanBuilder::with_capacity(n);
    let mut severity = StringBuilder::with_capacity(n, n * 8);
    let mut details = StringBuilder::with_capacity(n, n * 32);
    let mut raw = StringBuilder::with_capacity(n, n * 64);
    let mut reference = StringBuilder::with_capacity(n, n * 32);
    let mut status = Int32Builder::with_capacity(n);
    for row in rows {
        ioc.append_value(&row.ioc);
        ioc_type.append_value(&row.ioc_type);
        safe.append_value(&row.safe_ioc);
        subtype.append_option(row.query_subtype.as_deref());
        provider.append_value(&row.provider);
        result.append_value(row.answer.result);
        severity.append_value(row.answer.severity.name());
        details.append_option(json_text(&row.answer.details));
        raw.append_option(json_text(&row.answer.raw));
        reference.append_value(&row.answer.reference);
        status.append_value(row.answer.status.code());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ioc.finish()),
        Arc::new(ioc_type.finish()),
        Arc::new(safe.finish()),
        Arc::new(subtype.finish()),
        Arc::new(provider.finish()),
        Arc::new(result.finish()),
        Arc::new(severity.finish()),
        Arc::new(details.finish()),
        Arc::new(raw.finish()),
        Arc::new(reference.finish()),
        Arc::new(status.finish()),
    ];
    RecordBatch::try_new(Arc::new(result_schema()), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ti::model::{Answer, Severity, Status};
    use arrow_array::{Array, BooleanArray, Int32Array, StringArray};
    use serde_json::json;

    #[test]
    fn rows_become_msticpy_columns() {
        let rows = vec![LookupRow {
            ioc: "8[.]8.8.8".into(),
            ioc_type: "ipv4".into(),
            safe_ioc: "8.8.8.8".into(),
            query_subtype: None,
            provider: "OTX".into(),
            answer: Answer {
                result: true,
                severity: Severity::Warning,
                details: json!({"pulse_count": 1}),
                raw: json!({"pulse_info": {"count": 1}}),
                reference: "https://otx.example/ipv4/8.8.8.8".into(),
                status: Status::Ok,
            },
        }];
        let batch = to_record_batch(&rows).unwrap();
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, RESULT_COLUMNS);
        let col = |name: &str| batch.column_by_name(name).unwrap().clone();
        let text = |name: &str| {
            col(name)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .value(0)
                .to_string()
        };
        assert_eq!(text("Severity"), "warning");
        assert_eq!(text("Details"), r#"{"pulse_count":1}"#);
        assert!(col("QuerySubtype").is_null(0));
        assert!(col("Result")
            .as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap()
            .value(0));
        assert_eq!(
            col("Status")
                .as_any()
                .downcast_ref::<Int32Array>()
                .unwrap()
                .value(0),
            0
        );
    }
}
