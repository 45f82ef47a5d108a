//! Cutting a stream of events into sessions, as MSTICPy's `sessionize_data` does.
//!
//! Events are ordered by the user columns and then by time. A new session starts
//! when a user column changes value, when two consecutive events are more than
//! `max_gap_minutes` apart, or when the session would last longer than
//! `max_session_minutes`. Each session becomes one row: the user columns, the first
//! and last event times (`<time>_min`, `<time>_max`), the list of events in time order
//! (`<event>_list`), `duration` and `number_events`, ordered by user and then by time.
//! The event list keeps the event column's Arrow type, whatever it is.
use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, DurationNanosecondArray, Int64Array, ListArray, RecordBatch,
    TimestampNanosecondArray, UInt32Array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use arrow_select::take::take;

use crate::columns::{column, numbers, texts, times};
use crate::AnalysisError;

/// What makes a session: who (the user columns), when (the time column), what (the
/// event column) and the two time limits.
#[derive(Debug, Clone)]
pub struct Sessionize<'a> {
    pub user_columns: &'a [&'a str],
    pub time_column: &'a str,
    pub event_column: &'a str,
    /// The longest a session may last, in minutes.
    pub max_session_minutes: f64,
    /// The longest gap between two events of one session, in minutes.
    pub max_gap_minutes: f64,
}

/// MSTICPy stands in this text for a missing user value while it sorts and compares,
/// so a missing value and this very text fall in one session; we keep that rule.
const MISSING_TEXT: &str = "dummy_str";

/// A user column's values in the form they are ordered by: numbers numerically,
/// anything else as text (code point order, as Python compares strings).
enum UserKey {
    Numbers(Vec<Option<f64>>),
    Texts(Vec<String>),
}

impl UserKey {
    fn read(batch: &arrow_array::RecordBatch, name: &str) -> Result<Self, AnalysisError> {
        let data_type = column(batch, name)?.data_type();
        if data_type.is_numeric() || *data_type == DataType::Boolean {
            return Ok(UserKey::Numbers(numbers(batch, name)?));
        }
        Ok(UserKey::Texts(
            texts(batch, name)?
                .into_iter()
                .map(|v| v.unwrap_or_else(|| MISSING_TEXT.to_string()))
                .collect(),
        ))
    }

    fn cmp(&self, a: usize, b: usize) -> Ordering {
        match self {
            // Missing numbers go last, as pandas sorts them.
            UserKey::Numbers(v) => match (v[a], v[b]) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (x, y) => x.is_none().cmp(&y.is_none()),
            },
            UserKey::Texts(v) => v[a].cmp(&v[b]),
        }
    }
}

fn minutes_to_nanos(name: &str, minutes: f64) -> Result<i64, AnalysisError> {
    if !(minutes.is_finite() && minutes >= 0.0) {
        return Err(AnalysisError::Invalid(format!(
            "{name} must be a number of minutes, 0 or more (got {minutes})"
        )));
    }
    Ok((minutes * 60e9).round() as i64)
}

/// One row per session (see the module documentation).
pub fn sessionize(
    batch: &RecordBatch,
    spec: &Sessionize<'_>,
) -> Result<RecordBatch, AnalysisError> {
    let max_gap = minutes_to_nanos("max_gap_minutes", spec.max_gap_minutes)?;
    let max_session = minutes_to_nanos("max_session_minutes", spec.max_session_minutes)?;
    let keys = spec
        .user_columns
        .iter()
        .map(|c| UserKey::read(batch, c))
        .collect::<Result<Vec<_>, _>>()?;
    let time_array = column(batch, spec.time_column)?;
    let time_zone = match time_array.data_type() {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    let when = times(batch, spec.time_column)?
        .into_iter()
        .enumerate()
        .map(|(row, t)| {
            t.ok_or_else(|| AnalysisError::BadColumn {
                column: spec.time_column.to_string(),
                message: format!("row {row} has no time; drop or fill the rows without one"),
            })
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let events = column(batch, spec.event_column)?;

    let same_user = |a: usize, b: usize| keys.iter().all(|k| k.cmp(a, b) == Ordering::Equal);
    let mut order: Vec<usize> = (0..batch.num_rows()).collect();
    // A stable sort: events at the same time stay in their input order.
    order.sort_by(|&a, &b| {
        keys.iter()
            .map(|k| k.cmp(a, b))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then(when[a].cmp(&when[b]))
    });

    // `starts[s]` is the position in `order` where session `s` begins.
    let mut starts = Vec::new();
    let mut elapsed = 0i64;
    for (pos, &row) in order.iter().enumerate() {
        if pos == 0 {
            starts.push(0);
            continue;
        }
        let prev = order[pos - 1];
        let gap = when[row] - when[prev];
        // The session's length is measured from its first event, step by step.
        elapsed += gap;
        if !same_user(row, prev) || gap > max_gap || elapsed > max_session {
            starts.push(pos);
            elapsed = 0;
        }
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .copied()
        .chain(std::iter::once(order.len()))
        .collect();

    let first_rows = UInt32Array::from_iter_values(starts.iter().map(|&s| order[s] as u32));
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for name in spec.user_columns {
        let array = column(batch, name)?;
        fields.push(Field::new(*name, array.data_type().clone(), true));
        columns.push(take(array.as_ref(), &first_rows, None).map_err(arrow_failed)?);
    }
    let first: Vec<i64> = starts.iter().map(|&s| when[order[s]]).collect();
    let last: Vec<i64> = ends.iter().map(|&e| when[order[e - 1]]).collect();
    let time_type = DataType::Timestamp(TimeUnit::Nanosecond, time_zone.clone());
    for (suffix, values) in [("min", &first), ("max", &last)] {
        fields.push(Field::new(
            format!("{}_{suffix}", spec.time_column),
            time_type.clone(),
            false,
        ));
        columns.push(Arc::new(
            TimestampNanosecondArray::from(values.clone()).with_timezone_opt(time_zone.clone()),
        ));
    }

    let all_rows = UInt32Array::from_iter_values(order.iter().map(|&r| r as u32));
    let values = take(events.as_ref(), &all_rows, None).map_err(arrow_failed)?;
    let item = Arc::new(Field::new_list_field(events.data_type().clone(), true));
    let offsets = OffsetBuffer::from_lengths(starts.iter().zip(&ends).map(|(s, e)| e - s));
    let lists = ListArray::try_new(item.clone(), offsets, values, None).map_err(arrow_failed)?;
    fields.push(Field::new(
        format!("{}_list", spec.event_column),
        DataType::List(item),
        false,
    ));
    columns.push(Arc::new(lists));

    fields.push(Field::new(
        "duration",
        DataType::Duration(TimeUnit::Nanosecond),
        false,
    ));
    columns.push(Arc::new(DurationNanosecondArray::from_iter_values(
        first.iter().zip(&last).map(|(f, l)| l - f),
    )));
    fields.push(Field::new("number_events", DataType::Int64, false));
    columns.push(Arc::new(Int64Array::from_iter_values(
        starts.iter().zip(&ends).map(|(s, e)| (e - s) as i64),
    )));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_failed)
}

fn arrow_failed(e: arrow_schema::ArrowError) -> AnalysisError {
    AnalysisError::Invalid(format!("building the sessions table: {e}"))
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::StringArray;

    use super::*;

    const MIN: i64 = 60_000_000_000;

    fn events(users: Vec<Option<&str>>, minutes: Vec<i64>, ops: Vec<&str>) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("User", DataType::Utf8, true),
            Field::new("T", DataType::Timestamp(TimeUnit::Nanosecond, None), false),
            Field::new("Op", DataType::Utf8, false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(users)),
                Arc::new(TimestampNanosecondArray::from(
                    minutes.iter().map(|m| m * MIN).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(ops)),
            ],
        )
        .unwrap()
    }

    fn spec<'a>(users: &'a [&'a str]) -> Sessionize<'a> {
        Sessionize {
            user_columns: users,
            time_column: "T",
            event_column: "Op",
            max_session_minutes: 20.0,
            max_gap_minutes: 2.0,
        }
    }

    fn lists(out: &RecordBatch) -> Vec<Vec<String>> {
        let l = out.column_by_name("Op_list").unwrap().as_list::<i32>();
        l.iter()
            .map(|v| {
                v.unwrap()
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap().to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn users_gaps_and_long_sessions_split_sessions() {
        // b: a gap of 3 minutes splits; a: steps of 2 minutes run past 20 minutes.
        let mut users = vec![Some("b"), Some("b"), Some("b")];
        let mut minutes = vec![0, 1, 4];
        let mut ops = vec!["b1", "b2", "b3"];
        for i in 0..12 {
            users.push(Some("a"));
            minutes.push(2 * i);
            ops.push(
                [
                    "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11",
                ][i as usize],
            );
        }
        let out = sessionize(&events(users, minutes, ops), &spec(&["User"])).unwrap();
        let got = lists(&out);
        assert_eq!(got.len(), 4);
        // Cumulated time reaches 22 > 20 at the 12th event of a.
        assert_eq!(got[0].len(), 11);
        assert_eq!(got[1], vec!["a11"]);
        assert_eq!(got[2], vec!["b1", "b2"]);
        assert_eq!(got[3], vec!["b3"]);
        let n = out
            .column_by_name("number_events")
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!(n.values().to_vec(), vec![11, 1, 2, 1]);
        let d = out.column_by_name("duration").unwrap();
        let d = d
            .as_any()
            .downcast_ref::<DurationNanosecondArray>()
            .unwrap();
        assert_eq!(d.value(0), 20 * MIN);
        let names: Vec<String> = out
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "User",
                "T_min",
                "T_max",
                "Op_list",
                "duration",
                "number_events"
            ]
        );
    }

    #[test]
    fn events_are_ordered_by_time_and_ties_keep_input_order() {
        let out = sessionize(
            &events(
                vec![Some("u"); 3],
                vec![1, 0, 1],
                vec!["late1", "first", "late2"],
            ),
            &spec(&["User"]),
        )
        .unwrap();
        assert_eq!(lists(&out), vec![vec!["first", "late1", "late2"]]);
    }

    #[test]
    fn missing_users_form_their_own_sessions_and_stay_missing() {
        let out = sessionize(
            &events(
                vec![None, Some("z"), None],
                vec![0, 0, 1],
                vec!["n1", "z", "n2"],
            ),
            &spec(&["User"]),
        )
        .unwrap();
        // Missing sorts as "dummy_str", before "z".
        assert_eq!(lists(&out), vec![vec!["n1", "n2"], vec!["z"]]);
        assert!(out.column(0).is_null(0));
    }

    #[test]
    fn bad_input_names_the_parameter_or_column() {
        let b = events(vec![Some("u")], vec![0], vec!["x"]);
        let mut s = spec(&["User"]);
        s.max_gap_minutes = -1.0;
        assert!(sessionize(&b, &s)
            .unwrap_err()
            .to_string()
            .contains("max_gap_minutes"));
        let e = sessionize(&b, &spec(&["Nope"])).unwrap_err().to_string();
        assert!(e.contains("'Nope'"), "{e}");
    }
}
