//! A table being built from an input batch: columns keep their places, new ones are
//! appended, and one that exists is replaced where it stands, as pandas' `assign`
//! does.
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};

use crate::columns::numbers;
use crate::AnalysisError;

pub struct Table {
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
}

impl From<&RecordBatch> for Table {
    fn from(batch: &RecordBatch) -> Self {
        Table {
            fields: batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect(),
            columns: batch.columns().to_vec(),
        }
    }
}

impl Table {
    fn position(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name() == name)
    }

    /// Puts `column` in place of the column `name`, or after the last one.
    pub fn replace(&mut self, name: &str, column: ArrayRef) {
        let field = Field::new(name, column.data_type().clone(), true);
        match self.position(name) {
            Some(i) => {
                self.fields[i] = field;
                self.columns[i] = column;
            }
            None => {
                self.fields.push(field);
                self.columns.push(column);
            }
        }
    }

    /// Adds the column `make` builds, unless it exists and `force` is off.
    pub fn add(
        &mut self,
        force: bool,
        name: &str,
        make: impl FnOnce() -> Result<ArrayRef, AnalysisError>,
    ) -> Result<(), AnalysisError> {
        if force || self.position(name).is_none() {
            self.replace(name, make()?);
        }
        Ok(())
    }

    /// A column of the table being built, as numbers.
    pub fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>, AnalysisError> {
        numbers(&self.to_batch()?, name)
    }

    pub fn to_batch(&self) -> Result<RecordBatch, AnalysisError> {
        let schema = Arc::new(Schema::new(self.fields.clone()));
        RecordBatch::try_new(schema, self.columns.clone())
            .map_err(|e| AnalysisError::Invalid(format!("building the output table: {e}")))
    }
}
