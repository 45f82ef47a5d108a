//! Building a sample table row by row and writing it as Parquet, sorted by time, in
//! row groups small enough for time-range pruning to matter.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Rows per Parquet row group: a day of the default dataset spans a few groups, so a
/// time-filtered query skips most of a large file.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Microseconds since the epoch, UTC.
    Time,
    Text,
    Int,
    Bool,
}

#[derive(Debug, Clone)]
pub enum Cell {
    Time(i64),
    Text(String),
    Int(i64),
    Bool(bool),
    /// A missing value, in a column of any kind.
    Null,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<bool> for Cell {
    fn from(b: bool) -> Self {
        Cell::Bool(b)
    }
}
impl From<i64> for Cell {
    fn from(i: i64) -> Self {
        Cell::Int(i)
    }
}

/// A table under construction. The first column is the time the rows are sorted by.
pub struct TableBuilder {
    columns: Vec<(&'static str, Kind)>,
    rows: Vec<Vec<Cell>>,
}

impl TableBuilder {
    pub fn new(columns: &[(&'static str, Kind)]) -> TableBuilder {
        assert_eq!(columns[0].1, Kind::Time, "the first column is the time");
        TableBuilder {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// The rows sorted by time as one record batch.
    pub fn finish(mut self) -> RecordBatch {
        let time = |r: &Vec<Cell>| match r[0] {
            Cell::Time(t) => t,
            _ => i64::MIN,
        };
        self.rows.sort_by_key(time);
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (i, (name, kind)) in self.columns.iter().enumerate() {
            let (field, array): (Field, ArrayRef) = match kind {
                Kind::Time => (
                    Field::new(
                        *name,
                        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                        true,
                    ),
                    Arc::new(
                        TimestampMicrosecondArray::from_iter(self.rows.iter().map(|r| {
                            match r[i] {
                                Cell::Time(t) => Some(t),
                                _ => None,
                            }
                        }))
                        .with_timezone("UTC"),
                    ),
                ),
                Kind::Int => (
                    Field::new(*name, DataType::Int64, true),
                    Arc::new(Int64Array::from_iter(self.rows.iter().map(|r| {
                        match r[i] {
                            Cell::Int(v) => Some(v),
                            _ => None,
                        }
                    }))),
                ),
                Kind::Bool => (
                    Field::new(*name, DataType::Boolean, true),
                    Arc::new(BooleanArray::from_iter(self.rows.iter().map(|r| {
                        match r[i] {
                            Cell::Bool(b) => Some(b),
                            _ => None,
                        }
                    }))),
                ),
                Kind::Text => (
                    Field::new(*name, DataType::Utf8, true),
                    Arc::new(StringArray::from_iter(self.rows.iter().map(|r| {
                        match &r[i] {
                            Cell::Text(s) => Some(s.as_str()),
                            _ => None,
                        }
                    }))),
                ),
            };
            fields.push(field);
            arrays.push(array);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .expect("columns match the schema")
    }
}

/// Writes `batch` as Parquet (Snappy, [`ROW_GROUP_ROWS`] rows per group), atomically.
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("parquet.tmp-{}", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))
            .map_err(std::io::Error::other)?;
        writer.write(batch).map_err(std::io::Error::other)?;
        writer.close().map_err(std::io::Error::other)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
