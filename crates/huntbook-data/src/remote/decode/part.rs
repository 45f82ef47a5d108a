//! A run of rows read into Arrow column builders: the work of one thread.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, DurationNanosecondBuilder, Float64Builder, Int32Builder,
    Int64Builder, PrimitiveBuilder, StringBuilder, TimestampNanosecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::ArrowPrimitiveType;
use arrow_array::{Array, ArrayRef};
use arrow_schema::ArrowError;
use rayon::prelude::*;

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
    /// Where in the text, for a syntax error.
    pub offset: Option<usize>,
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
    /// Whether the builders were given the room the rows are expected to take.
    sized: bool,
}

/// Rows read before the room the rest will take is estimated from them.
const SAMPLE: usize = 256;

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
            sized: false,
        }
    }

    /// Reads rows from the start of the one at `reader` up to the end of their array,
    /// or up to `boundary` when a row starts exactly there. The builders are given
    /// room for rows up to the offset `room_to`, as estimated from the first rows:
    /// growing an Arrow buffer copies it.
    pub fn read_rows(
        &mut self,
        columns: &Columns,
        reader: &mut Reader,
        shape: RowShape,
        mut boundary: Option<usize>,
        room_to: usize,
    ) -> Result<Stop, RowError> {
        let (first_row, first_byte) = (self.rows, reader.pos());
        loop {
            self.read_row(columns, reader, shape)?;
            if !self.sized && self.rows == first_row + SAMPLE {
                self.sized = true;
                let bytes_per_row = (reader.pos() - first_byte).div_ceil(SAMPLE);
                // A little more than the estimate, so that a few long rows do not
                // force one last copy.
                let more = room_to.saturating_sub(reader.pos()) / bytes_per_row * 9 / 8;
                let rows = self.rows + more;
                self.builders.iter_mut().for_each(|b| b.make_room(rows));
            }
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
                let text = reader.raw().map_err(|e| self.syntax(None, e))?;
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
            offset: None,
        }
    }

    fn syntax(&self, column: Option<usize>, e: SyntaxError) -> RowError {
        RowError {
            offset: Some(e.offset),
            ..self.problem(column, e.problem.to_string())
        }
    }

    /// Adds the rows of `next`, read after these, column by column in parallel.
    pub fn append(&mut self, next: Part) -> Result<(), ArrowError> {
        self.builders
            .par_iter_mut()
            .zip(next.builders.into_par_iter())
            .try_for_each(|(builder, next)| builder.append(next))?;
        self.rows += next.rows;
        self.row_errors.extend(next.row_errors);
        Ok(())
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

    fn len(&self) -> usize {
        match self {
            Builder::Time(b) => b.len(),
            Builder::Long(b) => b.len(),
            Builder::Int(b) => b.len(),
            Builder::Real(b) => b.len(),
            Builder::Bool(b) => b.len(),
            Builder::Span(b) => b.len(),
            Builder::Text(b) | Builder::Dynamic(b) => b.len(),
        }
    }

    /// Gives the builder room for `rows` values, text ones as long on average as
    /// those so far. Arrow builders cannot reserve, so the values so far move to a
    /// new builder made with that capacity.
    fn make_room(&mut self, rows: usize) {
        let len = self.len();
        if len == 0 || rows <= len {
            return;
        }
        match self {
            Builder::Time(b) => regrow(b, rows),
            Builder::Long(b) => regrow(b, rows),
            Builder::Int(b) => regrow(b, rows),
            Builder::Real(b) => regrow(b, rows),
            Builder::Span(b) => regrow(b, rows),
            Builder::Bool(b) => {
                let so_far = b.finish();
                *b = BooleanBuilder::with_capacity(rows);
                b.append_array(&so_far);
            }
            Builder::Text(b) | Builder::Dynamic(b) => {
                let bytes = b.values_slice().len().div_ceil(len) * rows;
                let so_far = b.finish();
                *b = StringBuilder::with_capacity(rows, bytes);
                // The values so far fitted their offsets, so they fit again.
                let _ = b.append_array(&so_far);
            }
        }
    }

    /// Adds the values of `next`, a builder of the same column.
    fn append(&mut self, next: Builder) -> Result<(), ArrowError> {
        let next = next.finish();
        match self {
            Builder::Time(b) => b.append_array(next.as_primitive()),
            Builder::Long(b) => b.append_array(next.as_primitive()),
            Builder::Int(b) => b.append_array(next.as_primitive()),
            Builder::Real(b) => b.append_array(next.as_primitive()),
            Builder::Span(b) => b.append_array(next.as_primitive()),
            Builder::Bool(b) => b.append_array(next.as_boolean()),
            Builder::Text(b) | Builder::Dynamic(b) => b.append_array(next.as_string())?,
        }
        Ok(())
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

/// [`Builder::make_room`] for a primitive builder.
fn regrow<T: ArrowPrimitiveType>(b: &mut PrimitiveBuilder<T>, rows: usize) {
    let so_far = b.finish();
    *b = PrimitiveBuilder::with_capacity(rows).with_data_type(so_far.data_type().clone());
    b.append_array(&so_far);
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
