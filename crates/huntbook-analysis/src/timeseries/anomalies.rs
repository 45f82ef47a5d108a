//! Scoring a series for anomalies as MSTICPy's `timeseries_anomalies_stl` does, so
//! notebooks built on its output read ours unchanged: the time and value columns, the
//! STL components (`residual`, `trend`, `seasonal`, `weights`) and their sum
//! `baseline`, truncated to whole numbers as it casts them, the `score` (z-score of the
//! truncated residual, population standard deviation) and `anomalies`.
//!
//! MSTICPy marks a point 1 when its score passes the threshold and its seasonal part
//! is positive, and -1 when the score passes it but the seasonal part is negative: a
//! -1 is an unusually high value at a low time of the cycle, not a drop. Scores below
//! minus the threshold are not marked. [`rethreshold`] (MSTICPy's
//! `set_new_anomaly_threshold`) marks by the score alone: 1 above, -1 below.
//!
//! The decomposition runs on the rows in the order given (as MSTICPy does); the result
//! is sorted by time, ties kept in input order.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema};
use arrow_select::take::take_record_batch;

use super::stl::{decompose, StlParams};
use crate::columns::{column, numbers, times};
use crate::AnalysisError;

/// The settings of [`timeseries_anomalies`]: the decomposition (MSTICPy's defaults are
/// period 24 and seasonal 7) and the z-score a point must pass.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyOptions {
    pub stl: StlParams,
    pub score_threshold: f64,
}

impl Default for AnomalyOptions {
    fn default() -> AnomalyOptions {
        AnomalyOptions {
            stl: StlParams::new(24),
            score_threshold: 3.0,
        }
    }
}

/// The scored table in input order, and the order that sorts it by time.
pub struct Scored {
    pub batch: RecordBatch,
    pub time_order: Vec<usize>,
}

/// The columns MSTICPy adds, in its order.
pub const COMPONENT_COLUMNS: [&str; 7] = [
    "residual",
    "trend",
    "seasonal",
    "weights",
    "baseline",
    "score",
    "anomalies",
];

/// Scores `value_column` over `time_column` and returns the table sorted by time.
pub fn timeseries_anomalies(
    batch: &RecordBatch,
    time_column: &str,
    value_column: &str,
    options: &AnomalyOptions,
) -> Result<RecordBatch, AnalysisError> {
    let scored = score_rows(batch, time_column, value_column, options)?;
    let order =
        arrow_array::UInt64Array::from_iter_values(scored.time_order.iter().map(|i| *i as u64));
    take_record_batch(&scored.batch, &order)
        .map_err(|e| AnalysisError::Invalid(format!("cannot reorder the scored rows: {e}")))
}

/// Scores the rows without reordering them (see [`timeseries_anomalies`]).
pub fn score_rows(
    batch: &RecordBatch,
    time_column: &str,
    value_column: &str,
    options: &AnomalyOptions,
) -> Result<Scored, AnalysisError> {
    if time_column == value_column {
        return Err(AnalysisError::Invalid(format!(
            "time_column and value_column are both '{time_column}'; name the column of values to score"
        )));
    }
    let time = times(batch, time_column)?;
    let time: Vec<i64> = complete(time, time_column, "times")?;
    let values: Vec<f64> = complete(numbers(batch, value_column)?, value_column, "values")?;
    let parts = decompose(&values, &options.stl).map_err(|e| AnalysisError::BadColumn {
        column: value_column.to_string(),
        message: e.to_string(),
    })?;

    let whole = |v: &[f64]| -> Vec<i64> { v.iter().map(|x| *x as i64).collect() };
    let residual = whole(&parts.residual);
    let seasonal = whole(&parts.seasonal);
    let baseline: Vec<i64> = parts
        .seasonal
        .iter()
        .zip(&parts.trend)
        .map(|(s, t)| (s + t) as i64)
        .collect();
    let score = z_scores(&residual);
    let anomalies: Vec<i64> = score
        .iter()
        .zip(&seasonal)
        .map(|(z, s)| match (*z > options.score_threshold, s.signum()) {
            (true, 1) => 1,
            (true, -1) => -1,
            _ => 0,
        })
        .collect();

    let time_type = match column(batch, time_column)?.data_type() {
        DataType::Timestamp(_, zone) => zone.clone(),
        _ => Some("UTC".into()),
    };
    let mut time_order: Vec<usize> = (0..time.len()).collect();
    time_order.sort_by_key(|i| time[*i]);
    let int = |v: Vec<i64>| Arc::new(Int64Array::from(v)) as ArrayRef;
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            time_column,
            Arc::new(TimestampNanosecondArray::from(time).with_timezone_opt(time_type.clone())),
        ),
        (value_column, int(whole(&values))),
        ("residual", int(residual)),
        ("trend", int(whole(&parts.trend))),
        ("seasonal", int(seasonal)),
        ("weights", int(whole(&parts.weights))),
        ("baseline", int(baseline)),
        ("score", Arc::new(Float64Array::from(score))),
        ("anomalies", int(anomalies)),
    ];
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), false))
            .collect::<Vec<_>>(),
    );
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .map_err(|e| AnalysisError::Invalid(format!("cannot build the scored table: {e}")))?;
    Ok(Scored { batch, time_order })
}

/// The values of a column that must have no gaps.
fn complete<T>(values: Vec<Option<T>>, name: &str, what: &str) -> Result<Vec<T>, AnalysisError> {
    let missing = values.iter().filter(|v| v.is_none()).count();
    if missing > 0 {
        return Err(AnalysisError::BadColumn {
            column: name.to_string(),
            message: format!(
                "{missing} of {} {what} are missing; drop or fill those rows first (a series must have no gaps)",
                values.len()
            ),
        });
    }
    Ok(values.into_iter().flatten().collect())
}

/// Standard scores with the population standard deviation; NaN for a constant series.
fn z_scores(values: &[i64]) -> Vec<f64> {
    let n = values.len() as f64;
    let mean = values.iter().map(|v| *v as f64).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|v| (*v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let sd = variance.sqrt();
    values.iter().map(|v| (*v as f64 - mean) / sd).collect()
}

/// New anomaly marks from `score_column`: 1 at or above `threshold`, -1 at or below
/// minus `threshold_low` (which defaults to `threshold`, as does 0), else 0.
pub fn rethreshold(
    batch: &RecordBatch,
    score_column: &str,
    threshold: f64,
    threshold_low: Option<f64>,
) -> Result<Int64Array, AnalysisError> {
    let low = threshold_low.filter(|t| *t != 0.0).unwrap_or(threshold);
    let scores = numbers(batch, score_column)?;
    Ok(scores
        .into_iter()
        .map(|z| match z {
            Some(z) if z >= threshold => 1,
            Some(z) if z <= -low => -1,
            _ => 0,
        })
        .map(Some)
        .collect())
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, StringArray};

    use super::*;

    fn hourly(values: &[f64]) -> RecordBatch {
        let start = 1_700_000_000_000_000_000i64;
        let hour = 3_600_000_000_000i64;
        let times: Vec<i64> = (0..values.len() as i64).map(|i| start + i * hour).collect();
        let schema = Schema::new(vec![
            Field::new(
                "TimeGenerated",
                DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, None),
                true,
            ),
            Field::new("Total", DataType::Float64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(TimestampNanosecondArray::from(times)),
                Arc::new(Float64Array::from(values.to_vec())),
            ],
        )
        .unwrap()
    }

    fn daily_cycle(days: usize) -> Vec<f64> {
        (0..days * 24)
            .map(|i| {
                10_000.0
                    + 4000.0 * (i as f64 * std::f64::consts::TAU / 24.0).sin()
                    + (i % 5) as f64 * 7.0
            })
            .collect()
    }

    #[test]
    fn a_spike_at_a_busy_hour_is_1_and_at_a_quiet_hour_minus_1() {
        let mut y = daily_cycle(10);
        y[5 + 24 * 4] += 8000.0; // sin > 0 at hour 5
        y[18 + 24 * 6] += 8000.0; // sin < 0 at hour 18
        let out = timeseries_anomalies(
            &hourly(&y),
            "TimeGenerated",
            "Total",
            &AnomalyOptions::default(),
        )
        .unwrap();
        let names: Vec<String> = out
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(&names[..2], ["TimeGenerated", "Total"]);
        assert_eq!(&names[2..], COMPONENT_COLUMNS);
        let marks = out.column(8).as_any().downcast_ref::<Int64Array>().unwrap();
        let flagged: Vec<(usize, i64)> = marks
            .iter()
            .enumerate()
            .filter(|(_, m)| *m != Some(0))
            .map(|(i, m)| (i, m.unwrap()))
            .collect();
        assert_eq!(flagged, vec![(101, 1), (162, -1)]);
    }

    #[test]
    fn the_result_is_sorted_by_time_but_decomposed_in_input_order() {
        let y = daily_cycle(3);
        let batch = hourly(&y);
        let reversed = take_record_batch(
            &batch,
            &arrow_array::UInt64Array::from_iter_values((0..72u64).rev()),
        )
        .unwrap();
        let scored = score_rows(
            &reversed,
            "TimeGenerated",
            "Total",
            &AnomalyOptions::default(),
        )
        .unwrap();
        assert_eq!(scored.time_order, (0..72).rev().collect::<Vec<_>>());
        let out = timeseries_anomalies(
            &reversed,
            "TimeGenerated",
            "Total",
            &AnomalyOptions::default(),
        )
        .unwrap();
        let t = out
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .unwrap();
        assert!(t.values().windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn scores_are_population_z_scores() {
        let z = z_scores(&[1, 2, 3, 4]);
        let sd = 1.25f64.sqrt();
        assert!((z[0] + 1.5 / sd).abs() < 1e-15 && (z[3] - 1.5 / sd).abs() < 1e-15);
        assert!(z_scores(&[2, 2]).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn rethresholding_marks_both_tails() {
        let schema = Schema::new(vec![Field::new("score", DataType::Float64, true)]);
        let b = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(Float64Array::from(vec![
                Some(2.5),
                Some(-2.0),
                Some(-3.0),
                None,
                Some(0.1),
            ]))],
        )
        .unwrap();
        let marks = rethreshold(&b, "score", 2.5, None).unwrap();
        assert_eq!(marks.values().to_vec(), vec![1, 0, -1, 0, 0]);
        let marks = rethreshold(&b, "score", 2.5, Some(1.5)).unwrap();
        assert_eq!(marks.values().to_vec(), vec![1, -1, -1, 0, 0]);
    }

    #[test]
    fn gaps_and_unknown_columns_are_named() {
        let mut b = hourly(&daily_cycle(2));
        let e = timeseries_anomalies(&b, "TimeGenerated", "Bytes", &AnomalyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'Bytes'") && e.contains("Total"), "{e}");
        let mut values: Vec<Option<f64>> = daily_cycle(2).into_iter().map(Some).collect();
        values[3] = None;
        b = RecordBatch::try_new(
            b.schema(),
            vec![b.column(0).clone(), Arc::new(Float64Array::from(values))],
        )
        .unwrap();
        let e = timeseries_anomalies(&b, "TimeGenerated", "Total", &AnomalyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("column 'Total'") && e.contains("1 of 48"), "{e}");
        let text = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("t", DataType::Utf8, true),
                Field::new("v", DataType::Float64, true),
            ])),
            vec![
                Arc::new(StringArray::from(vec!["2024-01-01T00:00:00Z"; 2])),
                Arc::new(Float64Array::from(vec![1.0, 2.0])),
            ],
        )
        .unwrap();
        let e = timeseries_anomalies(&text, "t", "v", &AnomalyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("column 'v'") && e.contains("2 points"), "{e}");
        assert!(text.column(0).len() == 2);
    }
}
