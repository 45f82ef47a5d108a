//! Sessions and polling (`huntbook_analysis`): sessionising events, scoring sessions
//! with a Markov model, and polling (beaconing) detection. Tables cross as Arrow
//! batches; the work runs with the GIL released.
use huntbook_analysis::markov::{self, ScoreOptions};
use huntbook_analysis::polling;
use huntbook_analysis::sessions::{self, Sessionize};
use pyo3::prelude::*;

use crate::arrow::{batch_from_py, PyBatch};
use crate::transforms::{on_batch, value_error};

#[pyfunction]
#[pyo3(signature = (batch, user_columns, time_column, event_column, max_session_minutes, max_gap_minutes))]
fn sessionize(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    user_columns: Vec<String>,
    time_column: &str,
    event_column: &str,
    max_session_minutes: f64,
    max_gap_minutes: f64,
) -> PyResult<PyBatch> {
    let users: Vec<&str> = user_columns.iter().map(String::as_str).collect();
    let spec = Sessionize {
        user_columns: &users,
        time_column,
        event_column,
        max_session_minutes,
        max_gap_minutes,
    };
    on_batch(py, batch, |b| sessions::sessionize(b, &spec))
}

/// Each session's rarest window: its likelihood and where it starts (None when the
/// session is shorter than a window).
#[pyfunction]
#[pyo3(signature = (batch, session_column, window_length, use_start_end_tokens=true, use_geo_mean=false))]
fn rarest_windows(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    session_column: &str,
    window_length: usize,
    use_start_end_tokens: bool,
    use_geo_mean: bool,
) -> PyResult<(Vec<f64>, Vec<Option<usize>>)> {
    let batch = batch_from_py(batch)?;
    let options = ScoreOptions {
        window_length,
        use_start_end_tokens,
        use_geo_mean,
    };
    let (_, windows) = py
        .detach(|| markov::rarest_windows(&batch, session_column, &options))
        .map_err(value_error)?;
    Ok(windows.iter().map(|w| (w.likelihood, w.start)).unzip())
}

#[pyfunction]
#[pyo3(signature = (batch, time_column, group_by=Vec::new()))]
fn detect_polling(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: &str,
    group_by: Vec<String>,
) -> PyResult<PyBatch> {
    let group_by: Vec<&str> = group_by.iter().map(String::as_str).collect();
    on_batch(py, batch, |b| {
        polling::detect_polling(b, time_column, &group_by)
    })
}

#[pyfunction]
#[pyo3(signature = (batch, time_column, group_by=Vec::new()))]
fn polling_groups(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: &str,
    group_by: Vec<String>,
) -> PyResult<PyBatch> {
    let group_by: Vec<&str> = group_by.iter().map(String::as_str).collect();
    on_batch(py, batch, |b| {
        polling::polling_groups(b, time_column, &group_by)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sessionize, m)?)?;
    m.add_function(wrap_pyfunction!(rarest_windows, m)?)?;
    m.add_function(wrap_pyfunction!(detect_polling, m)?)?;
    m.add_function(wrap_pyfunction!(polling_groups, m)?)?;
    Ok(())
}
