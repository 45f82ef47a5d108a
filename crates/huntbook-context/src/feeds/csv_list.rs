//! CSV indicator lists: one indicator a row, in a column named `Indicator`,
//! `Observable`, `IoC` or `Value` (else the first column), with optional `Type`,
//! `Description` and `Severity` columns.

use std::path::Path;

use serde_json::{Map, Value};

use super::{source, type_from_feed_name, FeedError, Index, Listing};
use crate::ti::Severity;

const VALUE_COLUMNS: [&str; 6] = [
    "indicator",
    "observable",
    "ioc",
    "value",
    "indicator_value",
    "ioc_value",
];
const TYPE_COLUMNS: [&str; 5] = [
    "type",
    "ioctype",
    "ioc_type",
    "indicator_type",
    "observable_type",
];
const DESCRIPTION_COLUMNS: [&str; 4] = ["description", "comment", "threat", "name"];

pub(super) fn read(
    path: &Path,
    severity: Option<Severity>,
    index: &mut Index,
) -> Result<(), FeedError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| csv_error(path, &e))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let column = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let value_at = column(&VALUE_COLUMNS).unwrap_or(0);
    let type_at = column(&TYPE_COLUMNS);
    let description_at = column(&DESCRIPTION_COLUMNS);
    let severity_at = column(&["severity"]);
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let Some(value) = record.get(value_at).filter(|v| !v.is_empty()) else {
            continue;
        };
        let row_severity = match severity_at
            .and_then(|i| record.get(i))
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(text) => Some(Severity::parse(text).ok_or_else(|| FeedError::Csv {
                path: path.to_path_buf(),
                line,
                problem: format!(
                    "`{text}` is not a severity (unknown, information, warning, high)"
                ),
            })?),
        };
        let ioc_type = match type_at
            .and_then(|i| record.get(i))
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(name) => Some(
                type_from_feed_name(name, value).ok_or_else(|| FeedError::Csv {
                    path: path.to_path_buf(),
                    line,
                    problem: format!("`{name}` is not an IoC type"),
                })?,
            ),
        };
        let raw: Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
            .collect();
        index.add(
            value,
            ioc_type,
            Listing {
                severity: severity.or(row_severity).unwrap_or(Severity::High),
                description: description_at
                    .and_then(|i| record.get(i))
                    .unwrap_or("")
                    .to_string(),
                source: source(path, format_args!("line {line}")),
                raw: Value::Object(raw),
            },
        );
    }
    Ok(())
}

pub(super) fn csv_error(path: &Path, e: &csv::Error) -> FeedError {
    match e.position() {
        Some(p) => FeedError::Csv {
            path: path.to_path_buf(),
            line: p.line(),
            problem: e.to_string(),
        },
        None => FeedError::Format {
            path: path.to_path_buf(),
            problem: e.to_string(),
        },
    }
}
