//! Microsoft Sentinel's threat-intel table as a provider (MSTICPy's `AzSTI`).
//!
//! The observables of one type are looked up together, in one run of the query
//! library's `ThreatIntelligence.list_indicators_by_ip` (`_by_hash`, `_by_domain`,
//! `_by_url`) over the last `lookback`, through any query provider: a Sentinel
//! workspace, or LocalData over an exported `ThreatIntelligenceIndicator` table
//! (the offline sample ships one). An observable is found when an indicator row holds
//! it (case aside) in `NetworkIP`, `NetworkSourceIP`, `NetworkDestinationIP`,
//! `DomainName`, `Url` or `FileHashValue`.
//!
//! As in MSTICPy, a hit is High when an indicator's `Action` is `alert` or `block`
//! (a table without `Action` counts as `alert`) or its `ConfidenceScore` is 80 or
//! more, else Warning; `Details` lists the distinct `Action`, `ThreatType`,
//! `ThreatSeverity`, `Active`, `Description` and `ConfidenceScore` values; a miss is
//! Information, "Not found.". The query text is the `Reference`.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use chrono::Utc;
use huntbook_data::driver::QueryProvider;
use huntbook_data::ParamValue;
use huntbook_transform::ioc::{self, IocType};
use serde_json::{json, Map, Value};

use super::model::{Answer, LookupRow, Observable, Severity, Status};
use super::provider::{BoxFuture, TiProvider};

/// The columns an indicator's observable may be in.
const OBSERVABLE_COLUMNS: [&str; 6] = [
    "NetworkIP",
    "NetworkSourceIP",
    "NetworkDestinationIP",
    "DomainName",
    "Url",
    "FileHashValue",
];
/// The fields `Details` gathers.
const DETAIL_FIELDS: [&str; 6] = [
    "Action",
    "ThreatType",
    "ThreatSeverity",
    "Active",
    "Description",
    "ConfidenceScore",
];
const HIGH_CONFIDENCE: f64 = 80.0;

/// The provider; see the module documentation.
pub struct SentinelTiProvider {
    name: String,
    queries: Arc<QueryProvider>,
    lookback: Duration,
}

impl SentinelTiProvider {
    /// Looks up through `queries` (connected, with the `ThreatIntelligence` queries)
    /// indicators updated in the last `lookback`.
    pub fn new(name: &str, queries: QueryProvider, lookback: Duration) -> SentinelTiProvider {
        SentinelTiProvider {
            name: name.to_string(),
            queries: Arc::new(queries),
            lookback,
        }
    }
}

/// The library query for an observable type.
fn query_for(ioc_type: &IocType) -> Option<&'static str> {
    Some(match ioc_type {
        IocType::Ipv4 | IocType::Ipv6 => "ThreatIntelligence.list_indicators_by_ip",
        IocType::Dns => "ThreatIntelligence.list_indicators_by_domain",
        IocType::Url => "ThreatIntelligence.list_indicators_by_url",
        IocType::Md5Hash | IocType::Sha1Hash | IocType::Sha256Hash => {
            "ThreatIntelligence.list_indicators_by_hash"
        }
        _ => return None,
    })
}

impl TiProvider for SentinelTiProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn query_keys(&self) -> Vec<String> {
        ["ipv4", "ipv6", "dns", "url", "file_hash"]
            .map(String::from)
            .to_vec()
    }

    /// One query takes many observables: the `in (...)` list of the library query.
    fn max_batch(&self) -> usize {
        200
    }

    fn concurrency(&self) -> usize {
        4
    }

    fn lookup<'a>(&'a self, items: &'a [Observable]) -> BoxFuture<'a, Vec<Answer>> {
        let queries = Arc::clone(&self.queries);
        let owned = items.to_vec();
        let lookback = self.lookback;
        Box::pin(async move {
            // The drivers block (LocalData reads files; remote drivers wait on HTTP).
            tokio::task::spawn_blocking(move || answer_all(&queries, &owned, lookback))
                .await
                .unwrap_or_else(|e| {
                    let why = format!("the lookup stopped: {e}");
                    items
                        .iter()
                        .map(|_| Answer::failed(Status::QueryFailed, why.clone(), ""))
                        .collect()
                })
        })
    }
}

/// One answer per item, in order: one query per observable type.
fn answer_all(queries: &QueryProvider, items: &[Observable], lookback: Duration) -> Vec<Answer> {
    let mut by_query: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut answers: Vec<Option<Answer>> = vec![None; items.len()];
    for (i, item) in items.iter().enumerate() {
        match query_for(&item.ioc_type) {
            Some(q) => by_query.entry(q).or_default().push(i),
            None => {
                answers[i] = Some(Answer::failed(
                    Status::NotSupported,
                    format!(
                        "{} is not looked up in the threat-intel table",
                        item.ioc_type.name()
                    ),
                    "",
                ))
            }
        }
    }
    let end = Utc::now();
    let start = end - chrono::Duration::from_std(lookback).unwrap_or(chrono::Duration::days(30));
    for (query, which) in by_query {
        let values = vec![
            (
                "observables".to_string(),
                ParamValue::List(
                    which
                        .iter()
                        .map(|&i| ParamValue::Text(items[i].safe_ioc.clone()))
                        .collect(),
                ),
            ),
            ("start".to_string(), ParamValue::Time(start)),
            ("end".to_string(), ParamValue::Time(end)),
        ];
        let reference = queries.query_text(query, &values).unwrap_or_default();
        let rows = queries
            .run(query, &values)
            .map_err(|e| e.to_string())
            .and_then(|table| table.concat().map_err(|e| e.to_string()))
            .and_then(|batch| rows_as_json(&batch));
        for &i in &which {
            answers[i] = Some(match &rows {
                Ok(rows) => answer(&items[i].safe_ioc, rows, &reference),
                Err(why) => Answer::failed(Status::QueryFailed, why.clone(), reference.clone()),
            });
        }
    }
    answers
        .into_iter()
        .map(|a| a.expect("every item answered"))
        .collect()
}

fn rows_as_json(batch: &RecordBatch) -> Result<Vec<Map<String, Value>>, String> {
    // Times are kept as UTC instants; a zone name such as "UTC" would need the time
    // zone database to print, an offset does not.
    let utc = |array: &ArrayRef| match array.data_type() {
        DataType::Timestamp(unit, Some(_)) => {
            arrow_cast::cast(array, &DataType::Timestamp(*unit, Some("+00:00".into())))
        }
        _ => Ok(array.clone()),
    };
    let columns = batch
        .columns()
        .iter()
        .map(utc)
        .collect::<Result<Vec<_>, _>>();
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .zip(columns.iter().flatten())
        .map(|(f, c)| f.as_ref().clone().with_data_type(c.data_type().clone()))
        .collect();
    let batch = columns
        .and_then(|c| RecordBatch::try_new(Arc::new(Schema::new(fields)), c))
        .map_err(|e| e.to_string())?;
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// A lookup row for each of `observables` that `indicators` (rows of a
/// `ThreatIntelligenceIndicator` table already queried) holds, rated and detailed as
/// this provider rates them; observables not found are left out. For indicator
/// tables at hand, such as a notebooklet's query over lab data whose documentation
/// addresses the lookups would refuse as not global.
pub fn indicator_hits(
    indicators: &RecordBatch,
    observables: &[String],
    provider: &str,
    reference: &str,
) -> Result<Vec<LookupRow>, String> {
    let rows = rows_as_json(indicators)?;
    Ok(observables
        .iter()
        .map(|observable| (observable, answer(observable, &rows, reference)))
        .filter(|(_, answer)| answer.result)
        .map(|(observable, answer)| LookupRow {
            ioc: observable.clone(),
            ioc_type: ioc::ioc_type(observable).map_or_else(String::new, |t| t.name().to_string()),
            safe_ioc: observable.clone(),
            query_subtype: None,
            provider: provider.to_string(),
            answer,
        })
        .collect())
}

/// The answer for one observable from the indicator rows the query returned.
fn answer(observable: &str, rows: &[Map<String, Value>], reference: &str) -> Answer {
    let hits: Vec<&Map<String, Value>> = rows
        .iter()
        .filter(|row| {
            OBSERVABLE_COLUMNS.iter().any(|c| {
                row.get(*c)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(observable))
            })
        })
        .collect();
    if hits.is_empty() {
        return Answer {
            result: false,
            severity: Severity::Information,
            details: Value::String("Not found.".into()),
            raw: Value::Null,
            reference: reference.to_string(),
            status: Status::Ok,
        };
    }
    let high = hits.iter().any(|row| {
        let action = row.get("Action").map_or(Some("alert"), Value::as_str);
        let confidence = row
            .get("ConfidenceScore")
            .or_else(|| row.get("Confidence"))
            .and_then(Value::as_f64);
        action.is_some_and(|a| a.eq_ignore_ascii_case("alert") || a.eq_ignore_ascii_case("block"))
            || confidence.is_some_and(|c| c >= HIGH_CONFIDENCE)
    });
    let mut details = Map::new();
    for field in DETAIL_FIELDS {
        let mut seen: Vec<Value> = Vec::new();
        for value in hits.iter().filter_map(|row| row.get(field)) {
            if !value.is_null() && !seen.contains(value) {
                seen.push(value.clone());
            }
        }
        details.insert(field.to_string(), Value::Array(seen));
    }
    Answer {
        result: true,
        severity: if high {
            Severity::High
        } else {
            Severity::Warning
        },
        details: Value::Object(details),
        raw: json!(hits),
        reference: reference.to_string(),
        status: Status::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn indicator_hits_rate_the_observables_a_table_holds() {
        let batch = arrow_json::reader::ReaderBuilder::new(Arc::new(Schema::new(vec![
            Field::new("NetworkIP", DataType::Utf8, true),
            Field::new("Action", DataType::Utf8, true),
            Field::new("ConfidenceScore", DataType::Int64, true),
        ])))
        .build(std::io::Cursor::new(
            "{\"NetworkIP\": \"203.0.113.66\", \"Action\": \"alert\", \"ConfidenceScore\": 90}\n\
             {\"NetworkIP\": \"198.51.100.23\", \"Action\": \"\", \"ConfidenceScore\": 40}\n",
        ))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
        let observables = ["203.0.113.66", "10.0.0.1", "198.51.100.23"].map(String::from);
        let hits = indicator_hits(&batch, &observables, "ThreatIntelligenceIndicator", "q").unwrap();
        let got: Vec<_> = hits.iter().map(|h| (h.ioc.as_str(), h.ioc_type.as_str(), h.answer.severity)).collect();
        assert_eq!(got, [("203.0.113.66", "ipv4", Severity::High), ("198.51.100.23", "ipv4", Severity::Warning)]);
        assert_eq!(hits[0].provider, "ThreatIntelligenceIndicator");
    }

    #[test]
    fn severity_follows_action_then_confidence() {
        let rows = [
            row(
                json!({"NetworkIP": "203.0.113.66", "Action": "alert", "ConfidenceScore": 10, "ThreatType": "C2"}),
            ),
            row(
                json!({"NetworkIP": "198.51.100.23", "Action": "", "ConfidenceScore": 60, "ThreatType": "Bruteforce"}),
            ),
            row(json!({"DomainName": "Bad.Example", "Action": null, "ConfidenceScore": 85})),
            row(json!({"Url": "http://x.example/a", "ConfidenceScore": 5})),
        ];
        let a = answer("203.0.113.66", &rows, "q");
        assert_eq!((a.result, a.severity), (true, Severity::High));
        assert_eq!(a.details["ThreatType"], json!(["C2"]));
        assert_eq!(a.raw.as_array().unwrap().len(), 1);
        assert_eq!(
            answer("198.51.100.23", &rows, "q").severity,
            Severity::Warning
        );
        assert_eq!(
            answer("bad.example", &rows, "q").severity,
            Severity::High,
            "case aside; confidence 85"
        );
        // No Action column at all counts as "alert", as in MSTICPy.
        assert_eq!(
            answer("http://x.example/a", &rows, "q").severity,
            Severity::High
        );
        let miss = answer("192.0.2.1", &rows, "q");
        assert_eq!(
            (miss.result, miss.severity, miss.status),
            (false, Severity::Information, Status::Ok)
        );
        assert_eq!(miss.details, json!("Not found."));
    }
}
