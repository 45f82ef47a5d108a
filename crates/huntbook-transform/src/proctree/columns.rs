//! Reading the schema's columns out of Arrow arrays as text and as UTC nanoseconds.
//!
//! MSTICPy turns numeric pid/id columns into strings (floats first to ints, so `420.0`
//! becomes `"420"`) and leaves string columns (hex pids such as `0x1a4c`) untouched;
//! [`TextColumn`] does the same so that keys and matches come out identical. String
//! arrays are read in place; only numeric and dictionary columns are formatted.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use rayon::prelude::*;

use super::ProcTreeError;

/// Row-addressed text values, borrowed or formatted.
pub trait TextSource: Sync {
    fn len(&self) -> usize;
    fn get(&self, row: usize) -> Option<&str>;
    fn is_empty(&self) -> bool {
        self.len() == 0
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

impl TextSource for Vec<Option<String>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, row: usize) -> Option<&str> {
        self[row].as_deref()
    }
}

/// A text view of one input column.
pub enum TextColumn {
    Utf8(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
    Formatted(Vec<Option<String>>),
}

impl TextSource for TextColumn {
    fn len(&self) -> usize {
        match self {
            TextColumn::Utf8(a) => a.len(),
            TextColumn::Large(a) => a.len(),
            TextColumn::View(a) => a.len(),
            TextColumn::Formatted(v) => v.len(),
        }
    }
    fn get(&self, row: usize) -> Option<&str> {
        match self {
            TextColumn::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::Large(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::View(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::Formatted(v) => v[row].as_deref(),
        }
    }
}

impl TextColumn {
    /// Whether the source column is a 64-bit-offset string column (kept so on output).
    pub fn is_large(&self) -> bool {
        matches!(self, TextColumn::Large(_))
    }

    /// Read `array` (column `name`) as text.
    pub fn from_array(name: &str, array: &ArrayRef) -> Result<TextColumn, ProcTreeError> {
        macro_rules! ints {
            ($t:ty) => {
                TextColumn::Formatted(
                    array
                        .as_primitive::<$t>()
                        .iter()
                        .map(|v| v.map(|v| v.to_string()))
                        .collect(),
                )
            };
        }
        macro_rules! floats {
            ($t:ty) => {
                TextColumn::Formatted(
                    array
                        .as_primitive::<$t>()
                        .iter()
                        .map(|v| v.and_then(|v| float_text(f64::from(v))))
                        .collect(),
                )
            };
        }
        Ok(match array.data_type() {
            DataType::Utf8 => TextColumn::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => TextColumn::Large(array.as_string::<i64>().clone()),
            DataType::Utf8View => TextColumn::View(array.as_string_view().clone()),
            DataType::Null => TextColumn::Formatted(vec![None; array.len()]),
            DataType::Int8 => ints!(Int8Type),
            DataType::Int16 => ints!(Int16Type),
            DataType::Int32 => ints!(Int32Type),
            DataType::Int64 => ints!(Int64Type),
            DataType::UInt8 => ints!(UInt8Type),
            DataType::UInt16 => ints!(UInt16Type),
            DataType::UInt32 => ints!(UInt32Type),
            DataType::UInt64 => ints!(UInt64Type),
            DataType::Float32 => floats!(Float32Type),
            DataType::Float64 => floats!(Float64Type),
            DataType::Boolean => TextColumn::Formatted(
                array
                    .as_boolean()
                    .iter()
                    .map(|v| v.map(|b| if b { "True" } else { "False" }.to_string()))
                    .collect(),
            ),
            DataType::Dictionary(_, _) => {
                let dict = array.as_any_dictionary();
                let values = TextColumn::from_array(name, dict.values())?;
                let keys = dict.normalized_keys();
                TextColumn::Formatted(
                    (0..array.len())
                        .map(|i| {
                            if array.is_valid(i) {
                                values.get(keys[i]).map(str::to_string)
                            } else {
                                None
                            }
                        })
                        .collect(),
                )
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

/// MSTICPy casts float id columns to int before making them text (`420.0` → `"420"`).
fn float_text(v: f64) -> Option<String> {
    if v.is_nan() {
        None
    } else if v.fract() == 0.0 && v.abs() < 9.2e18 {
        Some((v as i64).to_string())
    } else {
        Some(v.to_string())
    }
}

/// The text form of a column is needed as an Arrow array for output (MSTICPy's frame
/// holds these schema columns as Python strings).
pub fn text_array(col: &TextColumn, rows: impl Iterator<Item = Option<usize>>) -> ArrayRef {
    if col.is_large() {
        Arc::new(
            rows.map(|r| r.and_then(|r| col.get(r)))
                .collect::<LargeStringArray>(),
        )
    } else {
        Arc::new(
            rows.map(|r| r.and_then(|r| col.get(r)))
                .collect::<StringArray>(),
        )
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
