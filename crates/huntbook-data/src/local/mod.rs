//! The LocalData driver: queries over CSV, JSON lines and Parquet files in local
//! folders, the embedded default.
//!
//! As in MSTICPy, a LocalData query's text is a file name, looked up (ignoring case)
//! among the files under the data folders. Unlike MSTICPy, whose LocalData driver
//! ignores parameters, each parameter names the column it filters (`column:`) and how
//! (`op:` eq, in, contains, ge, le; `start`/`end` default to the time range), and the
//! rows are filtered accordingly. A value given for a parameter without a column is an
//! error rather than silently ignored; an empty text or list filters nothing, so that
//! `default: ''` makes a filter optional.
//!
//! Parquet files are filtered while they are read: row groups whose time statistics
//! lie outside the time range are skipped unread, and each condition is evaluated on
//! its own column before the other columns of a row are decoded.

pub mod filter;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{ArrowError, DataType, Schema};
use huntbook_table::{read_schema, read_table, Format, Table};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{
    ArrowPredicate, ArrowPredicateFn, ParquetRecordBatchReaderBuilder, RowFilter,
};
use parquet::arrow::ProjectionMask;

use crate::driver::{Driver, DriverError, QueryRequest, TableColumns};
use crate::environment::Environment;
use crate::render::{Bound, ParamValue};
use crate::template::{DefaultValue, FilterOp, QuerySource};
use filter::{time_in_unit, Condition, Operand};

/// Reads a file of a format huntbook does not read itself (a pandas pickle, read by
/// the Python package) into a table.
pub type FileReader = Arc<dyn Fn(&Path) -> Result<Table, String> + Send + Sync>;

/// Local files as a data environment.
#[derive(Clone)]
pub struct LocalData {
    folders: Vec<PathBuf>,
    /// Lower-cased file name → path; a later folder wins on a clash, as in MSTICPy.
    files: BTreeMap<String, PathBuf>,
    /// Readers for other formats, by lower-cased file extension.
    readers: Vec<(String, FileReader)>,
}

impl std::fmt::Debug for LocalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let readers: Vec<&str> = self.readers.iter().map(|(e, _)| e.as_str()).collect();
        f.debug_struct("LocalData")
            .field("folders", &self.folders)
            .field("files", &self.files)
            .field("readers", &readers)
            .finish()
    }
}

impl LocalData {
    /// Indexes the table files (`.csv`, `.jsonl`, `.ndjson`, `.json`, `.parquet`)
    /// under `folders`, recursively.
    pub fn new(folders: Vec<PathBuf>) -> Result<LocalData, DriverError> {
        let mut files = BTreeMap::new();
        for folder in &folders {
            if !folder.is_dir() {
                return Err(DriverError::Other(format!(
                    "{}: not a folder; give the folder that holds the data files (`huntbook sample-data -o DIR` writes one)",
                    folder.display()
                )));
            }
            for path in data_files(folder, &|p| Format::from_path(p).is_ok())? {
                files.insert(file_key(&path), path);
            }
        }
        Ok(LocalData {
            folders,
            files,
            readers: Vec::new(),
        })
    }

    /// Also serves the files ending in `.{extension}`, read by `reader`; their rows
    /// are filtered by the query's parameters like any other file's.
    pub fn with_reader(
        mut self,
        extension: &str,
        reader: FileReader,
    ) -> Result<LocalData, DriverError> {
        let extension = extension.to_ascii_lowercase();
        for folder in &self.folders {
            for path in data_files(folder, &|p| extension_of(p).as_deref() == Some(&extension))? {
                self.files.insert(file_key(&path), path);
            }
        }
        self.readers.push((extension, reader));
        Ok(self)
    }

    /// The indexed file names.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    fn locate(&self, query: &str, name: &str) -> Result<&PathBuf, DriverError> {
        let err = |message: String| DriverError::Query {
            query: query.to_string(),
            message,
        };
        // The name comes from a query file: it may only pick one of the indexed files,
        // never reach outside the data folders.
        if name.is_empty() || name.contains(['/', '\\']) || name == ".." {
            return Err(err(format!(
                "'{name}' is not a file name: a LocalData query names one file in the data folders"
            )));
        }
        self.files.get(&name.to_lowercase()).ok_or_else(|| {
            let folders: Vec<String> = self.folders.iter().map(|f| f.display().to_string()).collect();
            err(format!(
                "no file '{name}' in {}; generate the sample data with `huntbook sample-data -o DIR` or point the data folder at your files",
                folders.join(", ")
            ))
        })
    }
}

fn file_key(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

fn extension_of(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The files under `dir`, recursively, that `wanted` accepts.
fn data_files(dir: &Path, wanted: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, DriverError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| DriverError::Other(format!("{}: {e}", d.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if wanted(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Driver for LocalData {
    fn environment(&self) -> Environment {
        Environment::LocalData
    }

    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError> {
        let query = &request.source.name;
        let err = |message: String| DriverError::Query {
            query: query.clone(),
            message,
        };
        let conditions = conditions(request.source, request)?;
        let path = self.locate(query, request.text.trim())?;
        let extension = extension_of(path);
        let reader = self
            .readers
            .iter()
            .find(|(e, _)| Some(e) == extension.as_ref());
        let table = match (reader, Format::from_path(path)) {
            (Some((_, read)), _) => {
                let table = read(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
                filter_table(path, table, &conditions).map_err(err)?
            }
            (None, Ok(Format::Parquet)) => read_parquet(path, &conditions).map_err(err)?,
            (None, _) => {
                let table = read_table(path).map_err(|e| err(e.to_string()))?;
                filter_table(path, table, &conditions).map_err(err)?
            }
        };
        Ok(table)
    }

    /// Every file's columns; a file that cannot be read is an error naming it.
    fn schema(&self) -> Result<Vec<TableColumns>, DriverError> {
        self.files
            .iter()
            .map(|(name, path)| {
                let extension = extension_of(path);
                let schema = match self
                    .readers
                    .iter()
                    .find(|(e, _)| Some(e) == extension.as_ref())
                {
                    Some((_, read)) => read(path).map(|t| t.schema),
                    None => read_schema(path).map_err(|e| e.to_string()),
                }
                .map_err(|e| DriverError::Other(format!("{}: {e}", path.display())))?;
                Ok(TableColumns {
                    table: name.clone(),
                    columns: schema
                        .fields()
                        .iter()
                        .map(|f| (f.name().clone(), type_name(f.data_type())))
                        .collect(),
                })
            })
            .collect()
    }
}

/// A column type in the words Kusto and Log Analytics use, so a local schema reads
/// like a workspace's.
fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Int64 | DataType::UInt64 | DataType::UInt32 => "long".into(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            "int".into()
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "real".into(),
        DataType::Boolean => "bool".into(),
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => "datetime".into(),
        DataType::Duration(_) => "timespan".into(),
        other => other.to_string(),
    }
}

/// The row conditions of a request: one per parameter with a column and a value.
pub fn conditions(
    source: &QuerySource,
    request: &QueryRequest<'_>,
) -> Result<Vec<Condition>, DriverError> {
    let mut out = Vec::new();
    for spec in &source.params {
        let Some(bound) = request.bindings.get(&spec.name) else {
            continue;
        };
        let Some(filter) = &spec.filter else {
            if matches!(bound, Bound::Given(_)) {
                return Err(DriverError::Query {
                    query: source.name.clone(),
                    message: format!(
                        "parameter '{}' declares no column to filter, so LocalData cannot apply it; add `column:` (and `op:`) to it in {}",
                        spec.name,
                        source.file.display()
                    ),
                });
            }
            continue;
        };
        if let Some(operand) = operand(bound, filter.op) {
            out.push(Condition {
                param: spec.name.clone(),
                column: filter.column.clone(),
                op: filter.op,
                operand,
            });
        }
    }
    Ok(out)
}

/// The operand for a bound value; `None` when the value filters nothing (empty).
fn operand(bound: &Bound, op: FilterOp) -> Option<Operand> {
    let texts = |items: Vec<String>| {
        let items: Vec<String> = items.into_iter().filter(|s| !s.trim().is_empty()).collect();
        (!items.is_empty()).then_some(Operand::Texts(items))
    };
    let value_text = |v: &ParamValue| match v {
        ParamValue::Text(t) => t.clone(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Float(f) => f.to_string(),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Time(t) => t.to_rfc3339(),
        ParamValue::List(_) => String::new(),
    };
    match bound {
        Bound::Given(ParamValue::List(items)) => texts(items.iter().map(value_text).collect()),
        Bound::Given(ParamValue::Time(t)) => Some(Operand::Time(*t)),
        Bound::Given(ParamValue::Int(i)) => Some(Operand::Number(*i as f64)),
        Bound::Given(ParamValue::Float(f)) => Some(Operand::Number(*f)),
        Bound::Given(ParamValue::Bool(b)) => Some(Operand::Bool(*b)),
        Bound::Given(ParamValue::Text(t)) | Bound::Default(DefaultValue::Text(t)) => {
            if t.trim().is_empty() {
                None
            } else if op == FilterOp::In {
                texts(t.split(',').map(|s| s.trim().to_string()).collect())
            } else if matches!(op, FilterOp::Ge | FilterOp::Le) {
                crate::render::parse_time(t.trim()).map(Operand::Time)
            } else {
                Some(Operand::Text(t.clone()))
            }
        }
        Bound::Default(DefaultValue::List(items)) => texts(items.clone()),
        Bound::Default(DefaultValue::Int(i)) => Some(Operand::Number(*i as f64)),
        Bound::Default(DefaultValue::Float(f)) => Some(Operand::Number(*f)),
        Bound::Default(DefaultValue::Bool(b)) => Some(Operand::Bool(*b)),
    }
}

fn missing_column(path: &Path, schema: &Schema, cond: &Condition) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    format!(
        "{}: parameter '{}' filters column '{}', which the file does not have; its columns are: {}",
        path.display(),
        cond.param,
        cond.column,
        names.join(", ")
    )
}

/// The rows of a table read whole (CSV, JSON lines) that satisfy every condition.
pub(crate) fn filter_table(
    path: &Path,
    table: Table,
    conditions: &[Condition],
) -> Result<Table, String> {
    if conditions.is_empty() {
        return Ok(table);
    }
    for c in conditions {
        if table.schema.column_with_name(&c.column).is_none() {
            return Err(missing_column(path, &table.schema, c));
        }
    }
    let mut batches = Vec::with_capacity(table.batches.len());
    for batch in &table.batches {
        let mut keep: Option<BooleanArray> = None;
        for c in conditions {
            let column = batch.column_by_name(&c.column).expect("checked above");
            let mask = c
                .mask(column)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            keep = Some(match keep {
                None => mask,
                Some(k) => and(&k, &mask),
            });
        }
        let keep = keep.expect("at least one condition");
        let filtered =
            arrow_select::filter::filter_record_batch(batch, &keep).map_err(|e| e.to_string())?;
        if filtered.num_rows() > 0 {
            batches.push(filtered);
        }
    }
    Ok(Table::from_batches(table.schema, batches))
}

fn and(a: &BooleanArray, b: &BooleanArray) -> BooleanArray {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| Some(x.unwrap_or(false) && y.unwrap_or(false)))
        .collect()
}

/// Reads a Parquet file with the conditions pushed into the reader: row groups pruned
/// by their time statistics, rows filtered column by column before the rest decode.
pub fn read_parquet(path: &Path, conditions: &[Condition]) -> Result<Table, String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = File::open(path).map_err(|e| at(&e))?;
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| at(&e))?;
    let schema = builder.schema().clone();
    for c in conditions {
        if schema.column_with_name(&c.column).is_none() {
            return Err(missing_column(path, &schema, c));
        }
    }
    let row_groups = kept_row_groups(&builder, &schema, conditions).map_err(|e| at(&e))?;
    let parquet_schema = builder.parquet_schema().clone();
    let predicates: Vec<Box<dyn ArrowPredicate>> = conditions
        .iter()
        .map(|c| {
            let (index, _) = schema.column_with_name(&c.column).expect("checked above");
            let cond = c.clone();
            let mask = ProjectionMask::roots(&parquet_schema, [index]);
            Box::new(ArrowPredicateFn::new(mask, move |batch: RecordBatch| {
                cond.mask(batch.column(0)).map_err(ArrowError::ComputeError)
            })) as Box<dyn ArrowPredicate>
        })
        .collect();
    builder = builder
        .with_row_groups(row_groups)
        .with_batch_size(64 * 1024);
    if !predicates.is_empty() {
        builder = builder.with_row_filter(RowFilter::new(predicates));
    }
    let reader = builder.build().map_err(|e| at(&e))?;
    let batches = reader
        .filter(|b| !matches!(b, Ok(b) if b.num_rows() == 0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| at(&e))?;
    Ok(Table::from_batches(schema, batches))
}

/// How many of a Parquet file's row groups the conditions leave to read, of how many.
pub fn prune_report(path: &Path, conditions: &[Condition]) -> Result<(usize, usize), String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = File::open(path).map_err(|e| at(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| at(&e))?;
    let schema = builder.schema().clone();
    let kept = kept_row_groups(&builder, &schema, conditions).map_err(|e| at(&e))?;
    Ok((kept.len(), builder.metadata().num_row_groups()))
}

/// Row groups that may hold rows inside every time bound, from their statistics. A
/// row group without statistics for the column is kept.
fn kept_row_groups(
    builder: &ParquetRecordBatchReaderBuilder<File>,
    schema: &Schema,
    conditions: &[Condition],
) -> Result<Vec<usize>, parquet::errors::ParquetError> {
    let metadata = builder.metadata();
    let groups = metadata.row_groups();
    let mut keep = vec![true; groups.len()];
    for c in conditions {
        let Some(bound) = c.time_bound() else {
            continue;
        };
        let Some((_, field)) = schema.column_with_name(&c.column) else {
            continue;
        };
        let DataType::Timestamp(unit, _) = field.data_type() else {
            continue;
        };
        let bound = time_in_unit(bound, *unit);
        let converter = StatisticsConverter::try_new(&c.column, schema, builder.parquet_schema())?;
        let edge: ArrayRef = match c.op {
            FilterOp::Ge => converter.row_group_maxes(groups.iter())?,
            _ => converter.row_group_mins(groups.iter())?,
        };
        let values = timestamp_values(&edge);
        for (i, v) in values.into_iter().enumerate() {
            let outside = match (v, c.op) {
                (Some(max), FilterOp::Ge) => max < bound,
                (Some(min), FilterOp::Le) => min > bound,
                _ => false,
            };
            if outside {
                keep[i] = false;
            }
        }
    }
    Ok((0..groups.len()).filter(|i| keep[*i]).collect())
}

/// The raw i64 values of a timestamp array of any unit.
fn timestamp_values(array: &ArrayRef) -> Vec<Option<i64>> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_schema::TimeUnit;
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            array.as_primitive::<TimestampSecondType>().iter().collect()
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => array
            .as_primitive::<TimestampMillisecondType>()
            .iter()
            .collect(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => array
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect(),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => array
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .collect(),
        _ => vec![None; array.len()],
    }
}
