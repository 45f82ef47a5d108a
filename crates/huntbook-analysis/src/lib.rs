//! Finding the odd ones in security tables, with MSTICPy's methods and column names:
//! process features and clustering, anomalous sessions (Markov models of command
//! sequences), time-series anomalies (STL), outliers (isolation forest), polling
//! (beaconing) detection, and detections of classic attacks built on them.
//!
//! Every analysis takes an Arrow [`RecordBatch`](arrow_array::RecordBatch) and the
//! names of its columns, and returns a batch, so the CLI and the Python package use
//! them alike. The crate is pure: no I/O, no async.

pub mod cluster;
pub mod columns;
pub mod detect;
pub mod features;
mod kdtree;
pub mod matrix;
pub mod outliers;
mod table;
pub mod markov;
pub mod polling;
pub mod sessions;
pub mod timeseries;

/// Why an analysis could not run on the table it was given.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("no column '{column}' in the table; its columns are: {}", available.join(", "))]
    MissingColumn {
        column: String,
        available: Vec<String>,
    },
    #[error("column '{column}': {message}")]
    BadColumn { column: String, message: String },
    #[error("{0}")]
    Invalid(String),
}
