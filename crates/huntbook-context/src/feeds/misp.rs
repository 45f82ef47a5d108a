//! MISP feeds: a feed folder (`manifest.json` listing events, each in
//! `<uuid>.json`), single event files, MISP CSV exports, and the feed's
//! `hashes.csv`.
//!
//! Attribute types map to IoC types (`ip-dst` → ipv4/ipv6, `domain` → dns, `md5`,
//! `url`...); composite types (`ip-dst|port`, `filename|sha256`, `domain|ip`) list
//! the parts that are indicators. A listing's severity follows the event's threat
//! level (1 high, 2 warning, 3 information, 4 undefined: high) for attributes marked
//! `to_ids`, and is information for the others.

use std::path::Path;

use serde_json::{json, Value};

use super::csv_list::csv_error;
use super::{read_json, source, type_from_feed_name, FeedError, Index, Listing};
use crate::ti::Severity;

/// The indicator parts of an attribute value, with the type name of each.
fn parts<'a>(attribute_type: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    match attribute_type.split_once('|') {
        None => vec![(attribute_type, value)],
        Some((first, second)) => {
            let (v1, v2) = value.split_once('|').unwrap_or((value, ""));
            let mut out = Vec::new();
            if first != "filename" {
                out.push((first, v1));
            }
            if second != "port" {
                out.push((second, v2));
            }
            out
        }
    }
}

fn severity_of(to_ids: bool, threat_level: Option<&str>, feed: Option<Severity>) -> Severity {
    if let Some(severity) = feed {
        return severity;
    }
    if !to_ids {
        return Severity::Information;
    }
    match threat_level {
        Some("2") => Severity::Warning,
        Some("3") => Severity::Information,
        _ => Severity::High,
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "True"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn add_attribute(
    index: &mut Index,
    attribute: &Value,
    event: &Value,
    where_: &str,
    feed: Option<Severity>,
) {
    let (Some(kind), Some(value)) = (text(attribute.get("type")), text(attribute.get("value")))
    else {
        return;
    };
    let threat_level = text(event.get("threat_level_id"));
    let severity = severity_of(flag(attribute.get("to_ids")), threat_level.as_deref(), feed);
    let info = text(event.get("info")).unwrap_or_default();
    for (part_type, part) in parts(&kind, &value) {
        // Attribute types that are not indicators (comments, filenames...) are skipped.
        let Some(ioc_type) = type_from_feed_name(part_type, part) else {
            continue;
        };
        index.add(
            part,
            Some(ioc_type),
            Listing {
                severity,
                description: info.clone(),
                source: where_.to_string(),
                raw: json!({
                    "event_uuid": event.get("uuid"),
                    "event_info": event.get("info"),
                    "attribute": attribute,
                }),
            },
        );
    }
}

fn add_event(
    index: &mut Index,
    path: &Path,
    document: &Value,
    feed: Option<Severity>,
) -> Result<(), FeedError> {
    let event = document.get("Event").ok_or_else(|| FeedError::Format {
        path: path.to_path_buf(),
        problem: "no `Event` object".into(),
    })?;
    let uuid = text(event.get("uuid")).unwrap_or_else(|| "event".into());
    let where_ = source(path, format_args!("event {uuid}"));
    let mut attributes: Vec<&Value> = event
        .get("Attribute")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    for object in event
        .get("Object")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        attributes.extend(
            object
                .get("Attribute")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    }
    for attribute in attributes {
        add_attribute(index, attribute, event, &where_, feed);
    }
    Ok(())
}

pub(super) fn read_event_file(
    path: &Path,
    feed: Option<Severity>,
    index: &mut Index,
) -> Result<(), FeedError> {
    let document = read_json(path)?;
    add_event(index, path, &document, feed)
}

pub(super) fn read_folder(
    folder: &Path,
    feed: Option<Severity>,
    index: &mut Index,
) -> Result<(), FeedError> {
    let manifest_path = folder.join("manifest.json");
    let manifest = read_json(&manifest_path)?;
    let events = manifest.as_object().ok_or_else(|| FeedError::Format {
        path: manifest_path.clone(),
        problem: "the manifest is not an object of event uuids".into(),
    })?;
    for uuid in events.keys() {
        let event_path = folder.join(format!("{uuid}.json"));
        if !event_path.is_file() {
            return Err(FeedError::Format {
                path: manifest_path.clone(),
                problem: format!(
                    "lists event {uuid}, but {} is missing",
                    event_path.display()
                ),
            });
        }
        read_event_file(&event_path, feed, index)?;
    }
    Ok(())
}

pub(super) fn read_csv(
    path: &Path,
    feed: Option<Severity>,
    index: &mut Index,
) -> Result<(), FeedError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, &e))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, &e))?
        .iter()
        .map(str::to_string)
        .collect();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let row: serde_json::Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
            .collect();
        let row = Value::Object(row);
        let event = json!({"uuid": row.get("event_id"), "info": row.get("comment")});
        add_attribute(
            index,
            &row,
            &event,
            &source(path, format_args!("line {line}")),
            feed,
        );
    }
    Ok(())
}

pub(super) fn read_hashes(
    path: &Path,
    feed: Option<Severity>,
    index: &mut Index,
) -> Result<(), FeedError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, &e))?;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let digest = record.get(0).unwrap_or("").trim();
        if digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FeedError::Csv {
                path: path.to_path_buf(),
                line,
                problem: format!("`{digest}` is not the MD5 digest of a value"),
            });
        }
        let event = record.get(1).unwrap_or("").trim().to_string();
        index.add_value_digest(
            digest,
            Listing {
                severity: feed.unwrap_or(Severity::High),
                description: String::new(),
                source: source(path, format_args!("event {event}")),
                raw: json!({"value_md5": digest, "event_uuid": event}),
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_attributes_give_their_indicator_parts() {
        assert_eq!(
            parts("ip-dst|port", "198.51.100.7|443"),
            vec![("ip-dst", "198.51.100.7")]
        );
        assert_eq!(parts("filename|md5", "a.exe|44d8"), vec![("md5", "44d8")]);
        assert_eq!(
            parts("domain|ip", "evil.example|198.51.100.7"),
            vec![("domain", "evil.example"), ("ip", "198.51.100.7")]
        );
        assert_eq!(severity_of(true, Some("2"), None), Severity::Warning);
        assert_eq!(severity_of(false, Some("1"), None), Severity::Information);
        assert_eq!(
            severity_of(false, Some("1"), Some(Severity::High)),
            Severity::High
        );
    }
}
