//! The Arrow face of the builder: reads the schema's columns, drops duplicate rows,
//! filters on the event id, runs [`build`](super::build::build) and lays the result out
//! in MSTICPy's columns (`proc_key` first, as `DataFrame.reset_index()` would show it).

use std::collections::HashSet;
use std::hash::Hasher;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    make_array, new_null_array, Array, ArrayRef, BooleanArray, Int64Array, RecordBatch,
    StringArray, TimestampNanosecondArray,
};
use arrow_data::transform::MutableArrayData;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use rayon::prelude::*;

use super::build::{build, BuiltTree, FastHasher, Link, Node, ProcInput, UNKNOWN};
use super::columns::{text_array, time_column, TextColumn, TextSource};
use super::schema::{infer_schema, ProcSchema};
use super::ProcTreeError;

/// Column names MSTICPy adds, used to tell them from the input's own columns.
pub const PROC_KEY: &str = "proc_key";
pub const PARENT_KEY: &str = "parent_key";

/// What `build_table` hands back: the output batch, the builder's rows (output order)
/// and the schema actually used.
pub struct TableResult {
    pub batch: RecordBatch,
    pub parents: Vec<Option<u32>>,
    pub depths: Vec<u32>,
    pub reached: Vec<bool>,
    pub is_root: Vec<bool>,
    pub is_leaf: Vec<bool>,
    pub is_branch: Vec<bool>,
    pub schema: ProcSchema,
}

fn column<'b>(batch: &'b RecordBatch, name: &str) -> Option<&'b ArrayRef> {
    batch.schema().index_of(name).ok().map(|i| batch.column(i))
}

fn optional_text(
    batch: &RecordBatch,
    name: Option<&str>,
) -> Result<Option<TextColumn>, ProcTreeError> {
    match name.and_then(|n| column(batch, n).map(|c| (n, c))) {
        None => Ok(None),
        Some((n, c)) => TextColumn::from_array(n, c).map(Some),
    }
}

fn required_text(batch: &RecordBatch, name: &str) -> Result<TextColumn, ProcTreeError> {
    let c = column(batch, name).ok_or_else(|| missing(batch, name))?;
    TextColumn::from_array(name, c)
}

fn missing(batch: &RecordBatch, name: &str) -> ProcTreeError {
    ProcTreeError::MissingColumn {
        column: name.to_string(),
        available: batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Rows to keep after dropping exact duplicates (first occurrence kept), as
/// `DataFrame.drop_duplicates()` does before anything else.
pub fn distinct_rows(batch: &RecordBatch) -> Vec<u32> {
    let n = batch.num_rows();
    let mut hashes = vec![0u64; n];
    for col in batch.columns() {
        hash_column(col, &mut hashes);
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.par_sort_unstable_by_key(|&r| (hashes[r as usize], r));
    let mut dropped = vec![false; n];
    let mut start = 0;
    while start < n {
        let h = hashes[order[start] as usize];
        let mut end = start + 1;
        while end < n && hashes[order[end] as usize] == h {
            end += 1;
        }
        if end - start > 1 {
            let group = &order[start..end];
            for (k, &row) in group.iter().enumerate() {
                if group[..k]
                    .iter()
                    .any(|&e| !dropped[e as usize] && rows_equal(batch, e as usize, row as usize))
                {
                    dropped[row as usize] = true;
                }
            }
        }
        start = end;
    }
    (0..n as u32).filter(|&r| !dropped[r as usize]).collect()
}

fn rows_equal(batch: &RecordBatch, a: usize, b: usize) -> bool {
    batch
        .columns()
        .iter()
        .all(|c| c.slice(a, 1).to_data() == c.slice(b, 1).to_data())
}

fn mix(h: u64, v: u64) -> u64 {
    let mut s = FastHasher::default();
    s.write_u64(h);
    s.write_u64(v);
    s.finish()
}

fn hash_bytes(b: &[u8]) -> u64 {
    let mut s = FastHasher::default();
    s.write(b);
    s.write_u8(0xff);
    s.finish()
}

/// Fold one column into the row hashes. Types without a hash here still take part in
/// the exact comparison of hash-equal rows, so they only cost speed, never correctness.
fn hash_column(col: &ArrayRef, hashes: &mut [u64]) {
    macro_rules! prim {
        ($t:ty) => {{
            let a = col.as_primitive::<$t>();
            hashes.par_iter_mut().enumerate().for_each(|(i, h)| {
                let v = if a.is_valid(i) {
                    a.value(i).to_bits_u64()
                } else {
                    0x9e37_79b9
                };
                *h = mix(*h, v);
            });
        }};
    }
    trait Bits {
        fn to_bits_u64(self) -> u64;
    }
    macro_rules! bits_int {
        ($($t:ty),*) => {$(impl Bits for $t { fn to_bits_u64(self) -> u64 { self as u64 } })*};
    }
    bits_int!(i8, i16, i32, i64, u8, u16, u32, u64);
    impl Bits for f32 {
        fn to_bits_u64(self) -> u64 {
            u64::from(self.to_bits())
        }
    }
    impl Bits for f64 {
        fn to_bits_u64(self) -> u64 {
            self.to_bits()
        }
    }
    match col.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let t = TextColumn::from_array("", col).expect("string column");
            hashes.par_iter_mut().enumerate().for_each(|(i, h)| {
                *h = mix(
                    *h,
                    t.get(i).map_or(0x9e37_79b9, |s| hash_bytes(s.as_bytes())),
                );
            });
        }
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => prim!(Float32Type),
        DataType::Float64 => prim!(Float64Type),
        DataType::Timestamp(TimeUnit::Second, _) => prim!(TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => prim!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => prim!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => prim!(TimestampNanosecondType),
        DataType::Boolean => {
            let a = col.as_boolean();
            hashes.par_iter_mut().enumerate().for_each(|(i, h)| {
                *h = mix(
                    *h,
                    if a.is_valid(i) {
                        u64::from(a.value(i)) + 1
                    } else {
                        0
                    },
                );
            });
        }
        _ => {}
    }
}

/// Copy `rows` of `array`, with a null where the row is `None` (inferred parents have
/// no value in most input columns).
fn take_or_null(array: &ArrayRef, rows: &[Option<u32>]) -> Result<ArrayRef, ProcTreeError> {
    let overflow = |e: arrow_schema::ArrowError| ProcTreeError::Arrow {
        detail: e.to_string(),
    };
    let data = array.to_data();
    let mut out = MutableArrayData::new(vec![&data], true, rows.len());
    let mut i = 0;
    while i < rows.len() {
        match rows[i] {
            None => {
                let mut j = i + 1;
                while j < rows.len() && rows[j].is_none() {
                    j += 1;
                }
                out.try_extend_nulls(j - i).map_err(overflow)?;
                i = j;
            }
            Some(start) => {
                let mut j = i + 1;
                while j < rows.len() && rows[j] == Some(start + (j - i) as u32) {
                    j += 1;
                }
                out.try_extend(0, start as usize, start as usize + (j - i))
                    .map_err(overflow)?;
                i = j;
            }
        }
    }
    Ok(make_array(out.freeze()))
}

/// Rebuilt text columns stay 64-bit-offset when the input column was.
fn keep_large(input: &DataType, out: ArrayRef) -> ArrayRef {
    if input == &DataType::LargeUtf8 && out.data_type() == &DataType::Utf8 {
        Arc::new(
            out.as_string::<i32>()
                .iter()
                .collect::<arrow_array::LargeStringArray>(),
        )
    } else {
        out
    }
}

fn utf8<'s>(values: impl Iterator<Item = Option<&'s str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn utc_times(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(
        values
            .collect::<TimestampNanosecondArray>()
            .with_timezone("UTC"),
    )
}

/// Build the tree table. See the module doc of [`super`] for the rules.
pub fn build_table(
    batch: &RecordBatch,
    schema: Option<&ProcSchema>,
) -> Result<TableResult, ProcTreeError> {
    let arrow_schema = batch.schema();
    let schema = match schema {
        Some(s) => s.clone(),
        None => infer_schema(arrow_schema.fields().iter().map(|f| f.name().as_str())).ok_or_else(
            || ProcTreeError::NoSchema {
                columns: arrow_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        )?,
    };

    let name = required_text(batch, &schema.process_name)?;
    let pid = required_text(batch, &schema.process_id)?;
    let ppid = required_text(batch, &schema.parent_id)?;
    let time_array =
        column(batch, &schema.time_stamp).ok_or_else(|| missing(batch, &schema.time_stamp))?;
    let times = time_column(&schema.time_stamp, time_array)?;
    let host = optional_text(batch, schema.host_name_column.as_deref())?;
    let parent_name = optional_text(batch, schema.parent_name.as_deref())?;
    let logon = optional_text(batch, schema.logon_id.as_deref())?;
    let target_logon = if logon.is_some() {
        optional_text(batch, schema.target_logon_id.as_deref())?
    } else {
        None
    };
    let event_id = optional_text(batch, schema.event_id_column.as_deref())?;

    let mut rows = distinct_rows(batch);
    if let (Some(ev), Some(wanted)) = (&event_id, schema.event_id_identifier.as_deref()) {
        rows.retain(|&r| ev.get(r as usize) == Some(wanted));
    }
    if let Some(&bad) = rows.iter().find(|&&r| times[r as usize].is_none()) {
        return Err(ProcTreeError::NullTime {
            column: schema.time_stamp.clone(),
            row: bad as usize,
        });
    }
    let time_ns: Vec<i64> = times.iter().map(|t| t.unwrap_or(0)).collect();

    let input = ProcInput {
        time_ns: &time_ns,
        host: host.as_ref().map(|h| h as &dyn TextSource),
        name: &name,
        pid: &pid,
        ppid: &ppid,
        parent_name: parent_name.as_ref().map(|p| p as &dyn TextSource),
        logon: logon.as_ref().map(|l| l as &dyn TextSource),
        target_logon: target_logon.as_ref().map(|t| t as &dyn TextSource),
        event_id: event_id.as_ref().map(|e| e as &dyn TextSource),
    };
    let tree = build(&input, &rows);
    let batch_out = assemble(
        batch,
        &schema,
        &tree,
        &Cols {
            name: &name,
            pid: &pid,
            ppid: &ppid,
            has_parent_name: parent_name.is_some(),
            has_logon: logon.is_some(),
            host: host.as_ref(),
            logon: logon.as_ref(),
            event_id: event_id.as_ref(),
        },
    )?;

    Ok(TableResult {
        batch: batch_out,
        parents: tree.rows.iter().map(|r| r.parent).collect(),
        depths: tree.rows.iter().map(|r| r.depth).collect(),
        reached: tree.rows.iter().map(|r| r.reached).collect(),
        is_root: tree.rows.iter().map(|r| r.is_root).collect(),
        is_leaf: tree.rows.iter().map(|r| r.is_leaf).collect(),
        is_branch: tree.rows.iter().map(|r| r.is_branch).collect(),
        schema,
    })
}

struct Cols<'c> {
    name: &'c TextColumn,
    pid: &'c TextColumn,
    ppid: &'c TextColumn,
    has_parent_name: bool,
    has_logon: bool,
    host: Option<&'c TextColumn>,
    logon: Option<&'c TextColumn>,
    event_id: Option<&'c TextColumn>,
}

/// The names of the columns MSTICPy adds, in its order, for this schema.
pub fn added_columns(schema: &ProcSchema, has_parent_name: bool) -> Vec<String> {
    let mut cols = vec!["EffectiveLogonId".to_string(), "new_process_lc".to_string()];
    if has_parent_name {
        cols.push("parent_proc_lc".into());
    }
    cols.push("source_index".into());
    cols.push(format!("{}_par", schema.process_id));
    cols.push("EffectiveLogonId_par".into());
    cols.push("new_process_lc_par".into());
    cols.push("source_index_par".into());
    cols.push(format!("{}_par", schema.parent_id));
    cols.push(format!("{}_par", schema.process_name));
    cols.push("timestamp_orig_par".into());
    if schema.process_id != "NewProcessId" {
        cols.push("NewProcessId_par".into());
    }
    if !has_parent_name {
        cols.push("ParentName".into());
        cols.push("parent_proc_lc".into());
    }
    for c in [
        PARENT_KEY,
        "IsRoot",
        "IsLeaf",
        "IsBranch",
        "path",
        "parent_index",
    ] {
        cols.push(c.into());
    }
    cols
}

fn assemble(
    batch: &RecordBatch,
    schema: &ProcSchema,
    tree: &BuiltTree<'_>,
    c: &Cols<'_>,
) -> Result<RecordBatch, ProcTreeError> {
    let rows = &tree.rows;
    let ev = |p: u32| &tree.events[p as usize];
    let in_row = |p: u32| ev(p).input_row as usize;
    // Input row behind each output row (None for inferred parents).
    let source: Vec<Option<u32>> = rows
        .iter()
        .map(|r| match r.node {
            Node::Event(p) => Some(ev(p).input_row),
            Node::Inferred(_) => None,
        })
        .collect();
    let link = |r: &super::build::TreeRow| match r.node {
        Node::Event(p) => Some(ev(p).link),
        Node::Inferred(_) => None,
    };

    let added = added_columns(schema, c.has_parent_name);
    let added_set: HashSet<&str> = added.iter().map(String::as_str).chain([PROC_KEY]).collect();
    let schema_cols: HashSet<&str> = schema.columns().into_iter().collect();

    let key_column = utf8(rows.iter().map(|r| Some(r.proc_key.as_str())));
    let input_fields = batch.schema().fields().clone();
    let input_columns: Vec<(String, ArrayRef)> = input_fields
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| !added_set.contains(f.name().as_str()))
        .map(|(f, a)| (f.name().clone(), a.clone()))
        .collect();
    // Columns are independent: build them on all cores.
    let input_out: Vec<ArrayRef> = input_columns
        .par_iter()
        .map(|(col, array)| -> Result<ArrayRef, ProcTreeError> {
            let col = col.as_str();
            let out: ArrayRef = if col == schema.time_stamp {
                utc_times(rows.iter().map(|r| {
                    Some(match r.node {
                        Node::Event(p) => ev(p).time_ns,
                        Node::Inferred(_) => 0,
                    })
                }))
            } else if col == schema.process_id {
                utf8(rows.iter().map(|r| match r.node {
                    Node::Event(p) => c.pid.get(in_row(p)),
                    Node::Inferred(k) => Some(tree.inferred[k as usize].pid),
                }))
            } else if col == schema.process_name {
                utf8(rows.iter().map(|r| match r.node {
                    Node::Event(p) => c.name.get(in_row(p)),
                    Node::Inferred(k) => {
                        c.has_parent_name.then_some(tree.inferred[k as usize].name)
                    }
                }))
            } else if Some(col) == schema.parent_name.as_deref() && c.has_parent_name {
                utf8(rows.iter().map(|r| match r.node {
                    Node::Event(p) => ev(p).parent_name,
                    Node::Inferred(_) => None,
                }))
            } else if Some(col) == schema.host_name_column.as_deref() && c.host.is_some() {
                let h = c.host.expect("checked");
                utf8(rows.iter().map(|r| match r.node {
                    Node::Event(p) => h.get(in_row(p)),
                    Node::Inferred(k) => tree.inferred[k as usize].host,
                }))
            } else if Some(col) == schema.logon_id.as_deref() && c.logon.is_some() {
                let l = c.logon.expect("checked");
                utf8(rows.iter().map(|r| match r.node {
                    Node::Event(p) => l.get(in_row(p)),
                    Node::Inferred(k) => tree.inferred[k as usize].logon,
                }))
            } else if Some(col) == schema.event_id_column.as_deref() && c.event_id.is_some() {
                let e = c.event_id.expect("checked");
                utf8(rows.iter().map(|r| match r.node {
                    Node::Event(p) => e.get(in_row(p)),
                    Node::Inferred(k) => tree.inferred[k as usize].event_id,
                }))
            } else if schema_cols.contains(col)
                && !matches!(array.data_type(), DataType::Utf8 | DataType::LargeUtf8)
            {
                // MSTICPy turns numeric schema columns into text; anything it cannot read as
                // text is passed through unchanged.
                match TextColumn::from_array(col, array) {
                    Ok(t) => text_array(&t, source.iter().map(|s| s.map(|r| r as usize))),
                    Err(_) => take_or_null(array, &source)?,
                }
            } else {
                take_or_null(array, &source)?
            };
            Ok(keep_large(array.data_type(), out))
        })
        .collect::<Result<_, _>>()?;

    let logon_text = |r: &super::build::TreeRow| -> Option<&str> {
        match r.node {
            Node::Event(p) => ev(p).effective_logon,
            Node::Inferred(k) => tree.inferred[k as usize].logon,
        }
    };
    let par_event = |r: &super::build::TreeRow| match link(r) {
        Some(Link::Event(q)) => Some(q),
        _ => None,
    };
    let unmatched = |r: &super::build::TreeRow| matches!(link(r), Some(Link::Inferred(_)));
    let child_ppid = |r: &super::build::TreeRow| match r.node {
        Node::Event(p) => c.ppid.get(in_row(p)),
        Node::Inferred(_) => None,
    };

    let added_out: Vec<ArrayRef> = added
        .par_iter()
        .map(|col| -> ArrayRef {
            match col.as_str() {
                "EffectiveLogonId" => {
                    if c.has_logon {
                        utf8(rows.iter().map(logon_text))
                    } else {
                        Arc::new(Int64Array::from(vec![0i64; rows.len()]))
                    }
                }
                "EffectiveLogonId_par" => {
                    if c.has_logon {
                        utf8(rows.iter().map(|r| match link(r) {
                            Some(Link::Event(q)) => ev(q).effective_logon,
                            Some(Link::Inferred(_)) => {
                                c.logon.and_then(|l| l.get(source_of(r, tree)))
                            }
                            _ => None,
                        }))
                    } else {
                        Arc::new(
                            rows.iter()
                                .map(|r| {
                                    link(r)
                                        .map(|l| if l == Link::None { None } else { Some(0i64) })
                                        .unwrap_or(Some(0))
                                })
                                .collect::<Int64Array>(),
                        )
                    }
                }
                "new_process_lc" => utf8(rows.iter().map(|r| {
                    Some(match r.node {
                        Node::Event(p) => ev(p).new_process_lc.as_str(),
                        Node::Inferred(k) => tree.inferred[k as usize].new_process_lc.as_str(),
                    })
                })),
                "parent_proc_lc" if c.has_parent_name => utf8(rows.iter().map(|r| match r.node {
                    Node::Event(p) => ev(p).parent_proc_lc.as_deref(),
                    Node::Inferred(_) => None,
                })),
                "parent_proc_lc" => utf8(rows.iter().map(|r| match link(r) {
                    Some(Link::Event(q)) => Some(ev(q).new_process_lc.as_str()),
                    Some(Link::Inferred(_)) => Some(UNKNOWN),
                    _ => None,
                })),
                "ParentName" => utf8(rows.iter().map(|r| match link(r) {
                    Some(Link::Event(q)) => c.name.get(in_row(q)),
                    Some(Link::Inferred(_)) => Some(UNKNOWN),
                    Some(Link::None) => None,
                    None => Some(UNKNOWN),
                })),
                "source_index" => {
                    let text: Vec<String> = rows
                        .iter()
                        .map(|r| format!("{:05}", r.source_index))
                        .collect();
                    utf8(text.iter().map(|s| Some(s.as_str())))
                }
                "new_process_lc_par" => utf8(rows.iter().map(|r| match link(r) {
                    Some(Link::Event(q)) => Some(ev(q).new_process_lc.as_str()),
                    Some(Link::Inferred(_)) => Some(match r.node {
                        Node::Event(p) if c.has_parent_name => {
                            ev(p).parent_proc_lc.as_deref().unwrap_or(UNKNOWN)
                        }
                        _ => UNKNOWN,
                    }),
                    _ => None,
                })),
                "source_index_par" => Arc::new(
                    rows.iter()
                        .map(|r| par_event(r).map(|q| i64::from(ev(q).input_row)))
                        .collect::<Int64Array>(),
                ),
                "timestamp_orig_par" => utc_times(rows.iter().map(|r| match link(r) {
                    Some(Link::Event(q)) => Some(ev(q).time_ns),
                    Some(Link::Inferred(_)) => Some(0),
                    _ => None,
                })),
                "NewProcessId_par" if schema.process_id != "NewProcessId" => utf8(
                    rows.iter()
                        .map(|r| if unmatched(r) { child_ppid(r) } else { None }),
                ),
                PARENT_KEY => utf8(rows.iter().map(|r| r.parent_key.as_deref())),
                "IsRoot" => Arc::new(
                    rows.iter()
                        .map(|r| Some(r.is_root))
                        .collect::<BooleanArray>(),
                ),
                "IsLeaf" => Arc::new(
                    rows.iter()
                        .map(|r| Some(r.is_leaf))
                        .collect::<BooleanArray>(),
                ),
                "IsBranch" => Arc::new(
                    rows.iter()
                        .map(|r| Some(r.is_branch))
                        .collect::<BooleanArray>(),
                ),
                "path" => utf8(rows.iter().map(|r| Some(r.path.as_str()))),
                "parent_index" => {
                    let text: Vec<Option<String>> = rows
                        .iter()
                        .map(|r| match (r.reached, r.parent) {
                            (true, Some(p)) => {
                                Some(format!("{:05}", rows[p as usize].source_index))
                            }
                            _ => None,
                        })
                        .collect();
                    utf8(text.iter().map(|s| s.as_deref()))
                }
                other if other == format!("{}_par", schema.process_id) => {
                    utf8(rows.iter().map(|r| match link(r) {
                        Some(Link::Event(q)) => c.pid.get(in_row(q)),
                        Some(Link::Inferred(_)) if schema.process_id == "NewProcessId" => {
                            child_ppid(r)
                        }
                        _ => None,
                    }))
                }
                other if other == format!("{}_par", schema.parent_id) => utf8(
                    rows.iter()
                        .map(|r| par_event(r).and_then(|q| c.ppid.get(in_row(q)))),
                ),
                other if other == format!("{}_par", schema.process_name) => {
                    utf8(rows.iter().map(|r| match link(r) {
                        Some(Link::Event(q)) => c.name.get(in_row(q)),
                        Some(Link::Inferred(_)) if !c.has_parent_name => Some(UNKNOWN),
                        _ => None,
                    }))
                }
                // Every name `added_columns` yields has a rule above; a null column keeps the
                // layout intact should a future name slip through.
                _ => new_null_array(&DataType::Utf8, rows.len()),
            }
        })
        .collect();
    let mut fields = vec![Field::new(PROC_KEY, DataType::Utf8, true)];
    let mut arrays = vec![key_column];
    for ((name, _), array) in input_columns.iter().zip(input_out) {
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    for (name, array) in added.iter().zip(added_out) {
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let out_schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new(out_schema, arrays).map_err(|e| ProcTreeError::Arrow {
        detail: e.to_string(),
    })
}

fn source_of(r: &super::build::TreeRow, tree: &BuiltTree<'_>) -> usize {
    match r.node {
        Node::Event(p) => tree.events[p as usize].input_row as usize,
        Node::Inferred(k) => {
            tree.events[tree.inferred[k as usize].child as usize].input_row as usize
        }
    }
}
