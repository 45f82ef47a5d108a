//! Row filters for local files: a parameter's value compared with one column.
//!
//! A condition gives a boolean mask over a column of any type the table readers
//! produce: timestamps (any unit, with or without a zone, compared as UTC), text
//! holding times (RFC 3339 or `YYYY-MM-DD HH:MM:SS`), text, integers, floats and
//! booleans. Text is compared without regard to case.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, BooleanArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, Utc};

use crate::render::parse_time;
use crate::template::FilterOp;

/// The value a column is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Time(DateTime<Utc>),
    Text(String),
    /// For `in`: the list's items as text.
    Texts(Vec<String>),
    Number(f64),
    Bool(bool),
}

/// `column op operand`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub param: String,
    pub column: String,
    pub op: FilterOp,
    pub operand: Operand,
}

impl Condition {
    /// Whether the condition can rule out whole Parquet row groups from their
    /// statistics: a time bound.
    pub fn time_bound(&self) -> Option<DateTime<Utc>> {
        match (&self.op, &self.operand) {
            (FilterOp::Ge | FilterOp::Le, Operand::Time(t)) => Some(*t),
            _ => None,
        }
    }

    /// The rows of `column` that satisfy the condition (nulls never do).
    pub fn mask(&self, column: &ArrayRef) -> Result<BooleanArray, String> {
        match self.op {
            FilterOp::Ge | FilterOp::Le => self.compare(column),
            FilterOp::Eq | FilterOp::In | FilterOp::Contains => self.matches(column),
        }
    }

    fn compare(&self, column: &ArrayRef) -> Result<BooleanArray, String> {
        let keep = |ord: std::cmp::Ordering| match self.op {
            FilterOp::Ge => ord.is_ge(),
            _ => ord.is_le(),
        };
        match &self.operand {
            Operand::Time(t) => {
                if let DataType::Timestamp(unit, _) = column.data_type() {
                    let bound = time_in_unit(*t, *unit);
                    return Ok(match unit {
                        TimeUnit::Second => {
                            ints(column.as_primitive::<TimestampSecondType>(), |v| {
                                keep(v.cmp(&bound))
                            })
                        }
                        TimeUnit::Millisecond => {
                            ints(column.as_primitive::<TimestampMillisecondType>(), |v| {
                                keep(v.cmp(&bound))
                            })
                        }
                        TimeUnit::Microsecond => {
                            ints(column.as_primitive::<TimestampMicrosecondType>(), |v| {
                                keep(v.cmp(&bound))
                            })
                        }
                        TimeUnit::Nanosecond => {
                            ints(column.as_primitive::<TimestampNanosecondType>(), |v| {
                                keep(v.cmp(&bound))
                            })
                        }
                    });
                }
                texts(column, |s| {
                    parse_time(s.trim()).is_some_and(|v| keep(v.cmp(t)))
                })
                .ok_or_else(|| self.unsupported(column, "a time or text column"))
            }
            Operand::Number(n) => numbers(column, |v| v.partial_cmp(n).is_some_and(keep))
                .ok_or_else(|| self.unsupported(column, "a number column")),
            other => Err(format!(
                "parameter '{}': '{}' compares times or numbers, not {other:?}",
                self.param,
                self.op.name()
            )),
        }
    }

    fn matches(&self, column: &ArrayRef) -> Result<BooleanArray, String> {
        let wanted: Vec<String> = match &self.operand {
            Operand::Texts(items) => items.clone(),
            Operand::Text(t) => vec![t.clone()],
            Operand::Number(n) => vec![number_text(*n)],
            Operand::Bool(b) => vec![b.to_string()],
            Operand::Time(t) => vec![t.to_rfc3339()],
        };
        let wanted_lower: Vec<String> = wanted.iter().map(|w| w.to_lowercase()).collect();
        if self.op == FilterOp::Contains {
            return texts(column, |s| {
                wanted_lower
                    .iter()
                    .any(|w| s.to_lowercase().contains(w.as_str()))
            })
            .ok_or_else(|| self.unsupported(column, "a text column"));
        }
        if let Some(mask) = texts(column, |s| wanted.iter().any(|w| text_eq(s, w))) {
            return Ok(mask);
        }
        if let DataType::Boolean = column.data_type() {
            let col = column.as_boolean();
            return Ok(col
                .iter()
                .map(|v| v.map(|b| wanted_lower.iter().any(|w| *w == b.to_string())))
                .collect());
        }
        let numbers_wanted: Vec<f64> = wanted
            .iter()
            .filter_map(|w| w.trim().parse().ok())
            .collect();
        numbers(column, |v| numbers_wanted.contains(&v))
            .ok_or_else(|| self.unsupported(column, "a text, number or boolean column"))
    }

    fn unsupported(&self, column: &ArrayRef, wanted: &str) -> String {
        format!(
            "parameter '{}' filters column '{}' ({}), which is of type {}; '{}' needs {wanted}",
            self.param,
            self.column,
            self.op.name(),
            column.data_type(),
            self.op.name()
        )
    }
}

/// Case-insensitive equality, without allocating for ASCII text.
fn text_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A time as a count of `unit`s since the epoch (saturating far outside the range).
pub fn time_in_unit(t: DateTime<Utc>, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => t.timestamp(),
        TimeUnit::Millisecond => t.timestamp_millis(),
        TimeUnit::Microsecond => t.timestamp_micros(),
        TimeUnit::Nanosecond => t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
            i64::MIN
        } else {
            i64::MAX
        }),
    }
}

fn ints<T: arrow_array::ArrowPrimitiveType<Native = i64>>(
    col: &arrow_array::PrimitiveArray<T>,
    f: impl Fn(i64) -> bool,
) -> BooleanArray {
    col.iter().map(|v| v.map(&f).or(Some(false))).collect()
}

/// A mask over a text column (any of arrow's three text layouts), or `None` for a
/// column that is not text.
fn texts(column: &ArrayRef, f: impl Fn(&str) -> bool) -> Option<BooleanArray> {
    let apply = |it: &mut dyn Iterator<Item = Option<&str>>| -> BooleanArray {
        it.map(|v| Some(v.is_some_and(&f))).collect()
    };
    Some(match column.data_type() {
        DataType::Utf8 => apply(&mut column.as_string::<i32>().iter()),
        DataType::LargeUtf8 => apply(&mut column.as_string::<i64>().iter()),
        DataType::Utf8View => apply(&mut column.as_string_view().iter()),
        _ => return None,
    })
}

/// A mask over a numeric column, values as f64, or `None` for other columns.
fn numbers(column: &ArrayRef, f: impl Fn(f64) -> bool) -> Option<BooleanArray> {
    fn over<T: arrow_array::ArrowPrimitiveType>(
        column: &ArrayRef,
        f: impl Fn(f64) -> bool,
        to_f64: impl Fn(T::Native) -> f64,
    ) -> BooleanArray {
        column
            .as_primitive::<T>()
            .iter()
            .map(|v| Some(v.is_some_and(|v| f(to_f64(v)))))
            .collect()
    }
    Some(match column.data_type() {
        DataType::Int64 => over::<Int64Type>(column, f, |v| v as f64),
        DataType::Int32 => over::<Int32Type>(column, f, |v| v as f64),
        DataType::UInt64 => over::<UInt64Type>(column, f, |v| v as f64),
        DataType::UInt32 => over::<UInt32Type>(column, f, |v| v as f64),
        DataType::Float64 => over::<Float64Type>(column, f, |v| v),
        DataType::Float32 => over::<Float32Type>(column, f, |v| v as f64),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray, TimestampMicrosecondArray};
    use chrono::TimeZone;
    use std::sync::Arc;

    fn cond(op: FilterOp, operand: Operand) -> Condition {
        Condition {
            param: "p".into(),
            column: "c".into(),
            op,
            operand,
        }
    }

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, h, 0, 0).unwrap()
    }

    fn bools(m: BooleanArray) -> Vec<bool> {
        m.iter().map(|v| v.unwrap()).collect()
    }

    #[test]
    fn time_bounds_on_timestamps_and_text() {
        let ts: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![
                Some(t(1).timestamp_micros()),
                None,
                Some(t(5).timestamp_micros()),
            ])
            .with_timezone("UTC"),
        );
        assert_eq!(
            bools(cond(FilterOp::Ge, Operand::Time(t(2))).mask(&ts).unwrap()),
            [false, false, true]
        );
        assert_eq!(
            bools(cond(FilterOp::Le, Operand::Time(t(5))).mask(&ts).unwrap()),
            [true, false, true]
        );
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            "2024-03-01T01:00:00Z",
            "2024-03-01 04:00:00",
            "junk",
        ]));
        assert_eq!(
            bools(cond(FilterOp::Ge, Operand::Time(t(2))).mask(&text).unwrap()),
            [false, true, false]
        );
    }

    #[test]
    fn equality_membership_and_contains_ignore_case() {
        let col: ArrayRef = Arc::new(StringArray::from(vec![Some("WEB01"), Some("db02"), None]));
        assert_eq!(
            bools(
                cond(FilterOp::Eq, Operand::Text("web01".into()))
                    .mask(&col)
                    .unwrap()
            ),
            [true, false, false]
        );
        assert_eq!(
            bools(
                cond(
                    FilterOp::In,
                    Operand::Texts(vec!["DB02".into(), "x".into()])
                )
                .mask(&col)
                .unwrap()
            ),
            [false, true, false]
        );
        assert_eq!(
            bools(
                cond(FilterOp::Contains, Operand::Text("eB".into()))
                    .mask(&col)
                    .unwrap()
            ),
            [true, false, false]
        );
        let nums: ArrayRef = Arc::new(Int64Array::from(vec![4624, 4625]));
        assert_eq!(
            bools(
                cond(FilterOp::In, Operand::Texts(vec!["4625".into()]))
                    .mask(&nums)
                    .unwrap()
            ),
            [false, true]
        );
        let err = cond(FilterOp::Contains, Operand::Text("1".into()))
            .mask(&nums)
            .unwrap_err();
        assert!(
            err.contains("column 'c' (contains), which is of type Int64"),
            "{err}"
        );
    }
}
