//! The part of OData's `$filter` and `$orderby` the fake understands: comparisons
//! (`eq`, `ne`, `gt`, `ge`, `lt`, `le`) of a property path with a literal, joined by
//! `and`, and one ordering key. Anything else is refused the way the service refuses
//! a filter it cannot parse, so a client sending something the fake does not check
//! finds out.

use std::cmp::Ordering;

use serde_json::Value;

/// One `path op literal` comparison.
pub(super) struct Clause {
    path: Vec<String>,
    op: String,
    literal: String,
}

pub(super) fn parse_filter(filter: &str) -> Result<Vec<Clause>, String> {
    split_and(filter)
        .into_iter()
        .map(|clause| {
            let clause = clause.trim();
            let mut parts = clause.splitn(3, ' ');
            let (Some(path), Some(op), Some(literal)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("Invalid $filter clause '{clause}'"));
            };
            let op = op.to_ascii_lowercase();
            if !matches!(op.as_str(), "eq" | "ne" | "gt" | "ge" | "lt" | "le") {
                return Err(format!("Unsupported operator '{op}' in $filter"));
            }
            let literal = literal.trim();
            let literal = match literal.strip_prefix('\'') {
                Some(quoted) => quoted
                    .strip_suffix('\'')
                    .ok_or_else(|| format!("Unterminated string literal in $filter: {literal}"))?
                    .replace("''", "'"),
                None => literal.to_string(),
            };
            Ok(Clause {
                path: path.split('/').map(str::to_string).collect(),
                op,
                literal,
            })
        })
        .collect()
}

/// Splits on ` and ` outside quoted literals.
fn split_and(filter: &str) -> Vec<String> {
    let mut clauses = vec![String::new()];
    let mut quoted = false;
    let words: Vec<&str> = filter.split(' ').collect();
    for word in words {
        if !quoted && word.eq_ignore_ascii_case("and") {
            clauses.push(String::new());
            continue;
        }
        let current = clauses.last_mut().expect("there is always a clause");
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
        quoted ^= word.matches('\'').count() % 2 == 1;
    }
    clauses
}

pub(super) fn matches(item: &Value, clauses: &[Clause]) -> bool {
    clauses.iter().all(|clause| {
        let Some(value) = at_path(item, &clause.path) else {
            return clause.op == "ne";
        };
        let order = compare(value, &clause.literal);
        match clause.op.as_str() {
            "eq" => order == Ordering::Equal,
            "ne" => order != Ordering::Equal,
            "gt" => order == Ordering::Greater,
            "ge" => order != Ordering::Less,
            "lt" => order == Ordering::Less,
            _ => order != Ordering::Greater,
        }
    })
}

/// `path [asc|desc]`.
pub(super) fn parse_orderby(orderby: &str) -> Result<(Vec<String>, bool), String> {
    let mut parts = orderby.split_whitespace();
    let path = parts.next().ok_or_else(|| "Empty $orderby".to_string())?;
    let descending = match parts.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => return Err(format!("Invalid $orderby direction '{other}'")),
    };
    if parts.next().is_some() {
        return Err("Only one $orderby key is supported".into());
    }
    Ok((path.split('/').map(str::to_string).collect(), descending))
}

pub(super) fn order(a: &Value, b: &Value, path: &[String]) -> Ordering {
    match (at_path(a, path), at_path(b, path)) {
        (Some(a), Some(b)) => compare(a, &text(b)),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

fn at_path<'v>(item: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(item, |value, key| value.get(key))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Numbers compare as numbers; everything else (ISO times included) as text.
fn compare(value: &Value, literal: &str) -> Ordering {
    if let (Some(n), Ok(l)) = (value.as_f64(), literal.parse::<f64>()) {
        return n.partial_cmp(&l).unwrap_or(Ordering::Equal);
    }
    text(value).as_str().cmp(literal)
}
