//! Reads a YAML document into a [`Value`] tree that keeps each value's line, using
//! the event parser of `yaml-rust2` (its `Yaml` tree drops positions).
//!
//! Scalars are typed as PyYAML's `safe_load` types them, since MSTICPy reads the same
//! files with it: `yes`/`no`/`on`/`off` are booleans as well as `true`/`false`. Merge
//! keys (`<<: *anchor`) and aliases are expanded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::value::{Kind, Origin, Value};
use super::ConfigError;

/// Parses `text`, read from `path` (or the built-in defaults when `path` is `None`),
/// into a mapping. An empty document is an empty mapping.
pub(crate) fn parse_mapping(text: &str, path: Option<Arc<PathBuf>>) -> Result<Value, ConfigError> {
    let shown_path = || path.as_deref().cloned().unwrap_or_default();
    let mut builder = Builder {
        path: path.clone(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        error: None,
        documents: 0,
    };
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|e| ConfigError::Yaml {
            path: shown_path(),
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
    if let Some((marker, message)) = builder.error {
        return Err(ConfigError::Yaml {
            path: shown_path(),
            line: marker.line(),
            column: marker.col() + 1,
            message,
        });
    }
    let origin = builder.origin_at(1);
    match builder.root {
        None => Ok(Value::new(Kind::Map(Vec::new()), origin)),
        Some(root) if root.is_null() => Ok(Value::new(Kind::Map(Vec::new()), origin)),
        Some(
            root @ Value {
                kind: Kind::Map(_), ..
            },
        ) => Ok(root),
        Some(other) => Err(ConfigError::NotAMapping {
            path: shown_path(),
            found: other.type_name(),
        }),
    }
}

enum Frame {
    List {
        items: Vec<Value>,
        anchor: usize,
        origin: Origin,
    },
    Map {
        entries: Vec<(String, Value)>,
        key: Option<(String, Marker)>,
        merged: Vec<Value>,
        anchor: usize,
        origin: Origin,
    },
}

struct Builder {
    path: Option<Arc<PathBuf>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    root: Option<Value>,
    error: Option<(Marker, String)>,
    documents: usize,
}

impl Builder {
    fn origin_at(&self, line: usize) -> Origin {
        match &self.path {
            Some(path) => Origin::File {
                path: path.clone(),
                line,
            },
            None => Origin::Default,
        }
    }

    fn fail(&mut self, marker: Marker, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some((marker, message.into()));
        }
    }

    /// Places a finished value in its parent: a list item, a mapping key, a mapping
    /// value, or the document root.
    fn place(&mut self, mut value: Value, anchor: usize, marker: Marker) {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::List { items, .. }) => items.push(value),
            Some(Frame::Map {
                entries,
                key,
                merged,
                ..
            }) => match key.take() {
                None => match value.scalar_text() {
                    Some(text) => *key = Some((text, marker)),
                    None if value.is_null() => *key = Some((String::new(), marker)),
                    None => self.fail(
                        marker,
                        "mapping keys must be plain text, not a list or mapping",
                    ),
                },
                Some((name, key_marker)) if name == "<<" => match value.kind {
                    Kind::Map(_) => merged.push(value),
                    Kind::List(items) => merged.extend(items),
                    _ => self.fail(key_marker, "a merge key (<<) must refer to a mapping"),
                },
                Some((name, key_marker)) => {
                    value.origin = match &value.origin {
                        Origin::File { path, .. } => Origin::File {
                            path: path.clone(),
                            line: key_marker.line(),
                        },
                        other => other.clone(),
                    };
                    // A repeated key replaces the earlier one, as in PyYAML.
                    entries.retain(|(k, _)| *k != name);
                    entries.push((name, value));
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, marker: Marker) {
        if self.error.is_some() {
            return;
        }
        let origin = self.origin_at(marker.line());
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fail(
                        marker,
                        "a configuration file holds one YAML document; remove the extra `---`",
                    );
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let forced_text = tag.is_some_and(|t| t.suffix == "str");
                let kind = if style == TScalarStyle::Plain && !forced_text {
                    plain_scalar(text)
                } else {
                    Kind::Str(text)
                };
                self.place(Value::new(kind, origin), anchor, marker);
            }
            Event::Alias(anchor) => match self.anchors.get(&anchor) {
                Some(value) => {
                    let mut value = value.clone();
                    value.origin = origin;
                    self.place(value, 0, marker);
                }
                None => self.fail(marker, "alias to an unknown anchor"),
            },
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::List {
                items: Vec::new(),
                anchor,
                origin,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                key: None,
                merged: Vec::new(),
                anchor,
                origin,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor) = match self.stack.pop() {
                    Some(Frame::List {
                        items,
                        anchor,
                        origin,
                    }) => (Value::new(Kind::List(items), origin), anchor),
                    Some(Frame::Map {
                        mut entries,
                        merged,
                        anchor,
                        origin,
                        ..
                    }) => {
                        // Keys written in the mapping win over merged ones, whatever
                        // their order; among merged mappings the first wins.
                        for source in merged {
                            for (k, v) in source.entries().unwrap_or_default() {
                                if !entries.iter().any(|(existing, _)| existing == k) {
                                    entries.push((k.clone(), v.clone()));
                                }
                            }
                        }
                        (Value::new(Kind::Map(entries), origin), anchor)
                    }
                    None => return,
                };
                self.place(value, anchor, marker);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

/// Types a plain scalar as PyYAML's safe loader (YAML 1.1) does for the types a
/// configuration uses.
fn plain_scalar(text: String) -> Kind {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Kind::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Kind::Bool(false)
        }
        _ => {}
    }
    let digits = text.replace('_', "");
    let (sign, unsigned) = match digits.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, digits.strip_prefix('+').unwrap_or(&digits)),
    };
    let integer = if let Some(hex) = unsigned.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(octal) = unsigned.strip_prefix("0o") {
        i64::from_str_radix(octal, 8).ok()
    } else if unsigned.bytes().all(|b| b.is_ascii_digit()) && !unsigned.is_empty() {
        unsigned.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(integer) = integer {
        return Kind::Int(sign * integer);
    }
    let looks_numeric = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && digits.bytes().any(|b| b.is_ascii_digit());
    match digits.parse::<f64>() {
        Ok(number) if looks_numeric => Kind::Float(number),
        _ => Kind::Str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Value {
        parse_mapping(text, Some(Arc::new(PathBuf::from("t.yaml")))).unwrap()
    }

    fn line(value: &Value) -> usize {
        match value.origin {
            Origin::File { line, .. } => line,
            _ => 0,
        }
    }

    #[test]
    fn values_remember_the_line_of_their_key() {
        let root = parse(
            "# comment\nAzureSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: abc\n\nTIProviders:\n  OTX:\n    Args:\n      AuthKey:\n        EnvironmentVar: OTX_KEY\n",
        );
        assert_eq!(line(root.get_path("AzureSentinel").unwrap()), 2);
        assert_eq!(
            line(
                root.get_path("AzureSentinel.Workspaces.Default.WorkspaceId")
                    .unwrap()
            ),
            5
        );
        assert_eq!(
            line(root.get_path("TIProviders.OTX.Args.AuthKey").unwrap()),
            10
        );
        assert_eq!(
            root.get_path("TIProviders.OTX.Args.AuthKey.EnvironmentVar")
                .unwrap()
                .as_str(),
            Some("OTX_KEY")
        );
    }

    #[test]
    fn scalars_are_typed_like_pyyaml() {
        let root = parse(
            "a: True\nb: no\nc: 8089\nd: '8089'\ne: 1.5\nf:\ng: ~\nh: text\ni: !!str yes\nj: 0x1F\nk: -3\nl: 1e3\nm: -3d@d\n",
        );
        let kind = |k: &str| root.get(k).unwrap().kind.clone();
        assert_eq!(kind("a"), Kind::Bool(true));
        assert_eq!(kind("b"), Kind::Bool(false));
        assert_eq!(kind("c"), Kind::Int(8089));
        assert_eq!(kind("d"), Kind::Str("8089".into()));
        assert_eq!(kind("e"), Kind::Float(1.5));
        assert_eq!(kind("f"), Kind::Null);
        assert_eq!(kind("g"), Kind::Null);
        assert_eq!(kind("h"), Kind::Str("text".into()));
        assert_eq!(kind("i"), Kind::Str("yes".into()));
        assert_eq!(kind("j"), Kind::Int(31));
        assert_eq!(kind("k"), Kind::Int(-3));
        assert_eq!(kind("l"), Kind::Float(1000.0));
        assert_eq!(kind("m"), Kind::Str("-3d@d".into()));
    }

    #[test]
    fn anchors_and_merge_keys_expand() {
        let root = parse(
            "base: &ws\n  TenantId: t1\n  WorkspaceId: w1\nDefault:\n  <<: *ws\n  WorkspaceId: w2\nCopy: *ws\n",
        );
        let default = root.get("Default").unwrap();
        assert_eq!(default.get("TenantId").unwrap().as_str(), Some("t1"));
        assert_eq!(default.get("WorkspaceId").unwrap().as_str(), Some("w2"));
        assert_eq!(
            root.get_path("Copy.WorkspaceId").unwrap().as_str(),
            Some("w1")
        );
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value() {
        let root = parse("a: 1\na: 2\n");
        assert_eq!(root.entries().unwrap().len(), 1);
        assert_eq!(root.get("a").unwrap().kind, Kind::Int(2));
    }

    #[test]
    fn empty_files_are_empty_mappings() {
        assert_eq!(parse("").entries().unwrap().len(), 0);
        assert_eq!(parse("# only a comment\n").entries().unwrap().len(), 0);
    }

    #[test]
    fn malformed_yaml_names_file_line_and_column() {
        let err = parse_mapping(
            "a: 1\nb: [unclosed\nc: 3\n",
            Some(Arc::new(PathBuf::from("bad.yaml"))),
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("bad.yaml:"), "{message}");
        assert!(
            matches!(err, ConfigError::Yaml { line, .. } if line >= 2),
            "{message}"
        );

        let err =
            parse_mapping("- a\n- b\n", Some(Arc::new(PathBuf::from("list.yaml")))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "list.yaml: the file must be a YAML mapping of sections (AzureSentinel:, TIProviders: ...), not a list"
        );

        let err = parse_mapping(
            "a: 1\n---\nb: 2\n",
            Some(Arc::new(PathBuf::from("two.yaml"))),
        )
        .unwrap_err();
        assert!(err.to_string().contains("one YAML document"), "{err}");

        let err =
            parse_mapping("? [a, b]\n: 1\n", Some(Arc::new(PathBuf::from("k.yaml")))).unwrap_err();
        assert!(
            err.to_string().contains("mapping keys must be plain text"),
            "{err}"
        );
    }
}
