//! Process features, event clustering (DBSCAN) and outliers (isolation forest) from
//! `huntbook_analysis`, over Arrow batches. The `huntbook.clustering` module turns
//! DataFrames into batches and back; the work runs with the GIL released.
use arrow_array::RecordBatch;
use huntbook_analysis::cluster::{self, ClusterOptions};
use huntbook_analysis::features::{self, FeatureOptions};
use huntbook_analysis::matrix::Matrix;
use huntbook_analysis::outliers::{
    self, Contamination, FeatureCount, ForestOptions, IsolationForest, SampleSize,
};
use huntbook_analysis::AnalysisError;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::arrow::{batch_from_py, PyBatch};
use crate::transforms::on_batch;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A count of rows or features, or a fraction of them (Python's int or float).
#[derive(FromPyObject)]
enum Size {
    Count(usize),
    Fraction(f64),
}

#[pyfunction]
#[pyo3(signature = (batch, path_separator=None, force=false))]
fn add_process_features(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    path_separator: Option<String>,
    force: bool,
) -> PyResult<PyBatch> {
    let options = FeatureOptions {
        path_separator,
        force,
    };
    on_batch(py, batch, |b| features::add_process_features(b, &options))
}

/// The summary table and, for each of its rows, the input row it came from.
#[pyfunction]
#[pyo3(signature = (batch, columns, time_column, max_distance, min_samples, normalize))]
fn cluster_events(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    columns: Vec<String>,
    time_column: &str,
    max_distance: f64,
    min_samples: usize,
    normalize: bool,
) -> PyResult<(PyBatch, Vec<usize>)> {
    let batch = batch_from_py(batch)?;
    let options = ClusterOptions {
        max_distance,
        min_samples,
        normalize,
    };
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let clustering = py
        .detach(|| cluster::cluster_events(&batch, &columns, time_column, &options))
        .map_err(value_error)?;
    Ok((clustering.summary.into(), clustering.rows))
}

#[pyfunction]
#[pyo3(signature = (batch, columns, max_distance, min_samples, normalize))]
fn cluster_labels(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    columns: Vec<String>,
    max_distance: f64,
    min_samples: usize,
    normalize: bool,
) -> PyResult<Vec<i64>> {
    let batch = batch_from_py(batch)?;
    let options = ClusterOptions {
        max_distance,
        min_samples,
        normalize,
    };
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    py.detach(|| cluster::cluster_labels(&batch, &columns, &options))
        .map_err(value_error)
}

fn forest_options(
    contamination: Option<f64>,
    max_samples: Option<Size>,
    max_features: Option<Size>,
    n_estimators: usize,
    seed: u64,
) -> ForestOptions {
    ForestOptions {
        n_estimators,
        max_samples: match max_samples {
            None => SampleSize::Auto,
            Some(Size::Count(n)) => SampleSize::Count(n),
            Some(Size::Fraction(f)) => SampleSize::Fraction(f),
        },
        max_features: match max_features {
            None => FeatureCount::All,
            Some(Size::Count(n)) => FeatureCount::Count(n),
            Some(Size::Fraction(f)) => FeatureCount::Fraction(f),
        },
        contamination: contamination.map_or(Contamination::Auto, Contamination::Fraction),
        seed,
    }
}

/// The table with `OutlierScore` and `IsOutlier` added; `contamination=None` is
/// scikit-learn's "auto".
#[pyfunction]
#[pyo3(signature = (batch, columns, contamination, max_samples, max_features, n_estimators, seed))]
#[pyo3(name = "outliers")]
#[allow(clippy::too_many_arguments)]
fn find_outliers(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    columns: Vec<String>,
    contamination: Option<f64>,
    max_samples: Option<Size>,
    max_features: Option<Size>,
    n_estimators: usize,
    seed: u64,
) -> PyResult<PyBatch> {
    let options = forest_options(contamination, max_samples, max_features, n_estimators, seed);
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    on_batch(py, batch, |b| outliers::outliers(b, &columns, &options))
}

/// Grows a forest on every column of `train` and tells, for each row of `predict`,
/// whether it is an outlier.
#[pyfunction]
#[pyo3(signature = (train, predict, contamination, max_samples, max_features, n_estimators, seed))]
#[allow(clippy::too_many_arguments)]
fn isolation_forest_predict(
    py: Python<'_>,
    train: &Bound<'_, PyAny>,
    predict: &Bound<'_, PyAny>,
    contamination: Option<f64>,
    max_samples: Option<Size>,
    max_features: Option<Size>,
    n_estimators: usize,
    seed: u64,
) -> PyResult<Vec<bool>> {
    let (train, predict) = (batch_from_py(train)?, batch_from_py(predict)?);
    let options = forest_options(contamination, max_samples, max_features, n_estimators, seed);
    py.detach(|| {
        let forest = IsolationForest::fit(&every_column(&train)?, &options)?;
        forest.predict(&every_column(&predict)?)
    })
    .map_err(value_error)
}

/// All the columns of `batch`, as a matrix (a numpy array sent as a table).
fn every_column(batch: &RecordBatch) -> Result<Matrix, AnalysisError> {
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    Matrix::from_columns(batch, &names)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add_process_features, m)?)?;
    m.add_function(wrap_pyfunction!(cluster_events, m)?)?;
    m.add_function(wrap_pyfunction!(cluster_labels, m)?)?;
    m.add_function(wrap_pyfunction!(find_outliers, m)?)?;
    m.add_function(wrap_pyfunction!(isolation_forest_predict, m)?)?;
    Ok(())
}
