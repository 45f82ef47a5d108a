//! Query providers (`huntbook_data`): a store of MSTICPy-format query templates paired
//! with the driver of one data environment. The `huntbook.QueryProvider` class turns
//! the store's families into attributes; here are the calls it makes. Queries run
//! with the GIL released and return Arrow batches.
use std::path::PathBuf;

use huntbook_core::config::{Config, ConfigSearch};
use huntbook_core::time::Period;
use huntbook_data::sample;
use huntbook_data::{Driver, Environment, ParamValue, QueryProvider, QuerySource};
use huntbook_table::Table;
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::arrow::PyBatch;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

#[pyclass(name = "QueryProvider", module = "huntbook._huntbook", frozen)]
struct PyQueryProvider {
    inner: QueryProvider,
}

/// The driver for a local environment; the remote ones are not reachable from
/// Python yet.
fn local_driver(environment: &Environment, data_paths: &[PathBuf]) -> PyResult<Box<dyn Driver>> {
    huntbook_data::local_driver(environment, data_paths)
        .map_err(value_error)?
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "the {environment} driver is not available from Python yet; the local ones \
                 are LocalData, OSQueryLogs and VelociraptorLogs"
            ))
        })
}

/// A Python value as a query parameter: text, numbers, booleans and lists of them
/// (the Python side turns datetimes into ISO text first).
fn param_value(value: &Bound<'_, PyAny>) -> PyResult<ParamValue> {
    if value.is_instance_of::<PyBool>() {
        return Ok(ParamValue::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(ParamValue::Int(value.extract()?));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(ParamValue::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(ParamValue::Text(value.extract()?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| param_value(&item?))
            .collect::<PyResult<_>>()
            .map(ParamValue::List);
    }
    Err(PyTypeError::new_err(format!(
        "a query parameter is text, a number, a bool, a datetime or a list of them, not {}",
        value.get_type().name()?
    )))
}

fn param_values(values: Vec<(String, Bound<'_, PyAny>)>) -> PyResult<Vec<(String, ParamValue)>> {
    values
        .into_iter()
        .map(|(name, v)| Ok((name, param_value(&v)?)))
        .collect()
}

/// One batch for Python: a query's batches joined.
fn one_batch(table: Table) -> PyResult<PyBatch> {
    table.concat().map(PyBatch::from).map_err(value_error)
}

#[pymethods]
impl PyQueryProvider {
    /// Folders not given come from the configuration, as MSTICPy reads them:
    /// `QueryDefinitions.Custom` for queries, `DataProviders.<env>.data_paths` for
    /// local data, else the current folder.
    #[new]
    #[pyo3(signature = (environment, query_paths=Vec::new(), data_paths=Vec::new()))]
    fn new(
        environment: &str,
        mut query_paths: Vec<PathBuf>,
        mut data_paths: Vec<PathBuf>,
    ) -> PyResult<Self> {
        let environment = Environment::parse(environment);
        let config = Config::load(&ConfigSearch::from_process()).map_err(value_error)?;
        query_paths.extend(config.query_paths());
        if data_paths.is_empty() {
            data_paths = config.paths(&format!("DataProviders.{}.data_paths", environment.name()));
        }
        if data_paths.is_empty() && environment == Environment::LocalData {
            data_paths.push(PathBuf::from("."));
        }
        let driver = local_driver(&environment, &data_paths)?;
        let inner = QueryProvider::new(driver, &query_paths).map_err(value_error)?;
        Ok(PyQueryProvider { inner })
    }

    /// The environment's canonical name (`MSSentinel` for `AzureSentinel`).
    fn environment(&self) -> String {
        self.inner.store().environment().name().to_string()
    }

    /// `Family.name` of every query, sorted.
    fn query_names(&self) -> Vec<String> {
        self.inner.store().queries().map(|(name, _)| name).collect()
    }

    /// `Family.name` of the queries whose name, description or tags hold `term`.
    fn search(&self, term: &str) -> Vec<String> {
        self.inner
            .store()
            .search(term)
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    /// `(family, query, description, parameters)` for every query.
    fn catalogue(&self) -> Vec<(String, String, String, String)> {
        self.inner
            .store()
            .queries()
            .map(|(qualified, q)| {
                let family = qualified
                    .rsplit_once('.')
                    .map_or("", |(f, _)| f)
                    .to_string();
                let params = q.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>();
                (
                    family,
                    q.name.clone(),
                    q.description.clone(),
                    params.join(", "),
                )
            })
            .collect()
    }

    /// A query's description, parameters and text.
    fn help(&self, qualified: &str) -> PyResult<String> {
        self.query(qualified).map(|q| q.help())
    }

    /// The query text `qualified` runs with `values`.
    fn query_text(
        &self,
        qualified: &str,
        values: Vec<(String, Bound<'_, PyAny>)>,
    ) -> PyResult<String> {
        self.inner
            .query_text(qualified, &param_values(values)?)
            .map_err(value_error)
    }

    /// Runs `qualified` with `values`.
    fn run(
        &self,
        py: Python<'_>,
        qualified: &str,
        values: Vec<(String, Bound<'_, PyAny>)>,
    ) -> PyResult<PyBatch> {
        let values = param_values(values)?;
        let table = py
            .detach(|| self.inner.run(qualified, &values))
            .map_err(value_error)?;
        one_batch(table)
    }

    /// Runs `qualified` in `split_by` slices of its time range (`"1D"`, `"12H"`),
    /// calling `progress(done, total)` as slices finish.
    #[pyo3(signature = (qualified, values, split_by, progress=None))]
    fn run_split(
        &self,
        py: Python<'_>,
        qualified: &str,
        values: Vec<(String, Bound<'_, PyAny>)>,
        split_by: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<PyBatch> {
        let values = param_values(values)?;
        let period = Period::parse(split_by).map_err(value_error)?;
        let report = |done: usize, total: usize| {
            if let Some(callback) = &progress {
                // A failing callback must not stop the query; Python shows the error.
                Python::attach(|py| {
                    if let Err(e) = callback.call1(py, (done, total)) {
                        e.print(py);
                    }
                });
            }
        };
        let table = py
            .detach(|| self.inner.run_split(qualified, &values, period, &report))
            .map_err(value_error)?;
        one_batch(table)
    }

    /// Runs a query written in the environment's own terms (for local data, a file
    /// name), with no template.
    fn exec_query(&self, py: Python<'_>, text: &str) -> PyResult<PyBatch> {
        let table = py.detach(|| self.inner.exec(text)).map_err(value_error)?;
        one_batch(table)
    }
}

impl PyQueryProvider {
    fn query(&self, qualified: &str) -> PyResult<&QuerySource> {
        self.inner
            .store()
            .get(qualified)
            .map(|q| q.as_ref())
            .map_err(|e| PyKeyError::new_err(e.to_string()))
    }
}

/// Writes the seeded sample SOC dataset into `folder`: `(path, rows)` per file.
/// `anchor` (ISO or a time expression) ends the seven days it covers; default now.
#[pyfunction]
#[pyo3(signature = (folder, rows=2000, seed=1, anchor=None))]
fn write_sample_data(
    py: Python<'_>,
    folder: PathBuf,
    rows: usize,
    seed: u64,
    anchor: Option<&str>,
) -> PyResult<Vec<(String, usize)>> {
    let now = chrono::Utc::now();
    let anchor = match anchor {
        Some(text) => huntbook_core::time::parse_time(text, now).map_err(value_error)?,
        None => now,
    };
    let options = sample::SampleOptions { rows, seed, anchor };
    let written = py
        .detach(|| sample::generate(&folder, &options, |_| {}))
        .map_err(value_error)?;
    Ok(written
        .into_iter()
        .map(|w| (w.path.display().to_string(), w.rows))
        .collect())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyQueryProvider>()?;
    m.add_function(wrap_pyfunction!(write_sample_data, m)?)?;
    Ok(())
}
