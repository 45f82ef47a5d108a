//! Time-series anomalies, as MSTICPy's `timeseries_anomalies_stl` finds them: an STL
//! decomposition of the series ([`stl`], built on a loess smoother), a z-score of what
//! is left over, and anomalies where that score passes a threshold ([`anomalies`]);
//! then the anomalous stretches as time periods and a KQL filter for them
//! ([`periods`]).

pub mod anomalies;
mod loess;
pub mod periods;
pub mod stl;

pub use anomalies::{rethreshold, score_rows, timeseries_anomalies, AnomalyOptions, Scored};
pub use periods::{anomaly_periods, kql_time_filter};
pub use stl::{decompose, decomposition_table, Decomposition, StlParams};
