//! Parameter documents (`-f`, `-y`, `-b`) read with papermill's YAML rules.
//!
//! Papermill loads parameters with PyYAML's `SafeLoader` minus timestamp resolution.
//! That is YAML 1.1, which types plain scalars differently from the YAML 1.2 that
//! Rust YAML crates implement: `yes`/`off` are booleans, `010` is octal 8, `1e3` (no
//! dot) is the string "1e3", `190:20:30` is a base-60 integer, and `2019-01-01` stays a
//! string. So only the syntax comes from `yaml-rust2` (its event parser, which reports
//! each scalar's quoting style and tag); typing scalars, anchors, `<<` merge keys and
//! dict-key semantics are done here, the way PyYAML's resolver and constructor do.
//!
//! JSON is YAML, so JSON parameter files go through [`parse_yaml`] too.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::numtext::{integral_float_text, signed, BigDecimal};
use super::value::py_float_repr;
use super::{ParamError, ParamValue, Parameters};

/// Aliases are expanded into copies; this bounds the expansion so that a small
/// document of nested aliases ("billion laughs") cannot exhaust memory.
const MAX_NODES: usize = 1_000_000;

const YAML_TAG: &str = "tag:yaml.org,2002:";

/// Parses one YAML (or JSON) document of parameters. `origin` names the source in
/// errors (a file path, `-y`, ...).
///
/// An empty document or `null` gives no parameters (as papermill's `or {}`); any other
/// top level that is not a mapping is an error. Keys that are not strings are turned
/// into Python's `str()` of the key (`1` → "1", `true` → "True").
pub fn parse_yaml(text: &str, origin: &str) -> Result<Parameters, ParamError> {
    let docs = parse_nodes(text, origin)?;
    let mut builder = Builder { origin, nodes: 0 };
    let doc = match docs.len() {
        0 => return Ok(Parameters::new()),
        1 => docs.into_iter().next().expect("one document"),
        _ => {
            return Err(error(origin, docs[1].mark(), "expected a single document in the stream, found another one".into()))
        }
    };
    match &doc {
        Node::Map { .. } => match builder.construct(&doc)? {
            ParamValue::Dict(entries) => Ok(Parameters(entries)),
            _ => unreachable!("a mapping constructs a dict"),
        },
        _ => match builder.construct(&doc)? {
            ParamValue::None => Ok(Parameters::new()),
            other => Err(error(
                origin,
                doc.mark(),
                format!(
                    "parameters must be a mapping of names to values (`name: value` lines), found {}",
                    kind_name(&other)
                ),
            )),
        },
    }
}

fn kind_name(v: &ParamValue) -> &'static str {
    match v {
        ParamValue::None => "null",
        ParamValue::Bool(_) => "a boolean",
        ParamValue::Int(_) => "an integer",
        ParamValue::Float(_) => "a float",
        ParamValue::Str(_) => "a string",
        ParamValue::List(_) => "a list",
        ParamValue::Dict(_) => "a mapping",
    }
}

fn error(origin: &str, mark: Marker, message: String) -> ParamError {
    ParamError::Yaml { origin: origin.to_string(), line: mark.line(), column: mark.col() + 1, message }
}

/// A YAML node before typing, with aliases already replaced by copies.
#[derive(Debug, Clone)]
enum Node {
    Scalar { value: String, style: TScalarStyle, tag: Option<String>, mark: Marker },
    Seq { items: Vec<Node>, tag: Option<String>, mark: Marker },
    Map { pairs: Vec<(Node, Node)>, tag: Option<String>, mark: Marker },
}

impl Node {
    fn mark(&self) -> Marker {
        match self {
            Node::Scalar { mark, .. } | Node::Seq { mark, .. } | Node::Map { mark, .. } => *mark,
        }
    }

    fn count(&self) -> usize {
        match self {
            Node::Scalar { .. } => 1,
            Node::Seq { items, .. } => 1 + items.iter().map(Node::count).sum::<usize>(),
            Node::Map { pairs, .. } => 1 + pairs.iter().map(|(k, v)| k.count() + v.count()).sum::<usize>(),
        }
    }
}

fn full_tag(tag: Option<Tag>) -> Option<String> {
    tag.map(|t| {
        // The non-specific tag `!` comes through with an empty handle.
        if t.handle.is_empty() && t.suffix == "!" {
            "!".to_string()
        } else {
            format!("{}{}", t.handle, t.suffix)
        }
    })
}

/// A collection being filled while its events arrive.
enum Frame {
    Seq { items: Vec<Node>, tag: Option<String>, mark: Marker, anchor: usize },
    Map { pairs: Vec<(Node, Node)>, key: Option<Node>, tag: Option<String>, mark: Marker, anchor: usize },
}

/// Collects parser events into node trees, one per document.
struct TreeBuilder {
    docs: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    expanded: usize,
    failure: Option<(Marker, String)>,
}

impl TreeBuilder {
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            // Keys and values arrive alternately.
            Some(Frame::Map { pairs, key, .. }) => match key.take() {
                Some(k) => pairs.push((k, node)),
                None => *key = Some(node),
            },
        }
    }
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.failure.is_some() {
            return;
        }
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                self.push_node(Node::Scalar { value, style, tag: full_tag(tag), mark }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.stack.push(Frame::Seq { items: Vec::new(), tag: full_tag(tag), mark, anchor })
            }
            Event::MappingStart(anchor, tag) => {
                self.stack.push(Frame::Map { pairs: Vec::new(), key: None, tag: full_tag(tag), mark, anchor })
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq { items, tag, mark, anchor }) => self.push_node(Node::Seq { items, tag, mark }, anchor),
                Some(Frame::Map { pairs, tag, mark, anchor, .. }) => {
                    self.push_node(Node::Map { pairs, tag, mark }, anchor)
                }
                None => {}
            },
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(node) => {
                    self.expanded += node.count();
                    if self.expanded > MAX_NODES {
                        self.failure = Some((mark, format!("aliases expand to more than {MAX_NODES} values")));
                        return;
                    }
                    let mut node = node.clone();
                    set_mark(&mut node, mark);
                    self.push_node(node, 0);
                }
                None => {
                    self.failure = Some((mark, "an alias refers to a node that contains it (recursive aliases are not supported)".into()))
                }
            },
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd | Event::Nothing => {}
        }
    }
}

fn set_mark(node: &mut Node, at: Marker) {
    match node {
        Node::Scalar { mark, .. } | Node::Seq { mark, .. } | Node::Map { mark, .. } => *mark = at,
    }
}

fn parse_nodes(text: &str, origin: &str) -> Result<Vec<Node>, ParamError> {
    // PyYAML accepts a byte-order mark at the start of the stream.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder =
        TreeBuilder { docs: Vec::new(), stack: Vec::new(), anchors: HashMap::new(), expanded: 0, failure: None };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| {
        let message = e.info().to_string();
        error(origin, *e.marker(), format!("{message} (check the YAML syntax: indentation, quotes, `key: value`)"))
    })?;
    if let Some((mark, message)) = builder.failure {
        return Err(error(origin, mark, message));
    }
    Ok(builder.docs)
}

/// A dict key compared as Python compares keys: `1`, `1.0` and `True` are one key,
/// every `nan` is a distinct key.
#[derive(Debug, Clone)]
enum PyKey {
    None,
    /// An int, bool or integral float, as canonical integer text.
    Int(String),
    /// A float with a fractional part, or non-finite.
    Float(f64),
    Str(String),
}

impl PartialEq for PyKey {
    fn eq(&self, other: &PyKey) -> bool {
        match (self, other) {
            (PyKey::None, PyKey::None) => true,
            (PyKey::Int(a), PyKey::Int(b)) => a == b,
            (PyKey::Float(a), PyKey::Float(b)) => a == b,
            (PyKey::Str(a), PyKey::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// Python's `str()` of a scalar key, and its identity for duplicate detection.
fn key_of(value: &ParamValue) -> Option<(PyKey, String)> {
    Some(match value {
        ParamValue::None => (PyKey::None, "None".into()),
        ParamValue::Bool(b) => (PyKey::Int(if *b { "1" } else { "0" }.into()), if *b { "True" } else { "False" }.into()),
        ParamValue::Int(text) => (PyKey::Int(text.clone()), text.clone()),
        ParamValue::Float(f) if f.is_finite() && f.fract() == 0.0 => (PyKey::Int(integral_float_text(*f)), py_float_repr(*f)),
        ParamValue::Float(f) => (PyKey::Float(*f), py_float_repr(*f)),
        ParamValue::Str(s) => (PyKey::Str(s.clone()), s.clone()),
        ParamValue::List(_) | ParamValue::Dict(_) => return None,
    })
}

/// Turns nodes into values: PyYAML's resolver (for untagged plain scalars) and safe
/// constructor (for everything).
struct Builder<'a> {
    origin: &'a str,
    nodes: usize,
}

impl Builder<'_> {
    fn fail<T>(&self, mark: Marker, message: String) -> Result<T, ParamError> {
        Err(error(self.origin, mark, message))
    }

    fn construct(&mut self, node: &Node) -> Result<ParamValue, ParamError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return self.fail(node.mark(), format!("the document holds more than {MAX_NODES} values"));
        }
        match node {
            Node::Scalar { value, style, tag, mark } => self.scalar(value, *style, tag.as_deref(), *mark),
            Node::Seq { items, tag, mark } => {
                self.check_collection_tag(tag.as_deref(), "seq", *mark)?;
                Ok(ParamValue::List(items.iter().map(|n| self.construct(n)).collect::<Result<_, _>>()?))
            }
            Node::Map { tag, mark, .. } => {
                self.check_collection_tag(tag.as_deref(), "map", *mark)?;
                let pairs = self.flatten(node)?;
                let mut entries: Vec<(PyKey, String, ParamValue)> = Vec::new();
                for (key_node, value_node) in pairs {
                    let key = self.construct_key(&key_node)?;
                    let Some((identity, text)) = key_of(&key) else {
                        return self.fail(key_node.mark(), "a mapping key is a list or a mapping, which Python cannot use as a dict key".into());
                    };
                    let value = self.construct(&value_node)?;
                    match entries.iter_mut().find(|(k, _, _)| *k == identity) {
                        Some(slot) => slot.2 = value,
                        None => entries.push((identity, text, value)),
                    }
                }
                Ok(ParamValue::Dict(entries.into_iter().map(|(_, k, v)| (k, v)).collect()))
            }
        }
    }

    /// A key is constructed like any value, except that PyYAML types a plain `=` key as
    /// the string "=" (its "value" tag has no constructor elsewhere).
    fn construct_key(&mut self, node: &Node) -> Result<ParamValue, ParamError> {
        match node {
            Node::Scalar { value, style: TScalarStyle::Plain, tag: None, .. } if value == "=" => Ok(ParamValue::Str("=".into())),
            _ => self.construct(node),
        }
    }

    fn check_collection_tag(&self, tag: Option<&str>, kind: &str, mark: Marker) -> Result<(), ParamError> {
        match tag {
            None | Some("!") => Ok(()),
            Some(t) if t.strip_prefix(YAML_TAG) == Some(kind) => Ok(()),
            Some(t) => self.fail(mark, format!("the tag {} is not supported on a {}; parameters use plain YAML lists and mappings", show_tag(t), if kind == "seq" { "sequence" } else { "mapping" })),
        }
    }

    /// The pairs of a mapping with `<<` merge keys expanded, as PyYAML 6.0.4 does it:
    /// merged pairs come first, in order, so the mapping's own keys override them and,
    /// among several merged mappings, the later one wins. PyYAML skips a merged pair
    /// whose key is the very same Python string object as an earlier one; CPython
    /// shares the objects of empty and one-character (Latin-1) strings, so for such
    /// keys the earlier mapping wins instead.
    fn flatten(&self, node: &Node) -> Result<Vec<(Node, Node)>, ParamError> {
        let Node::Map { pairs, .. } = node else { unreachable!("flatten is called on mappings") };
        let mut merged: Vec<(Node, Node)> = Vec::new();
        let mut shared_keys: Vec<String> = Vec::new();
        let mut take = |pairs: Vec<(Node, Node)>, merged: &mut Vec<(Node, Node)>| {
            for (key, value) in pairs {
                if let Node::Scalar { value: text, .. } = &key {
                    let mut chars = text.chars();
                    let shared = match (chars.next(), chars.next()) {
                        (None, _) => true,
                        (Some(c), None) => (c as u32) < 256,
                        _ => false,
                    };
                    if shared {
                        if shared_keys.contains(text) {
                            continue;
                        }
                        shared_keys.push(text.clone());
                    }
                }
                merged.push((key, value));
            }
        };
        let mut own = Vec::new();
        for (key, value) in pairs {
            if !is_merge_key(key) {
                own.push((key.clone(), value.clone()));
                continue;
            }
            match value {
                Node::Map { .. } => take(self.flatten(value)?, &mut merged),
                Node::Seq { items, .. } => {
                    for item in items {
                        if !matches!(item, Node::Map { .. }) {
                            return self.fail(item.mark(), "a `<<` merge list may only hold mappings".into());
                        }
                        take(self.flatten(item)?, &mut merged);
                    }
                }
                Node::Scalar { .. } => {
                    return self.fail(value.mark(), "a `<<` merge key needs a mapping or a list of mappings (e.g. `<<: *defaults`)".into())
                }
            }
        }
        merged.extend(own);
        Ok(merged)
    }

    fn scalar(&self, value: &str, style: TScalarStyle, tag: Option<&str>, mark: Marker) -> Result<ParamValue, ParamError> {
        let kind = match tag {
            // PyYAML resolves a scalar with the non-specific tag as if it were plain,
            // even when quoted (`! '12'` is the integer 12).
            Some("!") => resolve_plain(value),
            Some(t) => match t.strip_prefix(YAML_TAG) {
                Some("str") => Kind::Str,
                Some("int") => Kind::Int,
                Some("float") => Kind::Float,
                Some("bool") => Kind::Bool,
                Some("null") => Kind::Null,
                Some("seq") | Some("map") => {
                    return self.fail(mark, format!("the tag {} cannot be used on a scalar", show_tag(t)))
                }
                _ => {
                    return self.fail(
                        mark,
                        format!("the tag {} is not supported; use !!str, !!int, !!float, !!bool or !!null", show_tag(t)),
                    )
                }
            },
            None if style == TScalarStyle::Plain => resolve_plain(value),
            None => Kind::Str,
        };
        let bad = |what: &str| self.fail::<ParamValue>(mark, format!("cannot read {value:?} as {what}"));
        match kind {
            Kind::Str => Ok(ParamValue::Str(value.to_string())),
            Kind::Null => Ok(ParamValue::None),
            Kind::Bool => match value.to_lowercase().as_str() {
                "yes" | "true" | "on" => Ok(ParamValue::Bool(true)),
                "no" | "false" | "off" => Ok(ParamValue::Bool(false)),
                _ => bad("a boolean"),
            },
            Kind::Int => construct_int(value).map(ParamValue::Int).map_or_else(|| bad("an integer"), Ok),
            Kind::Float => construct_float(value).map(ParamValue::Float).map_or_else(|| bad("a float"), Ok),
            Kind::ValueTag => self.fail(
                mark,
                "a bare `=` is YAML 1.1's \"value\" key, which papermill's loader cannot construct; quote it: \"=\"".into(),
            ),
        }
    }
}

fn show_tag(tag: &str) -> String {
    match tag.strip_prefix(YAML_TAG) {
        Some(short) => format!("!!{short}"),
        None => tag.to_string(),
    }
}

fn is_merge_key(node: &Node) -> bool {
    match node {
        Node::Scalar { value, style: TScalarStyle::Plain, tag: None, .. } => value == "<<",
        Node::Scalar { tag: Some(t), .. } => t.strip_prefix(YAML_TAG) == Some("merge"),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Null,
    Bool,
    Int,
    Float,
    ValueTag,
}

/// PyYAML's implicit resolver for plain scalars (YAML 1.1 types), without timestamps.
fn resolve_plain(v: &str) -> Kind {
    if matches!(
        v,
        "yes" | "Yes" | "YES" | "no" | "No" | "NO" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "on"
            | "On" | "ON" | "off" | "Off" | "OFF"
    ) {
        Kind::Bool
    } else if is_yaml11_float(v) {
        Kind::Float
    } else if is_yaml11_int(v) {
        Kind::Int
    } else if matches!(v, "" | "~" | "null" | "Null" | "NULL") {
        Kind::Null
    } else if v == "=" {
        Kind::ValueTag
    } else {
        Kind::Str
    }
}

fn strip_sign(v: &str) -> &str {
    v.strip_prefix(['-', '+']).unwrap_or(v)
}

fn is_digit_or_underscore(c: char) -> bool {
    c.is_ascii_digit() || c == '_'
}

/// `:[0-5]?[0-9]` repeated at least once, to the end of `s`.
fn is_base60_tail(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    s.split(':').skip(1).all(|part| {
        let b = part.as_bytes();
        match b.len() {
            1 => b[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
            _ => false,
        }
    }) && s.starts_with(':')
}

/// `[0-9][0-9_]*` or `[1-9][0-9_]*` (with `first_nonzero`).
fn is_digit_run(s: &str, first_nonzero: bool) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() && (!first_nonzero || c != '0') => chars.all(is_digit_or_underscore),
        _ => false,
    }
}

fn is_yaml11_float(v: &str) -> bool {
    let unsigned = strip_sign(v);
    // [-+]?\.(inf|Inf|INF) and \.(nan|NaN|NAN)
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(v, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    if let Some(colon) = unsigned.find(':') {
        let (head, rest) = unsigned.split_at(colon);
        return match rest.find('.') {
            Some(dot) => {
                is_digit_run(head, false) && is_base60_tail(&rest[..dot]) && rest[dot + 1..].chars().all(is_digit_or_underscore)
            }
            None => false,
        };
    }
    // [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?  or  \.[0-9][0-9_]*([eE][-+][0-9]+)?
    let (body, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        e.strip_prefix(['-', '+']).is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
    });
    let Some((int, frac)) = body.split_once('.') else { return false };
    let mantissa_ok = if int.is_empty() {
        // The dot-first form takes no sign.
        unsigned.len() == v.len() && is_digit_run(frac, false)
    } else {
        is_digit_run(int, false) && frac.chars().all(is_digit_or_underscore)
    };
    mantissa_ok && exponent_ok
}

fn is_yaml11_int(v: &str) -> bool {
    let u = strip_sign(v);
    if let Some(bits) = u.strip_prefix("0b") {
        return !bits.is_empty() && bits.chars().all(|c| matches!(c, '0' | '1' | '_'));
    }
    if let Some(hex) = u.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    if u == "0" {
        return true;
    }
    if let Some(oct) = u.strip_prefix('0') {
        return !oct.is_empty() && oct.chars().all(|c| matches!(c, '0'..='7' | '_'));
    }
    if let Some(colon) = u.find(':') {
        return is_digit_run(&u[..colon], true) && is_base60_tail(&u[colon..]);
    }
    is_digit_run(u, true)
}

/// PyYAML's int constructor: underscores dropped, then binary/hex/octal/base 60/decimal.
fn construct_int(v: &str) -> Option<String> {
    let cleaned: String = v.chars().filter(|c| *c != '_').collect();
    let (negative, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, &cleaned[..]),
    };
    let digits = |s: &str, base: u32| -> Option<BigDecimal> {
        if s.is_empty() {
            return None;
        }
        let ds: Option<Vec<u32>> = s.chars().map(|c| c.to_digit(base)).collect();
        Some(BigDecimal::from_digits(ds?, base))
    };
    let magnitude = if body == "0" {
        BigDecimal::zero()
    } else if let Some(bits) = body.strip_prefix("0b") {
        digits(bits, 2)?
    } else if let Some(hex) = body.strip_prefix("0x") {
        digits(hex, 16)?
    } else if body.starts_with('0') {
        digits(body, 8)?
    } else if body.contains(':') {
        let mut n = BigDecimal::zero();
        for (i, part) in body.split(':').enumerate() {
            let part_value = digits(part, 10)?;
            if i == 0 {
                n = part_value;
            } else {
                n.mul_add(60, part.parse::<u32>().ok()?);
            }
        }
        n
    } else {
        digits(body, 10)?
    };
    Some(signed(negative, &magnitude))
}

/// PyYAML's float constructor: underscores dropped, case folded, `.inf`/`.nan`, base 60
/// summed in the same order as PyYAML (so the rounding matches), else decimal.
fn construct_float(v: &str) -> Option<f64> {
    let cleaned: String = v.chars().filter(|c| *c != '_').collect::<String>().to_lowercase();
    let (sign, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (-1.0, &cleaned[1..]),
        Some(b'+') => (1.0, &cleaned[1..]),
        _ => (1.0, &cleaned[..]),
    };
    if body == ".inf" {
        return Some(sign * f64::INFINITY);
    }
    if body == ".nan" {
        return Some(f64::NAN);
    }
    if body.contains(':') {
        let parts: Option<Vec<f64>> = body.split(':').map(parse_python_float).collect();
        let mut total = 0.0;
        let mut base = 1.0;
        for part in parts?.into_iter().rev() {
            total += part * base;
            base *= 60.0;
        }
        return Some(sign * total);
    }
    parse_python_float(body).map(|f| sign * f)
}

/// Python's `float()` on ASCII decimal text (what PyYAML hands it after cleaning).
fn parse_python_float(s: &str) -> Option<f64> {
    let valid = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && s.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return None;
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(yaml: &str) -> ParamValue {
        let p = parse_yaml(&format!("v: {yaml}"), "test").unwrap_or_else(|e| panic!("{yaml}: {e}"));
        p.get("v").unwrap().clone()
    }

    fn int(s: &str) -> ParamValue {
        ParamValue::Int(s.into())
    }

    fn s(v: &str) -> ParamValue {
        ParamValue::Str(v.into())
    }

    #[test]
    fn booleans_and_nulls_follow_yaml_1_1() {
        for t in ["yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"] {
            assert_eq!(one(t), ParamValue::Bool(true), "{t}");
        }
        for f in ["no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"] {
            assert_eq!(one(f), ParamValue::Bool(false), "{f}");
        }
        for text in ["yEs", "y", "n", "tRUE"] {
            assert_eq!(one(text), s(text));
        }
        for n in ["~", "null", "Null", "NULL", ""] {
            assert_eq!(one(n), ParamValue::None, "{n:?}");
        }
        assert_eq!(one("nULL"), s("nULL"));
    }

    #[test]
    fn integers_in_every_yaml_1_1_form() {
        assert_eq!(one("010"), int("8"));
        assert_eq!(one("0x10"), int("16"));
        assert_eq!(one("-0x_1F"), int("-31"));
        assert_eq!(one("0b101"), int("5"));
        assert_eq!(one("1_000"), int("1000"));
        assert_eq!(one("+7"), int("7"));
        assert_eq!(one("-0"), int("0"));
        assert_eq!(one("0"), int("0"));
        assert_eq!(one("190:20:30"), int("685230"));
        assert_eq!(one("123456789012345678901234567890"), int("123456789012345678901234567890"));
        assert_eq!(one("0xFFFFFFFFFFFFFFFFFFFF"), int("1208925819614629174706175"));
        // Not integers in YAML 1.1.
        assert_eq!(one("09"), s("09"));
        assert_eq!(one("0o17"), s("0o17"));
        assert_eq!(one("1:60"), s("1:60"));
        assert_eq!(one("0:30"), s("0:30"));
    }

    #[test]
    fn floats_need_a_dot() {
        assert_eq!(one("1e3"), s("1e3"));
        assert_eq!(one("1.0e+3"), ParamValue::Float(1000.0));
        assert_eq!(one("1.0e3"), s("1.0e3"));
        assert_eq!(one("1."), ParamValue::Float(1.0));
        assert_eq!(one(".5"), ParamValue::Float(0.5));
        assert_eq!(one("-.5"), s("-.5"));
        assert_eq!(one("1_000.5"), ParamValue::Float(1000.5));
        assert_eq!(one("190:20:30.15"), ParamValue::Float(685230.15));
        assert_eq!(one("-1.5"), ParamValue::Float(-1.5));
        for inf in [".inf", ".Inf", ".INF", "+.inf"] {
            assert_eq!(one(inf), ParamValue::Float(f64::INFINITY));
        }
        assert_eq!(one("-.INF"), ParamValue::Float(f64::NEG_INFINITY));
        assert!(matches!(one(".NaN"), ParamValue::Float(f) if f.is_nan()));
        assert_eq!(one("-.nan"), s("-.nan"));
        assert_eq!(one(".iNF"), s(".iNF"));
        assert_eq!(one("inf"), s("inf"));
    }

    #[test]
    fn dates_and_quoted_scalars_stay_strings() {
        assert_eq!(one("2019-01-01"), s("2019-01-01"));
        assert_eq!(one("2019-01-01 10:00:00"), s("2019-01-01 10:00:00"));
        assert_eq!(one("'010'"), s("010"));
        assert_eq!(one("\"yes\""), s("yes"));
        assert_eq!(one("''"), s(""));
        assert_eq!(one("|\n  yes\n"), s("yes\n"));
    }

    #[test]
    fn explicit_tags() {
        assert_eq!(one("!!str 010"), s("010"));
        assert_eq!(one("!!int \"0x10\""), int("16"));
        assert_eq!(one("!!float 1"), ParamValue::Float(1.0));
        assert_eq!(one("!!float 1e3"), ParamValue::Float(1000.0));
        assert_eq!(one("!!bool yes"), ParamValue::Bool(true));
        assert_eq!(one("! '12'"), int("12"));
        assert_eq!(one("!<tag:yaml.org,2002:int> \"5\""), int("5"));
        let err = parse_yaml("v: !!int abc", "f.yaml").unwrap_err();
        assert!(err.to_string().contains("cannot read \"abc\" as an integer"), "{err}");
        let err = parse_yaml("v: !custom x", "f.yaml").unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc = "base: &b {a: 1, b: 2}\nother: *b\nmerged:\n  <<: *b\n  b: 3\n  c: 4\n";
        let p = parse_yaml(doc, "t").unwrap();
        let dict = |pairs: &[(&str, ParamValue)]| {
            ParamValue::Dict(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
        };
        assert_eq!(p.get("other"), Some(&dict(&[("a", int("1")), ("b", int("2"))])));
        assert_eq!(p.get("merged"), Some(&dict(&[("a", int("1")), ("b", int("3")), ("c", int("4"))])));
        // With a list, mappings merge in order and the later one wins...
        let doc = "x: &x {key: 1, a: 0}\ny: &y {key: 2, b: 0}\nm:\n  <<: [*x, *y]\n";
        let p = parse_yaml(doc, "t").unwrap();
        assert_eq!(p.get("m"), Some(&dict(&[("key", int("2")), ("a", int("0")), ("b", int("0"))])));
        // ...except for one-character keys, where PyYAML keeps the first.
        let doc = "x: &x {k: 1, a: 0}\ny: &y {k: 2, b: 0}\nm:\n  <<: [*x, *y]\n";
        let p = parse_yaml(doc, "t").unwrap();
        assert_eq!(p.get("m"), Some(&dict(&[("k", int("1")), ("a", int("0")), ("b", int("0"))])));
        let err = parse_yaml("a: {<<: 1}", "t").unwrap_err();
        assert!(err.to_string().contains("merge"), "{err}");
    }

    #[test]
    fn keys_are_python_str_with_python_equality() {
        let p = parse_yaml("1: a\ntrue: b\nnull: c\n1.5: d\n2.0: e\n", "t").unwrap();
        let names: Vec<&str> = p.iter().map(|(n, _)| n).collect();
        // `true` equals 1, so it replaces 1's value and keeps the first key's text.
        assert_eq!(names, ["1", "None", "1.5", "2.0"]);
        assert_eq!(p.get("1"), Some(&s("b")));
        let p = parse_yaml("d: {1: x, '1': y}", "t").unwrap();
        assert_eq!(p.get("d"), Some(&ParamValue::Dict(vec![("1".into(), s("x")), ("1".into(), s("y"))])));
        let p = parse_yaml("a: 1\na: 2\nb: 3", "t").unwrap();
        assert_eq!(p.0, vec![("a".to_string(), int("2")), ("b".to_string(), int("3"))]);
        let p = parse_yaml("=: 1", "t").unwrap();
        assert_eq!(p.get("="), Some(&int("1")));
        assert!(parse_yaml("a: =", "t").is_err());
        assert!(parse_yaml("? [1, 2]\n: x", "t").unwrap_err().to_string().contains("dict key"));
    }

    #[test]
    fn json_documents() {
        let p = parse_yaml(r#"{"a": 1, "b": [1.5, "x", null, true], "c": {"d": 1e3}}"#, "p.json").unwrap();
        assert_eq!(p.get("a"), Some(&int("1")));
        assert_eq!(p.get("b"), Some(&ParamValue::List(vec![ParamValue::Float(1.5), s("x"), ParamValue::None, ParamValue::Bool(true)])));
        // PyYAML reads JSON's `1e3` with YAML 1.1 rules: a string.
        assert_eq!(p.get("c"), Some(&ParamValue::Dict(vec![("d".into(), s("1e3"))])));
    }

    #[test]
    fn top_level_must_be_a_mapping() {
        assert!(parse_yaml("", "t").unwrap().is_empty());
        assert!(parse_yaml("~", "t").unwrap().is_empty());
        assert!(parse_yaml("# only a comment\n", "t").unwrap().is_empty());
        let err = parse_yaml("\n- 1\n- 2\n", "params.yaml").unwrap_err();
        assert_eq!(
            err,
            ParamError::Yaml {
                origin: "params.yaml".into(),
                line: 2,
                column: 1,
                message: "parameters must be a mapping of names to values (`name: value` lines), found a list".into()
            }
        );
        let err = parse_yaml("a: 1\n---\nb: 2\n", "t").unwrap_err();
        assert!(err.to_string().contains("single document"), "{err}");
    }

    #[test]
    fn syntax_errors_name_origin_line_and_column() {
        let err = parse_yaml("a: 1\nb: [1, 2\n", "-y").unwrap_err();
        match err {
            ParamError::Yaml { origin, line, .. } => {
                assert_eq!(origin, "-y");
                assert!(line >= 2, "line {line}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            doc.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", ")));
        }
        let err = parse_yaml(&doc, "bomb.yaml").unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
    }
}
