//! The nbformat 4.5 data model.
//!
//! The structs mirror the JSON file: every field the format names is typed, and every
//! field it does not name (a tool's own keys, future keys) is kept in `extra` and written
//! back unchanged. Multi-line strings are held joined; [`crate::io`] splits them into
//! lists of lines on write, as Python's nbformat does.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object: metadata, MIME bundles and unknown fields.
pub type JsonMap = Map<String, Value>;

/// A notebook, as stored in an `.ipynb` file (nbformat 4.5 once read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notebook {
    pub nbformat: u32,
    pub nbformat_minor: u32,
    #[serde(default)]
    pub metadata: JsonMap,
    #[serde(default)]
    pub cells: Vec<Cell>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The kind of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellType {
    Code,
    Markdown,
    Raw,
}

/// One cell. `execution_count` and `outputs` exist only on code cells; they are
/// skipped when writing other kinds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub cell_type: CellType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub metadata: JsonMap,
    #[serde(default)]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Output>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// One output of a code cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "output_type", rename_all = "snake_case")]
pub enum Output {
    Stream {
        name: String,
        text: String,
        #[serde(flatten)]
        extra: JsonMap,
    },
    DisplayData {
        data: JsonMap,
        #[serde(default)]
        metadata: JsonMap,
        #[serde(flatten)]
        extra: JsonMap,
    },
    ExecuteResult {
        execution_count: Option<i64>,
        data: JsonMap,
        #[serde(default)]
        metadata: JsonMap,
        #[serde(flatten)]
        extra: JsonMap,
    },
    Error {
        ename: String,
        evalue: String,
        #[serde(default)]
        traceback: Vec<String>,
        #[serde(flatten)]
        extra: JsonMap,
    },
}

impl Output {
    /// A stream output (`stdout` or `stderr`).
    pub fn stream(name: &str, text: impl Into<String>) -> Output {
        Output::Stream { name: name.to_string(), text: text.into(), extra: JsonMap::new() }
    }

    /// A `display_data` output.
    pub fn display(data: JsonMap, metadata: JsonMap) -> Output {
        Output::DisplayData { data, metadata, extra: JsonMap::new() }
    }

    /// An `error` output.
    pub fn error(ename: &str, evalue: &str, traceback: Vec<String>) -> Output {
        Output::Error {
            ename: ename.to_string(),
            evalue: evalue.to_string(),
            traceback,
            extra: JsonMap::new(),
        }
    }

    /// The MIME bundle of a display or execute result.
    pub fn data(&self) -> Option<&JsonMap> {
        match self {
            Output::DisplayData { data, .. } | Output::ExecuteResult { data, .. } => Some(data),
            _ => None,
        }
    }

    /// The output metadata of a display or execute result.
    pub fn metadata(&self) -> Option<&JsonMap> {
        match self {
            Output::DisplayData { metadata, .. } | Output::ExecuteResult { metadata, .. } => {
                Some(metadata)
            }
            _ => None,
        }
    }
}

impl Cell {
    /// A new code cell with a fresh id.
    pub fn code(source: impl Into<String>) -> Cell {
        Cell::new(CellType::Code, source)
    }

    /// A new markdown cell with a fresh id.
    pub fn markdown(source: impl Into<String>) -> Cell {
        Cell::new(CellType::Markdown, source)
    }

    fn new(cell_type: CellType, source: impl Into<String>) -> Cell {
        Cell {
            cell_type,
            id: Some(new_cell_id()),
            metadata: JsonMap::new(),
            source: source.into(),
            execution_count: None,
            outputs: Vec::new(),
            extra: JsonMap::new(),
        }
    }

    pub fn is_code(&self) -> bool {
        self.cell_type == CellType::Code
    }

    /// The cell's tags (`metadata.tags`), empty when it has none.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.metadata
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags().any(|t| t == tag)
    }

    /// Sets `metadata.tags` to exactly these tags.
    pub fn set_tags(&mut self, tags: &[&str]) {
        self.metadata.insert("tags".into(), Value::from(tags.to_vec()));
    }

    /// Whether the input is hidden (`metadata.jupyter.source_hidden`).
    pub fn source_hidden(&self) -> bool {
        self.metadata
            .get("jupyter")
            .and_then(|j| j.get("source_hidden"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Sets `metadata.jupyter.source_hidden = true`, keeping other `jupyter` keys.
    pub fn hide_source(&mut self) {
        let jupyter = self.metadata.entry("jupyter").or_insert_with(|| Value::Object(JsonMap::new()));
        if !jupyter.is_object() {
            *jupyter = Value::Object(JsonMap::new());
        }
        jupyter.as_object_mut().expect("object").insert("source_hidden".into(), Value::Bool(true));
    }

    /// A mutable sub-object of the metadata, created when absent (or not an object).
    pub fn metadata_object(&mut self, key: &str) -> &mut JsonMap {
        object_entry(&mut self.metadata, key)
    }
}

impl Notebook {
    /// An empty nbformat 4.5 notebook.
    pub fn new() -> Notebook {
        Notebook { nbformat: 4, nbformat_minor: 5, metadata: JsonMap::new(), cells: Vec::new(), extra: JsonMap::new() }
    }

    /// The index of the first cell carrying `tag`.
    pub fn find_tagged(&self, tag: &str) -> Option<usize> {
        self.cells.iter().position(|c| c.has_tag(tag))
    }

    /// `metadata.kernelspec.name`.
    pub fn kernel_name(&self) -> Option<&str> {
        self.metadata.get("kernelspec")?.get("name")?.as_str()
    }

    /// The language: `metadata.language_info.name`, else `metadata.kernelspec.language`.
    pub fn language(&self) -> Option<&str> {
        self.metadata
            .get("language_info")
            .and_then(|l| l.get("name"))
            .and_then(Value::as_str)
            .or_else(|| self.metadata.get("kernelspec")?.get("language")?.as_str())
    }

    /// A mutable sub-object of the notebook metadata, created when absent.
    pub fn metadata_object(&mut self, key: &str) -> &mut JsonMap {
        object_entry(&mut self.metadata, key)
    }
}

impl Default for Notebook {
    fn default() -> Self {
        Notebook::new()
    }
}

/// `map[key]` as an object, replacing a value of another type.
pub fn object_entry<'a>(map: &'a mut JsonMap, key: &str) -> &'a mut JsonMap {
    let entry = map.entry(key).or_insert_with(|| Value::Object(JsonMap::new()));
    if !entry.is_object() {
        *entry = Value::Object(JsonMap::new());
    }
    entry.as_object_mut().expect("object")
}

/// A new cell id: 8 hex digits, as Python's nbformat makes them.
pub fn new_cell_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_hidden_source() {
        let mut cell = Cell::code("x = 1");
        assert!(!cell.has_tag("parameters"));
        cell.set_tags(&["parameters", "other"]);
        assert!(cell.has_tag("parameters"));
        assert_eq!(cell.tags().collect::<Vec<_>>(), ["parameters", "other"]);
        cell.metadata.insert("jupyter".into(), serde_json::json!({"outputs_hidden": true}));
        cell.hide_source();
        assert!(cell.source_hidden());
        assert_eq!(cell.metadata["jupyter"]["outputs_hidden"], true);
    }

    #[test]
    fn cell_ids_are_valid() {
        let id = new_cell_id();
        assert_eq!(id.len(), 8);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, new_cell_id());
    }
}
