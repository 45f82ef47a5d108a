//! Time-series anomalies (`huntbook_analysis::timeseries`) for the `huntbook.timeseries`
//! module: STL components, anomaly scores, re-thresholding, anomaly periods and their
//! KQL filter. Tables cross as Arrow batches; the work runs with the GIL released.
use huntbook_analysis::timeseries::{self, AnomalyOptions, StlParams};
use pyo3::prelude::*;

use crate::arrow::{batch_from_py, PyBatch};
use crate::transforms::{on_batch, value_error};

/// STL settings as Python passes them: a dict with statsmodels' names.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Stl {
    period: usize,
    seasonal: usize,
    trend: Option<usize>,
    low_pass: Option<usize>,
    seasonal_deg: u8,
    trend_deg: u8,
    low_pass_deg: u8,
    robust: bool,
    seasonal_jump: usize,
    trend_jump: usize,
    low_pass_jump: usize,
    inner_iter: Option<usize>,
    outer_iter: Option<usize>,
}

impl From<Stl> for StlParams {
    fn from(s: Stl) -> StlParams {
        StlParams {
            period: s.period,
            seasonal: s.seasonal,
            trend: s.trend,
            low_pass: s.low_pass,
            seasonal_deg: s.seasonal_deg,
            trend_deg: s.trend_deg,
            low_pass_deg: s.low_pass_deg,
            robust: s.robust,
            seasonal_jump: s.seasonal_jump,
            trend_jump: s.trend_jump,
            low_pass_jump: s.low_pass_jump,
            inner_iter: s.inner_iter,
            outer_iter: s.outer_iter,
        }
    }
}

/// The components of `column`: a batch of seasonal, trend, resid, weights.
#[pyfunction]
fn stl_decompose(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    column: String,
    stl: Stl,
) -> PyResult<PyBatch> {
    let params = StlParams::from(stl);
    on_batch(py, batch, |b| {
        timeseries::decomposition_table(b, &column, &params)
    })
}

/// The scored rows in input order, and the row order that sorts them by time.
#[pyfunction]
fn score_timeseries(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: String,
    value_column: String,
    stl: Stl,
    score_threshold: f64,
) -> PyResult<(PyBatch, Vec<usize>)> {
    let options = AnomalyOptions {
        stl: stl.into(),
        score_threshold,
    };
    let batch = batch_from_py(batch)?;
    let scored = py
        .detach(|| timeseries::score_rows(&batch, &time_column, &value_column, &options))
        .map_err(value_error)?;
    Ok((PyBatch::from(scored.batch), scored.time_order))
}

/// New anomaly marks (a one-column batch, `anomalies`) from the `score_column`.
#[pyfunction]
#[pyo3(signature = (batch, score_column, threshold, threshold_low=None))]
fn rethreshold(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    score_column: String,
    threshold: f64,
    threshold_low: Option<f64>,
) -> PyResult<PyBatch> {
    on_batch(py, batch, |b| {
        let marks = timeseries::rethreshold(b, &score_column, threshold, threshold_low)?;
        arrow_array::RecordBatch::try_from_iter([(
            "anomalies",
            std::sync::Arc::new(marks) as arrow_array::ArrayRef,
        )])
        .map_err(|e| huntbook_analysis::AnalysisError::Invalid(e.to_string()))
    })
}

/// The (start, end) nanosecond pairs of the anomalous periods.
#[pyfunction]
fn anomaly_periods(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: String,
    anomalies_column: String,
    period_nanos: i64,
    positive_only: bool,
) -> PyResult<Vec<(i64, i64)>> {
    let batch = batch_from_py(batch)?;
    py.detach(|| {
        timeseries::anomaly_periods(
            &batch,
            &time_column,
            &anomalies_column,
            period_nanos,
            positive_only,
        )
    })
    .map_err(value_error)
}

/// The KQL `where` clause for (start, end) nanosecond pairs.
#[pyfunction]
fn kql_time_filter(periods: Vec<(i64, i64)>, zoned: bool) -> String {
    timeseries::kql_time_filter(&periods, zoned)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(stl_decompose, m)?)?;
    m.add_function(wrap_pyfunction!(score_timeseries, m)?)?;
    m.add_function(wrap_pyfunction!(rethreshold, m)?)?;
    m.add_function(wrap_pyfunction!(anomaly_periods, m)?)?;
    m.add_function(wrap_pyfunction!(kql_time_filter, m)?)?;
    Ok(())
}
