//! Reading the schema's columns out of Arrow arrays as text and as UTC nanoseconds.
//!
//! MSTICPy turns numeric pid/id columns into strings (floats first to ints, so `420.0`
//! becomes `"420"`) and leaves string columns (hex pids such as `0x1a4c`) untouched;
//! [`TextColumn`] does the same so that keys and matches come out identical. String
//! arrays are read in place; only numeric and dictionary columns are formatted.

use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use rayon::prelude::*;

use super::text::{write_decimal, TextBuf};
use super::ProcTreeError;

/// Row-addressed text values, borrowed or formatted.
pub trait TextSource: Sync {
    fn len(&self) -> usize;
    fn get(&self, row: usize) -> Option<&str>;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// For a dictionary column, its distinct values and each row's value number (`None`
    /// for a null): values repeat, and a number is cheaper to look up than a text.
    fn dictionary(&self) -> Option<(&dyn TextSource, &[Option<u32>])> {
        None
    }
}

impl TextSource for [Option<&str>] {
    fn len(&self) -> usize {
        <[Option<&str>]>::len(self)
    }
    fn get(&self, row: usize) -> Option<&str> {
        self[row]
    }
}

/// A text view of one input column. Numeric columns are formatted once into a new
/// string array; a dictionary column keeps its values and row numbers.
pub enum TextColumn {
    Utf8(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
    Dictionary {
        values: Box<TextColumn>,
        keys: Vec<Option<u32>>,
    },
}

impl TextSource for TextColumn {
    fn len(&self) -> usize {
        match self {
            TextColumn::Utf8(a) => a.len(),
            TextColumn::Large(a) => a.len(),
            TextColumn::View(a) => a.len(),
            TextColumn::Dictionary { keys, .. } => keys.len(),
        }
    }
    fn get(&self, row: usize) -> Option<&str> {
        match self {
            TextColumn::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::Large(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::View(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::Dictionary { values, keys } => values.get(keys[row]? as usize),
        }
    }
    fn dictionary(&self) -> Option<(&dyn TextSource, &[Option<u32>])> {
        match self {
            TextColumn::Dictionary { values, keys } => Some((values.as_ref(), keys)),
            _ => None,
        }
    }
}

impl TextColumn {
    /// Read `array` (column `name`) as text.
    pub fn from_array(name: &str, array: &ArrayRef) -> Result<TextColumn, ProcTreeError> {
        macro_rules! numbers {
            ($t:ty, $push:expr) => {{
                let a = array.as_primitive::<$t>();
                formatted(a.len(), |i, buf| {
                    if a.is_valid(i) {
                        $push(a.value(i), buf)
                    } else {
                        buf.push_null()
                    }
                })
            }};
        }
        Ok(match array.data_type() {
            DataType::Utf8 => TextColumn::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => TextColumn::Large(array.as_string::<i64>().clone()),
            DataType::Utf8View => TextColumn::View(array.as_string_view().clone()),
            DataType::Null => formatted(array.len(), |_, buf| buf.push_null()),
            DataType::Int8 => numbers!(Int8Type, |v, buf| push_int(i64::from(v), buf)),
            DataType::Int16 => numbers!(Int16Type, |v, buf| push_int(i64::from(v), buf)),
            DataType::Int32 => numbers!(Int32Type, |v, buf| push_int(i64::from(v), buf)),
            DataType::Int64 => numbers!(Int64Type, push_int),
            DataType::UInt8 => numbers!(UInt8Type, |v, buf| push_int(i64::from(v), buf)),
            DataType::UInt16 => numbers!(UInt16Type, |v, buf| push_int(i64::from(v), buf)),
            DataType::UInt32 => numbers!(UInt32Type, |v, buf| push_int(i64::from(v), buf)),
            DataType::UInt64 => numbers!(UInt64Type, push_uint),
            DataType::Float32 => numbers!(Float32Type, |v, buf| push_float(f64::from(v), buf)),
            DataType::Float64 => numbers!(Float64Type, push_float),
            DataType::Boolean => {
                let a = array.as_boolean();
                formatted(a.len(), |i, buf| {
                    buf.push(
                        a.is_valid(i)
                            .then(|| if a.value(i) { "True" } else { "False" }),
                    )
                })
            }
            DataType::Dictionary(_, _) => {
                let dict = array.as_any_dictionary();
                let values = Box::new(TextColumn::from_array(name, dict.values())?);
                let keys = dict.normalized_keys().into_iter().map(|k| Some(k as u32));
                let keys = match array.logical_nulls() {
                    Some(nulls) => keys
                        .zip(nulls.iter())
                        .map(|(k, valid)| k.filter(|_| valid))
                        .collect(),
                    None => keys.collect(),
                };
                TextColumn::Dictionary { values, keys }
            }
            other => {
                return Err(ProcTreeError::ColumnType {
                    column: name.to_string(),
                    found: other.to_string(),
                    expected: "text or numbers",
                })
            }
        })
    }
}

/// A column of `n` values written by `write(i, buf)`, as text.
fn formatted(n: usize, write: impl Fn(usize, &mut TextBuf) + Sync) -> TextColumn {
    let array = TextBuf::par_build(n, write).into_array();
    TextColumn::Large(array.as_string::<i64>().clone())
}

fn push_display(v: impl std::fmt::Display, buf: &mut TextBuf) {
    buf.push_with(|out| write!(out, "{v}").expect("writing to memory"));
}

/// An integer in decimal. Written digit by digit: id columns (`EventID`, numeric pids)
/// are formatted once per row, where a formatter costs several times more.
fn push_int(v: i64, buf: &mut TextBuf) {
    buf.push_with(|out| {
        if v < 0 {
            out.push(b'-');
        }
        write_decimal(out, v.unsigned_abs(), 1);
    });
}

fn push_uint(v: u64, buf: &mut TextBuf) {
    buf.push_with(|out| write_decimal(out, v, 1));
}

/// MSTICPy casts float id columns to int before making them text (`420.0` → `"420"`).
fn push_float(v: f64, buf: &mut TextBuf) {
    if v.is_nan() {
        buf.push_null();
    } else if v.fract() == 0.0 && v.abs() < 9.2e18 {
        push_int(v as i64, buf);
    } else {
        push_display(v, buf);
    }
}

/// Read a time column as UTC nanoseconds since the epoch. Arrow timestamps of any unit
/// are taken as UTC (naive ones too, as MSTICPy localises naive times to UTC); strings
/// are parsed as ISO 8601 or `%Y-%m-%d %H:%M:%S%.f`, with an optional offset.
pub fn time_column(name: &str, array: &ArrayRef) -> Result<Vec<Option<i64>>, ProcTreeError> {
    fn scaled<T: ArrowTimestampType>(a: &ArrayRef, mul: i64) -> Vec<Option<i64>> {
        a.as_primitive::<T>()
            .iter()
            .map(|v| v.and_then(|v| v.checked_mul(mul)))
            .collect()
    }
    Ok(match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            scaled::<TimestampSecondType>(array, 1_000_000_000)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            scaled::<TimestampMillisecondType>(array, 1_000_000)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            scaled::<TimestampMicrosecondType>(array, 1_000)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => scaled::<TimestampNanosecondType>(array, 1),
        DataType::Date64 => array
            .as_primitive::<Date64Type>()
            .iter()
            .map(|v| v.and_then(|v| v.checked_mul(1_000_000)))
            .collect(),
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| v.map(|d| i64::from(d) * 86_400_000_000_000))
            .collect(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = TextColumn::from_array(name, array)?;
            let parsed: Vec<Result<Option<i64>, usize>> = (0..text.len())
                .into_par_iter()
                .map(|row| match text.get(row) {
                    None => Ok(None),
                    Some(s) if s.trim().is_empty() => Ok(None),
                    Some(s) => parse_time(s).map(Some).ok_or(row),
                })
                .collect();
            let mut out = Vec::with_capacity(parsed.len());
            for p in parsed {
                match p {
                    Ok(v) => out.push(v),
                    Err(row) => {
                        return Err(ProcTreeError::BadTime {
                            column: name.to_string(),
                            row,
                            value: text.get(row).unwrap_or_default().to_string(),
                        })
                    }
                }
            }
            out
        }
        other => {
            return Err(ProcTreeError::ColumnType {
                column: name.to_string(),
                found: other.to_string(),
                expected: "a timestamp or time text",
            })
        }
    })
}

/// Parse one time string to UTC nanoseconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return dt.timestamp_nanos_opt();
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return dt.timestamp_nanos_opt();
        }
    }
    let naive = t
        .strip_suffix('Z')
        .or_else(|| t.strip_suffix(" UTC"))
        .unwrap_or(t);
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            return dt.and_utc().timestamp_nanos_opt();
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|dt| dt.and_utc().timestamp_nanos_opt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, Int64Array, TimestampMillisecondArray};
    use std::sync::Arc;

    #[test]
    fn numbers_become_text_like_msticpy() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(420.0), None, Some(f64::NAN)]));
        let t = TextColumn::from_array("pid", &a).unwrap();
        assert_eq!((t.get(0), t.get(1), t.get(2)), (Some("420"), None, None));
        let a: ArrayRef = Arc::new(Int64Array::from(vec![6732]));
        assert_eq!(
            TextColumn::from_array("pid", &a).unwrap().get(0),
            Some("6732")
        );
        let a: ArrayRef = Arc::new(Int64Array::from(vec![0, -7, i64::MIN, i64::MAX]));
        let t = TextColumn::from_array("pid", &a).unwrap();
        let texts: Vec<_> = (0..4).map(|i| t.get(i).unwrap().to_string()).collect();
        assert_eq!(
            texts,
            ["0", "-7", "-9223372036854775808", "9223372036854775807"]
        );
        let a: ArrayRef = Arc::new(arrow_array::UInt64Array::from(vec![u64::MAX]));
        assert_eq!(
            TextColumn::from_array("pid", &a).unwrap().get(0),
            Some("18446744073709551615")
        );
        let a: ArrayRef = Arc::new(StringArray::from(vec!["0x1A4C"]));
        assert_eq!(
            TextColumn::from_array("pid", &a).unwrap().get(0),
            Some("0x1A4C")
        );
    }

    #[test]
    fn times_in_many_shapes() {
        let base = parse_time("2024-03-01 10:00:00").unwrap();
        assert_eq!(parse_time("2024-03-01T10:00:00Z"), Some(base));
        assert_eq!(parse_time("2024-03-01T11:00:00+01:00"), Some(base));
        assert_eq!(
            parse_time("2024-03-01 10:00:00.5"),
            Some(base + 500_000_000)
        );
        assert_eq!(
            parse_time("2024-03-01 10:00:00.123456789"),
            Some(base + 123_456_789)
        );
        assert_eq!(parse_time("2024-03-01 10:00:00+00:00"), Some(base));
        assert_eq!(parse_time("2024-03-01"), Some(base - 36_000_000_000_000));
        assert_eq!(parse_time("yesterday"), None);
        let a: ArrayRef =
            Arc::new(TimestampMillisecondArray::from(vec![1_000]).with_timezone("+02:00"));
        assert_eq!(time_column("t", &a).unwrap(), vec![Some(1_000_000_000)]);
        let a: ArrayRef = Arc::new(StringArray::from(vec![
            Some("2024-03-01 10:00:00"),
            Some("soon"),
        ]));
        let err = time_column("TimeGenerated", &a).unwrap_err().to_string();
        assert!(
            err.contains("TimeGenerated") && err.contains("row 1") && err.contains("soon"),
            "{err}"
        );
    }
}
