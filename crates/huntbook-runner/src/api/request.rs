//! Reading what clients send: the body of `POST /api/v1/runs`, query strings and
//! times, each refusal naming the field at fault and what it should be.
//!
//! Bodies are read as JSON whatever their content type (`curl -d` sends a form
//! type), field by field rather than through a derived deserializer, so that an
//! unknown field or a wrong type is a 400 naming that field.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use huntbook_core::entities::json_type;
use serde_json::{Map, Value};

use super::error::ApiError;

/// A request to run a notebook, as the API reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunRequest {
    pub notebook: String,
    pub parameters: Map<String, Value>,
    pub idempotency_key: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub priority: Option<i64>,
}

const RUN_FIELDS: &[&str] = &[
    "notebook",
    "parameters",
    "idempotency_key",
    "at",
    "priority",
];

fn wrong_type(field: &str, expected: &str, found: &Value) -> ApiError {
    ApiError::bad_request(format!(
        "field '{field}' must be {expected}, found {}",
        json_type(found)
    ))
}

/// Read the body of `POST /api/v1/runs`; `header_key` is the `Idempotency-Key`
/// header, which may stand in for the body's field (but not contradict it).
pub(crate) fn run_request(body: &[u8], header_key: Option<&str>) -> Result<RunRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(mut fields) = value else {
        return Err(ApiError::bad_request(format!(
            "the body must be a JSON object with the fields {}, found {}",
            RUN_FIELDS.join(", "),
            json_type(&value)
        )));
    };
    if let Some(unknown) = fields.keys().find(|k| !RUN_FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown field '{unknown}' (the fields are {})",
            RUN_FIELDS.join(", ")
        )));
    }
    let notebook = match fields.remove("notebook") {
        Some(Value::String(name)) => name,
        Some(other) => return Err(wrong_type("notebook", "a string", &other)),
        None => return Err(ApiError::bad_request(
            "field 'notebook' is missing: name a notebook of the catalogue (GET /api/v1/notebooks)",
        )),
    };
    let parameters = match fields.remove("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(parameters)) => parameters,
        Some(other) => return Err(wrong_type("parameters", "an object", &other)),
    };
    let body_key = match fields.remove("idempotency_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) => Some(key),
        Some(other) => return Err(wrong_type("idempotency_key", "a string", &other)),
    };
    let idempotency_key = match (body_key, header_key) {
        (Some(body), Some(header)) if body != header => {
            return Err(ApiError::bad_request(
                "the Idempotency-Key header and the idempotency_key field differ: send one",
            ))
        }
        (Some(key), _) => Some(key),
        (None, header) => header.map(str::to_owned),
    };
    if idempotency_key.as_deref().is_some_and(str::is_empty) {
        return Err(ApiError::bad_request(
            "the idempotency key is empty: leave it out or give a value",
        ));
    }
    let at = match fields.remove("at") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            Some(parse_time(&text).map_err(|e| ApiError::bad_request(format!("field 'at': {e}")))?)
        }
        Some(other) => return Err(wrong_type("at", "an RFC 3339 time", &other)),
    };
    let priority = match fields.remove("priority") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        Some(other) => return Err(wrong_type("priority", "a whole number", &other)),
    };
    Ok(RunRequest {
        notebook,
        parameters,
        idempotency_key,
        at,
        priority,
    })
}

/// An RFC 3339 time (`2026-12-01T09:00:00Z`); the seconds may be left out
/// (`2026-12-01T09:00Z`).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let without_seconds = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%#z")
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%MZ").map(|t| t.and_utc()));
    without_seconds.map_err(|_| {
        format!("'{text}' is not an RFC 3339 time such as 2026-12-01T09:00:00Z or 2026-12-01T09:00+01:00")
    })
}

/// A query string's pairs, refusing names the route does not take.
pub(crate) fn query(
    pairs: BTreeMap<String, String>,
    known: &[&str],
) -> Result<BTreeMap<String, String>, ApiError> {
    if let Some(unknown) = pairs.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown query parameter '{unknown}' (this route takes {})",
            known.join(", ")
        )));
    }
    Ok(pairs)
}

/// A whole-number query parameter within `range`.
pub(crate) fn number(
    pairs: &BTreeMap<String, String>,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, ApiError> {
    pairs
        .get(name)
        .map(|text| {
            text.parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "query parameter '{name}' must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ))
                })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &str) -> String {
        format!("{:?}", run_request(body.as_bytes(), None).unwrap_err())
    }

    #[test]
    fn reads_every_field() {
        let request = run_request(
            br#"{"notebook": "ip", "parameters": {"ip": "1.2.3.4"}, "idempotency_key": "k",
                 "at": "2026-12-01T09:00Z", "priority": 5}"#,
            Some("k"),
        )
        .unwrap();
        assert_eq!(request.notebook, "ip");
        assert_eq!(request.parameters["ip"], "1.2.3.4");
        assert_eq!(request.idempotency_key.as_deref(), Some("k"));
        assert_eq!(
            request.at.unwrap().to_rfc3339(),
            "2026-12-01T09:00:00+00:00"
        );
        assert_eq!(request.priority, Some(5));
        let minimal = run_request(br#"{"notebook": "ip"}"#, Some("h")).unwrap();
        assert!(minimal.parameters.is_empty());
        assert_eq!(minimal.idempotency_key.as_deref(), Some("h"));
    }

    #[test]
    fn refusals_name_the_field() {
        assert!(refused("{\"notebook\": ").contains("not valid JSON (line 1, column 13)"));
        assert!(refused("[1]").contains("must be a JSON object"));
        assert!(refused(r#"{"notebok": "x"}"#).contains("unknown field 'notebok'"));
        assert!(refused(r#"{}"#).contains("'notebook' is missing"));
        assert!(
            refused(r#"{"notebook": 3}"#).contains("'notebook' must be a string, found a number")
        );
        assert!(refused(r#"{"notebook": "x", "parameters": [1]}"#)
            .contains("'parameters' must be an object, found an array"));
        assert!(refused(r#"{"notebook": "x", "priority": 1.5}"#)
            .contains("'priority' must be a whole number"));
        assert!(refused(r#"{"notebook": "x", "at": "tomorrow"}"#)
            .contains("field 'at': 'tomorrow' is not an RFC 3339 time"));
        let clash = run_request(br#"{"notebook": "x", "idempotency_key": "a"}"#, Some("b"));
        assert!(format!("{:?}", clash.unwrap_err()).contains("differ"));
    }

    #[test]
    fn times_with_offsets_and_without_seconds() {
        let utc = |s: &str| parse_time(s).unwrap().to_rfc3339();
        assert_eq!(
            utc("2026-12-01T10:30:15+01:00"),
            "2026-12-01T09:30:15+00:00"
        );
        assert_eq!(utc("2026-12-01T10:30+01:00"), "2026-12-01T09:30:00+00:00");
        assert_eq!(utc("2026-12-01T09:00Z"), "2026-12-01T09:00:00+00:00");
        assert!(parse_time("2026-12-01").is_err());
    }

    #[test]
    fn query_numbers_and_names_are_checked() {
        let pairs = BTreeMap::from([("limit".to_string(), "0".to_string())]);
        assert!(number(&pairs, "limit", 1..=1000).is_err());
        assert_eq!(number(&pairs, "after", 0..=9).unwrap(), None);
        assert!(format!("{:?}", query(pairs, &["status"]).unwrap_err()).contains("'limit'"));
    }
}
