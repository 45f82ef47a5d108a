//! Reading a table's columns as the plain vectors the analyses work on.
//!
//! Every analysis takes an Arrow batch and names its columns, as MSTICPy's functions
//! take a DataFrame and column names. These readers accept whatever type a column
//! arrived as (any integer or float width, booleans, strings of digits, timestamps of
//! any unit or time zone, ISO 8601 text), so a CSV read as text and a Parquet file
//! read as typed columns give the same answer, and they name the column when its
//! values cannot be read.
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampNanosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::{cast_with_options, CastOptions};
use arrow_schema::{DataType, TimeUnit};

use crate::AnalysisError;

/// The column `name` of `batch`, or an error listing the columns there are.
pub fn column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b ArrayRef, AnalysisError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| AnalysisError::MissingColumn {
            column: name.to_string(),
            available: batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
        })
}

/// Casts strictly: a value that cannot be converted is an error, not a silent null.
fn cast_to(name: &str, array: &ArrayRef, to: &DataType) -> Result<ArrayRef, AnalysisError> {
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    cast_with_options(array, to, &options).map_err(|e| AnalysisError::BadColumn {
        column: name.to_string(),
        message: format!("cannot read {} values as {to}: {e}", array.data_type()),
    })
}

/// The column's values as numbers (nulls as `None`). Booleans read as 0 and 1.
pub fn numbers(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>, AnalysisError> {
    let array = column(batch, name)?;
    let array = match array.data_type() {
        DataType::Boolean => cast_to(
            name,
            &cast_to(name, array, &DataType::UInt8)?,
            &DataType::Float64,
        )?,
        _ => cast_to(name, array, &DataType::Float64)?,
    };
    Ok(array.as_primitive::<Float64Type>().iter().collect())
}

/// The column's values as text (nulls as `None`); numbers and times are formatted.
/// Zoned times are written in UTC (`Z`): Arrow formats only offset zones, and a
/// named zone such as pandas' `UTC` would otherwise fail.
pub fn texts(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, AnalysisError> {
    let array = column(batch, name)?;
    let array = match array.data_type() {
        DataType::Timestamp(unit, Some(_)) => {
            let utc = DataType::Timestamp(*unit, Some("+00:00".into()));
            cast_to(name, &cast_to(name, array, &utc)?, &DataType::Utf8)?
        }
        _ => cast_to(name, array, &DataType::Utf8)?,
    };
    Ok(array
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// The column as labels: its distinct values as text, in order of first sight, and
/// the code of each row's value (`None` where it is missing). Grouping or counting by
/// codes avoids a string per row: text columns are coded straight from Arrow's
/// buffers, each distinct value copied once; other types are formatted as [`texts`]
/// formats them.
pub fn codes(
    batch: &RecordBatch,
    name: &str,
) -> Result<(Vec<String>, Vec<Option<u32>>), AnalysisError> {
    fn code<'a>(values: impl Iterator<Item = Option<&'a str>>) -> (Vec<String>, Vec<Option<u32>>) {
        let mut seen: foldhash::HashMap<&'a str, u32> = foldhash::HashMap::default();
        let mut labels = Vec::new();
        let codes = values
            .map(|v| {
                v.map(|v| {
                    *seen.entry(v).or_insert_with(|| {
                        labels.push(v.to_string());
                        labels.len() as u32 - 1
                    })
                })
            })
            .collect();
        (labels, codes)
    }
    let array = column(batch, name)?;
    Ok(match array.data_type() {
        DataType::Utf8 => code(array.as_string::<i32>().iter()),
        DataType::LargeUtf8 => code(array.as_string::<i64>().iter()),
        DataType::Utf8View => code(array.as_string_view().iter()),
        _ => {
            let texts = texts(batch, name)?;
            code(texts.iter().map(|v| v.as_deref()))
        }
    })
}

/// The column's values as nanoseconds since the Unix epoch, UTC (nulls as `None`).
/// Timestamps without a time zone are taken as UTC, as pandas and MSTICPy take them.
pub fn times(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>, AnalysisError> {
    let array = column(batch, name)?;
    let nanos = DataType::Timestamp(TimeUnit::Nanosecond, None);
    let array = match array.data_type() {
        DataType::Timestamp(_, Some(_)) => {
            // Dropping the zone keeps the instant: Arrow stores zoned times as UTC.
            let utc = cast_to(
                name,
                array,
                &DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into())),
            )?;
            cast_to(name, &utc, &nanos)?
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast_to(name, array, &DataType::Utf8)?;
            parse_times(name, text.as_string::<i32>())?
        }
        _ => cast_to(name, array, &nanos)?,
    };
    Ok(array
        .as_primitive::<TimestampNanosecondType>()
        .iter()
        .collect())
}

/// ISO 8601 text, with or without an offset (`Z`, `+02:00`), read as UTC instants.
fn parse_times(name: &str, text: &arrow_array::StringArray) -> Result<ArrayRef, AnalysisError> {
    let utc = DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into()));
    let parsed = cast_to(name, &(std::sync::Arc::new(text.clone()) as ArrayRef), &utc)?;
    cast_to(
        name,
        &parsed,
        &DataType::Timestamp(TimeUnit::Nanosecond, None),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{BooleanArray, Int32Array, StringArray, TimestampMillisecondArray};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn numbers_come_from_integers_booleans_and_digits() {
        let b = batch(vec![
            ("i", Arc::new(Int32Array::from(vec![Some(3), None]))),
            ("b", Arc::new(BooleanArray::from(vec![true, false]))),
            ("s", Arc::new(StringArray::from(vec!["1.5", "2"]))),
        ]);
        assert_eq!(numbers(&b, "i").unwrap(), vec![Some(3.0), None]);
        assert_eq!(numbers(&b, "b").unwrap(), vec![Some(1.0), Some(0.0)]);
        assert_eq!(numbers(&b, "s").unwrap(), vec![Some(1.5), Some(2.0)]);
    }

    #[test]
    fn unreadable_values_and_missing_columns_name_the_column() {
        let b = batch(vec![(
            "s",
            Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
        )]);
        let e = numbers(&b, "s").unwrap_err().to_string();
        assert!(e.contains("column 's'"), "{e}");
        let e = numbers(&b, "nope").unwrap_err().to_string();
        assert!(e.contains("'nope'") && e.contains("s"), "{e}");
    }

    #[test]
    fn codes_are_equal_for_equal_values_in_order_of_first_sight() {
        let b = batch(vec![
            (
                "s",
                Arc::new(StringArray::from(vec![
                    Some("b"),
                    Some("a"),
                    None,
                    Some("b"),
                ])) as ArrayRef,
            ),
            ("i", Arc::new(Int32Array::from(vec![7, 7, 8, 7]))),
        ]);
        let label = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            codes(&b, "s").unwrap(),
            (label(&["b", "a"]), vec![Some(0), Some(1), None, Some(0)])
        );
        assert_eq!(
            codes(&b, "i").unwrap(),
            (label(&["7", "8"]), vec![Some(0), Some(0), Some(1), Some(0)])
        );
        assert!(codes(&b, "nope")
            .unwrap_err()
            .to_string()
            .contains("'nope'"));
    }

    #[test]
    fn texts_of_times_in_a_named_zone_are_written_in_utc() {
        let zoned = TimestampMillisecondArray::from(vec![1_000]).with_timezone("UTC");
        let b = batch(vec![("t", Arc::new(zoned) as ArrayRef)]);
        assert_eq!(
            texts(&b, "t").unwrap(),
            vec![Some("1970-01-01T00:00:01Z".to_string())]
        );
    }

    #[test]
    fn times_read_units_zones_and_iso_text_as_utc_nanoseconds() {
        let ms = TimestampMillisecondArray::from(vec![Some(1_000), None]);
        let zoned = TimestampMillisecondArray::from(vec![1_000, 2_000]).with_timezone("+02:00");
        let b = batch(vec![
            ("ms", Arc::new(ms) as ArrayRef),
            ("tz", Arc::new(zoned)),
            (
                "iso",
                Arc::new(StringArray::from(vec![
                    Some("1970-01-01T02:00:01+02:00"),
                    None,
                ])),
            ),
        ]);
        assert_eq!(times(&b, "ms").unwrap(), vec![Some(1_000_000_000), None]);
        assert_eq!(
            times(&b, "tz").unwrap(),
            vec![Some(1_000_000_000), Some(2_000_000_000)]
        );
        assert_eq!(times(&b, "iso").unwrap(), vec![Some(1_000_000_000), None]);
    }
}
