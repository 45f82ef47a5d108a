//! The configuration check (`huntbook_core::config`) for `huntbook.init_notebook`:
//! the files found, the problems with where they are, the credentials' status and the
//! Sentinel workspaces, as plain Python values.
use std::path::PathBuf;

use huntbook_core::config::{Config, ConfigSearch, SecretStatus, Severity};
use huntbook_core::secret::SecretResolver;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::transforms::value_error;

#[pyfunction]
#[pyo3(signature = (config=None, msticpy=None))]
fn config_check(
    py: Python<'_>,
    config: Option<PathBuf>,
    msticpy: Option<PathBuf>,
) -> PyResult<Py<PyDict>> {
    let search = ConfigSearch {
        huntbook_file: config,
        msticpy_file: msticpy,
        ..ConfigSearch::from_process()
    };
    let loaded = Config::load(&search).map_err(value_error)?;
    // Environment variables and files are read to say whether they are there; their
    // values never leave Rust.
    let report = loaded.check(Some(&SecretResolver::local()));
    let out = PyDict::new(py);
    let files: Vec<String> = report.files.iter().map(|f| f.to_string()).collect();
    out.set_item("files", files)?;
    let problems: Vec<(&str, String, String, String)> = report
        .problems
        .iter()
        .map(|p| {
            let severity = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let origin = p.origin.as_ref().map(|o| o.to_string()).unwrap_or_default();
            (severity, p.key.clone(), p.message.clone(), origin)
        })
        .collect();
    out.set_item("problems", problems)?;
    let secrets: Vec<(String, String, String)> = report
        .secrets
        .iter()
        .map(|s| {
            let status = match &s.status {
                SecretStatus::Ok => "ok".to_string(),
                SecretStatus::Missing(why) => format!("missing: {why}"),
                SecretStatus::NotChecked => "fetched when used (vault)".to_string(),
            };
            (s.key.clone(), s.reference.clone(), status)
        })
        .collect();
    out.set_item("secrets", secrets)?;
    let workspaces: Vec<String> = loaded
        .workspaces()
        .map(|w| w.into_iter().map(|w| w.name).collect())
        .unwrap_or_default();
    out.set_item("workspaces", workspaces)?;
    Ok(out.unbind())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(config_check, m)?)?;
    Ok(())
}
