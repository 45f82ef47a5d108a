//! Query providers (`huntbook_data`): a store of MSTICPy-format query templates paired
//! with the driver of one data environment. The `huntbook.QueryProvider` class turns
//! the store's families into attributes; here are the calls it makes. Queries run
//! with the GIL released and return Arrow batches.
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use huntbook_core::config::{Config, ConfigSearch};
use huntbook_core::entities::param_anchors;
use huntbook_core::time::Period;
use huntbook_data::remote::azure::AzureAccess;
use huntbook_data::remote::connect::{connect, Connect};
use huntbook_data::remote::QueryOptions;
use huntbook_data::sample;
use huntbook_data::{Driver, Environment, LocalData, ParamType, ParamValue, QueryProvider};
use huntbook_table::Table;
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::arrow::PyBatch;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A table's columns: `(name, type)`.
type Columns = Vec<(String, String)>;

/// `(Family.name, parameter, kind name, property, whether the parameter takes a list)`.
type PivotQuery = (String, String, &'static str, &'static str, bool);

#[pyclass(name = "QueryProvider", module = "huntbook._huntbook", frozen)]
struct PyQueryProvider {
    /// Written only by connect and add_connection; queries read it with the GIL
    /// released, so several can run at once from Python threads.
    inner: RwLock<QueryProvider>,
    config: Config,
    /// Folders of the local environments' data.
    data_paths: Vec<PathBuf>,
}

/// The driver of a local environment over `data_paths` (`None` for the remote ones).
/// LocalData also serves pandas pickles (`.pkl`, `.pickle`), read by pandas as
/// MSTICPy reads them; their rows are filtered like any other file's.
fn local_driver(
    environment: &Environment,
    data_paths: &[PathBuf],
) -> PyResult<Option<Box<dyn Driver>>> {
    if *environment != Environment::LocalData {
        return huntbook_data::local_driver(environment, data_paths).map_err(value_error);
    }
    let mut data = LocalData::new(data_paths.to_vec()).map_err(value_error)?;
    for extension in ["pkl", "pickle"] {
        data = data
            .with_reader(extension, Arc::new(read_pickle))
            .map_err(value_error)?;
    }
    Ok(Some(Box::new(data)))
}

/// A pickled DataFrame as a table, through `pandas.read_pickle`.
fn read_pickle(path: &Path) -> Result<Table, String> {
    Python::attach(|py| -> PyResult<Table> {
        let batch = py
            .import("huntbook._tables")?
            .call_method1("read_pickle", (path,))?;
        let batch = crate::arrow::batch_from_py(&batch)?;
        Ok(Table::from_batches(batch.schema(), vec![batch]))
    })
    .map_err(|e| e.to_string())
}

/// The driver for `environment`: a local one over `data_paths`, or a remote one from
/// the configuration and what connect() was given.
fn driver(
    environment: &Environment,
    config: &Config,
    data_paths: &[PathBuf],
    given: &Connect,
) -> PyResult<Box<dyn Driver>> {
    if let Some(local) = local_driver(environment, data_paths)? {
        if let Some((name, _)) = given.args.first() {
            return Err(PyValueError::new_err(format!(
                "connect() takes no {name:?} for {environment}: its data folders are given as data_paths= when the provider is made"
            )));
        }
        return Ok(local);
    }
    let resolver = huntbook_http::vault::resolver(config);
    connect(environment, config, &resolver, given)
        .map_err(value_error)?
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "huntbook has no driver for {environment}; the environments it runs are LocalData, \
                 OSQueryLogs, VelociraptorLogs, MSSentinel, Kusto, MDE, M365D, M365DGraph, Splunk, \
                 Elastic and OpenSearch"
            ))
        })
}

/// What connect() and add_connection() were given, as the Rust side takes it.
fn connect_request(
    args: Vec<(String, String)>,
    endpoint: Option<String>,
    credential: Option<&Bound<'_, PyAny>>,
    timeout: Option<u64>,
) -> PyResult<Connect> {
    let tokens = credential
        .map(|c| crate::azure::credential(Some(c), ""))
        .transpose()?;
    let mut options = QueryOptions::default();
    if let Some(seconds) = timeout {
        options.server_timeout = Duration::from_secs(seconds);
    }
    Ok(Connect {
        args,
        access: AzureAccess { endpoint, tokens },
        options,
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
    /// local data, else the current folder. The local environments are connected at
    /// once; the remote ones when connect() is called.
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
        let mut inner =
            QueryProvider::new(environment.clone(), &query_paths).map_err(value_error)?;
        if let Some(local) = local_driver(&environment, &data_paths)? {
            inner.connect(local).map_err(value_error)?;
        }
        Ok(PyQueryProvider {
            inner: RwLock::new(inner),
            config,
            data_paths,
        })
    }

    /// Connects (again), replacing every connection, or with `alias` adds a
    /// connection every query runs on as well. `args` are MSTICPy's keyword arguments
    /// as text, `endpoint` and `credential` point a Microsoft service elsewhere,
    /// `timeout` is the server-side limit in seconds.
    #[pyo3(signature = (args, endpoint=None, credential=None, timeout=None, alias=None))]
    fn connect(
        &self,
        py: Python<'_>,
        args: Vec<(String, String)>,
        endpoint: Option<String>,
        credential: Option<&Bound<'_, PyAny>>,
        timeout: Option<u64>,
        alias: Option<&str>,
    ) -> PyResult<()> {
        let given = connect_request(args, endpoint, credential, timeout)?;
        let environment = self.read()?.store().environment().clone();
        let driver = py.detach(|| driver(&environment, &self.config, &self.data_paths, &given))?;
        let mut provider = self.write()?;
        match alias {
            None => provider.connect(driver),
            Some(alias) => provider.add_connection(alias, driver),
        }
        .map_err(value_error)
    }

    /// The default connection's tables: `(table, [(column, type)])`.
    fn schema(&self, py: Python<'_>) -> PyResult<Vec<(String, Columns)>> {
        let tables = py.detach(|| self.read()?.schema().map_err(value_error))?;
        Ok(tables.into_iter().map(|t| (t.table, t.columns)).collect())
    }

    /// The connections' aliases, the default first; empty when not connected.
    fn connections(&self) -> PyResult<Vec<String>> {
        Ok(self
            .read()?
            .connections()
            .into_iter()
            .map(str::to_string)
            .collect())
    }

    /// The folders a local environment reads (given, configured, or the current
    /// folder for LocalData); empty for the remote environments.
    fn data_paths(&self) -> Vec<PathBuf> {
        self.data_paths.clone()
    }

    /// The environment's canonical name (`MSSentinel` for `AzureSentinel`).
    fn environment(&self) -> PyResult<String> {
        Ok(self.read()?.store().environment().name().to_string())
    }

    /// `Family.name` of every query, sorted.
    fn query_names(&self) -> PyResult<Vec<String>> {
        Ok(self
            .read()?
            .store()
            .queries()
            .map(|(name, _)| name)
            .collect())
    }

    /// `Family.name` of the queries whose name, description or tags hold `term`.
    fn search(&self, term: &str) -> PyResult<Vec<String>> {
        Ok(self
            .read()?
            .store()
            .search(term)
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    /// `(family, query, description, parameters)` for every query.
    fn catalogue(&self) -> PyResult<Vec<(String, String, String, String)>> {
        Ok(self
            .read()?
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
            .collect())
    }

    /// The queries that pivot on an entity: `(Family.name, parameter, kind name,
    /// property, whether the parameter takes a list)` for each parameter whose name
    /// anchors an entity ([`huntbook_core::entities::param_anchors`]).
    fn pivot_queries(&self) -> PyResult<Vec<PivotQuery>> {
        let provider = self.read()?;
        let mut found = Vec::new();
        for (qualified, query) in provider.store().queries() {
            for param in &query.params {
                for (kind, property) in param_anchors(&param.name) {
                    found.push((
                        qualified.clone(),
                        param.name.clone(),
                        kind.name(),
                        *property,
                        param.kind == ParamType::List,
                    ));
                }
            }
        }
        Ok(found)
    }

    /// A query's description, parameters and text.
    fn help(&self, qualified: &str) -> PyResult<String> {
        let provider = self.read()?;
        provider
            .store()
            .get(qualified)
            .map(|q| q.help())
            .map_err(|e| PyKeyError::new_err(e.to_string()))
    }

    /// The query text `qualified` runs with `values`.
    fn query_text(
        &self,
        qualified: &str,
        values: Vec<(String, Bound<'_, PyAny>)>,
    ) -> PyResult<String> {
        self.read()?
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
            .detach(|| self.read()?.run(qualified, &values).map_err(value_error))
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
            .detach(|| {
                self.read()?
                    .run_split(qualified, &values, period, &report)
                    .map_err(value_error)
            })
            .map_err(value_error)?;
        one_batch(table)
    }

    /// Runs a query written in the environment's own terms (for local data, a file
    /// name), with no template.
    fn exec_query(&self, py: Python<'_>, text: &str) -> PyResult<PyBatch> {
        let table = py.detach(|| self.read()?.exec(text).map_err(value_error))?;
        one_batch(table)
    }
}

impl PyQueryProvider {
    fn read(&self) -> PyResult<RwLockReadGuard<'_, QueryProvider>> {
        self.inner.read().map_err(|_| {
            PyRuntimeError::new_err("an earlier call on this provider panicked; make a new one")
        })
    }

    fn write(&self) -> PyResult<std::sync::RwLockWriteGuard<'_, QueryProvider>> {
        self.inner.write().map_err(|_| {
            PyRuntimeError::new_err("an earlier call on this provider panicked; make a new one")
        })
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
