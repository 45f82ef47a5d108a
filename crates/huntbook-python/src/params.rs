//! Parameters between Python and Rust.
//!
//! Python values become [`ParamValue`]s the way papermill's translators see them:
//! `bool` before `int`, ints of any size, floats including nan/inf, lists and tuples
//! as lists, dict keys as their `str()`, and any other object as its `str()` (which
//! papermill renders as a quoted string too). The functions exposed to Python render
//! the injected cell and read YAML with papermill's rules.

use huntbook_notebook::params::{parse_yaml, ParamError, ParamValue, Parameters, Translator};
use pyo3::exceptions::{PyRecursionError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Nesting deeper than this is almost surely a self-referencing list or dict.
const MAX_DEPTH: usize = 256;

/// A Python value as a parameter value.
pub fn py_to_param(obj: &Bound<PyAny>) -> PyResult<ParamValue> {
    convert(obj, 0)
}

fn convert(obj: &Bound<PyAny>, depth: usize) -> PyResult<ParamValue> {
    if depth > MAX_DEPTH {
        return Err(PyRecursionError::new_err(format!(
            "parameter value nested more than {MAX_DEPTH} levels deep (does a list or dict contain itself?)"
        )));
    }
    if obj.is_none() {
        return Ok(ParamValue::None);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(ParamValue::Bool(obj.extract::<bool>()?));
    }
    if obj.is_instance_of::<PyInt>() {
        // `__index__` turns int subclasses (IntEnum...) into a plain int first, whose
        // `str()` is its decimal text at any size.
        let plain = obj.call_method0("__index__")?;
        return Ok(ParamValue::Int(plain.str()?.to_cow()?.into_owned()));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(ParamValue::Float(obj.extract::<f64>()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(ParamValue::Str(text_of(obj)?));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items = obj
            .try_iter()?
            .map(|item| convert(&item?, depth + 1))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(ParamValue::List(items));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut entries = Vec::with_capacity(dict.len());
        for (key, value) in dict.iter() {
            entries.push((key_text(&key)?, convert(&value, depth + 1)?));
        }
        return Ok(ParamValue::Dict(entries));
    }
    Ok(ParamValue::Str(text_of(&obj.str()?.into_any())?))
}

/// `str(key)`, as papermill quotes every dict key.
fn key_text(key: &Bound<PyAny>) -> PyResult<String> {
    if key.is_instance_of::<PyString>() {
        text_of(key)
    } else {
        text_of(&key.str()?.into_any())
    }
}

fn text_of(s: &Bound<PyAny>) -> PyResult<String> {
    s.extract::<String>().map_err(|_| {
        PyValueError::new_err(format!(
            "parameter text {} is not valid Unicode (it holds a lone surrogate)",
            s.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })
}

/// A dict of parameters (names are `str()`-ed) in its insertion order.
pub fn py_to_parameters(dict: &Bound<PyDict>) -> PyResult<Parameters> {
    let mut params = Parameters::new();
    for (key, value) in dict.iter() {
        params.set(key_text(&key)?, py_to_param(&value)?);
    }
    Ok(params)
}

/// A parameter value as a Python object.
pub fn param_to_py<'py>(py: Python<'py>, value: &ParamValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        ParamValue::None => py.None().into_bound(py),
        ParamValue::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        ParamValue::Int(text) => match text.parse::<i64>() {
            Ok(i) => i.into_pyobject(py)?.into_any(),
            Err(_) => py.get_type::<PyInt>().call1((text.as_str(),))?,
        },
        ParamValue::Float(f) => PyFloat::new(py, *f).into_any(),
        ParamValue::Str(s) => PyString::new(py, s).into_any(),
        ParamValue::List(items) => PyList::new(
            py,
            items
                .iter()
                .map(|v| param_to_py(py, v))
                .collect::<PyResult<Vec<_>>>()?,
        )?
        .into_any(),
        ParamValue::Dict(entries) => {
            let dict = PyDict::new(py);
            for (k, v) in entries {
                dict.set_item(k, param_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

fn to_py_err(e: ParamError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The source of the injected parameters cell, as papermill's
/// `translate_parameters(kernel_name, language, parameters)` (without black).
#[pyfunction]
#[pyo3(signature = (kernel_name, language, parameters))]
fn translate_parameters(
    kernel_name: Option<&str>,
    language: Option<&str>,
    parameters: &Bound<PyDict>,
) -> PyResult<String> {
    let translator = Translator::find(kernel_name, language).map_err(to_py_err)?;
    Ok(translator.render(&py_to_parameters(parameters)?))
}

/// A YAML (or JSON) document of parameters read with papermill's YAML 1.1 rules.
#[pyfunction]
#[pyo3(signature = (text, origin = "<string>"))]
fn parse_parameters_yaml<'py>(
    py: Python<'py>,
    text: &str,
    origin: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let params = parse_yaml(text, origin).map_err(to_py_err)?;
    let dict = PyDict::new(py);
    for (name, value) in params.iter() {
        dict.set_item(name, param_to_py(py, value)?)?;
    }
    Ok(dict)
}

/// The parameters declared in the source of a Python `parameters` cell, as
/// `[{name, inferred_type_name, default, help}]` (papermill's `Parameter` fields).
#[pyfunction]
fn inspect_parameters_source<'py>(
    py: Python<'py>,
    source: &str,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    huntbook_notebook::params::inspect::inspect_source(source)
        .into_iter()
        .map(|p| {
            let dict = PyDict::new(py);
            dict.set_item("name", p.name)?;
            dict.set_item("inferred_type_name", p.inferred_type_name)?;
            dict.set_item("default", p.default)?;
            dict.set_item("help", p.help)?;
            Ok(dict)
        })
        .collect()
}

/// papermill's `-p NAME VALUE` typing of one value.
#[pyfunction]
fn resolve_parameter_value<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    param_to_py(py, &huntbook_notebook::params::resolve_cli_value(text))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(translate_parameters, m)?)?;
    m.add_function(wrap_pyfunction!(parse_parameters_yaml, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_parameter_value, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_parameters_source, m)?)?;
    Ok(())
}
