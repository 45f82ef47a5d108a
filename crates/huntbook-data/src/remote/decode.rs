//! Typed Arrow columns from the JSON rows query services send.
//!
//! The Kusto family (Log Analytics, Azure Data Explorer, Defender, Graph hunting) sends
//! a schema (column names and Kusto types) and then rows, either as arrays in schema
//! order or as objects keyed by column name. [`TableBuilder`] takes the schema, reads
//! rows straight from the response text into Arrow builders, without building a JSON
//! tree per row, and gives a [`Table`]. The type mapping is the one pandas needs:
//!
//! | Kusto type | Arrow type |
//! |---|---|
//! | `datetime` | `Timestamp(ns, "UTC")` |
//! | `long` / `int` | `Int64` / `Int32` |
//! | `real` | `Float64` |
//! | `bool` | `Boolean` |
//! | `string`, `guid` | `Utf8` |
//! | `timespan` | `Duration(ns)` |
//! | `decimal` | `Utf8` holding the number's text (no precision lost) |
//! | `dynamic` | `Utf8` holding JSON text |
//!
//! `dynamic` and `decimal` fields carry the metadata `huntbook.type` (`dynamic`,
//! `decimal`) so the Python layer knows to `json.loads` or `Decimal` them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, DurationNanosecondBuilder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampNanosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use huntbook_table::Table;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The field metadata key naming a column's meaning when its Arrow type alone does not.
pub const TYPE_KEY: &str = "huntbook.type";

/// A column's type as the service names it, reduced to what huntbook distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    DateTime,
    Long,
    Int,
    Real,
    Bool,
    String,
    Guid,
    Timespan,
    Decimal,
    Dynamic,
}

impl ColumnType {
    /// The type for a name from a response schema: Kusto's names (`datetime`, `long`,
    /// `dynamic`...), their aliases (`date`, `int64`, `double`, `boolean`, `time`,
    /// `uniqueid`) and the .NET names the Defender APIs use (`DateTime`, `Int64`,
    /// `Object`, `System.String`...). Names it does not know are read as text.
    pub fn from_name(name: &str) -> ColumnType {
        let name = name.trim();
        let name = name.strip_prefix("System.").unwrap_or(name);
        match name.to_ascii_lowercase().as_str() {
            "datetime" | "date" | "datetimeoffset" => ColumnType::DateTime,
            "long" | "int64" | "uint64" => ColumnType::Long,
            "int" | "int32" | "int16" | "uint32" | "byte" | "sbyte" => ColumnType::Int,
            "real" | "double" | "float" | "single" => ColumnType::Real,
            "bool" | "boolean" => ColumnType::Bool,
            "guid" | "uniqueid" => ColumnType::Guid,
            "timespan" | "time" => ColumnType::Timespan,
            "decimal" => ColumnType::Decimal,
            "dynamic" | "object" | "array" | "sbyte[]" => ColumnType::Dynamic,
            _ => ColumnType::String,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ColumnType::DateTime => "datetime",
            ColumnType::Long => "long",
            ColumnType::Int => "int",
            ColumnType::Real => "real",
            ColumnType::Bool => "bool",
            ColumnType::String => "string",
            ColumnType::Guid => "guid",
            ColumnType::Timespan => "timespan",
            ColumnType::Decimal => "decimal",
            ColumnType::Dynamic => "dynamic",
        }
    }

    fn field(self, name: &str) -> Field {
        let data_type = match self {
            ColumnType::DateTime => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            ColumnType::Long => DataType::Int64,
            ColumnType::Int => DataType::Int32,
            ColumnType::Real => DataType::Float64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Timespan => DataType::Duration(TimeUnit::Nanosecond),
            ColumnType::String | ColumnType::Guid | ColumnType::Decimal | ColumnType::Dynamic => {
                DataType::Utf8
            }
        };
        let field = Field::new(name, data_type, true);
        match self {
            ColumnType::Dynamic | ColumnType::Decimal => field.with_metadata(HashMap::from([(
                TYPE_KEY.to_string(),
                self.name().to_string(),
            )])),
            _ => field,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why rows could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the {what} is not what the service documents: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot assemble table {table}: {reason}")]
    Arrow { table: String, reason: String },
}

impl DecodeError {
    pub(crate) fn json(what: impl Into<String>, source: serde_json::Error) -> DecodeError {
        DecodeError::Json {
            what: what.into(),
            source,
        }
    }
}

/// How rows are written: as arrays in schema order, or as objects keyed by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowShape {
    Arrays,
    Objects,
}

/// Builds one table from a schema and JSON rows.
pub struct TableBuilder {
    table: String,
    columns: Vec<Column>,
    by_name: HashMap<String, usize>,
    rows: usize,
    /// Error records found among the rows (Kusto writes a failure that happens while
    /// results stream as an object in place of a row).
    row_errors: Vec<String>,
}

struct Column {
    name: String,
    kind: ColumnType,
    builder: Builder,
}

enum Builder {
    Time(TimestampNanosecondBuilder),
    Long(Int64Builder),
    Int(Int32Builder),
    Real(Float64Builder),
    Bool(BooleanBuilder),
    Text(StringBuilder),
    Span(DurationNanosecondBuilder),
}

impl TableBuilder {
    /// A builder for `table` (the name errors use) with `columns` in order.
    pub fn new(table: &str, columns: Vec<(String, ColumnType)>) -> TableBuilder {
        let by_name = columns
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), i))
            .collect();
        let columns = columns
            .into_iter()
            .map(|(name, kind)| Column {
                builder: match kind {
                    ColumnType::DateTime => {
                        Builder::Time(TimestampNanosecondBuilder::new().with_timezone("UTC"))
                    }
                    ColumnType::Long => Builder::Long(Int64Builder::new()),
                    ColumnType::Int => Builder::Int(Int32Builder::new()),
                    ColumnType::Real => Builder::Real(Float64Builder::new()),
                    ColumnType::Bool => Builder::Bool(BooleanBuilder::new()),
                    ColumnType::Timespan => Builder::Span(DurationNanosecondBuilder::new()),
                    ColumnType::String
                    | ColumnType::Guid
                    | ColumnType::Decimal
                    | ColumnType::Dynamic => Builder::Text(StringBuilder::new()),
                },
                name,
                kind,
            })
            .collect();
        TableBuilder {
            table: table.to_string(),
            columns,
            by_name,
            rows: 0,
            row_errors: Vec::new(),
        }
    }

    /// Rows read so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Error records found in place of rows.
    pub fn row_errors(&self) -> &[String] {
        &self.row_errors
    }

    /// Reads a JSON array of rows (`[[...], ...]` or `[{...}, ...]`) and appends them.
    pub fn push_rows(&mut self, rows: &str, shape: RowShape) -> Result<(), DecodeError> {
        let mut deserializer = serde_json::Deserializer::from_str(rows);
        RowsSeed {
            builder: self,
            shape,
        }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end())
        .map_err(|e| DecodeError::json(format!("rows of table {}", self.table), e))
    }

    /// The rows as a table with one record batch.
    pub fn finish(self) -> Result<Table, DecodeError> {
        let fields: Vec<Field> = self.columns.iter().map(|c| c.kind.field(&c.name)).collect();
        let schema = Arc::new(Schema::new(fields));
        let arrays: Vec<ArrayRef> = self
            .columns
            .into_iter()
            .map(|c| -> ArrayRef {
                match c.builder {
                    Builder::Time(mut b) => Arc::new(b.finish()),
                    Builder::Long(mut b) => Arc::new(b.finish()),
                    Builder::Int(mut b) => Arc::new(b.finish()),
                    Builder::Real(mut b) => Arc::new(b.finish()),
                    Builder::Bool(mut b) => Arc::new(b.finish()),
                    Builder::Text(mut b) => Arc::new(b.finish()),
                    Builder::Span(mut b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch =
            RecordBatch::try_new(schema.clone(), arrays).map_err(|e| DecodeError::Arrow {
                table: self.table.clone(),
                reason: e.to_string(),
            })?;
        Ok(Table::from_batches(schema, vec![batch]))
    }

    fn push_null(&mut self, index: usize) {
        match &mut self.columns[index].builder {
            Builder::Time(b) => b.append_null(),
            Builder::Long(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::Real(b) => b.append_null(),
            Builder::Bool(b) => b.append_null(),
            Builder::Text(b) => b.append_null(),
            Builder::Span(b) => b.append_null(),
        }
    }

    /// Appends one cell, given as its JSON text, to column `index`.
    fn push_cell(&mut self, index: usize, raw: &str) -> Result<(), String> {
        if raw == "null" {
            self.push_null(index);
            return Ok(());
        }
        let row = self.rows + 1;
        let Column {
            name,
            kind,
            builder,
        } = &mut self.columns[index];
        let kind = *kind;
        let name = &*name;
        let bad = || format!("row {row}, column {name}: {} is not a {kind}", shorten(raw));
        match builder {
            Builder::Time(b) => {
                let text = json_string(raw).ok_or_else(bad)?;
                b.append_value(parse_datetime(&text).ok_or_else(bad)?)
            }
            Builder::Long(b) => b.append_value(parse_integer(raw).ok_or_else(bad)?),
            Builder::Int(b) => {
                let value = parse_integer(raw).and_then(|v| i32::try_from(v).ok());
                b.append_value(value.ok_or_else(bad)?)
            }
            Builder::Real(b) => b.append_value(parse_real(raw).ok_or_else(bad)?),
            Builder::Bool(b) => b.append_value(match raw {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(bad()),
            }),
            Builder::Span(b) => {
                let value = match json_string(raw) {
                    Some(text) => parse_timespan(&text),
                    // Some services send a span as a number of 100 ns ticks.
                    None => parse_integer(raw).and_then(|ticks| ticks.checked_mul(100)),
                };
                b.append_value(value.ok_or_else(bad)?)
            }
            Builder::Text(b) => match (kind, json_string(raw)) {
                // A dynamic value sent as a string holding JSON (Log Analytics does this)
                // is kept as that JSON; any other string stays a JSON string literal so
                // that the column always holds JSON text.
                (ColumnType::Dynamic, Some(text)) => {
                    let inner = text.trim_start();
                    if inner.starts_with('{') || inner.starts_with('[') {
                        b.append_value(&*text)
                    } else {
                        b.append_value(raw)
                    }
                }
                (ColumnType::Dynamic, None) => b.append_value(raw),
                (_, Some(text)) => b.append_value(&*text),
                // Numbers and booleans in a text column (decimals, or a service that
                // writes a guid as a number) keep their JSON text.
                (_, None) => b.append_value(raw),
            },
        }
        Ok(())
    }

    fn end_row(&mut self, filled: &[bool]) {
        for (index, done) in filled.iter().enumerate() {
            if !done {
                self.push_null(index);
            }
        }
        self.rows += 1;
    }
}

/// The text of a JSON string literal, borrowed when it has no escapes.
fn json_string(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

/// An integer written as a JSON number or, as Kusto does for some values, a string.
fn parse_integer(raw: &str) -> Option<i64> {
    if let Ok(v) = raw.parse::<i64>() {
        return Some(v);
    }
    match json_string(raw) {
        Some(text) => text.trim().parse().ok(),
        // `1.0` and `1e3` from services that write every number as a double.
        None => raw
            .parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64),
    }
}

/// A real, including the `"NaN"`, `"Infinity"` and `"-Infinity"` strings Kusto writes
/// for values JSON numbers cannot hold.
fn parse_real(raw: &str) -> Option<f64> {
    if let Ok(v) = raw.parse::<f64>() {
        return Some(v);
    }
    match json_string(raw)?.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        text => text.parse().ok(),
    }
}

/// Nanoseconds since the Unix epoch for an ISO 8601 date-time. The services write
/// UTC as `2024-03-31T14:25:36.1234567Z`, which is read without a general parser;
/// other forms (offsets, a space for `T`, no zone meaning UTC) go through chrono.
pub fn parse_datetime(text: &str) -> Option<i64> {
    fast_utc(text.as_bytes()).or_else(|| {
        let text = text.trim();
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
            return t.timestamp_nanos_opt();
        }
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d"]
            .iter()
            .find_map(|format| {
                chrono::NaiveDateTime::parse_from_str(text, format)
                    .ok()
                    .or_else(|| {
                        chrono::NaiveDate::parse_from_str(text, format)
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                    })
            })
            .and_then(|t| t.and_utc().timestamp_nanos_opt())
    })
}

fn fast_utc(b: &[u8]) -> Option<i64> {
    if b.len() < 20 || b[b.len() - 1] != b'Z' || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut nanos = 0i64;
    let rest = &b[19..b.len() - 1];
    if let Some(fraction) = rest.strip_prefix(b".") {
        if fraction.is_empty() || fraction.len() > 9 {
            return None;
        }
        nanos = digits(20..20 + fraction.len())? * 10i64.pow(9 - fraction.len() as u32);
    } else if !rest.is_empty() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Nanoseconds in a .NET / Kusto time span, `[-][d.]hh:mm:ss[.fffffff]`.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (days, clock) = match text.split_once(':') {
        Some((head, _)) => match head.split_once('.') {
            Some((d, _)) => (d.parse::<i64>().ok()?, &text[d.len() + 1..]),
            None => (0, text),
        },
        None => return None,
    };
    let mut parts = clock.splitn(3, ':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds = parts.next()?;
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let whole: i64 = whole.parse().ok()?;
    if fraction.len() > 9 || !fraction.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<i64>().ok()? * 10i64.pow(9 - fraction.len() as u32)
    };
    let total = ((days * 24 + hours) * 60 + minutes) * 60 + whole;
    let total = total.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some(if negative { -total } else { total })
}

fn shorten(raw: &str) -> String {
    if raw.len() <= 60 {
        return raw.to_string();
    }
    let mut end = 60;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &raw[..end])
}

struct RowsSeed<'b> {
    builder: &'b mut TableBuilder,
    shape: RowShape,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut rows: A) -> Result<(), A::Error> {
        let mut filled = vec![false; self.builder.columns.len()];
        while rows
            .next_element_seed(RowSeed {
                builder: self.builder,
                shape: self.shape,
                filled: &mut filled,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct RowSeed<'b> {
    builder: &'b mut TableBuilder,
    shape: RowShape,
    filled: &'b mut Vec<bool>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.shape {
            RowShape::Arrays => f.write_str("a row as an array of values"),
            RowShape::Objects => f.write_str("a row as an object of column values"),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut cells: A) -> Result<(), A::Error> {
        use serde::de::Error;
        if self.shape != RowShape::Arrays {
            return Err(A::Error::custom(format!(
                "row {} is an array, where rows are objects",
                self.builder.rows + 1
            )));
        }
        let width = self.builder.columns.len();
        let mut index = 0;
        while let Some(raw) = cells.next_element::<&RawValue>()? {
            if index == width {
                return Err(A::Error::custom(format!(
                    "row {} has more values than the {width} columns",
                    self.builder.rows + 1
                )));
            }
            self.builder
                .push_cell(index, raw.get())
                .map_err(A::Error::custom)?;
            index += 1;
        }
        if index != width {
            return Err(A::Error::custom(format!(
                "row {} has {index} values for {width} columns",
                self.builder.rows + 1
            )));
        }
        self.builder.rows += 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut cells: A) -> Result<(), A::Error> {
        use serde::de::Error;
        if self.shape == RowShape::Arrays {
            // An error record where a row should be.
            let record: serde_json::Map<String, serde_json::Value> =
                serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(
                    cells,
                ))?;
            self.builder
                .row_errors
                .push(error_record_message(&serde_json::Value::Object(record)));
            return Ok(());
        }
        self.filled.iter_mut().for_each(|f| *f = false);
        while let Some(Key(key)) = cells.next_key::<Key<'de>>()? {
            let raw = cells.next_value::<&RawValue>()?;
            // Fields outside the schema are not columns of the result.
            let Some(&index) = self.builder.by_name.get(&*key) else {
                continue;
            };
            if std::mem::replace(&mut self.filled[index], true) {
                return Err(A::Error::custom(format!(
                    "row {} names column {key} twice",
                    self.builder.rows + 1
                )));
            }
            self.builder
                .push_cell(index, raw.get())
                .map_err(A::Error::custom)?;
        }
        self.builder.end_row(self.filled);
        Ok(())
    }
}

/// An object key, borrowed from the input unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a column name")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The message of an error record: Microsoft's OneApi shape (`{"error": {"code",
/// "message", "@message"}}`, possibly in a `OneApiErrors` list) or whatever text it
/// holds.
pub fn error_record_message(record: &serde_json::Value) -> String {
    let error = record
        .get("OneApiErrors")
        .and_then(|list| list.get(0))
        .unwrap_or(record);
    let error = error.get("error").unwrap_or(error);
    let text = |key: &str| error.get(key).and_then(|v| v.as_str());
    let code = text("code");
    let message = text("@message").or_else(|| text("message"));
    match (code, message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (c, m) => c
            .or(m)
            .map(str::to_string)
            .unwrap_or_else(|| shorten(&record.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        DurationNanosecondType, Float64Type, Int32Type, Int64Type, TimestampNanosecondType,
    };
    use arrow_array::Array;

    fn columns(spec: &[(&str, &str)]) -> Vec<(String, ColumnType)> {
        spec.iter()
            .map(|(n, t)| (n.to_string(), ColumnType::from_name(t)))
            .collect()
    }

    #[test]
    fn array_rows_become_typed_columns() {
        let mut b = TableBuilder::new(
            "PrimaryResult",
            columns(&[
                ("TimeGenerated", "datetime"),
                ("EventID", "int"),
                ("Bytes", "long"),
                ("Score", "real"),
                ("Admin", "bool"),
                ("Account", "string"),
                ("Extra", "dynamic"),
                ("Took", "timespan"),
                ("Price", "decimal"),
            ]),
        );
        b.push_rows(
            r#"[["2024-03-31T14:25:36.1234567Z", 4624, 9007199254740993, 0.5, true, "CONTOSO\\alice", {"a":[1,2]}, "1.02:03:04.5", "1.10"],
                [null, null, "12", "NaN", false, "bob", "{\"b\":1}", "-00:00:01", 3],
                ["2024-03-31 14:25:36", 1, 2, 3, 0, null, "plain", null, null]]"#,
            RowShape::Arrays,
        )
        .unwrap();
        let table = b.finish().unwrap();
        let batch = &table.batches[0];
        assert_eq!(batch.num_rows(), 3);
        let time = batch.column(0).as_primitive::<TimestampNanosecondType>();
        assert_eq!(time.value(0), 1_711_895_136_123_456_700);
        assert!(time.is_null(1));
        assert_eq!(time.value(2), 1_711_895_136_000_000_000);
        assert_eq!(
            table.schema.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
        );
        assert_eq!(batch.column(1).as_primitive::<Int32Type>().value(0), 4624);
        assert_eq!(
            batch.column(2).as_primitive::<Int64Type>().value(0),
            9_007_199_254_740_993
        );
        assert_eq!(batch.column(2).as_primitive::<Int64Type>().value(1), 12);
        assert!(batch
            .column(3)
            .as_primitive::<Float64Type>()
            .value(1)
            .is_nan());
        assert!(!batch.column(4).as_boolean().value(2));
        assert_eq!(
            batch.column(5).as_string::<i32>().value(0),
            "CONTOSO\\alice"
        );
        let extra = batch.column(6).as_string::<i32>();
        assert_eq!(extra.value(0), r#"{"a":[1,2]}"#);
        assert_eq!(extra.value(1), r#"{"b":1}"#);
        assert_eq!(extra.value(2), r#""plain""#);
        assert_eq!(
            table
                .schema
                .field(6)
                .metadata()
                .get(TYPE_KEY)
                .map(String::as_str),
            Some("dynamic")
        );
        let took = batch.column(7).as_primitive::<DurationNanosecondType>();
        assert_eq!(
            took.value(0),
            ((26 * 60 + 3) * 60 + 4) * 1_000_000_000 + 500_000_000
        );
        assert_eq!(took.value(1), -1_000_000_000);
        assert_eq!(batch.column(8).as_string::<i32>().value(0), "1.10");
        assert_eq!(batch.column(8).as_string::<i32>().value(1), "3");
    }

    #[test]
    fn object_rows_match_by_name_and_fill_gaps_with_null() {
        let mut b = TableBuilder::new(
            "Results",
            columns(&[
                ("Timestamp", "DateTime"),
                ("DeviceName", "String"),
                ("Pid", "Int64"),
            ]),
        );
        b.push_rows(
            r#"[{"DeviceName":"web01","Timestamp":"2024-03-31T14:25:36Z","Pid":4,"Other":1},{"Pid":5}]"#,
            RowShape::Objects,
        )
        .unwrap();
        let table = b.finish().unwrap();
        let batch = &table.batches[0];
        assert_eq!(batch.column(1).as_string::<i32>().value(0), "web01");
        assert!(batch.column(0).is_null(1));
        assert_eq!(batch.column(2).as_primitive::<Int64Type>().value(1), 5);
    }

    #[test]
    fn a_bad_cell_is_named_by_row_and_column() {
        let mut b = TableBuilder::new(
            "PrimaryResult",
            columns(&[("A", "long"), ("B", "datetime")]),
        );
        let err = b
            .push_rows(
                r#"[[1, "2024-01-01T00:00:00Z"], [2, "yesterday"]]"#,
                RowShape::Arrays,
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 2, column B"), "{err}");
        assert!(err.contains("\"yesterday\" is not a datetime"), "{err}");
        let mut b = TableBuilder::new("PrimaryResult", columns(&[("A", "long")]));
        let err = b
            .push_rows("[[1, 2]]", RowShape::Arrays)
            .unwrap_err()
            .to_string();
        assert!(err.contains("more values than the 1 columns"), "{err}");
    }

    #[test]
    fn an_error_record_among_rows_is_kept() {
        let mut b = TableBuilder::new("PrimaryResult", columns(&[("A", "long")]));
        b.push_rows(
            r#"[[1], {"OneApiErrors":[{"error":{"code":"LimitsExceeded","message":"Request is invalid","@message":"Query result set has exceeded the internal record count limit"}}]}]"#,
            RowShape::Arrays,
        )
        .unwrap();
        assert_eq!(b.rows(), 1);
        assert_eq!(
            b.row_errors(),
            ["LimitsExceeded: Query result set has exceeded the internal record count limit"]
        );
    }

    #[test]
    fn datetimes_agree_with_chrono() {
        for text in [
            "1970-01-01T00:00:00Z",
            "1601-01-01T00:00:00Z",
            "2000-02-29T23:59:59.9Z",
            "2024-12-31T12:00:00.123456789Z",
        ] {
            let expected = chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp_nanos_opt();
            assert_eq!(fast_utc(text.as_bytes()), expected, "{text}");
        }
        assert_eq!(
            parse_datetime("2024-03-31T16:25:36+02:00"),
            parse_datetime("2024-03-31T14:25:36Z")
        );
        assert_eq!(parse_datetime("2024-13-01T00:00:00Z"), None);
    }

    #[test]
    fn type_names_from_every_service() {
        assert_eq!(
            ColumnType::from_name("System.DateTime"),
            ColumnType::DateTime
        );
        assert_eq!(ColumnType::from_name("Int64"), ColumnType::Long);
        assert_eq!(ColumnType::from_name("Object"), ColumnType::Dynamic);
        assert_eq!(ColumnType::from_name("SByte"), ColumnType::Int);
        assert_eq!(ColumnType::from_name("Boolean"), ColumnType::Bool);
        assert_eq!(ColumnType::from_name("whatever"), ColumnType::String);
    }
}
