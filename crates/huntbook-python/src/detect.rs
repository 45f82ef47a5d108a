//! Detections of classic attacks (`huntbook_analysis::detect`): the calls behind
//! `huntbook.detect`. Each returns the evidence table and, for each of its rows, the
//! position of the input row it came from, so that the Python side keeps the
//! DataFrame's index. The work runs with the GIL released.
use arrow_array::RecordBatch;
use huntbook_analysis::detect::{
    self, BeaconingOptions, BruteForceOptions, Finding, ImpossibleTravelOptions,
};
use huntbook_analysis::AnalysisError;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::arrow::{batch_from_py, PyBatch};

const MINUTE: f64 = 60e9;

/// Runs a detection on `batch` without the GIL and returns its evidence rows.
fn detect_on(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    detection: impl FnOnce(&RecordBatch) -> Result<Vec<Finding>, AnalysisError> + Send,
) -> PyResult<(PyBatch, Vec<usize>)> {
    let batch = batch_from_py(batch)?;
    py.detach(|| {
        let findings = detection(&batch)?;
        let evidence = detect::evidence(&batch, &findings)?;
        Ok((
            evidence.into(),
            findings.into_iter().flat_map(|f| f.rows).collect(),
        ))
    })
    .map_err(|e: AnalysisError| PyValueError::new_err(e.to_string()))
}

#[pyfunction]
#[pyo3(signature = (batch, time_column, source_column, account_column, target_column, result_column, success_values, failure_values, max_gap_minutes, min_failures, spray_accounts))]
#[allow(clippy::too_many_arguments)]
fn brute_force(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: String,
    source_column: Option<String>,
    account_column: Option<String>,
    target_column: Option<String>,
    result_column: Option<String>,
    success_values: Option<Vec<String>>,
    failure_values: Option<Vec<String>>,
    max_gap_minutes: f64,
    min_failures: usize,
    spray_accounts: usize,
) -> PyResult<(PyBatch, Vec<usize>)> {
    let options = BruteForceOptions {
        time_column,
        source_column,
        account_column,
        target_column,
        result_column,
        success_values,
        failure_values,
        max_gap: (max_gap_minutes * MINUTE) as i64,
        min_failures,
        spray_accounts,
    };
    detect_on(py, batch, |b| detect::brute_force(b, &options))
}

#[pyfunction]
#[pyo3(signature = (batch, time_column, user_column, latitude_column, longitude_column, place_column, result_column, success_values, max_speed_km_h, min_distance_km, window_hours))]
#[allow(clippy::too_many_arguments)]
fn impossible_travel(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: String,
    user_column: Option<String>,
    latitude_column: String,
    longitude_column: String,
    place_column: Option<String>,
    result_column: Option<String>,
    success_values: Vec<String>,
    max_speed_km_h: f64,
    min_distance_km: f64,
    window_hours: f64,
) -> PyResult<(PyBatch, Vec<usize>)> {
    let options = ImpossibleTravelOptions {
        time_column,
        user_column,
        latitude_column,
        longitude_column,
        place_column,
        result_column,
        success_values,
        max_speed_km_h,
        min_distance_km,
        window: (window_hours * 60.0 * MINUTE) as i64,
    };
    detect_on(py, batch, |b| detect::impossible_travel(b, &options))
}

#[pyfunction]
#[pyo3(signature = (batch, time_column, group_by, min_events, max_p_value, max_interval_secs))]
fn beaconing(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: String,
    group_by: Option<Vec<String>>,
    min_events: usize,
    max_p_value: f64,
    max_interval_secs: f64,
) -> PyResult<(PyBatch, Vec<usize>)> {
    let options = BeaconingOptions {
        time_column,
        group_by,
        min_events,
        max_p_value,
        max_interval_secs,
    };
    detect_on(py, batch, |b| detect::beaconing(b, &options))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(beaconing, m)?)?;
    m.add_function(wrap_pyfunction!(brute_force, m)?)?;
    m.add_function(wrap_pyfunction!(impossible_travel, m)?)?;
    Ok(())
}
