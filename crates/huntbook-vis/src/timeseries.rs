//! Time-series anomalies, as MSTICPy's `display_timeseries_anomalies` draws them: the
//! observed values as a line, the expected values (the baseline) as a dashed line,
//! and the anomalous points marked in the alert colour.
//!
//! The input is the table `huntbook.timeseries_anomalies` returns (a time, a value,
//! `baseline`, `anomalies` of 1, -1 or 0, `score`, ...). A point is marked when its
//! `anomalies` value is not 0: 1 (a high value at a busy time) and -1 (a high value
//! at a quiet time) are both anomalies; the tooltip tells them apart. The chart is a
//! values timeline (`js/timeline.js`), so zoom, pan, the range selector and
//! reference lines work as they do there.

use arrow_array::RecordBatch;
use huntbook_analysis::columns;

use crate::chart::Chart;
use crate::timeline::{values_spec, Series, TimelineOptions, ValueKind};
use crate::VisError;

const SCRIPT: &str = include_str!("../js/timeline.js");

/// Okabe-Ito colours, as `hb.palette` in `js/core.js`: the observed values in blue,
/// the baseline in green, the anomalies in vermillion (`hb.alertColour`).
const OBSERVED: &str = "#0072B2";
const BASELINE: &str = "#009E73";
const ANOMALY: &str = "#D55E00";

/// What [`timeseries_anomalies`] draws. `Default` gives MSTICPy's column names.
#[derive(Debug, Clone)]
pub struct AnomalyOptions {
    /// MSTICPy's `y`: the observed values.
    pub value_column: String,
    pub baseline_column: String,
    pub anomalies_column: String,
    /// The time column, tooltip columns, references, title and size.
    pub timeline: TimelineOptions,
}

impl Default for AnomalyOptions {
    fn default() -> Self {
        AnomalyOptions {
            value_column: "Total".into(),
            baseline_column: "baseline".into(),
            anomalies_column: "anomalies".into(),
            timeline: TimelineOptions::default(),
        }
    }
}

/// The observed values, their baseline and the anomalies of `data` over time.
pub fn timeseries_anomalies(
    data: &RecordBatch,
    options: &AnomalyOptions,
) -> Result<Chart, VisError> {
    let timeline = &options.timeline;
    let times = columns::times(data, &timeline.time_column)?;
    let values = columns::numbers(data, &options.value_column)?;
    let baseline = columns::numbers(data, &options.baseline_column)?;
    let flags = columns::numbers(data, &options.anomalies_column)?;
    let mut rows: Vec<usize> = (0..data.num_rows())
        .filter(|&r| times[r].is_some())
        .collect();
    rows.sort_by_key(|&r| times[r]);
    let anomalies: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| flags[r].is_some_and(|f| f != 0.0) && values[r].is_some())
        .collect();
    let series = vec![
        Series {
            name: "observed".into(),
            kind: ValueKind::Line,
            rows: rows.clone(),
            dashed: false,
            colour: Some(OBSERVED),
            values: None,
        },
        Series {
            name: "baseline".into(),
            kind: ValueKind::Line,
            rows,
            dashed: true,
            colour: Some(BASELINE),
            values: Some(baseline),
        },
        Series {
            // Not "anomalies": the tooltip shows that column too.
            name: "anomaly".into(),
            kind: ValueKind::Points,
            rows: anomalies,
            dashed: false,
            colour: Some(ANOMALY),
            values: None,
        },
    ];
    let t0 = times.iter().flatten().min().copied().unwrap_or(0);
    let spec = values_spec(
        data,
        &times,
        &values,
        series,
        timeline,
        &options.value_column,
        t0,
    )?;
    let title = timeline
        .title
        .clone()
        .unwrap_or_else(|| format!("{} anomalies", options.value_column));
    Ok(Chart::new("timeline", SCRIPT, title, spec))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use serde_json::json;

    use super::*;

    fn scored() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "TimeGenerated",
                Arc::new(StringArray::from(vec![
                    Some("2024-03-01T02:00:00Z"),
                    Some("2024-03-01T00:00:00Z"),
                    Some("2024-03-01T01:00:00Z"),
                    None,
                    Some("2024-03-01T03:00:00Z"),
                ])) as ArrayRef,
            ),
            (
                "Total",
                Arc::new(Float64Array::from(vec![90.0, 10.0, 12.0, 5.0, 1.0])),
            ),
            (
                "baseline",
                Arc::new(Int64Array::from(vec![11, 10, 11, 10, 12])),
            ),
            (
                "anomalies",
                Arc::new(Int64Array::from(vec![1, 0, 0, 1, -1])),
            ),
            (
                "score",
                Arc::new(Float64Array::from(vec![4.5, 0.1, 0.2, 3.3, -3.1])),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn values_baseline_and_anomalies_are_three_series_in_time_order() {
        let mut o = AnomalyOptions::default();
        o.timeline.source_columns = vec!["score".into()];
        let chart = timeseries_anomalies(&scored(), &o).unwrap();
        let spec = chart.spec();
        assert_eq!(spec["mode"], "values");
        let s = &spec["series"];
        assert_eq!(s[0]["name"], "observed");
        assert_eq!(s[0]["t"], json!([0, 3_600_000, 7_200_000, 10_800_000]));
        assert_eq!(s[0]["y"], json!([10, 12, 90, 1]));
        assert_eq!(s[1]["y"], json!([10, 11, 11, 12]));
        assert_eq!(s[1]["dashed"], true);
        // Both kinds of anomaly, the untimed row left out.
        assert_eq!(s[2]["y"], json!([90, 1]));
        assert_eq!(s[2]["colour"], ANOMALY);
        assert_eq!(s[2]["kind"], "circle");
        assert_eq!(s[2]["tips"][0]["dict"], json!(["4.5", "-3.1"]));
        assert_eq!(chart.title(), "Total anomalies");
    }

    #[test]
    fn missing_columns_are_named() {
        let o = AnomalyOptions {
            baseline_column: "expected".into(),
            ..Default::default()
        };
        let e = timeseries_anomalies(&scored(), &o).unwrap_err().to_string();
        assert!(e.contains("'expected'") && e.contains("baseline"), "{e}");
        let o = AnomalyOptions {
            value_column: "Bytes".into(),
            ..Default::default()
        };
        let e = timeseries_anomalies(&scored(), &o).unwrap_err().to_string();
        assert!(e.contains("'Bytes'"), "{e}");
    }
}
