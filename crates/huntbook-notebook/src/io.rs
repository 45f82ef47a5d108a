//! Reading and writing `.ipynb` files.
//!
//! Reading accepts nbformat 4.0–4.5 and upgrades to 4.5 (missing or duplicate cell ids
//! are replaced). It also accepts the bare `NaN` / `Infinity` tokens that papermill
//! writes for a YAML `.inf` parameter: they are read as the strings `"nan"`, `"inf"`,
//! `"-inf"`, which is how huntbook stores them.
//!
//! Writing produces what Python's `nbformat.writes` produces: keys sorted, one-space
//! indent, non-ASCII text unescaped, multi-line strings as lists of lines. Files are
//! written to a temporary sibling and renamed, so a reader never sees half a notebook.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value};

use crate::model::{new_cell_id, Notebook};

/// Why a notebook could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    #[error("cannot read notebook {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write notebook {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("{path} is not valid notebook JSON: {message}")]
    Json { path: String, message: String },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
}

/// Reads and upgrades a notebook file. `path` is used in error messages.
pub fn read_path(path: &Path) -> Result<Notebook, NotebookError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| NotebookError::Read { path: path.display().to_string(), source })?;
    parse(&text, &path.display().to_string())
}

/// Parses notebook JSON text; `origin` names the source in errors.
pub fn parse(text: &str, origin: &str) -> Result<Notebook, NotebookError> {
    let json_err = |e: serde_json::Error| NotebookError::Json {
        path: origin.to_string(),
        message: format!("{e} — check that the file is a Jupyter notebook and not truncated"),
    };
    let mut value: Value = serde_json::from_str(&quote_non_finite(text)).map_err(json_err)?;
    let format_err = |message: String| NotebookError::Format { path: origin.to_string(), message };
    let obj = value.as_object_mut().ok_or_else(|| format_err("the top level is not a JSON object".into()))?;
    let major = obj.get("nbformat").and_then(Value::as_u64);
    match major {
        Some(4) => {}
        Some(v) => {
            return Err(format_err(format!(
                "nbformat {v} is not supported; huntbook reads nbformat 4.0–4.5 (convert with `jupyter nbconvert --to notebook`)"
            )))
        }
        None => return Err(format_err("missing `nbformat` version: this is not a Jupyter notebook".into())),
    }
    let cells = obj.get_mut("cells").and_then(Value::as_array_mut);
    let Some(cells) = cells else {
        return Err(format_err("missing `cells` list".into()));
    };
    for (index, cell) in cells.iter_mut().enumerate() {
        let cell = cell
            .as_object_mut()
            .ok_or_else(|| format_err(format!("cell {index} is not a JSON object")))?;
        join_multiline(cell);
    }
    let mut nb: Notebook = serde_json::from_value(value).map_err(|e| format_err(format!("{e}")))?;
    upgrade(&mut nb);
    Ok(nb)
}

/// Upgrades 4.0–4.4 to 4.5: every cell gets a valid, unique id.
fn upgrade(nb: &mut Notebook) {
    nb.nbformat_minor = nb.nbformat_minor.max(5);
    let mut seen = HashSet::new();
    for cell in &mut nb.cells {
        let valid = cell.id.as_deref().is_some_and(|id| {
            (1..=64).contains(&id.len())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !seen.contains(id)
        });
        if !valid {
            cell.id = Some(new_cell_id());
        }
        seen.insert(cell.id.clone().expect("id set"));
    }
}

/// Serialises a notebook the way Python's `nbformat.writes` does.
pub fn to_string(nb: &Notebook) -> String {
    let mut value = serde_json::to_value(nb).expect("a notebook always serialises");
    if let Some(cells) = value.get_mut("cells").and_then(Value::as_array_mut) {
        for cell in cells.iter_mut().filter_map(Value::as_object_mut) {
            shape_cell_for_write(cell);
        }
    }
    let value = sort_keys(value);
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&value, &mut ser).expect("writing to memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes `nb` to `path` atomically (temporary sibling, then rename).
pub fn write_path(nb: &Notebook, path: &Path) -> Result<(), NotebookError> {
    write_atomic(path, to_string(nb).as_bytes())
        .map_err(|source| NotebookError::Write { path: path.display().to_string(), source })
}

/// Writes bytes to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_data()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Replaces the bare tokens `NaN`, `Infinity` and `-Infinity` outside strings with the
/// strings `"nan"`, `"inf"` and `"-inf"`, so that a strict JSON parser accepts
/// notebooks written by Python's `json` module with `allow_nan`.
fn quote_non_finite(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let replaced = [("-Infinity", "\"-inf\""), ("Infinity", "\"inf\""), ("NaN", "\"nan\"")]
            .into_iter()
            .find(|(token, _)| rest.starts_with(token));
        if let Some((token, with)) = replaced {
            out.push_str(with);
            rest = &rest[token.len()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.into()
}

/// Whether a MIME type holds JSON (kept as a value, never split into lines).
pub fn is_json_mime(mime: &str) -> bool {
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Joins list-of-lines fields of a raw cell into strings.
fn join_multiline(cell: &mut Map<String, Value>) {
    join_field(cell, "source");
    if let Some(outputs) = cell.get_mut("outputs").and_then(Value::as_array_mut) {
        for output in outputs.iter_mut().filter_map(Value::as_object_mut) {
            join_field(output, "text");
            if let Some(data) = output.get_mut("data").and_then(Value::as_object_mut) {
                for (mime, value) in data.iter_mut() {
                    if !is_json_mime(mime) {
                        join_value(value);
                    }
                }
            }
        }
    }
}

fn join_field(map: &mut Map<String, Value>, key: &str) {
    if let Some(value) = map.get_mut(key) {
        join_value(value);
    }
}

fn join_value(value: &mut Value) {
    if let Value::Array(items) = value {
        if items.iter().all(Value::is_string) {
            let joined: String = items.iter().filter_map(Value::as_str).collect();
            *value = Value::String(joined);
        }
    }
}

/// Puts a serialised cell in the shape nbformat writes: code cells always carry
/// `execution_count` and `outputs`, other cells never do; text is split into lines.
fn shape_cell_for_write(cell: &mut Map<String, Value>) {
    let is_code = cell.get("cell_type").and_then(Value::as_str) == Some("code");
    if is_code {
        cell.entry("execution_count").or_insert(Value::Null);
        cell.entry("outputs").or_insert_with(|| Value::Array(Vec::new()));
    } else {
        cell.remove("execution_count");
        cell.remove("outputs");
    }
    split_field(cell, "source");
    if let Some(outputs) = cell.get_mut("outputs").and_then(Value::as_array_mut) {
        for output in outputs.iter_mut().filter_map(Value::as_object_mut) {
            split_field(output, "text");
            if let Some(data) = output.get_mut("data").and_then(Value::as_object_mut) {
                for (mime, value) in data.iter_mut() {
                    if !is_json_mime(mime) {
                        split_value(value);
                    }
                }
            }
        }
    }
}

fn split_field(map: &mut Map<String, Value>, key: &str) {
    if let Some(value) = map.get_mut(key) {
        split_value(value);
    }
}

/// Python's `str.splitlines(True)` for the line endings notebooks use.
fn split_value(value: &mut Value) {
    if let Value::String(text) = value {
        let lines: Vec<Value> = text.split_inclusive('\n').map(|l| Value::String(l.to_string())).collect();
        *value = Value::Array(lines);
    }
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CellType, Output};

    const V44: &str = r##"{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
  {"cell_type": "code", "execution_count": 3, "metadata": {"tags": ["parameters"], "custom": {"k": 1}},
   "outputs": [
     {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]},
     {"output_type": "display_data", "data": {"text/plain": ["x\n", "y"], "application/vnd.custom+json": {"a": [1, 2]}}, "metadata": {}},
     {"output_type": "execute_result", "execution_count": 3, "data": {"text/plain": "3"}, "metadata": {}, "future_key": true}
   ],
   "source": "x = 1\ny = 2"}
 ],
 "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}, "papermill": {"parameters": {"f": NaN, "g": Infinity, "h": -Infinity, "s": "NaN Infinity"}}},
 "nbformat": 4,
 "nbformat_minor": 4
}"##;

    #[test]
    fn reads_legacy_and_upgrades() {
        let nb = parse(V44, "t.ipynb").unwrap();
        assert_eq!((nb.nbformat, nb.nbformat_minor), (4, 5));
        assert!(nb.cells.iter().all(|c| c.id.as_ref().is_some_and(|id| id.len() == 8)));
        assert_eq!(nb.cells[0].cell_type, CellType::Markdown);
        assert_eq!(nb.cells[0].source, "# Title\ntext");
        assert_eq!(nb.cells[1].source, "x = 1\ny = 2");
        assert_eq!(nb.cells[1].execution_count, Some(3));
        assert_eq!(nb.cells[1].outputs[0], Output::stream("stdout", "a\nb\n"));
        assert_eq!(nb.kernel_name(), Some("python3"));
        let params = &nb.metadata["papermill"]["parameters"];
        assert_eq!(params["f"], "nan");
        assert_eq!(params["g"], "inf");
        assert_eq!(params["h"], "-inf");
        assert_eq!(params["s"], "NaN Infinity");
    }

    #[test]
    fn round_trip_keeps_unknown_fields_and_mime_types() {
        let nb = parse(V44, "t.ipynb").unwrap();
        let text = to_string(&nb);
        let again = parse(&text, "again").unwrap();
        assert_eq!(nb, again);
        let raw: Value = serde_json::from_str(&text).unwrap();
        let code = &raw["cells"][1];
        assert_eq!(code["metadata"]["custom"]["k"], 1);
        assert_eq!(code["outputs"][1]["data"]["text/plain"], serde_json::json!(["x\n", "y"]));
        assert_eq!(code["outputs"][1]["data"]["application/vnd.custom+json"]["a"][1], 2);
        assert_eq!(code["outputs"][2]["future_key"], true);
        assert_eq!(code["source"], serde_json::json!(["x = 1\n", "y = 2"]));
        assert!(raw["cells"][0].get("outputs").is_none());
        assert!(raw["cells"][0].get("execution_count").is_none());
        assert!(!text.ends_with('\n'));
        assert!(text.starts_with("{\n \"cells\": [\n  {"));
    }

    #[test]
    fn code_cells_always_have_count_and_outputs() {
        let mut nb = Notebook::new();
        nb.cells.push(crate::model::Cell::code(""));
        let raw: Value = serde_json::from_str(&to_string(&nb)).unwrap();
        assert_eq!(raw["cells"][0]["execution_count"], Value::Null);
        assert_eq!(raw["cells"][0]["outputs"], serde_json::json!([]));
    }

    #[test]
    fn duplicate_ids_are_replaced() {
        let text = r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "id": "same", "metadata": {}, "source": "", "outputs": [], "execution_count": null},
            {"cell_type": "code", "id": "same", "metadata": {}, "source": "", "outputs": [], "execution_count": null}]}"#;
        let nb = parse(text, "t").unwrap();
        assert_eq!(nb.cells[0].id.as_deref(), Some("same"));
        assert_ne!(nb.cells[1].id.as_deref(), Some("same"));
    }

    #[test]
    fn bad_input_names_the_problem() {
        let err = parse("{\"cells\": [", "broken.ipynb").unwrap_err().to_string();
        assert!(err.contains("broken.ipynb") && err.contains("line"), "{err}");
        let err = parse(r#"{"nbformat": 3, "worksheets": []}"#, "old.ipynb").unwrap_err().to_string();
        assert!(err.contains("nbformat 3"), "{err}");
        let err = parse(r#"{"nbformat": 4, "nbformat_minor": 2, "cells": [{"cell_type": "bogus"}]}"#, "b.ipynb")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ipynb");
        write_path(&Notebook::new(), &path).unwrap();
        write_path(&Notebook::new(), &path).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.ipynb")]);
        assert!(write_path(&Notebook::new(), &dir.path().join("missing/out.ipynb")).is_err());
    }
}
