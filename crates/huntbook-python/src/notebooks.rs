//! Reading executed notebooks for the Python package: the file is read, upgraded and
//! searched for scraps in Rust; Python receives plain dicts, lists and scalars and only
//! decodes what is Python by nature (pandas scraps into DataFrames).

use std::path::PathBuf;

use huntbook_notebook::io::{read_path, NotebookError as ReadError};
use huntbook_notebook::scraps::{read_scraps, Scrap};
use huntbook_notebook::Notebook;
use pyo3::exceptions::{PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde_json::Value;

pyo3::create_exception!(
    huntbook,
    NotebookError,
    PyValueError,
    "A notebook file that cannot be read: not JSON, not nbformat 4, or malformed."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NotebookError", m.py().get_type::<NotebookError>())?;
    m.add_function(wrap_pyfunction!(read_notebook, m)?)?;
    Ok(())
}

/// What `_read_notebook` found in a notebook, before conversion to Python objects.
struct Contents {
    nb: Notebook,
    scraps: Vec<Scrap>,
    warnings: Vec<String>,
}

/// Reads a notebook and returns a dict with `metadata` (dict), `scraps` (a list of
/// `(name, data, encoder, display)` tuples in scrap order), `warnings` (one message per
/// skipped malformed scrap), `execution_counts` and `cell_timing` (one entry per cell).
///
/// Raises `FileNotFoundError` for a missing file and `huntbook.NotebookError` for one
/// that is not a readable nbformat 4 notebook.
#[pyfunction]
#[pyo3(name = "_read_notebook")]
fn read_notebook<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let contents = py.detach(|| {
        let nb = read_path(&path)?;
        let scraps = read_scraps(&nb);
        let warnings = scraps
            .warnings()
            .iter()
            .map(|w| format!("{}: {w}", path.display()))
            .collect();
        Ok::<_, ReadError>(Contents {
            scraps: scraps.into_vec(),
            warnings,
            nb,
        })
    });
    let contents = contents.map_err(|e| match &e {
        ReadError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        _ => NotebookError::new_err(e.to_string()),
    })?;

    let out = PyDict::new(py);
    out.set_item(
        "metadata",
        to_py(py, &Value::Object(contents.nb.metadata.clone()))?,
    )?;
    let scraps = contents
        .scraps
        .iter()
        .map(|s| {
            let data = match &s.data {
                Some(data) => to_py(py, data)?,
                None => py.None().into_bound(py),
            };
            let display = match &s.display {
                Some(display) => to_py(py, &Value::Object(display.clone()))?,
                None => py.None().into_bound(py),
            };
            PyTuple::new(
                py,
                [
                    s.name.clone().into_pyobject(py)?.into_any(),
                    data,
                    s.encoder.clone().into_pyobject(py)?.into_any(),
                    display,
                ],
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    out.set_item("scraps", PyList::new(py, scraps)?)?;
    out.set_item("warnings", PyList::new(py, &contents.warnings)?)?;
    out.set_item(
        "execution_counts",
        PyList::new(py, contents.nb.cells.iter().map(|c| c.execution_count))?,
    )?;
    let timing = contents
        .nb
        .cells
        .iter()
        .map(cell_timing)
        .collect::<Vec<_>>();
    out.set_item("cell_timing", to_py(py, &Value::Array(timing))?)?;
    Ok(out)
}

/// A cell's papermill duration in seconds, as scrapbook reports it: `None` for a cell
/// that never ran, `0.0` for a cell that ran without papermill timing.
fn cell_timing(cell: &huntbook_notebook::Cell) -> Value {
    if cell.execution_count.is_none_or(|n| n == 0) {
        return Value::Null;
    }
    match cell.metadata.get("papermill").and_then(Value::as_object) {
        Some(papermill) => papermill
            .get("duration")
            .cloned()
            .unwrap_or(Value::from(0.0)),
        None => Value::from(0.0),
    }
}

/// A JSON value as the Python object `json.loads` would make of it.
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|v| to_py(py, v))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
