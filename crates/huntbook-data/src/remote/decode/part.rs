//! A run of rows read into Arrow column builders: the work of one thread.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, DurationNanosecondBuilder, Float64Builder, Int32Builder, Int64Builder,
    PrimitiveBuilder, StringBuilder, TimestampNanosecondBuilder,
};
use arrow_array::types::ArrowPrimitiveType;
use arrow_array::ArrayRef;

use super::json::{Cell, Kind, Reader, SyntaxError};
use super::{error_record_message, parse_datetime, parse_timespan, shorten, ColumnType, RowShape};

/// The columns rows are read into.
pub(super) struct Columns {
    pub names: Vec<String>,
    pub kinds: Vec<ColumnType>,
    by_name: HashMap<String, usize>,
    /// No two columns share a name.
    distinct: bool,
}

impl Columns {
    pub fn new(columns: Vec<(String, ColumnType)>) -> Columns {
        let by_name: HashMap<String, usize> = columns
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), i))
            .collect();
        let distinct = by_name.len() == columns.len();
        let (names, kinds) = columns.into_iter().unzip();
        Columns {
            names,
            kinds,
            by_name,
            distinct,
        }
    }

    /// The column named `key`. Object rows mostly list their fields in one order, so
    /// `likely` (the column after the previous field's) is tried before the map.
    fn index(&self, key: &str, likely: usize) -> Option<usize> {
        if self.distinct && self.names.get(likely).is_some_and(|n| n == key) {
            return Some(likely);
        }
        self.by_name.get(key).copied()
    }
}

/// A row that could not be read.
#[derive(Debug)]
pub(super) struct RowError {
    /// Rows of the part before this one.
    pub row: usize,
    pub column: Option<usize>,
    pub problem: String,
}

/// Why a run of rows stopped.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Stop {
    /// At the boundary it was given: the next row starts there.
    Boundary,
    /// At the end of the array of rows; the text goes on at this offset.
    End(usize),
}

/// Column builders and the rows read into them.
pub(super) struct Part {
    builders: Vec<Builder>,
    pub rows: usize,
    /// Error records found in place of rows (Kusto writes a failure that happens
    /// while results stream as an object in place of a row).
    pub row_errors: Vec<String>,
    /// Which columns the object row being read has named.
    filled: Vec<bool>,
}

impl Part {
    pub fn new(columns: &Columns) -> Part {
        Part {
            builders: columns
                .kinds
                .iter()
                .map(|&kind| Builder::new(kind))
                .collect(),
            rows: 0,
            row_errors: Vec::new(),
            filled: vec![false; columns.names.len()],
        }
    }

    /// Reads rows from the start of the one at `reader` up to the end of their array,
    /// or up to `boundary` when a row starts exactly there.
    pub fn read_rows(
        &mut self,
        columns: &Columns,
        reader: &mut Reader,
        shape: RowShape,
        mut boundary: Option<usize>,
    ) -> Result<Stop, RowError> {
        loop {
            self.read_row(columns, reader, shape)?;
            match reader.peek() {
                Some(b',') => {
                    reader.advance();
                    reader.peek();
                    match boundary {
                        Some(at) if reader.pos() == at => return Ok(Stop::Boundary),
                        // The boundary was a guess that fell inside a row: read on.
                        Some(at) if reader.pos() > at => boundary = None,
                        _ => {}
                    }
                }
                Some(b']') => {
                    reader.advance();
                    return Ok(Stop::End(reader.pos()));
                }
                _ => return Err(self.syntax(None, reader.error("expected ',' or ']' after a row"))),
            }
        }
    }

    /// Reads the row at `reader`.
    pub fn read_row(
        &mut self,
        columns: &Columns,
        reader: &mut Reader,
        shape: RowShape,
    ) -> Result<(), RowError> {
        match (reader.peek(), shape) {
            (Some(b'['), RowShape::Arrays) => self.read_array_row(columns, reader),
            (Some(b'{'), RowShape::Objects) => self.read_object_row(columns, reader),
            (Some(b'{'), RowShape::Arrays) => {
                // An error record where a row should be.
                let text = reader.nested().map_err(|e| self.syntax(None, e))?;
                let record = serde_json::from_str(text).map_err(|e| {
                    self.problem(
                        None,
                        format!("the error record in its place is unreadable: {e}"),
                    )
                })?;
                self.row_errors.push(error_record_message(&record));
                Ok(())
            }
            (Some(b'['), RowShape::Objects) => {
                Err(self.problem(None, "it is an array, where rows are objects".into()))
            }
            (_, RowShape::Arrays) => {
                Err(self.syntax(None, reader.error("expected a row (an array of values)")))
            }
            (_, RowShape::Objects) => Err(self.syntax(
                None,
                reader.error("expected a row (an object of column values)"),
            )),
        }
    }

    fn read_array_row(&mut self, columns: &Columns, reader: &mut Reader) -> Result<(), RowError> {
        reader.advance();
        let width = columns.names.len();
        let mut index = 0;
        if reader.peek() == Some(b']') {
            reader.advance();
        } else {
            loop {
                if index == width {
                    return Err(
                        self.problem(None, format!("it has more values than the {width} columns"))
                    );
                }
                let cell = reader.value().map_err(|e| self.syntax(Some(index), e))?;
                self.push(columns, index, &cell)?;
                index += 1;
                match reader.peek() {
                    Some(b',') => reader.advance(),
                    Some(b']') => {
                        reader.advance();
                        break;
                    }
                    _ => {
                        let e = reader.error("expected ',' or ']' after a value");
                        return Err(self.syntax(Some(index - 1), e));
                    }
                }
            }
        }
        if index != width {
            return Err(self.problem(None, format!("it has {index} values for {width} columns")));
        }
        self.rows += 1;
        Ok(())
    }

    fn read_object_row(&mut self, columns: &Columns, reader: &mut Reader) -> Result<(), RowError> {
        reader.advance();
        self.filled.fill(false);
        let mut likely = 0;
        if reader.peek() == Some(b'}') {
            reader.advance();
        } else {
            loop {
                let key = reader.key().map_err(|e| self.syntax(None, e))?;
                let index = columns.index(key, likely);
                let cell = reader.value().map_err(|e| self.syntax(index, e))?;
                // Fields outside the schema are not columns of the result.
                if let Some(index) = index {
                    if std::mem::replace(&mut self.filled[index], true) {
                        let name = &columns.names[index];
                        return Err(
                            self.problem(Some(index), format!("the row names {name} twice"))
                        );
                    }
                    self.push(columns, index, &cell)?;
                    likely = index + 1;
                }
                match reader.peek() {
                    Some(b',') => reader.advance(),
                    Some(b'}') => {
                        reader.advance();
                        break;
                    }
                    _ => {
                        let e = reader.error("expected ',' or '}' after a value");
                        return Err(self.syntax(index, e));
                    }
                }
            }
        }
        for (builder, filled) in self.builders.iter_mut().zip(&self.filled) {
            if !filled {
                builder.push_null();
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn push(&mut self, columns: &Columns, index: usize, cell: &Cell) -> Result<(), RowError> {
        if self.builders[index].push(cell) {
            return Ok(());
        }
        let kind = columns.kinds[index];
        Err(self.problem(
            Some(index),
            format!("{} is not a {kind}", shorten(cell.raw)),
        ))
    }

    fn problem(&self, column: Option<usize>, problem: String) -> RowError {
        RowError {
            row: self.rows,
            column,
            problem,
        }
    }

    fn syntax(&self, column: Option<usize>, e: SyntaxError) -> RowError {
        self.problem(
            column,
            format!("{} (at byte {} of the rows)", e.problem, e.offset),
        )
    }

    /// The columns read, in order.
    pub fn finish(self) -> Vec<ArrayRef> {
        self.builders.into_iter().map(Builder::finish).collect()
    }
}

/// The Arrow builder of one column.
enum Builder {
    Time(TimestampNanosecondBuilder),
    Long(Int64Builder),
    Int(Int32Builder),
    Real(Float64Builder),
    Bool(BooleanBuilder),
    Span(DurationNanosecondBuilder),
    Text(StringBuilder),
    Dynamic(StringBuilder),
}

impl Builder {
    fn new(kind: ColumnType) -> Builder {
        match kind {
            ColumnType::DateTime => {
                Builder::Time(TimestampNanosecondBuilder::new().with_timezone("UTC"))
            }
            ColumnType::Long => Builder::Long(Int64Builder::new()),
            ColumnType::Int => Builder::Int(Int32Builder::new()),
            ColumnType::Real => Builder::Real(Float64Builder::new()),
            ColumnType::Bool => Builder::Bool(BooleanBuilder::new()),
            ColumnType::Timespan => Builder::Span(DurationNanosecondBuilder::new()),
            ColumnType::String | ColumnType::Guid | ColumnType::Decimal => {
                Builder::Text(StringBuilder::new())
            }
            ColumnType::Dynamic => Builder::Dynamic(StringBuilder::new()),
        }
    }

    fn push_null(&mut self) {
        match self {
            Builder::Time(b) => b.append_null(),
            Builder::Long(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::Real(b) => b.append_null(),
            Builder::Bool(b) => b.append_null(),
            Builder::Span(b) => b.append_null(),
            Builder::Text(b) | Builder::Dynamic(b) => b.append_null(),
        }
    }

    /// Appends a cell; false when it is not a value of the column's type.
    fn push(&mut self, cell: &Cell) -> bool {
        if cell.kind == Kind::Null {
            self.push_null();
            return true;
        }
        match self {
            Builder::Time(b) => append(
                b,
                match cell.kind {
                    Kind::Str(text) => parse_datetime(text),
                    _ => None,
                },
            ),
            Builder::Long(b) => append(b, integer(cell)),
            Builder::Int(b) => append(b, integer(cell).and_then(|v| i32::try_from(v).ok())),
            Builder::Real(b) => append(b, real(cell)),
            Builder::Bool(b) => {
                let value = match (&cell.kind, cell.raw) {
                    (Kind::Bool(value), _) => Some(*value),
                    (Kind::Number, "1") => Some(true),
                    (Kind::Number, "0") => Some(false),
                    _ => None,
                };
                value.map(|v| b.append_value(v)).is_some()
            }
            Builder::Span(b) => append(
                b,
                match cell.kind {
                    Kind::Str(text) => parse_timespan(text),
                    // Some services send a span as a number of 100 ns ticks.
                    Kind::Number => number_as_integer(cell.raw).and_then(|t| t.checked_mul(100)),
                    _ => None,
                },
            ),
            Builder::Text(b) => {
                // Numbers and booleans in a text column (decimals, or a service that
                // writes a guid as a number) keep their JSON text.
                b.append_value(match cell.kind {
                    Kind::Str(text) => text,
                    _ => cell.raw,
                });
                true
            }
            Builder::Dynamic(b) => {
                // A dynamic value sent as a string holding JSON (Log Analytics does
                // this) is kept as that JSON; any other value keeps its JSON text, so
                // that the column always holds JSON text.
                b.append_value(match cell.kind {
                    Kind::Str(text)
                        if text.trim_start().starts_with('{')
                            || text.trim_start().starts_with('[') =>
                    {
                        text
                    }
                    _ => cell.raw,
                });
                true
            }
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::Time(mut b) => Arc::new(b.finish()),
            Builder::Long(mut b) => Arc::new(b.finish()),
            Builder::Int(mut b) => Arc::new(b.finish()),
            Builder::Real(mut b) => Arc::new(b.finish()),
            Builder::Bool(mut b) => Arc::new(b.finish()),
            Builder::Span(mut b) => Arc::new(b.finish()),
            Builder::Text(mut b) | Builder::Dynamic(mut b) => Arc::new(b.finish()),
        }
    }
}

fn append<T: ArrowPrimitiveType>(b: &mut PrimitiveBuilder<T>, value: Option<T::Native>) -> bool {
    value.map(|v| b.append_value(v)).is_some()
}

/// An integer written as a JSON number or, as Kusto does for some values, a string.
fn integer(cell: &Cell) -> Option<i64> {
    match cell.kind {
        Kind::Number => number_as_integer(cell.raw),
        Kind::Str(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON number as an integer; `1.0` and `1e3` too, from services that write every
/// number as a double.
fn number_as_integer(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().or_else(|| {
        raw.parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64)
    })
}

/// A real, including the `"NaN"`, `"Infinity"` and `"-Infinity"` strings Kusto writes
/// for values JSON numbers cannot hold.
fn real(cell: &Cell) -> Option<f64> {
    match cell.kind {
        Kind::Number => cell.raw.parse().ok(),
        Kind::Str(text) => match text.trim() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            text => text.parse().ok(),
        },
        _ => None,
    }
}
