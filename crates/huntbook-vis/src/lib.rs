//! Charts of security data as self-contained interactive HTML.
//!
//! Each chart is built from an Arrow [`RecordBatch`](arrow_array::RecordBatch) and the
//! names of its columns, as MSTICPy's plotting functions take a DataFrame. Rust does
//! the work that grows with the data (reading columns, sorting, aggregating, laying
//! out trees and graphs) and writes a compact JSON spec; a small script of our own
//! (`js/`, inlined into every chart) draws it on a canvas with tooltips, zoom and
//! pan. A [`Chart`] is one HTML fragment that works the same as a standalone page,
//! a notebook output and a part of an exported report: no CDN, no network request.
//!
//! * [`timeline`]: events on a time axis in lanes, values over time, durations.
//! * [`tree`]: process trees, collapsible and searchable, drawn only where in view.
//! * [`network`]: who talks to whom (a node per distinct source and target value),
//!   and alerts or incidents with their entities; laid out by [`layout`].
//! * [`matrix`]: an interaction matrix of two columns, circles sized by count, distinct
//!   count or sum.
//! * [`map`]: located rows on an offline world map, clustered by zoom level.
//! * [`timeseries`]: observed values, their baseline and the anomalies over time.
//! * [`entities`]: entities as HTML cards with their properties and linked entities.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, RecordBatch, StringArray};
//! use huntbook_vis::timeline::{timeline, TimelineOptions};
//!
//! let events = RecordBatch::try_from_iter([
//!     ("TimeGenerated", Arc::new(StringArray::from(vec!["2024-03-01T10:00:00Z", "2024-03-01T10:05:00Z"])) as ArrayRef),
//!     ("Operation", Arc::new(StringArray::from(vec!["UserLoggedIn", "FileDownloaded"]))),
//! ]).unwrap();
//! let options = TimelineOptions { group_by: Some("Operation".into()), ..Default::default() };
//! let chart = timeline(&events, &options).unwrap();
//! let page = chart.page();
//! assert!(page.contains("<canvas") || page.contains("huntbook.render"));
//! assert!(!page.contains("http://") && !page.contains("https://"));
//! ```

mod chart;
pub mod columns;
pub mod entities;
pub mod layout;
pub mod network;
pub mod map;
pub mod matrix;
pub mod timeline;
pub mod timeseries;
pub mod tree;

pub use chart::Chart;

/// Why a chart could not be drawn from what it was given.
#[derive(Debug, thiserror::Error)]
pub enum VisError {
    #[error(transparent)]
    Column(#[from] huntbook_analysis::AnalysisError),
    #[error("{0}")]
    Invalid(String),
}
