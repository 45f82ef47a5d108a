//! Scraps: named values a notebook records in its outputs, in scrapbook's format.
//!
//! A notebook cell "glues" a value under a name; the value travels in a `display_data`
//! output whose MIME type is `application/scrapbook.scrap.<encoder>+json` and whose
//! payload is `{name, data, encoder, version: 1}`. A scrap may also carry a rendered
//! display: a second output marked by `metadata.scrapbook.display`. Tools that read
//! scrapbook or papermill output notebooks therefore read ours, and the other way round.
//!
//! [`read_scraps`] walks a [`Notebook`] and returns its [`Scraps`] (in order of first
//! appearance, a later scrap of the same name replacing an earlier one), together with
//! a warning for every malformed payload it skipped. [`scrap_output`] and
//! [`display_output`] build the outputs, so Rust code and tests can record scraps too.
//!
//! ```
//! use huntbook_notebook::scraps::{read_scraps, scrap_output};
//! use huntbook_notebook::{Cell, Notebook};
//! use serde_json::json;
//!
//! let mut cell = Cell::code("glue('hits', 12)");
//! cell.outputs.push(scrap_output("hits", json!(12), "json").unwrap());
//! let mut nb = Notebook::new();
//! nb.cells.push(cell);
//!
//! let scraps = read_scraps(&nb);
//! assert_eq!(scraps.get("hits").unwrap().data, Some(json!(12)));
//! assert_eq!(scraps.data_dict()["hits"], 12);
//! assert!(scraps.warnings().is_empty());
//! ```
//!
//! Values stay JSON here: a `pandas` scrap keeps its base64 Parquet text in `data`
//! ([`Scrap::parquet_bytes`] decodes the bytes); turning it into a table is the job of
//! whoever holds a table type (the Python package makes a DataFrame of it).

mod read;
mod write;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::model::JsonMap;

pub use read::{read_scraps, truthy};
pub use write::{display_output, scrap_output, ScrapError};

/// The MIME type prefix of scrapbook data outputs; the encoder and `+json` follow.
pub const SCRAP_MIME_PREFIX: &str = "application/scrapbook.scrap";
/// The MIME type prefix of papermill's older `record()` outputs (`…record+<encoder>`).
pub const RECORD_MIME_PREFIX: &str = "application/papermill.record";
/// The payload version scrapbook writes, and the newest this module knows.
pub const SCRAP_VERSION: u64 = 1;

/// The MIME type of a scrap data output for `encoder`, e.g.
/// `application/scrapbook.scrap.json+json`.
pub fn scrap_mime(encoder: &str) -> String {
    format!("{SCRAP_MIME_PREFIX}.{encoder}+json")
}

/// One named value recorded in a notebook.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrap {
    pub name: String,
    /// The stored value; `None` for a display-only scrap. Encoded values stay encoded
    /// (`pandas`: base64 Parquet text), except that a `json` scrap stored as a string
    /// holding JSON is parsed, as scrapbook does when it reads one.
    pub data: Option<Value>,
    /// How `data` is encoded: `text`, `json`, `pandas`, `display` (display only), or
    /// whatever encoder another tool wrote.
    pub encoder: String,
    /// The display output recorded under this name, kept whole as scrapbook keeps it:
    /// `{output_type, data: <MIME bundle>, metadata}`.
    pub display: Option<JsonMap>,
}

impl Scrap {
    /// The display's MIME bundle (its `data`), when the scrap has a display.
    pub fn display_bundle(&self) -> Option<&JsonMap> {
        self.display.as_ref()?.get("data")?.as_object()
    }

    /// The Parquet file of a `pandas` scrap, decoded from its base64 text. `None` when
    /// the scrap is not a `pandas` scrap with string data.
    pub fn parquet_bytes(&self) -> Option<Result<Vec<u8>, base64::DecodeError>> {
        use base64::Engine as _;
        if self.encoder != "pandas" {
            return None;
        }
        let text = self.data.as_ref()?.as_str()?;
        Some(base64::engine::general_purpose::STANDARD.decode(text.trim()))
    }

    /// `{data, encoder, display}`: the scrap as one JSON value (its name is the key it
    /// is usually stored under).
    pub fn to_json(&self) -> Value {
        let mut map = JsonMap::new();
        map.insert("data".into(), self.data.clone().unwrap_or(Value::Null));
        map.insert("encoder".into(), Value::String(self.encoder.clone()));
        map.insert("display".into(), self.display.clone().map(Value::Object).unwrap_or(Value::Null));
        Value::Object(map)
    }
}

/// An output that could not be read as a scrap, and why. The output is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapWarning {
    /// Index of the cell in the notebook (0-based).
    pub cell: usize,
    /// Index of the output in the cell (0-based).
    pub output: usize,
    pub message: String,
}

impl std::fmt::Display for ScrapWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cell {}, output {}: {}", self.cell, self.output, self.message)
    }
}

/// The scraps of a notebook, in order of first appearance, with the warnings raised
/// while reading them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scraps {
    scraps: Vec<Scrap>,
    warnings: Vec<ScrapWarning>,
}

impl Scraps {
    pub fn get(&self, name: &str) -> Option<&Scrap> {
        self.scraps.iter().find(|s| s.name == name)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Scrap> {
        self.scraps.iter()
    }

    pub fn len(&self) -> usize {
        self.scraps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scraps.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.scraps.iter().map(|s| s.name.as_str())
    }

    /// Malformed outputs that were skipped.
    pub fn warnings(&self) -> &[ScrapWarning] {
        &self.warnings
    }

    /// `{name: data}` for every scrap that has data (scrapbook's `data_dict`).
    pub fn data_dict(&self) -> JsonMap {
        self.scraps.iter().filter_map(|s| Some((s.name.clone(), s.data.clone()?))).collect()
    }

    /// `{name: display output}` for every scrap that has a display.
    pub fn display_dict(&self) -> JsonMap {
        self.scraps
            .iter()
            .filter_map(|s| Some((s.name.clone(), Value::Object(s.display.clone()?))))
            .collect()
    }

    pub fn into_vec(self) -> Vec<Scrap> {
        self.scraps
    }
}

/// Serialises as the JSON object `{name: {data, encoder, display}}`, keys in scrap
/// order (a `serde_json::Value` would sort them).
impl Serialize for Scraps {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Entry<'a> {
            data: &'a Option<Value>,
            encoder: &'a str,
            display: &'a Option<JsonMap>,
        }
        let mut map = serializer.serialize_map(Some(self.scraps.len()))?;
        for s in &self.scraps {
            map.serialize_entry(&s.name, &Entry { data: &s.data, encoder: &s.encoder, display: &s.display })?;
        }
        map.end()
    }
}

impl<'a> IntoIterator for &'a Scraps {
    type Item = &'a Scrap;
    type IntoIter = std::slice::Iter<'a, Scrap>;

    fn into_iter(self) -> Self::IntoIter {
        self.scraps.iter()
    }
}

impl IntoIterator for Scraps {
    type Item = Scrap;
    type IntoIter = std::vec::IntoIter<Scrap>;

    fn into_iter(self) -> Self::IntoIter {
        self.scraps.into_iter()
    }
}
