//! The configuration tree: YAML values that remember where they were written.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a value came from: a line of a file, huntbook's built-in defaults, or a
/// caller's code (the arguments of a Python `connect()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File { path: Arc<PathBuf>, line: usize },
    Given(Arc<str>),
}

impl Origin {
    /// The file a value was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Origin::File { path, .. } => Some(path),
            Origin::Default | Origin::Given(_) => None,
        }
    }
}

/// `huntbook.yaml:12` or `built-in default`.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("built-in default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Given(by) => f.write_str(by),
        }
    }
}

/// A YAML value and where it was written. For a mapping entry the origin is the line
/// of its key, which is where a reader looks for the setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: Kind,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    /// Entries in file order; keys are the text of scalar keys.
    Map(Vec<(String, Value)>),
}

impl Value {
    pub fn new(kind: Kind, origin: Origin) -> Value {
        Value { kind, origin }
    }

    /// The entry `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The value at a dotted path (`AzureSentinel.Workspaces.Default`), as MSTICPy's
    /// `get_config` reads it.
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self, |node, key| node.get(key))
    }

    pub fn entries(&self) -> Option<&[(String, Value)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(value) => Some(value),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// A scalar as text (numbers and booleans as YAML writes them), for settings
    /// such as ports that MSTICPy accepts either way.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(text) => Some(text.clone()),
            Kind::Bool(value) => Some(value.to_string()),
            Kind::Int(value) => Some(value.to_string()),
            Kind::Float(value) => Some(value.to_string()),
            Kind::Null | Kind::List(_) | Kind::Map(_) => None,
        }
    }

    /// The value as JSON (a float that JSON cannot hold, NaN or infinite, becomes null).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match &self.kind {
            Kind::Null => Json::Null,
            Kind::Bool(b) => Json::Bool(*b),
            Kind::Int(i) => Json::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Kind::Str(s) => Json::String(s.clone()),
            Kind::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Kind::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// The name of this value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "empty",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "text",
            Kind::List(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_read_as_file_and_line() {
        let origin = Origin::File {
            path: Arc::new(PathBuf::from("conf/huntbook.yaml")),
            line: 12,
        };
        assert_eq!(origin.to_string(), "conf/huntbook.yaml:12");
        assert_eq!(origin.file(), Some(Path::new("conf/huntbook.yaml")));
        assert_eq!(Origin::Default.to_string(), "built-in default");
    }
}
