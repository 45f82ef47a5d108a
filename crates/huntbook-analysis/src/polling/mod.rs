//! Polling (beaconing) detection, as MSTICPy's `PeriodogramPollingDetector`.
//!
//! For each group of events (say, one source and destination), the events are
//! counted per second from the group's first event to its last (the last second
//! itself not counted, as MSTICPy does), the counts are centred on the group's mean
//! rate, and Fisher's g test on their periodogram says whether one frequency stands
//! out. [`detect_polling`] adds MSTICPy's `p_value`, `dominant_frequency` and
//! `dominant_interval` (seconds) to every row; [`polling_groups`] gives one row per
//! group, most significant first, for beaconing triage.
//!
//! Times may be integers (seconds, as MSTICPy takes them) or timestamps of any kind,
//! read to the second. A group whose events all fall in one second has no
//! periodogram (MSTICPy fails on it): its results are NaN.
// Keys are small ids and short strings, hashed in the hot loop: foldhash, not SipHash.
use foldhash::HashMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use arrow_select::take::take;
use rayon::prelude::*;

use crate::columns::{codes, column, numbers, times};
use crate::AnalysisError;

mod g_test;
mod periodogram;

use periodogram::{Plans, Work};

/// The periodicity of one group's events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polling {
    pub p_value: f64,
    /// In cycles per second.
    pub dominant_frequency: f64,
    /// In seconds (infinite when the strongest frequency is 0).
    pub dominant_interval: f64,
}

/// The periodicity of events at these times (in seconds).
pub fn polling(seconds: &[i64]) -> Polling {
    let mut counts = Vec::new();
    polling_with(
        seconds,
        &Plans::default(),
        &mut counts,
        &mut Work::default(),
    )
}

/// What one thread reuses from group to group.
#[derive(Default)]
struct Scratch {
    times: Vec<i64>,
    counts: Vec<f64>,
    /// The counts of the second group of a pair.
    other: Vec<f64>,
    spectrum: Work,
    /// The periodogram of the second group of a pair.
    second_pxx: Vec<f64>,
}

fn polling_with(
    seconds: &[i64],
    plans: &Plans,
    counts: &mut Vec<f64>,
    spectrum: &mut Work,
) -> Polling {
    let Some(steps) = count_per_second(seconds, counts) else {
        return Polling::NONE;
    };
    periodogram::periodogram(counts, &plans.get(steps), spectrum);
    Polling::of(&spectrum.pxx, steps)
}

/// The events counted per second over the span of `seconds` (its last second not
/// counted), centred on their mean rate, left in `counts`; the span in seconds, or
/// `None` for no events or a span of zero.
fn count_per_second(seconds: &[i64], counts: &mut Vec<f64>) -> Option<usize> {
    let (Some(&start), Some(&end)) = (seconds.iter().min(), seconds.iter().max()) else {
        return None;
    };
    let steps = (end - start) as usize;
    if steps == 0 {
        return None;
    }
    counts.clear();
    counts.resize(steps, 0.0);
    for &t in seconds {
        if t < end {
            counts[(t - start) as usize] += 1.0;
        }
    }
    let rate = seconds.len() as f64 / steps as f64;
    counts.iter_mut().for_each(|c| *c -= rate);
    Some(steps)
}

impl Polling {
    const NONE: Polling = Polling {
        p_value: f64::NAN,
        dominant_frequency: f64::NAN,
        dominant_interval: f64::NAN,
    };

    /// Fisher's g test and the strongest frequency of the periodogram `pxx` of a
    /// `steps`-long series.
    fn of(pxx: &[f64], steps: usize) -> Polling {
        let peak = (0..pxx.len()).fold(0, |best, k| if pxx[k] > pxx[best] { k } else { best });
        let dominant_frequency = periodogram::frequency(peak, steps);
        let tested = if steps.is_multiple_of(2) {
            &pxx[..pxx.len() - 1]
        } else {
            pxx
        };
        Polling {
            p_value: g_test::p_value(tested),
            dominant_frequency,
            dominant_interval: 1.0 / dominant_frequency,
        }
    }
}

/// The rows of each group (groups in order of first appearance; rows with a missing
/// group value belong to none, as pandas drops them), and every row's time in
/// seconds.
pub(crate) struct Groups {
    /// Each group's rows, in table order.
    pub(crate) rows: Vec<Vec<usize>>,
    /// Every row's time, in seconds.
    pub(crate) seconds: Vec<i64>,
}

fn seconds(batch: &RecordBatch, time_column: &str) -> Result<Vec<i64>, AnalysisError> {
    let missing = |row: usize| AnalysisError::BadColumn {
        column: time_column.to_string(),
        message: format!("row {row} has no time; drop or fill the rows without one"),
    };
    if column(batch, time_column)?.data_type().is_numeric() {
        return numbers(batch, time_column)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| match v {
                Some(v) if v.fract() == 0.0 => Ok(v as i64),
                Some(v) => Err(AnalysisError::BadColumn {
                    column: time_column.to_string(),
                    message: format!(
                        "row {row} holds {v}; numeric times must be whole seconds \
                         (round them, or pass timestamps)"
                    ),
                }),
                None => Err(missing(row)),
            })
            .collect();
    }
    times(batch, time_column)?
        .into_iter()
        .enumerate()
        .map(|(row, t)| {
            t.map(|ns| ns.div_euclid(1_000_000_000))
                .ok_or_else(|| missing(row))
        })
        .collect()
}

pub(crate) fn group_rows(
    batch: &RecordBatch,
    time_column: &str,
    group_by: &[&str],
) -> Result<Groups, AnalysisError> {
    let seconds = seconds(batch, time_column)?;
    if group_by.is_empty() {
        return Ok(Groups {
            rows: vec![(0..batch.num_rows()).collect()],
            seconds,
        });
    }
    // Each column is coded once; then the codes are folded into group codes a
    // column at a time, keyed by the pair (group so far, column's code) packed in a
    // u64. Codes are handed out in order of first appearance, so the groups are too.
    let mut group: Vec<Option<u32>> = vec![Some(0); batch.num_rows()];
    let mut count = 1;
    for name in group_by {
        let (_, codes) = codes(batch, name)?;
        let mut index: HashMap<u64, u32> = HashMap::default();
        for (g, code) in group.iter_mut().zip(codes) {
            *g = match (*g, code) {
                (Some(g), Some(code)) => {
                    let next = index.len() as u32;
                    Some(*index.entry((g as u64) << 32 | code as u64).or_insert(next))
                }
                _ => None,
            };
        }
        count = index.len();
    }
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (row, g) in group.iter().enumerate() {
        if let Some(g) = g {
            rows[*g as usize].push(row);
        }
    }
    Ok(Groups { rows, seconds })
}

/// A group's position and its results.
type GroupPolling = (usize, Polling);

pub(crate) fn results(groups: &Groups) -> Vec<Polling> {
    let plans = Plans::default();
    // Groups whose spans have the same odd length go through the FFT in pairs (see
    // `periodogram_pair`); odd lengths with large prime factors are the costliest.
    let mut units: Vec<(usize, Option<usize>)> = Vec::with_capacity(groups.rows.len());
    let mut unpaired: HashMap<usize, usize> = HashMap::default();
    for (g, rows) in groups.rows.iter().enumerate() {
        let span = rows.iter().map(|&r| groups.seconds[r]);
        let steps = match (span.clone().min(), span.max()) {
            (Some(start), Some(end)) => (end - start) as usize,
            _ => 0,
        };
        if steps.is_multiple_of(2) {
            units.push((g, None));
        } else if let Some(first) = unpaired.remove(&steps) {
            units.push((first, Some(g)));
        } else {
            unpaired.insert(steps, g);
        }
    }
    units.extend(unpaired.into_values().map(|g| (g, None)));
    let found: Vec<(GroupPolling, Option<GroupPolling>)> = units
        .par_iter()
        .map_init(Scratch::default, |scratch, &(first, second)| {
            let Scratch {
                times,
                counts,
                other,
                spectrum,
                second_pxx,
            } = scratch;
            times.clear();
            times.extend(groups.rows[first].iter().map(|&r| groups.seconds[r]));
            let Some(second) = second else {
                let alone = polling_with(times, &plans, counts, spectrum);
                return ((first, alone), None);
            };
            let steps = count_per_second(times, counts).expect("paired spans are odd");
            times.clear();
            times.extend(groups.rows[second].iter().map(|&r| groups.seconds[r]));
            count_per_second(times, other).expect("paired spans are odd");
            periodogram::periodogram_pair(counts, other, &plans.get(steps), spectrum, second_pxx);
            (
                (first, Polling::of(&spectrum.pxx, steps)),
                Some((second, Polling::of(second_pxx, steps))),
            )
        })
        .collect();
    let mut out = vec![Polling::NONE; groups.rows.len()];
    for (one, other) in found {
        for (g, polling) in std::iter::once(one).chain(other) {
            out[g] = polling;
        }
    }
    out
}

fn arrow_failed(e: arrow_schema::ArrowError) -> AnalysisError {
    AnalysisError::Invalid(format!("building the polling table: {e}"))
}

fn result_columns(per_row: &[Polling]) -> Vec<(Field, ArrayRef)> {
    let column = |name: &str, value: fn(&Polling) -> f64| {
        (
            Field::new(name, DataType::Float64, true),
            Arc::new(Float64Array::from_iter_values(per_row.iter().map(value))) as ArrayRef,
        )
    };
    vec![
        column("p_value", |p| p.p_value),
        column("dominant_frequency", |p| p.dominant_frequency),
        column("dominant_interval", |p| p.dominant_interval),
    ]
}

/// Every row that belongs to a group, in table order (rows with a missing group value
/// left out, as MSTICPy's merge leaves them out), as a table of its position (`row`)
/// and its group's `p_value`, `dominant_frequency` and `dominant_interval`
/// (`group_by` empty: all rows are one group).
pub fn polling_rows(
    batch: &RecordBatch,
    time_column: &str,
    group_by: &[&str],
) -> Result<RecordBatch, AnalysisError> {
    let groups = group_rows(batch, time_column, group_by)?;
    let found = results(&groups);
    let mut group_of = vec![None; batch.num_rows()];
    for (g, rows) in groups.rows.iter().enumerate() {
        for &r in rows {
            group_of[r] = Some(g);
        }
    }
    let (rows, per_row): (Vec<u32>, Vec<Polling>) = group_of
        .iter()
        .enumerate()
        .filter_map(|(r, g)| g.map(|g| (r as u32, found[g])))
        .unzip();
    let mut fields = vec![Field::new("row", DataType::UInt32, false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(UInt32Array::from(rows))];
    for (field, array) in result_columns(&per_row) {
        fields.push(field);
        columns.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_failed)
}

/// `batch` with `p_value`, `dominant_frequency` and `dominant_interval` added to each
/// row, as [`polling_rows`] finds them.
pub fn detect_polling(
    batch: &RecordBatch,
    time_column: &str,
    group_by: &[&str],
) -> Result<RecordBatch, AnalysisError> {
    let found = polling_rows(batch, time_column, group_by)?;
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns = batch
        .columns()
        .iter()
        .map(|c| take(c.as_ref(), found.column(0), None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(arrow_failed)?;
    let schema = found.schema();
    for (field, array) in schema.fields().iter().zip(found.columns()).skip(1) {
        fields.push(field.as_ref().clone());
        columns.push(array.clone());
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_failed)
}

/// One row per group: the group columns, `event_count`, `p_value`,
/// `dominant_frequency`, `dominant_interval` (seconds), and `first_time` and
/// `last_time` (of the time column's type), the most significant groups (lowest
/// p-value) first.
pub fn polling_groups(
    batch: &RecordBatch,
    time_column: &str,
    group_by: &[&str],
) -> Result<RecordBatch, AnalysisError> {
    let groups = group_rows(batch, time_column, group_by)?;
    let found = results(&groups);
    let mut order: Vec<usize> = (0..groups.rows.len()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (found[a].p_value, found[b].p_value);
        // NaN (groups without a periodogram) last.
        pa.is_nan().cmp(&pb.is_nan()).then(pa.total_cmp(&pb))
    });
    let pick = |choose: fn(&[usize], &[i64]) -> usize| {
        UInt32Array::from_iter_values(
            order
                .iter()
                .map(|&g| choose(&groups.rows[g], &groups.seconds) as u32),
        )
    };
    let first_rows = pick(|rows, _| rows[0]);
    let earliest = pick(|rows, s| {
        *rows
            .iter()
            .min_by_key(|&&r| s[r])
            .expect("groups have rows")
    });
    let latest = pick(|rows, s| {
        *rows
            .iter()
            .max_by_key(|&&r| s[r])
            .expect("groups have rows")
    });

    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for name in group_by {
        let array = column(batch, name)?;
        fields.push(Field::new(*name, array.data_type().clone(), true));
        columns.push(take(array.as_ref(), &first_rows, None).map_err(arrow_failed)?);
    }
    fields.push(Field::new("event_count", DataType::Int64, false));
    columns.push(Arc::new(Int64Array::from_iter_values(
        order.iter().map(|&g| groups.rows[g].len() as i64),
    )));
    let ordered: Vec<Polling> = order.iter().map(|&g| found[g]).collect();
    for (field, array) in result_columns(&ordered) {
        fields.push(field);
        columns.push(array);
    }
    let time = column(batch, time_column)?;
    for (name, rows) in [("first_time", &earliest), ("last_time", &latest)] {
        fields.push(Field::new(name, time.data_type().clone(), true));
        columns.push(take(time.as_ref(), rows, None).map_err(arrow_failed)?);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_failed)
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    use arrow_array::StringArray;

    use super::*;

    /// A small deterministic generator, so the tests need no crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, below: u64) -> i64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % below) as i64
        }
    }

    fn flows() -> RecordBatch {
        let mut rng = Lcg(7);
        let (mut src, mut time) = (Vec::new(), Vec::new());
        // A beacon every 60 s (+-3 s) for four hours, and random traffic.
        let mut t = 1_000;
        while t < 1_000 + 4 * 3600 {
            src.push(Some("beacon"));
            time.push(t);
            t += 57 + rng.next(7);
        }
        for _ in 0..240 {
            src.push(Some("noise"));
            time.push(1_000 + rng.next(4 * 3600));
        }
        src.push(None);
        time.push(5);
        src.push(Some("single"));
        time.push(10);
        let schema = Schema::new(vec![
            Field::new("src", DataType::Utf8, true),
            Field::new("t", DataType::Int64, false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(src)),
                Arc::new(Int64Array::from(time)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn the_beacon_is_significant_and_the_noise_is_not() {
        let out = polling_groups(&flows(), "t", &["src"]).unwrap();
        let src = out.column(0).as_string::<i32>();
        let p = out
            .column_by_name("p_value")
            .unwrap()
            .as_primitive::<Float64Type>();
        let interval = out
            .column_by_name("dominant_interval")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(src.value(0), "beacon");
        assert!(p.value(0) < 1e-6, "{}", p.value(0));
        assert!(
            (interval.value(0) - 60.0).abs() < 2.0,
            "{}",
            interval.value(0)
        );
        assert_eq!(src.value(1), "noise");
        assert!(p.value(1) > 0.01, "{}", p.value(1));
        // One event: no periodogram.
        assert_eq!(src.value(2), "single");
        assert!(p.value(2).is_nan());
    }

    #[test]
    fn every_row_gets_its_groups_result_and_missing_groups_are_dropped() {
        let batch = flows();
        let out = detect_polling(&batch, "t", &["src"]).unwrap();
        assert_eq!(out.num_rows(), batch.num_rows() - 1);
        assert_eq!(out.num_columns(), 5);
        let p = out
            .column_by_name("p_value")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(p.value(0), p.value(1));
        let whole = detect_polling(&batch, "t", &[]).unwrap();
        assert_eq!(whole.num_rows(), batch.num_rows());
    }

    #[test]
    fn fractional_numeric_times_are_refused() {
        let schema = Schema::new(vec![Field::new("t", DataType::Float64, false)]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(Float64Array::from(vec![1.5]))],
        )
        .unwrap();
        let e = detect_polling(&batch, "t", &[]).unwrap_err().to_string();
        assert!(e.contains("'t'") && e.contains("whole seconds"), "{e}");
    }
}
