//! Events to Arrow: the column layout described in the module docs, and the Sentinel
//! row reader.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::ArrowPrimitiveType;
use arrow_array::{
    downcast_primitive_array, Array, ArrayRef, BooleanArray, GenericBinaryArray,
    GenericStringArray, Int64Array, NullArray, OffsetSizeTrait, PrimitiveArray, RecordBatch,
    StringArray, StringViewArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;

use super::event::{assemble, AuditEvent, INT_FIELDS};
use super::sentinel::{parse_msg_id, records_from_cell};
use super::{AuditdError, AuditdOptions, Location, ParseWarning};

/// The event table for events read from raw text: `TimeGenerated, EventType, mssg_id`,
/// then the fields alphabetically.
pub fn events_to_batch(events: &[AuditEvent]) -> Result<RecordBatch, AuditdError> {
    let mut builder = EventTableBuilder::new();
    for ev in events {
        builder.push(ev);
    }
    builder.finish()
}

/// Builds the event table one event at a time, so events need not be kept: memory
/// grows with the Arrow output only.
pub struct EventTableBuilder {
    /// Names of the leading columns, which fields may not take.
    reserved: Vec<String>,
    time: Vec<Option<i64>>,
    types: StringBuilder,
    ids: StringBuilder,
    index: HashMap<String, usize>,
    builders: Vec<(String, StringBuilder)>,
}

impl Default for EventTableBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl EventTableBuilder {
    /// The raw-text layout: `TimeGenerated, EventType, mssg_id`, fields.
    pub fn new() -> Self {
        Self::with_reserved(Vec::new())
    }

    fn with_reserved(extra: Vec<String>) -> Self {
        let mut reserved: Vec<String> = ["TimeGenerated", "EventType", "mssg_id"]
            .map(String::from)
            .to_vec();
        reserved.extend(extra);
        EventTableBuilder {
            reserved,
            time: Vec::new(),
            types: StringBuilder::new(),
            ids: StringBuilder::new(),
            index: HashMap::new(),
            builders: Vec::new(),
        }
    }

    /// Events added so far.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    pub fn push(&mut self, ev: &AuditEvent) {
        let row = self.time.len();
        self.time.push(ev.time_ns);
        self.types.append_value(&ev.event_type);
        self.ids.append_value(&ev.mssg_id);
        let node = ev.node.as_deref().map(|n| ("node", n));
        for (name, value) in ev
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(node)
        {
            let slot = match self.index.get(name) {
                Some(&slot) => slot,
                None => {
                    // A field may not take the name of a leading column.
                    let out_name = if self.reserved.iter().any(|t| t == name) {
                        format!("{name}_audit")
                    } else {
                        name.to_string()
                    };
                    self.builders.push((out_name, StringBuilder::new()));
                    self.index.insert(name.to_string(), self.builders.len() - 1);
                    self.builders.len() - 1
                }
            };
            let b = &mut self.builders[slot].1;
            b.append_nulls(row - b.len());
            b.append_value(value);
        }
    }

    /// The raw-text table.
    pub fn finish(self) -> Result<RecordBatch, AuditdError> {
        self.finish_with(Vec::new(), true)
    }

    fn finish_with(
        mut self,
        lead: Vec<(Field, ArrayRef)>,
        with_ids: bool,
    ) -> Result<RecordBatch, AuditdError> {
        let rows = self.time.len();
        let time =
            TimestampNanosecondArray::from(std::mem::take(&mut self.time)).with_timezone("UTC");
        let mut fields = vec![
            Field::new("TimeGenerated", time.data_type().clone(), true),
            Field::new("EventType", DataType::Utf8, false),
        ];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(time), Arc::new(self.types.finish())];
        for (f, c) in lead {
            fields.push(f);
            columns.push(c);
        }
        if with_ids {
            fields.push(Field::new("mssg_id", DataType::Utf8, false));
            columns.push(Arc::new(self.ids.finish()));
        }
        let mut builders = std::mem::take(&mut self.builders);
        builders.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, mut b) in builders {
            b.append_nulls(rows - b.len());
            let strings = b.finish();
            let base = name.split('_').next().unwrap_or(&name);
            match INT_FIELDS
                .contains(&base)
                .then(|| to_ints(&strings))
                .flatten()
            {
                Some(ints) => {
                    fields.push(Field::new(&name, DataType::Int64, true));
                    columns.push(Arc::new(ints));
                }
                None => {
                    fields.push(Field::new(&name, DataType::Utf8, true));
                    columns.push(Arc::new(strings));
                }
            }
        }
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns,
        )?)
    }
}

/// All values as integers (4294967295, auditd's unset id, as -1), or None if any is not.
fn to_ints(strings: &StringArray) -> Option<Int64Array> {
    strings
        .iter()
        .map(|v| match v {
            None => Some(None),
            Some("4294967295") => Some(Some(-1)),
            Some(s) => s.parse::<i64>().ok().map(Some),
        })
        .collect()
}

enum TextColumn<'a> {
    Small(&'a GenericStringArray<i32>),
    Large(&'a GenericStringArray<i64>),
    View(&'a StringViewArray),
}

impl<'a> TextColumn<'a> {
    fn new(array: &'a ArrayRef, column: &str) -> Result<Self, AuditdError> {
        Ok(match array.data_type() {
            DataType::Utf8 => TextColumn::Small(array.as_string::<i32>()),
            DataType::LargeUtf8 => TextColumn::Large(array.as_string::<i64>()),
            DataType::Utf8View => TextColumn::View(array.as_string_view()),
            other => {
                return Err(AuditdError::NotText {
                    column: column.to_string(),
                    data_type: other.clone(),
                })
            }
        })
    }

    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            TextColumn::Small(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::Large(a) => a.is_valid(row).then(|| a.value(row)),
            TextColumn::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

pub fn extract_events(
    batch: &RecordBatch,
    input_column: &str,
    options: &AuditdOptions,
) -> Result<(RecordBatch, Vec<ParseWarning>), AuditdError> {
    let schema = batch.schema();
    let (input_idx, _) = schema
        .column_with_name(input_column)
        .ok_or_else(|| AuditdError::MissingColumn(input_column.to_string()))?;
    let messages = TextColumn::new(batch.column(input_idx), input_column)?;
    let ids = match schema.column_with_name("mssg_id") {
        Some((i, _)) => Some(TextColumn::new(batch.column(i), "mssg_id")?),
        None => None,
    };

    let results: Vec<(Option<AuditEvent>, Vec<ParseWarning>)> = (0..batch.num_rows())
        .into_par_iter()
        .map(|row| {
            let warn = |message: String| ParseWarning {
                location: Location::Row(row),
                message,
            };
            let mut notes = Vec::new();
            let Some(cell) = messages.get(row).filter(|c| !c.trim().is_empty()) else {
                return (
                    None,
                    vec![warn(format!("no audit message in column '{input_column}'"))],
                );
            };
            let id_text = ids.as_ref().and_then(|c| c.get(row));
            let id = id_text.and_then(parse_msg_id);
            let result = records_from_cell(cell, id.as_ref(), &mut notes);
            let mut warnings: Vec<ParseWarning> = notes.into_iter().map(warn).collect();
            let event = match result {
                Ok(records) => assemble(&records, options.all_fields).map(|mut ev| {
                    if let Some((epoch, time_ns, serial)) = &id {
                        ev.time_ns = Some(*time_ns);
                        ev.mssg_id =
                            id_text.map_or_else(|| format!("{epoch}:{serial}"), str::to_string);
                    }
                    ev.source_row = Some(row);
                    ev
                }),
                Err(e) => {
                    warnings.push(warn(e));
                    None
                }
            };
            if event.is_none() && warnings.is_empty() {
                warnings.push(warn("the audit message holds no records".into()));
            }
            (event, warnings)
        })
        .collect();

    let mut events = Vec::new();
    let mut warnings = Vec::new();
    for (ev, w) in results {
        warnings.extend(w);
        if let Some(ev) = ev {
            if options
                .event_type
                .as_deref()
                .is_none_or(|t| ev.event_type == t)
            {
                events.push(ev);
            }
        }
    }
    let rows: Vec<usize> = events.iter().filter_map(|e| e.source_row).collect();
    let mut lead = Vec::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if field.name() == input_column || field.name() == "TimeGenerated" {
            continue;
        }
        let taken =
            take_rows(column, &rows).ok_or_else(|| AuditdError::UnsupportedPassthrough {
                column: field.name().clone(),
                data_type: field.data_type().clone(),
            })?;
        lead.push((
            Field::new(field.name(), field.data_type().clone(), true),
            taken,
        ));
    }
    let mut builder =
        EventTableBuilder::with_reserved(lead.iter().map(|(f, _)| f.name().clone()).collect());
    for ev in &events {
        builder.push(ev);
    }
    // The table's own mssg_id column is carried over; without one, ours is added.
    Ok((builder.finish_with(lead, ids.is_none())?, warnings))
}

/// The rows `rows` of `array`, for the flat types tables carry (numbers, times,
/// strings, binary, booleans); None for nested types.
pub(crate) fn take_rows(array: &ArrayRef, rows: &[usize]) -> Option<ArrayRef> {
    fn prim<T: ArrowPrimitiveType>(a: &PrimitiveArray<T>, rows: &[usize]) -> ArrayRef {
        let out: PrimitiveArray<T> = rows
            .iter()
            .map(|&i| a.is_valid(i).then(|| a.value(i)))
            .collect();
        Arc::new(out.with_data_type(a.data_type().clone()))
    }
    fn text<O: OffsetSizeTrait>(a: &GenericStringArray<O>, rows: &[usize]) -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|&i| a.is_valid(i).then(|| a.value(i)))
                .collect::<GenericStringArray<O>>(),
        )
    }
    fn binary<O: OffsetSizeTrait>(a: &GenericBinaryArray<O>, rows: &[usize]) -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|&i| a.is_valid(i).then(|| a.value(i)))
                .collect::<GenericBinaryArray<O>>(),
        )
    }
    Some(downcast_primitive_array!(
        array => prim(array, rows),
        DataType::Utf8 => text(array.as_string::<i32>(), rows),
        DataType::LargeUtf8 => text(array.as_string::<i64>(), rows),
        DataType::Utf8View => {
            let a = array.as_string_view();
            Arc::new(rows.iter().map(|&i| a.is_valid(i).then(|| a.value(i))).collect::<StringViewArray>())
        }
        DataType::Binary => binary(array.as_binary::<i32>(), rows),
        DataType::LargeBinary => binary(array.as_binary::<i64>(), rows),
        DataType::Boolean => {
            let a = array.as_boolean();
            Arc::new(rows.iter().map(|&i| a.is_valid(i).then(|| a.value(i))).collect::<BooleanArray>())
        }
        DataType::Null => Arc::new(NullArray::new(rows.len())),
        _ => return None,
    ))
}
