//! Numeric feature columns gathered into one dense matrix, the input of the clustering
//! and outlier analyses.
//!
//! Both analyses measure rows against each other, so a missing or non-finite value
//! has no meaning there: it is refused with the column and row named, where MSTICPy
//! would fail inside scikit-learn with "Input contains NaN".
use arrow_array::RecordBatch;

use crate::columns::numbers;
use crate::AnalysisError;

/// Rows of `cols` numbers each, stored row after row.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    values: Vec<f64>,
}

impl Matrix {
    /// A matrix from its values stored row after row.
    pub fn new(rows: usize, cols: usize, values: Vec<f64>) -> Result<Matrix, AnalysisError> {
        if values.len() != rows * cols {
            return Err(AnalysisError::Invalid(format!(
                "a {rows} x {cols} matrix needs {} values, got {}",
                rows * cols,
                values.len()
            )));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(AnalysisError::Invalid(format!(
                "row {}, column {} is {}; fill or drop non-finite values first",
                i / cols.max(1),
                i % cols.max(1),
                values[i]
            )));
        }
        Ok(Matrix { rows, cols, values })
    }

    /// The named columns of `batch`, as numbers (booleans read as 0 and 1).
    pub fn from_columns(batch: &RecordBatch, columns: &[&str]) -> Result<Matrix, AnalysisError> {
        if columns.is_empty() {
            return Err(AnalysisError::Invalid(
                "no feature columns given; name at least one numeric column".into(),
            ));
        }
        let rows = batch.num_rows();
        let mut values = vec![0.0; rows * columns.len()];
        for (j, name) in columns.iter().enumerate() {
            for (i, v) in numbers(batch, name)?.into_iter().enumerate() {
                values[i * columns.len() + j] = match v {
                    Some(v) if v.is_finite() => v,
                    other => {
                        return Err(AnalysisError::BadColumn {
                            column: name.to_string(),
                            message: format!(
                                "row {i} is {}; fill or drop rows with missing or \
                                 non-finite values first",
                                other.map_or("empty".to_string(), |v| v.to_string())
                            ),
                        })
                    }
                };
            }
        }
        Ok(Matrix {
            rows,
            cols: columns.len(),
            values,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`'s values.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// Each row scaled to unit Euclidean length (scikit-learn's `Normalizer`): rows
    /// whose length is next to nothing are left as they are, not blown up.
    pub fn normalized(&self) -> Matrix {
        let mut values = self.values.clone();
        if self.cols > 0 {
            for row in values.chunks_mut(self.cols) {
                let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
                if norm >= 10.0 * f64::EPSILON {
                    row.iter_mut().for_each(|v| *v /= norm);
                }
            }
        }
        Matrix {
            rows: self.rows,
            cols: self.cols,
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn columns_become_rows_of_numbers() {
        let b = batch(vec![
            ("a", Arc::new(Int64Array::from(vec![1, 2]))),
            ("b", Arc::new(BooleanArray::from(vec![true, false]))),
        ]);
        let m = Matrix::from_columns(&b, &["b", "a"]).unwrap();
        assert_eq!((m.rows(), m.cols()), (2, 2));
        assert_eq!(m.row(0), &[1.0, 1.0]);
        assert_eq!(m.row(1), &[0.0, 2.0]);
    }

    #[test]
    fn missing_values_are_refused_with_the_column_and_row() {
        let b = batch(vec![(
            "x",
            Arc::new(Float64Array::from(vec![Some(1.0), None])) as ArrayRef,
        )]);
        let e = Matrix::from_columns(&b, &["x"]).unwrap_err().to_string();
        assert!(e.contains("'x'") && e.contains("row 1"), "{e}");
        assert!(Matrix::from_columns(&b, &[]).is_err());
        assert!(Matrix::new(1, 1, vec![f64::NAN]).is_err());
    }

    #[test]
    fn normalizing_gives_unit_rows_and_keeps_zero_rows() {
        let m = Matrix::new(2, 2, vec![3.0, 4.0, 0.0, 0.0])
            .unwrap()
            .normalized();
        assert_eq!(m.row(0), &[0.6, 0.8]);
        assert_eq!(m.row(1), &[0.0, 0.0]);
    }
}
