//! Table columns written into a chart's spec, compactly.
//!
//! Text repeats (a user, an operation, a host name on thousands of rows), so text
//! columns go out as a dictionary and one small integer per row: `{"dict": [...],
//! "codes": [...]}` with `-1` for a missing value. Times go out as milliseconds
//! relative to the chart's first instant (`t0`), which keeps each number short.
//! Columns are read with the analyses' readers, so any column type that an analysis
//! accepts draws too.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use huntbook_analysis::columns;
use serde_json::{json, Value};

use crate::VisError;

/// Distinct labels in order of first sight, and the code of each.
#[derive(Debug, Default)]
pub struct Labels {
    values: Vec<String>,
    codes: HashMap<String, u32>,
}

impl Labels {
    /// The code of `label`, adding it if it is new.
    pub fn code(&mut self, label: &str) -> u32 {
        if let Some(&code) = self.codes.get(label) {
            return code;
        }
        let code = self.values.len() as u32;
        self.values.push(label.to_string());
        self.codes.insert(label.to_string(), code);
        code
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn into_values(self) -> Vec<String> {
        self.values
    }
}

/// `values` taken in `order`, as a dictionary-coded JSON column.
pub fn coded(values: &[Option<String>], order: &[usize]) -> Value {
    let mut labels = Labels::default();
    let codes: Vec<i64> = order
        .iter()
        .map(|&row| match &values[row] {
            Some(v) => i64::from(labels.code(v)),
            None => -1,
        })
        .collect();
    json!({"dict": labels.into_values(), "codes": codes})
}

/// The tooltip columns `names` of `batch`, rows taken in `order`:
/// `[{"name": ..., "dict": [...], "codes": [...]}, ...]`.
pub fn tooltips(batch: &RecordBatch, names: &[String], order: &[usize]) -> Result<Value, VisError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let values = columns::texts(batch, name)?;
        let mut column = coded(&values, order);
        column["name"] = name.as_str().into();
        out.push(column);
    }
    Ok(Value::Array(out))
}

/// Milliseconds from `t0` to `nanos`, as a whole number when it is one.
pub fn offset_ms(nanos: i64, t0: i64) -> Value {
    let delta = nanos - t0;
    if delta % 1_000_000 == 0 {
        Value::from(delta / 1_000_000)
    } else {
        Value::from(delta as f64 / 1e6)
    }
}

/// Epoch milliseconds of an instant in nanoseconds.
pub fn epoch_ms(nanos: i64) -> Value {
    offset_ms(nanos, 0)
}

/// A number for the spec; NaN and infinities (which JSON cannot hold) as null.
pub fn number(value: Option<f64>) -> Value {
    match value {
        Some(v) if v.is_finite() => {
            if v.fract() == 0.0 && v.abs() < 9e15 {
                Value::from(v as i64)
            } else {
                Value::from(v)
            }
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, StringArray};

    use super::*;

    #[test]
    fn text_is_coded_in_the_order_asked_with_nulls_as_minus_one() {
        let values = vec![
            Some("a".to_string()),
            None,
            Some("b".into()),
            Some("a".into()),
        ];
        let v = coded(&values, &[3, 2, 1, 0]);
        assert_eq!(v, json!({"dict": ["a", "b"], "codes": [0, 1, -1, 0]}));
    }

    #[test]
    fn tooltips_format_numbers_and_name_missing_columns() {
        let batch = RecordBatch::try_from_iter([
            ("Pid", Arc::new(Int64Array::from(vec![4, 8])) as ArrayRef),
            ("User", Arc::new(StringArray::from(vec!["x", "y"]))),
        ])
        .unwrap();
        let v = tooltips(&batch, &["Pid".into()], &[1, 0]).unwrap();
        assert_eq!(v[0]["dict"], json!(["8", "4"]));
        assert_eq!(v[0]["name"], "Pid");
        let e = tooltips(&batch, &["Nope".into()], &[0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("'Nope'") && e.contains("Pid, User"), "{e}");
    }

    #[test]
    fn times_are_short_offsets_and_numbers_stay_json() {
        assert_eq!(offset_ms(5_000_000_000, 1_000_000_000), json!(4000));
        assert_eq!(offset_ms(1_500_000, 0), json!(1.5));
        assert_eq!(number(Some(f64::NAN)), Value::Null);
        assert_eq!(number(Some(2.0)), json!(2));
        assert_eq!(number(Some(2.5)), json!(2.5));
    }
}
