//! The table face: one text column in, MSTICPy's `unpack_df` columns out.
//!
//! Rows are decoded in parallel (rayon), a chunk at a time, and their records appended
//! to the output columns in row order: only one chunk's decoded records are held at
//! once, not the whole table's on top of the output.
//! Column types are chosen so that pyarrow's `to_pandas()` gives values that look
//! like MSTICPy's: strings as strings (large variants for the columns that can hold
//! whole payloads), `input_bytes` as bytes, `file_hashes` as a struct (a dict in
//! pandas, keys `md5`, `sha1`, `sha256`), `reference` as a list of three strings,
//! `src_index` as the row's position in the input batch.

use std::sync::Arc;

use arrow_array::builder::{
    Int64Builder, LargeBinaryBuilder, LargeStringBuilder, ListBuilder, StringBuilder, StructBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema};
use rayon::prelude::*;

use super::{unpack, BinaryRecord, UnpackOptions, Unpacked};

/// What can go wrong with a table call (decoding problems never do: they are rows).
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error(
        "column {column:?} is not in the input table (its columns are: {available}); \
         pass the name of the text column to decode"
    )]
    MissingColumn { column: String, available: String },
    #[error(
        "column {column:?} holds {found} values, not text: base64 decoding needs a \
         Utf8, LargeUtf8 or Utf8View column; cast it to strings first"
    )]
    NotText { column: String, found: String },
    #[error("building the output table failed: {0}")]
    Arrow(#[from] ArrowError),
}

fn hash_fields() -> Fields {
    Fields::from(vec![
        Field::new("md5", DataType::Utf8, true),
        Field::new("sha1", DataType::Utf8, true),
        Field::new("sha256", DataType::Utf8, true),
    ])
}

/// The output schema of [`unpack_base64`] for an input column named `column`.
///
/// If `column` has the name of one of the fixed columns, its values take that
/// column's place (pandas column assignment, as in MSTICPy), so the schema then has
/// 14 columns.
pub fn output_schema(column: &str) -> Schema {
    let mut fields = vec![
        Field::new(
            "reference",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            true,
        ),
        Field::new("original_string", DataType::LargeUtf8, true),
        Field::new("file_name", DataType::Utf8, true),
        Field::new("file_type", DataType::Utf8, true),
        Field::new("input_bytes", DataType::LargeBinary, true),
        Field::new("decoded_string", DataType::LargeUtf8, true),
        Field::new("encoding_type", DataType::Utf8, true),
        Field::new("file_hashes", DataType::Struct(hash_fields()), true),
        Field::new("md5", DataType::Utf8, true),
        Field::new("sha1", DataType::Utf8, true),
        Field::new("sha256", DataType::Utf8, true),
        Field::new("printable_bytes", DataType::LargeUtf8, true),
        Field::new("src_index", DataType::Int64, false),
    ];
    let input = Field::new(column, DataType::LargeUtf8, true);
    match fields.iter().position(|f| f.name() == column) {
        Some(i) => fields[i] = input,
        None => fields.push(input),
    }
    let full = Field::new("full_decoded_string", DataType::LargeUtf8, true);
    match fields
        .iter()
        .position(|f| f.name() == "full_decoded_string")
    {
        Some(i) => fields[i] = full,
        None => fields.push(full),
    }
    Schema::new(fields)
}

/// Decodes base64 in every row of `column` of `batch` and returns one row per decoded
/// item with MSTICPy's `unpack_df` columns (see [`output_schema`]). Rows with nothing
/// decoded, and null cells, contribute no rows.
pub fn unpack_base64(
    batch: &RecordBatch,
    column: &str,
    opts: &UnpackOptions,
) -> Result<RecordBatch, UnpackError> {
    let schema = batch.schema();
    let Some((index, field)) = schema.column_with_name(column) else {
        let available = schema
            .fields()
            .iter()
            .map(|f| format!("{:?}", f.name()))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(UnpackError::MissingColumn {
            column: column.to_string(),
            available,
        });
    };
    let array = batch.column(index);
    let cells = TextCells::new(array.as_ref()).ok_or_else(|| UnpackError::NotText {
        column: column.to_string(),
        found: field.data_type().to_string(),
    })?;

    let mut out = Columns::default();
    for start in (0..array.len()).step_by(CHUNK) {
        let end = array.len().min(start + CHUNK);
        let results: Vec<Option<Unpacked>> = (start..end)
            .into_par_iter()
            .map(|row| {
                let text = cells.get(row)?;
                let unpacked = unpack(text, opts);
                (!unpacked.records.is_empty()).then_some(unpacked)
            })
            .collect();
        out.append(start, &cells, &results);
    }
    out.finish(column)
}

/// Rows decoded together before their records are appended: enough to keep every core
/// busy, few enough that their records weigh little beside the output.
pub(super) const CHUNK: usize = 4096;

/// Read access to the supported string array types.
enum TextCells<'a> {
    Small(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> TextCells<'a> {
    fn new(array: &'a dyn Array) -> Option<Self> {
        match array.data_type() {
            DataType::Utf8 => Some(TextCells::Small(array.as_string::<i32>())),
            DataType::LargeUtf8 => Some(TextCells::Large(array.as_string::<i64>())),
            DataType::Utf8View => Some(TextCells::View(array.as_string_view())),
            _ => None,
        }
    }

    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            TextCells::Small(a) => a.is_valid(row).then(|| a.value(row)),
            TextCells::Large(a) => a.is_valid(row).then(|| a.value(row)),
            TextCells::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

/// The output columns, filled a chunk of rows at a time.
struct Columns {
    reference: ListBuilder<StringBuilder>,
    original: LargeStringBuilder,
    file_name: StringBuilder,
    file_type: StringBuilder,
    input_bytes: LargeBinaryBuilder,
    decoded: LargeStringBuilder,
    encoding: StringBuilder,
    hashes: StructBuilder,
    md5: StringBuilder,
    sha1: StringBuilder,
    sha256: StringBuilder,
    printable: LargeStringBuilder,
    src_index: Int64Builder,
    input: LargeStringBuilder,
    full: LargeStringBuilder,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            reference: ListBuilder::new(StringBuilder::new()),
            original: LargeStringBuilder::new(),
            file_name: StringBuilder::new(),
            file_type: StringBuilder::new(),
            input_bytes: LargeBinaryBuilder::new(),
            decoded: LargeStringBuilder::new(),
            encoding: StringBuilder::new(),
            hashes: StructBuilder::from_fields(hash_fields(), 0),
            md5: StringBuilder::new(),
            sha1: StringBuilder::new(),
            sha256: StringBuilder::new(),
            printable: LargeStringBuilder::new(),
            src_index: Int64Builder::new(),
            input: LargeStringBuilder::new(),
            full: LargeStringBuilder::new(),
        }
    }
}

impl Columns {
    /// The records of rows `first..`, one result per row.
    fn append(&mut self, first: usize, cells: &TextCells<'_>, results: &[Option<Unpacked>]) {
        for (offset, result) in results.iter().enumerate() {
            let Some(unpacked) = result else { continue };
            let row = first + offset;
            let source = cells.get(row);
            for rec in &unpacked.records {
                self.append_record(rec);
                self.src_index.append_value(row as i64);
                self.input.append_option(source);
                self.full.append_value(&unpacked.decoded);
            }
        }
    }

    fn append_record(&mut self, rec: &BinaryRecord) {
        for part in &rec.reference {
            self.reference.values().append_value(part);
        }
        self.reference.append(true);
        self.original.append_value(&rec.original_string);
        self.file_name.append_option(rec.file_name.as_deref());
        self.file_type.append_option(rec.file_type.as_deref());
        self.input_bytes.append_option(rec.input_bytes.as_deref());
        self.decoded.append_option(rec.decoded_string.as_deref());
        self.encoding.append_value(&rec.encoding_type);
        let h = rec.file_hashes.as_ref();
        let values = [
            h.map(|h| h.md5.as_str()),
            h.map(|h| h.sha1.as_str()),
            h.map(|h| h.sha256.as_str()),
        ];
        for (i, value) in values.into_iter().enumerate() {
            self.hashes
                .field_builder::<StringBuilder>(i)
                .expect("hash struct fields are string builders")
                .append_option(value);
        }
        self.hashes.append(h.is_some());
        self.md5.append_option(values[0]);
        self.sha1.append_option(values[1]);
        self.sha256.append_option(values[2]);
        self.printable.append_option(rec.printable_bytes.as_deref());
    }

    /// The table, with the input column (named `column`) and `full_decoded_string`
    /// after MSTICPy's 13 columns, or in place of one of them with the same name.
    fn finish(mut self, column: &str) -> Result<RecordBatch, UnpackError> {
        let mut columns: Vec<(&str, ArrayRef)> = vec![
            ("reference", Arc::new(self.reference.finish())),
            ("original_string", Arc::new(self.original.finish())),
            ("file_name", Arc::new(self.file_name.finish())),
            ("file_type", Arc::new(self.file_type.finish())),
            ("input_bytes", Arc::new(self.input_bytes.finish())),
            ("decoded_string", Arc::new(self.decoded.finish())),
            ("encoding_type", Arc::new(self.encoding.finish())),
            ("file_hashes", Arc::new(self.hashes.finish())),
            ("md5", Arc::new(self.md5.finish())),
            ("sha1", Arc::new(self.sha1.finish())),
            ("sha256", Arc::new(self.sha256.finish())),
            ("printable_bytes", Arc::new(self.printable.finish())),
            ("src_index", Arc::new(self.src_index.finish())),
        ];
        for (name, array) in [
            (column, Arc::new(self.input.finish()) as ArrayRef),
            (
                "full_decoded_string",
                Arc::new(self.full.finish()) as ArrayRef,
            ),
        ] {
            match columns.iter().position(|(n, _)| *n == name) {
                Some(i) => columns[i].1 = array,
                None => columns.push((name, array)),
            }
        }
        let schema = Arc::new(output_schema(column));
        Ok(RecordBatch::try_new(
            schema,
            columns.into_iter().map(|(_, a)| a).collect(),
        )?)
    }
}
