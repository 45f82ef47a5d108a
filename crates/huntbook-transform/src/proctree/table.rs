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
    TimestampNanosecondArray,
};
use arrow_data::transform::MutableArrayData;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use rayon::prelude::*;

use super::build::{build, BuiltTree, EventInfo, FastHasher, Link, Node, ProcInput, UNKNOWN};
use super::columns::{time_column, TextColumn, TextSource};
use super::schema::{infer_schema, ProcSchema};
use super::text::{text_column, TextBuf};
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

/// `rows` without exact duplicates of an earlier row, as `DataFrame.drop_duplicates()`
/// keeps them. Duplicates share every column, so dropping them from rows already
/// filtered on the event id gives what MSTICPy's drop-then-filter gives.
pub fn distinct_rows(batch: &RecordBatch, rows: Vec<u32>) -> Vec<u32> {
    let mut hashes = vec![0u64; rows.len()];
    for col in batch.columns() {
        hash_column(col, &rows, &mut hashes);
    }
    let mut by_hash: Vec<(u64, u32)> = hashes.into_iter().zip(rows.iter().copied()).collect();
    by_hash.par_sort_unstable();
    let mut dropped = vec![false; batch.num_rows()];
    for group in by_hash.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
        for (k, &(_, row)) in group.iter().enumerate() {
            if group[..k]
                .iter()
                .any(|&(_, e)| !dropped[e as usize] && rows_equal(batch, e as usize, row as usize))
            {
                dropped[row as usize] = true;
            }
        }
    }
    let mut rows = rows;
    rows.retain(|&r| !dropped[r as usize]);
    rows
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

/// Fold one column of `rows` into their hashes. Types without a hash here still take
/// part in the exact comparison of hash-equal rows, so they only cost speed, never
/// correctness.
fn hash_column(col: &ArrayRef, rows: &[u32], hashes: &mut [u64]) {
    macro_rules! prim {
        ($t:ty) => {{
            let a = col.as_primitive::<$t>();
            hashes.par_iter_mut().zip(rows).for_each(|(h, &r)| {
                let i = r as usize;
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
            hashes.par_iter_mut().zip(rows).for_each(|(h, &r)| {
                *h = mix(
                    *h,
                    t.get(r as usize)
                        .map_or(0x9e37_79b9, |s| hash_bytes(s.as_bytes())),
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
            hashes.par_iter_mut().zip(rows).for_each(|(h, &r)| {
                let i = r as usize;
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

    let all_rows = 0..batch.num_rows() as u32;
    let rows = match (&event_id, schema.event_id_identifier.as_deref()) {
        (Some(ev), Some(wanted)) => all_rows
            .filter(|&r| ev.get(r as usize) == Some(wanted))
            .collect(),
        _ => all_rows.collect(),
    };
    let rows = distinct_rows(batch, rows);
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
    let mut tree = build(&input, &rows);
    drop(rows);
    let path = std::mem::take(&mut tree.rows.path).into_array()?;
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
        path,
    )?;

    let rows = tree.rows;
    Ok(TableResult {
        batch: batch_out,
        parents: rows.parent,
        depths: rows.depth,
        reached: rows.reached,
        is_root: rows.is_root,
        is_leaf: rows.is_leaf,
        is_branch: rows.is_branch,
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

/// What an output row is: a copy of its event (so that columns read the events in
/// output order, in sequence), or an inferred parent's index.
enum RowNode<'a> {
    Event(EventInfo<'a>),
    Inferred(u32),
}

fn assemble(
    batch: &RecordBatch,
    schema: &ProcSchema,
    tree: &BuiltTree<'_>,
    c: &Cols<'_>,
    path: ArrayRef,
) -> Result<RecordBatch, ProcTreeError> {
    let rows = &tree.rows;
    let n = rows.source_index.len();
    let ev = |p: u32| &tree.events[p as usize];
    let inferred = |i: u32| &tree.inferred[i as usize];
    let row_nodes: Vec<RowNode<'_>> = rows
        .source_index
        .iter()
        .map(|&i| match tree.node(i) {
            Node::Event(p) => RowNode::Event(*ev(p)),
            Node::Inferred(k) => RowNode::Inferred(k),
        })
        .collect();
    let row = |k: usize| &row_nodes[k];
    // Input row behind each output row (None for inferred parents).
    let source: Vec<Option<u32>> = row_nodes
        .iter()
        .map(|r| match r {
            RowNode::Event(e) => Some(e.input_row),
            RowNode::Inferred(_) => None,
        })
        .collect();
    let link = |k: usize| match row(k) {
        RowNode::Event(e) => Some(e.link),
        RowNode::Inferred(_) => None,
    };

    let added = added_columns(schema, c.has_parent_name);
    let added_set: HashSet<&str> = added.iter().map(String::as_str).chain([PROC_KEY]).collect();
    let schema_cols: HashSet<&str> = schema.columns().into_iter().collect();

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
            let is = |schema_col: &Option<String>| schema_col.as_deref() == Some(col);
            let out: ArrayRef = if col == schema.time_stamp {
                utc_times((0..n).map(|k| {
                    Some(match row(k) {
                        RowNode::Event(e) => e.time_ns,
                        RowNode::Inferred(_) => 0,
                    })
                }))
            } else if col == schema.process_id {
                text_column(n, |k| match row(k) {
                    RowNode::Event(e) => c.pid.get(e.input_row as usize),
                    RowNode::Inferred(i) => Some(inferred(*i).pid),
                })?
            } else if col == schema.process_name {
                text_column(n, |k| match row(k) {
                    RowNode::Event(e) => c.name.get(e.input_row as usize),
                    RowNode::Inferred(i) => c.has_parent_name.then_some(inferred(*i).name),
                })?
            } else if Some(col) == schema.parent_name.as_deref() && c.has_parent_name {
                text_column(n, |k| match row(k) {
                    RowNode::Event(e) => e.parent_name,
                    RowNode::Inferred(_) => None,
                })?
            } else if let Some(h) = c.host.filter(|_| is(&schema.host_name_column)) {
                text_column(n, |k| match row(k) {
                    RowNode::Event(e) => h.get(e.input_row as usize),
                    RowNode::Inferred(i) => inferred(*i).host,
                })?
            } else if let Some(l) = c.logon.filter(|_| is(&schema.logon_id)) {
                text_column(n, |k| match row(k) {
                    RowNode::Event(e) => l.get(e.input_row as usize),
                    RowNode::Inferred(i) => inferred(*i).logon,
                })?
            } else if let Some(id) = c.event_id.filter(|_| is(&schema.event_id_column)) {
                text_column(n, |k| match row(k) {
                    RowNode::Event(e) => id.get(e.input_row as usize),
                    RowNode::Inferred(i) => inferred(*i).event_id,
                })?
            } else if array.data_type() == &DataType::Utf8
                || (schema_cols.contains(col) && array.data_type() != &DataType::LargeUtf8)
            {
                // MSTICPy turns numeric schema columns into text; anything it cannot read as
                // text is passed through unchanged. Plain text is copied the same way.
                match TextColumn::from_array(col, array) {
                    Ok(t) => text_column(n, |k| source[k].and_then(|r| t.get(r as usize)))?,
                    Err(_) => take_or_null(array, &source)?,
                }
            } else {
                take_or_null(array, &source)?
            };
            Ok(keep_large(array.data_type(), out))
        })
        .collect::<Result<_, _>>()?;

    let par_event = |k: usize| match link(k) {
        Some(Link::Event(q)) => Some(ev(q)),
        _ => None,
    };
    let unmatched = |k: usize| matches!(link(k), Some(Link::Inferred(_)));
    let own_ppid = |k: usize| source[k].and_then(|r| c.ppid.get(r as usize));

    let mut added_out: Vec<Option<ArrayRef>> = added
        .par_iter()
        .map(|col| -> Result<Option<ArrayRef>, ProcTreeError> {
            Ok(Some(match col.as_str() {
                "EffectiveLogonId" => {
                    if c.has_logon {
                        text_column(n, |k| match row(k) {
                            RowNode::Event(e) => e.effective_logon,
                            RowNode::Inferred(i) => inferred(*i).logon,
                        })?
                    } else {
                        Arc::new(Int64Array::from(vec![0i64; n]))
                    }
                }
                "EffectiveLogonId_par" => {
                    if c.has_logon {
                        text_column(n, |k| match link(k) {
                            Some(Link::Event(q)) => ev(q).effective_logon,
                            Some(Link::Inferred(_)) => {
                                source[k].and_then(|r| c.logon.and_then(|l| l.get(r as usize)))
                            }
                            _ => None,
                        })?
                    } else {
                        Arc::new(
                            (0..n)
                                .map(|k| match link(k) {
                                    Some(Link::None) => None,
                                    _ => Some(0i64),
                                })
                                .collect::<Int64Array>(),
                        )
                    }
                }
                "new_process_lc" => text_column(n, |k| {
                    Some(match row(k) {
                        RowNode::Event(e) => tree.name_lc(e.name_lc),
                        RowNode::Inferred(i) => tree.name_lc(inferred(*i).name_lc),
                    })
                })?,
                "parent_proc_lc" if c.has_parent_name => text_column(n, |k| match row(k) {
                    RowNode::Event(e) => e.parent_lc.map(|id| tree.name_lc(id)),
                    RowNode::Inferred(_) => None,
                })?,
                "parent_proc_lc" => text_column(n, |k| match link(k) {
                    Some(Link::Event(q)) => Some(tree.name_lc(ev(q).name_lc)),
                    Some(Link::Inferred(_)) => Some(UNKNOWN),
                    _ => None,
                })?,
                "ParentName" => text_column(n, |k| match link(k) {
                    Some(Link::Event(q)) => c.name.get(ev(q).input_row as usize),
                    Some(Link::Inferred(_)) => Some(UNKNOWN),
                    Some(Link::None) => None,
                    None => Some(UNKNOWN),
                })?,
                "source_index" => {
                    TextBuf::build(n, |k, buf| buf.push_index(rows.source_index[k])).into_array()?
                }
                "new_process_lc_par" => text_column(n, |k| match link(k) {
                    Some(Link::Event(q)) => Some(tree.name_lc(ev(q).name_lc)),
                    Some(Link::Inferred(_)) => Some(match row(k) {
                        RowNode::Event(e) if c.has_parent_name => {
                            e.parent_lc.map_or(UNKNOWN, |id| tree.name_lc(id))
                        }
                        _ => UNKNOWN,
                    }),
                    _ => None,
                })?,
                "source_index_par" => Arc::new(
                    (0..n)
                        .map(|k| par_event(k).map(|q| i64::from(q.input_row)))
                        .collect::<Int64Array>(),
                ),
                "timestamp_orig_par" => utc_times((0..n).map(|k| match link(k) {
                    Some(Link::Event(q)) => Some(ev(q).time_ns),
                    Some(Link::Inferred(_)) => Some(0),
                    _ => None,
                })),
                "NewProcessId_par" if schema.process_id != "NewProcessId" => {
                    text_column(n, |k| if unmatched(k) { own_ppid(k) } else { None })?
                }
                "IsRoot" => Arc::new(BooleanArray::from(rows.is_root.clone())),
                "IsLeaf" => Arc::new(BooleanArray::from(rows.is_leaf.clone())),
                "IsBranch" => Arc::new(BooleanArray::from(rows.is_branch.clone())),
                // Written during the walk, and with the keys below.
                "path" | PARENT_KEY => return Ok(None),
                "parent_index" => {
                    TextBuf::build(n, |k, buf| match (rows.reached[k], rows.parent[k]) {
                        (true, Some(p)) => buf.push_index(rows.source_index[p as usize]),
                        _ => buf.push_null(),
                    })
                    .into_array()?
                }
                other if other == format!("{}_par", schema.process_id) => {
                    text_column(n, |k| match link(k) {
                        Some(Link::Event(q)) => c.pid.get(ev(q).input_row as usize),
                        Some(Link::Inferred(_)) if schema.process_id == "NewProcessId" => {
                            own_ppid(k)
                        }
                        _ => None,
                    })?
                }
                other if other == format!("{}_par", schema.parent_id) => text_column(n, |k| {
                    par_event(k).and_then(|q| c.ppid.get(q.input_row as usize))
                })?,
                other if other == format!("{}_par", schema.process_name) => {
                    text_column(n, |k| match link(k) {
                        Some(Link::Event(q)) => c.name.get(ev(q).input_row as usize),
                        Some(Link::Inferred(_)) if !c.has_parent_name => Some(UNKNOWN),
                        _ => None,
                    })?
                }
                // Every name `added_columns` yields has a rule above; a null column keeps the
                // layout intact should a future name slip through.
                _ => new_null_array(&DataType::Utf8, n),
            }))
        })
        .collect::<Result<_, _>>()?;
    let (key_column, parent_key) = key_columns(tree)?;
    for (name, array) in [("path", path), (PARENT_KEY, parent_key)] {
        let at = added.iter().position(|a| a == name).expect("always added");
        added_out[at] = Some(array);
    }

    let mut fields = vec![Field::new(PROC_KEY, DataType::Utf8, true)];
    let mut arrays = vec![key_column];
    for ((name, _), array) in input_columns.iter().zip(input_out) {
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    for (name, array) in added.iter().zip(added_out) {
        let array = array.expect("every added column is built");
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let out_schema = Arc::new(Schema::new(fields));
    RecordBatch::try_new(out_schema, arrays).map_err(|e| ProcTreeError::Arrow {
        detail: e.to_string(),
    })
}

/// `proc_key` and `parent_key`. A parent's key is read from the `proc_key` already
/// written for its row, which is near (or shared by its siblings), rather than from the
/// keys of all nodes.
fn key_columns(tree: &BuiltTree<'_>) -> Result<(ArrayRef, ArrayRef), ProcTreeError> {
    let rows = &tree.rows;
    let n = rows.source_index.len();
    let keys = TextBuf::gather(n, |k| Some(tree.keys.get(rows.source_index[k] as usize)));
    let parent_keys = TextBuf::gather(n, |k| rows.parent[k].map(|p| keys.get(p as usize)));
    Ok((keys.into_array()?, parent_keys.into_array()?))
}
