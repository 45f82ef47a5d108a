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
//!
//! An answer can hold half a million rows (the services' default cap), so the rows
//! are read in one pass by a JSON reader of our own (`json`), which unescapes each
//! string as it finds its end; into builders given room for the rows expected
//! (`part`); on every core, in shares whose boundaries are guessed and then checked
//! (`split`). For the answers whose rows are most of the text (Log Analytics, Kusto),
//! a [`Walker`] reads the frame around the rows so that the rows are read where they
//! are, not found first and read again. A bad row is named by its number and column
//! whichever share read it.

mod json;
mod part;
mod split;
mod walk;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use huntbook_table::Table;

use json::{Reader, SyntaxError};
use part::{Columns, Part, RowError};
pub use walk::{Rows, Walker};

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
    #[error("table {table}, row {row}{}: {problem}", in_column(.column))]
    Row {
        table: String,
        /// Counted from 1.
        row: usize,
        column: Option<String>,
        problem: String,
    },
    #[error("the {what} is not what the service documents: {problem} at byte {offset}")]
    Syntax {
        what: &'static str,
        problem: &'static str,
        offset: usize,
    },
    #[error("the {what} is not what the service documents: it has no {field}")]
    Missing {
        what: &'static str,
        field: &'static str,
    },
    #[error("the rows of table {table} are not a JSON array: {problem}")]
    Rows { table: String, problem: String },
    #[error("cannot assemble table {table}: {reason}")]
    Arrow { table: String, reason: String },
}

fn in_column(column: &Option<String>) -> String {
    column
        .as_ref()
        .map(|c| format!(", column {c}"))
        .unwrap_or_default()
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
    columns: Columns,
    part: Part,
}

impl TableBuilder {
    /// A builder for `table` (the name errors use) with `columns` in order.
    pub fn new(table: &str, columns: Vec<(String, ColumnType)>) -> TableBuilder {
        let columns = Columns::new(columns);
        TableBuilder {
            table: table.to_string(),
            part: Part::new(&columns),
            columns,
        }
    }

    /// Rows read so far.
    pub fn rows(&self) -> usize {
        self.part.rows
    }

    /// Error records found in place of rows.
    pub fn row_errors(&self) -> &[String] {
        &self.part.row_errors
    }

    /// Reads a JSON array of rows (`[[...], ...]` or `[{...}, ...]`) and appends them.
    /// A large array is read on every core.
    pub fn push_rows(&mut self, rows: &str, shape: RowShape) -> Result<(), DecodeError> {
        self.push_rows_in(rows, shape, split::share_count(rows.len()))
    }

    /// [`TableBuilder::push_rows`] in at most `shares` shares.
    fn push_rows_in(
        &mut self,
        rows: &str,
        shape: RowShape,
        shares: usize,
    ) -> Result<(), DecodeError> {
        let end = self.read_rows_at(rows, 0, shape, shares)?;
        let mut reader = Reader::new(rows, end);
        if reader.peek().is_some() {
            return Err(self.rows_error(reader.error("text follows the array"), 0));
        }
        Ok(())
    }

    /// Reads the array of rows at byte `start` of `text`, in at most `shares`
    /// shares, and returns where the array ends.
    fn read_rows_at(
        &mut self,
        text: &str,
        start: usize,
        shape: RowShape,
        shares: usize,
    ) -> Result<usize, DecodeError> {
        let mut reader = Reader::new(text, start);
        reader
            .expect(b'[', "expected '['")
            .map_err(|e| self.rows_error(e, start))?;
        if reader.peek() == Some(b']') {
            reader.advance();
            return Ok(reader.pos());
        }
        let part = std::mem::replace(&mut self.part, Part::new(&self.columns));
        let starts = split::share_starts(&self.columns, text, reader.pos(), shape, shares);
        let read = split::read_shares(&self.columns, part, text, &starts, shape);
        // The rows of the part that stopped reading, at an error, come after these.
        let mut before = 0;
        let mut parts = read.parts.into_iter();
        if let Some(first) = parts.next() {
            self.part = first;
        }
        for part in parts {
            before = self.part.rows;
            self.part.append(part).map_err(|e| self.arrow_error(e))?;
        }
        read.end.map_err(|e| {
            let e = RowError {
                row: before + e.row,
                ..e
            };
            self.row_error(e, start)
        })
    }

    /// `e` as an error naming the table, the row counted from the first one pushed,
    /// and the byte counted from `origin`, where the array starts.
    fn row_error(&self, e: RowError, origin: usize) -> DecodeError {
        let at = e
            .offset
            .map(|offset| format!(" (at byte {} of the rows)", offset - origin))
            .unwrap_or_default();
        DecodeError::Row {
            table: self.table.clone(),
            row: e.row + 1,
            column: e.column.map(|i| self.columns.names[i].clone()),
            problem: e.problem + &at,
        }
    }

    fn rows_error(&self, e: SyntaxError, origin: usize) -> DecodeError {
        DecodeError::Rows {
            table: self.table.clone(),
            problem: format!("{} (at byte {} of the rows)", e.problem, e.offset - origin),
        }
    }

    fn arrow_error(&self, e: ArrowError) -> DecodeError {
        DecodeError::Arrow {
            table: self.table.clone(),
            reason: e.to_string(),
        }
    }

    /// The rows as a table with one record batch.
    pub fn finish(self) -> Result<Table, DecodeError> {
        let fields: Vec<Field> = (self.columns.names.iter())
            .zip(&self.columns.kinds)
            .map(|(name, kind)| kind.field(name))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let arrays = self.part.finish();
        let batch =
            RecordBatch::try_new(schema.clone(), arrays).map_err(|e| DecodeError::Arrow {
                table: self.table,
                reason: e.to_string(),
            })?;
        Ok(Table::from_batches(schema, vec![batch]))
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

    /// Array rows with what could mislead a split: `],[` inside strings, dynamic
    /// arrays of arrays side by side, escapes, nulls, line breaks between rows and
    /// error records in place of rows.
    fn tricky_rows(n: usize) -> String {
        let mut rows = Vec::new();
        for i in 0..n {
            rows.push(format!(
                r#"[{i}, "a],[{i}, \"q\"]", [[{i}],[1]], [[2],[3]], "[[{i}],[\"x\"]]", {}]"#,
                if i % 4 == 0 {
                    "null".into()
                } else {
                    format!("{i}.5")
                }
            ));
            if i % 97 == 5 {
                rows.push(format!(
                    r#"{{"error": {{"code": "E{i}", "message": "m"}}}}"#
                ));
            }
        }
        let mut text = String::from("[");
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                text.push_str(if i % 3 == 0 { ",\n  " } else { "," });
            }
            text.push_str(row);
        }
        text + "]"
    }

    fn tricky_columns() -> Vec<(String, ColumnType)> {
        columns(&[
            ("N", "long"),
            ("S", "string"),
            ("D1", "dynamic"),
            ("D2", "dynamic"),
            ("D3", "dynamic"),
            ("X", "real"),
        ])
    }

    /// The table read in `shares` shares, its error records, and how many shares it
    /// took.
    fn read_in(
        text: &str,
        columns: Vec<(String, ColumnType)>,
        shape: RowShape,
        shares: usize,
    ) -> Result<(RecordBatch, Vec<String>, usize), String> {
        let first = text.find(['[', '{']).unwrap() + 1;
        let taken = split::share_starts(&Columns::new(columns.clone()), text, first, shape, shares);
        let mut b = TableBuilder::new("PrimaryResult", columns);
        b.push_rows_in(text, shape, shares)
            .map_err(|e| e.to_string())?;
        let taken = taken.len();
        let errors = b.row_errors().to_vec();
        let rows = b.rows();
        let table = b.finish().unwrap();
        assert_eq!(table.num_rows(), rows);
        Ok((table.batches[0].clone(), errors, taken))
    }

    #[test]
    fn shares_give_the_same_table_as_one_read() {
        let text = tricky_rows(1000);
        let (whole, errors, _) = read_in(&text, tricky_columns(), RowShape::Arrays, 1).unwrap();
        assert_eq!(whole.num_rows(), 1000);
        assert_eq!(errors.len(), 11);
        for shares in 2..7 {
            let (table, split_errors, taken) =
                read_in(&text, tricky_columns(), RowShape::Arrays, shares).unwrap();
            assert_eq!(taken, shares);
            assert_eq!(table, whole, "{shares} shares");
            assert_eq!(split_errors, errors);
        }
        // Every value is where it belongs, also past the rows the builders' room was
        // estimated from.
        let n = whole.column(0).as_primitive::<Int64Type>();
        assert!(n.values().iter().copied().eq(0..1000));
        let dynamic = whole.column(4).as_string::<i32>();
        assert_eq!(dynamic.value(7), r#"[[7],["x"]]"#);
        assert_eq!(dynamic.value(999), r#"[[999],["x"]]"#);
        let x = whole.column(5).as_primitive::<Float64Type>();
        assert_eq!((x.is_null(996), x.value(997)), (true, 997.5));
        assert_eq!(
            whole.column(1).as_string::<i32>().value(7),
            r#"a],[7, "q"]"#
        );
    }

    #[test]
    fn object_rows_give_the_same_table_in_shares() {
        let rows: Vec<String> = (0..1000)
            .map(|i| {
                format!(
                    r#"{{"S": "}},{{\"N\": 1}}", "D": [{{"a": {i}}}, {{"b": [{{}}]}}], "N": {i}}}"#
                )
            })
            .collect();
        let text = format!("[{}]", rows.join(", "));
        let columns = || columns(&[("N", "long"), ("S", "string"), ("D", "dynamic")]);
        let (whole, _, _) = read_in(&text, columns(), RowShape::Objects, 1).unwrap();
        assert_eq!(whole.num_rows(), 1000);
        for shares in 2..5 {
            let (table, _, _) = read_in(&text, columns(), RowShape::Objects, shares).unwrap();
            assert_eq!(table, whole, "{shares} shares");
        }
    }

    #[test]
    fn an_error_names_the_same_row_however_the_rows_are_shared() {
        let text = tricky_rows(1000).replace("[[900]", "[[900]}");
        for shares in 1..5 {
            let err = read_in(&text, tricky_columns(), RowShape::Arrays, shares).unwrap_err();
            assert!(
                err.starts_with(
                    "table PrimaryResult, row 901, column D1: expected ',' or ']' in an array"
                ),
                "{shares} shares: {err}"
            );
        }
        let text = tricky_rows(1000)
            .replace(r#"[998, "a"#, r#"["998", "a"#)
            .replace(r#"[999, "a"#, r#"[true, "a"#);
        for shares in 1..5 {
            let err = read_in(&text, tricky_columns(), RowShape::Arrays, shares).unwrap_err();
            assert_eq!(
                err, "table PrimaryResult, row 1000, column N: true is not a long",
                "{shares} shares"
            );
        }
    }

    #[test]
    fn pages_add_to_the_rows_read_before() {
        let mut b = TableBuilder::new("results", tricky_columns());
        b.push_rows_in(&tricky_rows(300), RowShape::Arrays, 3)
            .unwrap();
        b.push_rows_in("[]", RowShape::Arrays, 3).unwrap();
        b.push_rows_in(&tricky_rows(300), RowShape::Arrays, 1)
            .unwrap();
        let err = b
            .push_rows_in(
                &tricky_rows(300).replace("[[5],[1]]", "x"),
                RowShape::Arrays,
                2,
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("table results, row 606, column D1: expected a value"),
            "{err}"
        );
        let mut b = TableBuilder::new("results", tricky_columns());
        b.push_rows_in(&tricky_rows(300), RowShape::Arrays, 3)
            .unwrap();
        b.push_rows_in(&tricky_rows(300), RowShape::Arrays, 2)
            .unwrap();
        assert_eq!(b.rows(), 600);
        let table = b.finish().unwrap();
        let n = table.batches[0].column(0).as_primitive::<Int64Type>();
        assert_eq!((n.value(299), n.value(300), n.value(599)), (299, 0, 299));
    }

    #[test]
    fn text_that_is_not_an_array_of_rows_is_refused() {
        let cases = [
            ("{}", "the rows of table T are not a JSON array: expected '[' (at byte 0 of the rows)"),
            ("[[1]] x", "the rows of table T are not a JSON array: text follows the array (at byte 6 of the rows)"),
            ("[[1],]", "table T, row 2: expected a row (an array of values) (at byte 5 of the rows)"),
            ("[[1] [2]]", "table T, row 2: expected ',' or ']' after a row (at byte 5 of the rows)"),
            ("[[1], [1, 2]]", "table T, row 2: it has more values than the 1 columns"),
            ("[[1], []]", "table T, row 2: it has 0 values for 1 columns"),
            ("[[01]]", "table T, row 1, column A: expected ',' or ']' after a value (at byte 3 of the rows)"),
        ];
        for (text, expected) in cases {
            let mut b = TableBuilder::new("T", columns(&[("A", "long")]));
            let err = b.push_rows(text, RowShape::Arrays).unwrap_err().to_string();
            assert_eq!(err, expected, "{text}");
        }
        let mut b = TableBuilder::new("T", columns(&[("A", "long")]));
        let err = b
            .push_rows(r#"[{"A": 1}, [1]]"#, RowShape::Objects)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "table T, row 2: it is an array, where rows are objects"
        );
        let err = b
            .push_rows(r#"[{"A": 1, "A": 2}]"#, RowShape::Objects)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "table T, row 2, column A: the row names A twice"
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
