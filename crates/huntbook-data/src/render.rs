//! Filling a query template with parameter values.
//!
//! The rules follow MSTICPy's `QuerySource.create_query`: defaults first, then the
//! caller's values (aliases resolved); every parameter without a value is reported at
//! once; a `datetime` is written in the form the environment's language reads, a
//! `list` as a comma-separated list of literals, a `format:` hint wraps the formatted
//! value, and blank lines left by empty clauses are removed.
//!
//! Where huntbook differs on purpose: **a caller's value is always a literal, never
//! query code**. Text inside a quoted string of the template (`"{host}"`) is escaped
//! for that string; text in bare position (`{table}`) must be a plain name, or, in SPL
//! where a quoted value means the same, is written quoted. List items are quoted and
//! escaped. JSON queries are filled after parsing, so a value stays one JSON value.
//! Defaults, which come from the query's author, are inserted as written.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::environment::Dialect;
use crate::template::{
    split_text, DefaultValue, ParamSpec, ParamType, QuerySource, Segment, Template,
};

/// A value given for a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(DateTime<Utc>),
    List(Vec<ParamValue>),
}

impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        ParamValue::Text(s.to_string())
    }
}

impl From<DateTime<Utc>> for ParamValue {
    fn from(t: DateTime<Utc>) -> Self {
        ParamValue::Time(t)
    }
}

/// Why a query could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("query '{query}': these required parameters were not set: {}. It takes: {}", .missing.join(", "), .takes)]
    Missing {
        query: String,
        missing: Vec<String>,
        /// Every parameter with its type, and `=default` where it has one.
        takes: String,
    },
    #[error("query '{query}' has no parameter '{param}'; its parameters are: {known}")]
    Unknown {
        query: String,
        param: String,
        known: String,
    },
    #[error("query '{query}', parameter '{param}': {message}")]
    BadValue {
        query: String,
        param: String,
        message: String,
    },
}

/// A parameter's value with where it came from: a default is the author's text, a
/// given value is the caller's literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Default(DefaultValue),
    Given(ParamValue),
}

/// The values a query runs with, by parameter name, after defaults and aliases and
/// conversion to each parameter's type.
pub type Bindings = BTreeMap<String, Bound>;

/// Resolves aliases, converts given values to their parameters' types and adds the
/// defaults. Fails on an unknown name, a value of the wrong type, or missing values.
pub fn bind(
    source: &QuerySource,
    values: &[(String, ParamValue)],
) -> Result<Bindings, RenderError> {
    let mut bound = Bindings::new();
    for (name, value) in values {
        let Some(spec) = source.resolve_param(name) else {
            return Err(RenderError::Unknown {
                query: source.name.clone(),
                param: name.clone(),
                known: param_list(source),
            });
        };
        let value = convert(spec, value.clone()).map_err(|message| RenderError::BadValue {
            query: source.name.clone(),
            param: spec.name.clone(),
            message,
        })?;
        bound.insert(spec.name.clone(), Bound::Given(value));
    }
    let mut missing = Vec::new();
    for spec in &source.params {
        if bound.contains_key(&spec.name) {
            continue;
        }
        match &spec.default {
            Some(d) => {
                bound.insert(spec.name.clone(), Bound::Default(d.clone()));
            }
            None => missing.push(spec.name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(RenderError::Missing {
            query: source.name.clone(),
            missing,
            takes: param_list(source),
        });
    }
    if let (Some(Bound::Given(ParamValue::Time(s))), Some(Bound::Given(ParamValue::Time(e)))) =
        (bound.get("start"), bound.get("end"))
    {
        if s > e {
            return Err(RenderError::BadValue {
                query: source.name.clone(),
                param: "start".into(),
                message: format!("start {s} is after end {e}"),
            });
        }
    }
    Ok(bound)
}

fn param_list(source: &QuerySource) -> String {
    if source.params.is_empty() {
        return "none".into();
    }
    source
        .params
        .iter()
        .map(|p| {
            let mut s = format!("{} ({})", p.name, p.kind.name());
            if p.default.is_some() {
                s.push_str(" optional");
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A given value in its parameter's type. Text is accepted for every type (it is what
/// a command line gives): numbers and booleans are parsed, a comma-separated text is a
/// list, and a datetime is an RFC 3339 time or a date (relative times such as `-7d`
/// are resolved by the caller before binding).
pub fn convert(spec: &ParamSpec, value: ParamValue) -> Result<ParamValue, String> {
    use ParamValue as V;
    let text_of = |v: &ParamValue| match v {
        V::Text(t) => Some(t.trim().to_string()),
        _ => None,
    };
    Ok(match (spec.kind, value) {
        (ParamType::Str, V::List(_)) => return Err("expected text, got a list".into()),
        (ParamType::Str, V::Time(t)) => V::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        (ParamType::Str, v) => V::Text(match v {
            V::Text(t) => t,
            V::Int(i) => i.to_string(),
            V::Float(f) => f.to_string(),
            V::Bool(b) => b.to_string(),
            _ => unreachable!("lists and times are handled above"),
        }),
        (ParamType::Int, V::Int(i)) => V::Int(i),
        (ParamType::Int, v) => V::Int(
            text_of(&v)
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| format!("expected a whole number, got {}", describe(&v)))?,
        ),
        (ParamType::Float, V::Float(f)) => V::Float(f),
        (ParamType::Float, V::Int(i)) => V::Float(i as f64),
        (ParamType::Float, v) => V::Float(
            text_of(&v)
                .and_then(|t| t.parse().ok())
                .filter(|f: &f64| f.is_finite())
                .ok_or_else(|| format!("expected a number, got {}", describe(&v)))?,
        ),
        (ParamType::Bool, V::Bool(b)) => V::Bool(b),
        (ParamType::Bool, v) => V::Bool(
            match text_of(&v).map(|t| t.to_ascii_lowercase()).as_deref() {
                Some("true" | "yes" | "1") => true,
                Some("false" | "no" | "0") => false,
                _ => return Err(format!("expected true or false, got {}", describe(&v))),
            },
        ),
        (ParamType::Datetime, V::Time(t)) => V::Time(t),
        // A caller's time is read with MSTICPy's grammar: `-7d`, `-3d@d`, `now`, ISO.
        (ParamType::Datetime, v) => match text_of(&v) {
            Some(t) => {
                V::Time(huntbook_core::time::parse_time(&t, Utc::now()).map_err(|e| e.to_string())?)
            }
            None => {
                return Err(format!(
                    "expected a time such as -7d, now or 2024-05-01T12:00:00Z, got {}",
                    describe(&v)
                ))
            }
        },
        (ParamType::List, V::List(items)) => V::List(items),
        (ParamType::List, V::Text(t)) => V::List(
            t.split(',')
                .map(|s| V::Text(s.trim().to_string()))
                .filter(|v| !matches!(v, V::Text(s) if s.is_empty()))
                .collect(),
        ),
        (ParamType::List, v) => V::List(vec![v]),
    })
}

fn describe(v: &ParamValue) -> String {
    match v {
        ParamValue::Text(t) => format!("'{t}'"),
        other => format!("{other:?}"),
    }
}

/// An absolute time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or a date (its midnight UTC).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

/// The query text with `bindings` filled in, written for `dialect`.
pub fn render(
    source: &QuerySource,
    bindings: &Bindings,
    dialect: Dialect,
) -> Result<String, RenderError> {
    let bad = |param: &str, message: String| RenderError::BadValue {
        query: source.name.clone(),
        param: param.to_string(),
        message,
    };
    match &source.template {
        Template::Text(segments) => {
            let mut out = String::with_capacity(source.query.len());
            for segment in segments {
                match segment {
                    Segment::Literal(l) => out.push_str(l),
                    Segment::Param { name, quote } => {
                        let spec = source
                            .param(name)
                            .expect("placeholders are declared at load");
                        let text = format_bound(spec, &bindings[name], dialect, *quote)
                            .map_err(|m| bad(name, m))?;
                        out.push_str(&text);
                    }
                }
            }
            Ok(remove_blank_lines(&out))
        }
        Template::Json(doc) => {
            let filled = fill_json(doc, source, bindings).map_err(|(p, m)| bad(&p, m))?;
            Ok(serde_json::to_string_pretty(&filled).expect("a JSON value serialises"))
        }
    }
}

/// MSTICPy's `re.sub(r"\n\s*\n", "\n", query)`: a line break followed by blank lines
/// becomes one line break (spaces after the last of them stay).
pub fn remove_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\n') {
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        let ws_len = after.len() - after.trim_start().len();
        match after[..ws_len].rfind('\n') {
            Some(last) => rest = &after[last + 1..],
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

fn format_bound(
    spec: &ParamSpec,
    bound: &Bound,
    dialect: Dialect,
    quote: Option<(char, bool)>,
) -> Result<String, String> {
    let text = match bound {
        Bound::Default(d) => format_default(spec, d, dialect),
        Bound::Given(v) => format_value(v, dialect, quote)?,
    };
    Ok(match &spec.format {
        Some(f) => apply_format(f, &text),
        None => text,
    })
}

/// `format: "datetime({})"`: the hint with `{}` (or `{0}`) replaced by the value.
fn apply_format(hint: &str, value: &str) -> String {
    hint.replace("{0}", value).replace("{}", value)
}

fn format_default(spec: &ParamSpec, d: &DefaultValue, dialect: Dialect) -> String {
    match (spec.kind, d) {
        (ParamType::List, DefaultValue::List(items)) => {
            let items: Vec<ParamValue> =
                items.iter().map(|s| ParamValue::Text(s.clone())).collect();
            format_list(&items, dialect)
        }
        (ParamType::Datetime, DefaultValue::Text(t)) => match parse_time(t.trim()) {
            Some(time) => format_time(time, dialect),
            None => t.clone(),
        },
        (_, DefaultValue::Text(t)) => t.clone(),
        (_, DefaultValue::Int(i)) => i.to_string(),
        (_, DefaultValue::Float(f)) => f.to_string(),
        (_, DefaultValue::Bool(b)) => bool_text(*b, dialect),
        (_, DefaultValue::List(items)) => {
            let items: Vec<ParamValue> =
                items.iter().map(|s| ParamValue::Text(s.clone())).collect();
            format_list(&items, dialect)
        }
    }
}

fn bool_text(b: bool, dialect: Dialect) -> String {
    match (dialect, b) {
        (Dialect::Spl, true) => "\"true\"".into(),
        (Dialect::Spl, false) => "\"false\"".into(),
        _ => b.to_string(),
    }
}

/// A time as the environment's language reads it: KQL `datetime(...)` takes ISO 8601
/// with microseconds, Splunk's `timeformat` MSTICPy uses is `"%Y-%m-%d %H:%M:%S.%6N"`
/// (quoted), everything else RFC 3339.
pub fn format_time(t: DateTime<Utc>, dialect: Dialect) -> String {
    match dialect {
        Dialect::Kql => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        Dialect::Spl => t.format("\"%Y-%m-%d %H:%M:%S%.6f\"").to_string(),
        Dialect::EsJson | Dialect::Plain => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

/// A list of literals: `'a', 'b', 3` (KQL and others), `"a","b"` (SPL).
fn format_list(items: &[ParamValue], dialect: Dialect) -> String {
    let quote = if dialect == Dialect::Spl { '"' } else { '\'' };
    let sep = if dialect == Dialect::Spl { "," } else { ", " };
    items
        .iter()
        .map(|item| match item {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(f) => f.to_string(),
            ParamValue::Bool(b) => bool_text(*b, dialect),
            ParamValue::Time(t) => quoted(&format_time(*t, Dialect::Plain), quote, false),
            ParamValue::Text(t) => quoted(t, quote, false),
            ParamValue::List(inner) => format_list(inner, dialect),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

fn quoted(text: &str, quote: char, verbatim: bool) -> String {
    format!("{quote}{}{quote}", escape(text, quote, verbatim))
}

/// Escapes text for a string literal delimited by `quote`, so that it ends only where
/// the template's string ends. KQL, SPL and JSON-ish languages take backslash escapes;
/// a KQL verbatim string (`@'...'`) takes none, and its quote is doubled instead.
pub fn escape(text: &str, quote: char, verbatim: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            c if verbatim && c == quote => {
                out.push(c);
                out.push(c);
            }
            _ if verbatim => out.push(c),
            '\\' => out.push_str("\\\\"),
            '\'' | '"' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

/// Text that may stand bare in a query: a name or a number (`SigninLogs`, `10.0.0.1`,
/// `web-01.contoso.com`), nothing that a language could read as an operator.
fn is_bare_safe(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':'))
}

fn format_value(
    v: &ParamValue,
    dialect: Dialect,
    quote: Option<(char, bool)>,
) -> Result<String, String> {
    Ok(match (v, quote) {
        (ParamValue::Text(t), Some((q, verbatim))) => escape(t, q, verbatim),
        (ParamValue::Text(t), None) if dialect == Dialect::Spl => quoted(t, '"', false),
        (ParamValue::Text(t), None) => {
            if !is_bare_safe(t) {
                return Err(format!(
                    "'{t}' cannot be used here: this placeholder is not inside quotes in the query, so it takes only a plain name or number (letters, digits, '_', '.', '-', ':')"
                ));
            }
            t.clone()
        }
        (ParamValue::Time(t), Some((q, verbatim))) => {
            escape(&format_time(*t, Dialect::Plain), q, verbatim)
        }
        (ParamValue::Time(t), None) => format_time(*t, dialect),
        (ParamValue::List(items), Some((q, verbatim))) => {
            let joined: Vec<String> = items.iter().map(plain_text).collect();
            escape(&joined.join(","), q, verbatim)
        }
        (ParamValue::List(items), None) => format_list(items, dialect),
        (ParamValue::Int(i), _) => i.to_string(),
        (ParamValue::Float(f), _) => f.to_string(),
        (ParamValue::Bool(b), None) => bool_text(*b, dialect),
        (ParamValue::Bool(b), Some(_)) => b.to_string(),
    })
}

fn plain_text(v: &ParamValue) -> String {
    match v {
        ParamValue::Text(t) => t.clone(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Float(f) => f.to_string(),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Time(t) => format_time(*t, Dialect::Plain),
        ParamValue::List(items) => items.iter().map(plain_text).collect::<Vec<_>>().join(","),
    }
}

/// A bound value as one JSON value (a placeholder that is a whole JSON string).
fn json_value(spec: &ParamSpec, bound: &Bound) -> serde_json::Value {
    use serde_json::Value;
    let from_value = |v: &ParamValue| -> Value {
        match v {
            ParamValue::Text(t) => Value::String(t.clone()),
            ParamValue::Int(i) => Value::from(*i),
            ParamValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            ParamValue::Bool(b) => Value::Bool(*b),
            ParamValue::Time(t) => Value::String(format_time(*t, Dialect::EsJson)),
            ParamValue::List(items) => {
                Value::Array(items.iter().map(|i| Value::String(plain_text(i))).collect())
            }
        }
    };
    match bound {
        Bound::Given(v) => from_value(v),
        Bound::Default(DefaultValue::List(items)) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        Bound::Default(DefaultValue::Int(i)) => Value::from(*i),
        Bound::Default(DefaultValue::Bool(b)) => Value::Bool(*b),
        Bound::Default(d) => Value::String(format_default(spec, d, Dialect::EsJson)),
    }
}

fn fill_json(
    value: &serde_json::Value,
    source: &QuerySource,
    bindings: &Bindings,
) -> Result<serde_json::Value, (String, String)> {
    use serde_json::Value;
    let fill_text = |s: &str| -> Result<Value, (String, String)> {
        let segments = split_text(s).map_err(|m| (String::new(), m))?;
        if let [Segment::Param { name, .. }] = segments.as_slice() {
            let spec = source
                .param(name)
                .expect("placeholders are declared at load");
            let v = json_value(spec, &bindings[name]);
            return Ok(match &spec.format {
                Some(f) => Value::String(apply_format(f, &json_text(&v))),
                None => v,
            });
        }
        let mut out = String::new();
        for seg in segments {
            match seg {
                Segment::Literal(l) => out.push_str(&l),
                Segment::Param { name, .. } => {
                    let spec = source
                        .param(&name)
                        .expect("placeholders are declared at load");
                    let v = json_text(&json_value(spec, &bindings[&name]));
                    out.push_str(
                        &spec
                            .format
                            .as_deref()
                            .map_or(v.clone(), |f| apply_format(f, &v)),
                    );
                }
            }
        }
        Ok(Value::String(out))
    };
    Ok(match value {
        Value::String(s) => fill_text(s)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| fill_json(v, source, bindings))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match fill_text(k)? {
                    Value::String(s) => s,
                    other => json_text(&other),
                };
                out.insert(key, fill_json(v, source, bindings)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            items.iter().map(json_text).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    }
}

/// Every string of a rendered JSON query, for tests.
#[cfg(test)]
fn strings_of(doc: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    crate::template::json_strings(doc, &mut |s| out.push(s.to_string()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse_one;
    use chrono::TimeZone;

    fn kql() -> QuerySource {
        parse_one(
            r#"
metadata:
  version: 1
  description: t
  data_environments: [MSSentinel]
  data_families: [WindowsSecurity]
defaults:
  parameters:
    table: {description: t, type: str, default: SecurityEvent}
    add_query_items: {description: more, type: str, default: ''}
sources:
  list_host_processes:
    description: Processes on a host
    args:
      query: |
        {table}
        | where TimeGenerated >= datetime({start})
        | where TimeGenerated <= datetime({end})
        | where Computer has "{host_name}"
        | where Account in ({accounts})
        | where Verbatim == @"{path}"
        | take {limit}
        {add_query_items}
        | project {columns}
    parameters:
      start: {description: s, type: datetime}
      end: {description: e, type: datetime}
      host_name: {description: h, type: str, aliases: hostname}
      accounts: {description: a, type: list, default: [system]}
      path: {description: p, type: str, default: 'x'}
      limit: {description: l, type: int, default: 100}
      columns: {description: c, type: str, default: Computer}
"#,
        )
        .unwrap()
    }

    fn t(day: u32) -> ParamValue {
        ParamValue::Time(Utc.with_ymd_and_hms(2024, 1, day, 0, 0, 0).unwrap())
    }

    fn values(pairs: &[(&str, ParamValue)]) -> Vec<(String, ParamValue)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn renders_kql_with_defaults_aliases_and_no_blank_lines() {
        let q = kql();
        let b = bind(
            &q,
            &values(&[("start", t(1)), ("end", t(2)), ("hostname", "web01".into())]),
        )
        .unwrap();
        let text = render(&q, &b, Dialect::Kql).unwrap();
        assert!(
            text.contains("datetime(2024-01-01T00:00:00.000000Z)"),
            "{text}"
        );
        assert!(text.contains("Computer has \"web01\""));
        assert!(text.contains("Account in ('system')"));
        assert!(text.contains("| take 100\n"));
        assert!(
            !text.contains("\n\n") && !text.lines().any(|l| l.trim().is_empty() && !l.is_empty()),
            "{text:?}"
        );
    }

    #[test]
    fn missing_parameters_are_listed_together() {
        let err = bind(&kql(), &[]).unwrap_err();
        let RenderError::Missing { missing, takes, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(missing, &["start", "end", "host_name"]);
        assert!(takes.contains("limit (int) optional"));
        assert!(err
            .to_string()
            .contains("these required parameters were not set: start, end, host_name"));
    }

    #[test]
    fn unknown_and_badly_typed_values_are_errors() {
        let q = kql();
        let err = bind(&q, &values(&[("hots", "x".into())])).unwrap_err();
        assert!(err.to_string().contains("has no parameter 'hots'"), "{err}");
        let err = bind(&q, &values(&[("limit", "ten".into())])).unwrap_err();
        assert!(
            err.to_string()
                .contains("parameter 'limit': expected a whole number, got 'ten'"),
            "{err}"
        );
        let err = bind(
            &q,
            &values(&[("start", t(3)), ("end", t(2)), ("host_name", "h".into())]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("is after end"), "{err}");
    }

    /// A value that tries to close its string and add a clause stays inside the string.
    #[test]
    fn values_cannot_break_out_of_kql_literals() {
        let q = kql();
        let evil = r#"x" | union SigninLogs | where "a"=="a"#;
        let b = bind(
            &q,
            &values(&[
                ("start", t(1)),
                ("end", t(2)),
                ("host_name", evil.into()),
                (
                    "accounts",
                    ParamValue::List(vec!["a') | union (T".into(), r"b\".into()]),
                ),
                ("path", r#"C:\x" or 1==1 or @"y"#.into()),
            ]),
        )
        .unwrap();
        let text = render(&q, &b, Dialect::Kql).unwrap();
        assert!(
            text.contains(r#"Computer has "x\" | union SigninLogs | where \"a\"==\"a""#),
            "{text}"
        );
        assert!(
            text.contains(r#"Account in ('a\') | union (T', 'b\\')"#),
            "{text}"
        );
        assert!(
            text.contains(r#"Verbatim == @"C:\x"" or 1==1 or @""y""#),
            "{text}"
        );
        // The line with the value has exactly the quotes of the one literal it is in.
        let line = text.lines().find(|l| l.contains("Computer has")).unwrap();
        assert_eq!(kql_string_literals(line), 1, "{line}");

        // Bare placeholders take names only.
        let err = bind(
            &q,
            &values(&[
                ("start", t(1)),
                ("end", t(2)),
                ("host_name", "h".into()),
                ("columns", "A | take 1".into()),
            ]),
        )
        .and_then(|b| render(&q, &b, Dialect::Kql))
        .unwrap_err();
        assert!(err.to_string().contains("not inside quotes"), "{err}");
    }

    /// Counts the KQL string literals on a line, honouring backslash escapes.
    fn kql_string_literals(line: &str) -> usize {
        let (mut count, mut inside, mut chars) = (0, None, line.chars());
        while let Some(c) = chars.next() {
            match (inside, c) {
                (Some(_), '\\') => {
                    chars.next();
                }
                (Some(q), c) if c == q => inside = None,
                (None, '"' | '\'') => {
                    inside = Some(c);
                    count += 1;
                }
                _ => {}
            }
        }
        count
    }

    #[test]
    fn spl_quotes_bare_values_and_lists() {
        let q = parse_one(
            r#"
metadata: {version: 1, description: t, data_environments: [Splunk], data_families: [Auth]}
sources:
  by_ip:
    description: d
    args:
      query: 'search src={ip} user IN ({users}) earliest={start} | eval x="{note}"'
    parameters:
      ip: {description: i, type: str}
      users: {description: u, type: list}
      note: {description: n, type: str}
      start: {description: s, type: datetime}
"#,
        )
        .unwrap();
        let b = bind(
            &q,
            &values(&[
                ("ip", "10.0.0.1 OR 1=1".into()),
                ("users", "bob, al\"ice".into()),
                ("note", "a\" | delete".into()),
                ("start", t(5)),
            ]),
        )
        .unwrap();
        let text = render(&q, &b, Dialect::Spl).unwrap();
        assert_eq!(
            text,
            r#"search src="10.0.0.1 OR 1=1" user IN ("bob","al\"ice") earliest="2024-01-05 00:00:00.000000" | eval x="a\" | delete""#
        );
    }

    #[test]
    fn json_queries_keep_values_as_single_json_values() {
        let q = parse_one(
            r#"
metadata: {version: 1, description: t, data_environments: [Elastic], data_families: [Process]}
sources:
  by_host:
    description: d
    args:
      query: '{"query": {"bool": {"filter": [{"terms": {"host.name": "{hosts}"}}, {"match_phrase": {"user.name": "user {user}"}}, {"range": {"@timestamp": {"gte": "{start}"}}}], "size": "{size}"}}}'
    parameters:
      hosts: {description: h, type: list}
      user: {description: u, type: str}
      start: {description: s, type: datetime}
      size: {description: n, type: int, default: 10}
"#,
        )
        .unwrap();
        let b = bind(
            &q,
            &values(&[
                ("hosts", "a,b".into()),
                ("user", r#"x"}}, {"match_all": {}}"#.into()),
                ("start", t(1)),
            ]),
        )
        .unwrap();
        let text = render(&q, &b, Dialect::EsJson).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let filter = &doc["query"]["bool"]["filter"];
        assert_eq!(
            filter[0]["terms"]["host.name"],
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            filter[1]["match_phrase"]["user.name"],
            r#"user x"}}, {"match_all": {}}"#
        );
        assert_eq!(
            filter[2]["range"]["@timestamp"]["gte"],
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(doc["query"]["bool"]["size"], 10);
        assert!(!strings_of(&doc).iter().any(|s| s == "match_all"));
    }

    #[test]
    fn blank_lines_go_like_msticpy() {
        assert_eq!(remove_blank_lines("a\n\n  \n  b\n\n"), "a\n  b\n");
        assert_eq!(remove_blank_lines("a\n b"), "a\n b");
    }

    #[test]
    fn format_hint_wraps_the_value() {
        let text = r#"
metadata: {version: 1, description: t, data_environments: [Kusto], data_families: [F]}
sources:
  q:
    description: d
    args: {query: 'T | where {cond}'}
    parameters:
      cond: {description: c, type: int, format: 'Count > {}'}
"#;
        let q = parse_one(text).unwrap();
        let b = bind(&q, &values(&[("cond", "5".into())])).unwrap();
        assert_eq!(render(&q, &b, Dialect::Kql).unwrap(), "T | where Count > 5");
    }
}
