//! Threat-intel lookups for Python: `huntbook.TILookup` (python/huntbook/ti.py) wraps
//! the `TILookup` class here. Lookups run on a tokio runtime with the GIL released;
//! the progress callback takes the GIL only for its call.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use huntbook_context::cache::Cache;
use huntbook_context::ti::{self, LookupItem, LookupOptions, Scope, TiLookup};
use huntbook_core::config::{Config, ConfigSearch};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrow::{batch_from_py, PyBatch};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTiLookup>()?;
    m.add_function(wrap_pyfunction!(ti_available_providers, m)?)?;
    m.add_function(wrap_pyfunction!(ti_indicator_hits, m)?)?;
    m.add_function(wrap_pyfunction!(ti_result_columns, m)?)?;
    Ok(())
}

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("huntbook-ti")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the I/O runtime: {e}")))?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

/// TI result rows for the observables that rows of an indicator table hold, rated as
/// the Microsoft Sentinel TI provider rates them (`huntbook.ti.indicator_hits`).
#[pyfunction]
fn ti_indicator_hits(
    py: Python<'_>,
    indicators: &Bound<'_, PyAny>,
    observables: Vec<String>,
    provider: &str,
    reference: &str,
) -> PyResult<PyBatch> {
    let batch = batch_from_py(indicators)?;
    let rows = py
        .detach(|| ti::sentinel::indicator_hits(&batch, &observables, provider, reference))
        .map_err(value_error)?;
    ti::to_record_batch(&rows)
        .map(PyBatch::from)
        .map_err(value_error)
}

/// MSTICPy's TI result columns, in order.
#[pyfunction]
fn ti_result_columns() -> Vec<&'static str> {
    ti::RESULT_COLUMNS.to_vec()
}

/// The provider kinds a `Provider:` key may name.
#[pyfunction]
fn ti_available_providers() -> Vec<&'static str> {
    ti::available_providers()
}

#[pyclass(name = "TILookup", module = "huntbook._huntbook")]
struct PyTiLookup {
    lookup: TiLookup,
}

#[pymethods]
impl PyTiLookup {
    /// Providers from the configuration files (`config` is a huntbook.yaml or, when
    /// its name says so, a msticpyconfig.yaml).
    #[new]
    #[pyo3(signature = (config=None, msticpy=None, cache_path=None, use_cache=true))]
    fn new(
        config: Option<PathBuf>,
        msticpy: Option<PathBuf>,
        cache_path: Option<PathBuf>,
        use_cache: bool,
    ) -> PyResult<PyTiLookup> {
        let mut search = ConfigSearch::from_process();
        if config.is_some() {
            search.huntbook_file = config;
        }
        if msticpy.is_some() {
            search.msticpy_file = msticpy;
        }
        let config = Config::load(&search).map_err(value_error)?;
        let mut lookup = TiLookup::from_config(&config, &huntbook_http::vault::resolver(&config))
            .map_err(value_error)?;
        if let Some(path) = cache_path {
            lookup.set_cache(Some(Arc::new(Cache::open(&path).map_err(value_error)?)));
        }
        if !use_cache {
            lookup.set_cache(None);
        }
        Ok(PyTiLookup { lookup })
    }

    /// Look observables up; returns an Arrow batch of MSTICPy's result columns.
    #[pyo3(signature = (iocs, types, subtype=None, providers=None, scope="primary", show_not_supported=false, show_bad_items=false, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn lookup(
        &self,
        py: Python<'_>,
        iocs: Vec<String>,
        types: Vec<Option<String>>,
        subtype: Option<String>,
        providers: Option<Vec<String>>,
        scope: &str,
        show_not_supported: bool,
        show_bad_items: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<PyBatch> {
        if types.len() != iocs.len() {
            return Err(PyValueError::new_err(
                "iocs and types must be the same length",
            ));
        }
        let scope = match scope.to_ascii_lowercase().as_str() {
            "primary" => Scope::Primary,
            "secondary" => Scope::Secondary,
            "all" => Scope::All,
            other => {
                return Err(PyValueError::new_err(format!(
                    "prov_scope {other:?} is not one of 'primary', 'secondary', 'all'"
                )))
            }
        };
        let items: Vec<LookupItem> = iocs
            .into_iter()
            .zip(types)
            .map(|(ioc, ioc_type)| LookupItem {
                ioc,
                ioc_type,
                subtype: subtype.clone(),
            })
            .collect();
        let progress: Option<ti::Progress> = progress.map(|callback| {
            let callback = Arc::new(callback);
            Arc::new(move |done: usize, total: usize| {
                Python::attach(|py| {
                    // A failing callback must not stop the lookup; Python shows why.
                    if let Err(e) = callback.call1(py, (done, total)) {
                        e.print(py);
                    }
                });
            }) as ti::Progress
        });
        let options = LookupOptions {
            providers,
            scope,
            show_not_supported,
            show_bad_items,
            progress,
        };
        let runtime = runtime()?;
        let rows = py
            .detach(|| runtime.block_on(self.lookup.lookup(&items, &options)))
            .map_err(value_error)?;
        ti::to_record_batch(&rows)
            .map(PyBatch::from)
            .map_err(value_error)
    }

    /// Every configured provider: name, kind, primary, loaded, enabled, detail.
    fn provider_status<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.lookup
            .provider_status()
            .into_iter()
            .map(|s| {
                let d = PyDict::new(py);
                d.set_item("Provider", s.name)?;
                d.set_item("Kind", s.kind)?;
                d.set_item("Primary", s.primary)?;
                d.set_item("Loaded", s.loaded)?;
                d.set_item("Enabled", s.enabled)?;
                d.set_item("Detail", s.detail)?;
                Ok(d)
            })
            .collect()
    }

    /// `(provider, [query keys])` for each loaded provider.
    fn provider_query_keys(&self) -> Vec<(String, Vec<String>)> {
        self.lookup.provider_query_keys()
    }

    fn loaded_providers(&self) -> Vec<String> {
        self.lookup.loaded_providers()
    }

    fn set_provider_state(&mut self, name: &str, enabled: bool) -> PyResult<()> {
        self.lookup
            .set_provider_state(name, enabled)
            .map_err(value_error)
    }
}
