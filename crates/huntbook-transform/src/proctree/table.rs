//! The Arrow face of the builder: reads the schema's columns, filters on the event id,
//! drops duplicate rows, runs [`build`](super::build::build) and lays the result out in
//! MSTICPy's columns (`proc_key` first, as `DataFrame.reset_index()` would show it).

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

use super::build::{
    build, time_order, write_key, BuiltTree, Dict, EventInfo, FastHasher, Id, InferredInfo, Link,
    Node, ProcInput, UNKNOWN,
};
use super::columns::{time_column, TextColumn, TextSource};
use super::schema::{schema_for, ProcSchema};
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
    /// The input row of each output row (`None` for inferred parents).
    pub source: Vec<Option<u32>>,
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

/// The input columns a caller kept back from the builder (say, a DataFrame's Python
/// text, costly to convert), asked for only for the rows that may be exact duplicates:
/// given input row numbers, it returns those columns at those rows, in that order.
pub type OtherColumns<'f> = &'f dyn Fn(&[u32]) -> Result<RecordBatch, ProcTreeError>;

/// `rows` (in time order) without exact duplicates of an earlier row, as
/// `DataFrame.drop_duplicates()` keeps them. Duplicates share every column, so dropping
/// them from rows already filtered on the event id gives what MSTICPy's drop-then-filter
/// gives, and only rows that share their start time with another can be duplicates:
/// usually very few, so few rows are hashed and compared. Of those, only rows whose
/// hash over `batch` is shared are looked up in `others`.
pub fn distinct_rows(
    batch: &RecordBatch,
    others: Option<OtherColumns<'_>>,
    time_ns: &[i64],
    mut rows: Vec<u32>,
) -> Result<Vec<u32>, ProcTreeError> {
    let mut candidates: Vec<u32> = rows
        .chunk_by(|&a, &b| time_ns[a as usize] == time_ns[b as usize])
        .filter(|same_time| same_time.len() > 1)
        .flatten()
        .copied()
        .collect();
    let mut hashes = vec![0u64; candidates.len()];
    for col in batch.columns() {
        hash_column(col, &candidates, &mut hashes);
    }
    // The other columns, at the candidates left (row `k` of it is `candidates[k]`).
    let mut more = None;
    if let Some(fetch) = others {
        let mut by_hash: Vec<(u64, u32)> = hashes.iter().copied().zip(candidates).collect();
        by_hash.par_sort_unstable();
        let shared: Vec<(u64, u32)> = by_hash
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|g| g.len() > 1)
            .flatten()
            .copied()
            .collect();
        (hashes, candidates) = shared.into_iter().unzip();
        let fetched = fetch(&candidates)?;
        if fetched.num_rows() != candidates.len() {
            return Err(ProcTreeError::Arrow {
                detail: format!(
                    "the other columns came back with {} rows for {} asked",
                    fetched.num_rows(),
                    candidates.len()
                ),
            });
        }
        let at: Vec<u32> = (0..candidates.len() as u32).collect();
        for col in fetched.columns() {
            hash_column(col, &at, &mut hashes);
        }
        more = Some(fetched);
    }
    let mut by_hash: Vec<(u64, u32)> = hashes.into_iter().zip(0..candidates.len() as u32).collect();
    by_hash.par_sort_unstable();
    let equal = |a: u32, b: u32| {
        let (ra, rb) = (
            candidates[a as usize] as usize,
            candidates[b as usize] as usize,
        );
        rows_equal(batch, ra, rb)
            && more
                .as_ref()
                .is_none_or(|m| rows_equal(m, a as usize, b as usize))
    };
    let mut dropped = vec![false; batch.num_rows()];
    for group in by_hash.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
        // Earlier rows first, so that the first of equal rows is the one kept.
        let mut group: Vec<u32> = group.iter().map(|&(_, k)| k).collect();
        group.sort_unstable_by_key(|&k| candidates[k as usize]);
        for (i, &k) in group.iter().enumerate() {
            if group[..i]
                .iter()
                .any(|&e| !dropped[candidates[e as usize] as usize] && equal(e, k))
            {
                dropped[candidates[k as usize] as usize] = true;
            }
        }
    }
    rows.retain(|&r| !dropped[r as usize]);
    Ok(rows)
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
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            // A dictionary of values that are neither text nor numbers is left to the
            // exact comparison.
            let Ok(t) = TextColumn::from_array("", col) else {
                return;
            };
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
pub(super) fn take_or_null(
    array: &ArrayRef,
    rows: &[Option<u32>],
) -> Result<ArrayRef, ProcTreeError> {
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
    others: Option<OtherColumns<'_>>,
) -> Result<TableResult, ProcTreeError> {
    let arrow_schema = batch.schema();
    let schema = schema_for(
        schema,
        arrow_schema.fields().iter().map(|f| f.name().as_str()),
    )?;

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
    let rows: Vec<u32> = match (&event_id, schema.event_id_identifier.as_deref()) {
        (Some(ev), Some(wanted)) => all_rows
            .filter(|&r| ev.get(r as usize) == Some(wanted))
            .collect(),
        _ => all_rows.collect(),
    };
    // The first null is that of a row dropping duplicates would keep (it keeps first rows).
    if let Some(&bad) = rows.iter().find(|&&r| times[r as usize].is_none()) {
        return Err(ProcTreeError::NullTime {
            column: schema.time_stamp.clone(),
            row: bad as usize,
        });
    }
    let time_ns: Vec<i64> = times.iter().map(|t| t.unwrap_or(0)).collect();
    let order = distinct_rows(batch, others, &time_ns, time_order(&time_ns, &rows))?;

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
    let mut tree = build(&input, &order);
    let path = std::mem::take(&mut tree.rows.path).into_array();
    let (batch_out, source) = assemble(
        batch,
        &schema,
        &tree,
        &order,
        &Cols {
            has_parent_name: parent_name.is_some(),
            has_host: host.is_some(),
            has_logon: logon.is_some(),
            has_target_logon: target_logon.is_some(),
            has_event_id: event_id.is_some(),
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
        source,
        schema,
    })
}

/// Which of the optional schema columns the input has.
struct Cols {
    has_parent_name: bool,
    has_host: bool,
    has_logon: bool,
    has_target_logon: bool,
    has_event_id: bool,
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
enum RowNode {
    Event(EventInfo),
    Inferred(u32),
}

fn assemble(
    batch: &RecordBatch,
    schema: &ProcSchema,
    tree: &BuiltTree<'_>,
    order: &[u32],
    c: &Cols,
    path: ArrayRef,
) -> Result<(RecordBatch, Vec<Option<u32>>), ProcTreeError> {
    let added = added_columns(schema, c.has_parent_name);
    let added_set: HashSet<&str> = added.iter().map(String::as_str).chain([PROC_KEY]).collect();
    let input_columns: Vec<(&String, &ArrayRef)> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name())
        .zip(batch.columns())
        .filter(|(name, _)| !added_set.contains(name.as_str()))
        .collect();

    // Columns are independent: build them on all cores.
    let out = Output::new(tree, order, schema, c);
    let (keys, (input_out, added_out)) = rayon::join(
        || out.key_columns(),
        || {
            rayon::join(
                || -> Result<Vec<ArrayRef>, ProcTreeError> {
                    input_columns
                        .par_iter()
                        .map(|(name, array)| out.input_column(name, array))
                        .collect()
                },
                || -> Result<Vec<Option<ArrayRef>>, ProcTreeError> {
                    added
                        .par_iter()
                        .map(|name| out.added_column(name))
                        .collect()
                },
            )
        },
    );
    let (key_column, parent_key) = keys;
    let mut added_out = added_out?;
    for (name, array) in [("path", path), (PARENT_KEY, parent_key)] {
        let at = added.iter().position(|a| a == name).expect("always added");
        added_out[at] = Some(array);
    }

    let mut fields = vec![Field::new(PROC_KEY, DataType::LargeUtf8, true)];
    let mut arrays = vec![key_column];
    for ((name, _), array) in input_columns.iter().zip(input_out?) {
        fields.push(Field::new(*name, array.data_type().clone(), true));
        arrays.push(array);
    }
    for (name, array) in added.iter().zip(added_out) {
        let array = array.expect("every added column is built");
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let out_schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(out_schema, arrays).map_err(|e| ProcTreeError::Arrow {
        detail: e.to_string(),
    })?;
    Ok((batch, out.source))
}

/// The output rows, and the rules for their columns.
struct Output<'t, 'a> {
    tree: &'t BuiltTree<'a>,
    schema: &'t ProcSchema,
    c: &'t Cols,
    nodes: Vec<RowNode>,
    /// Input row behind each output row (None for inferred parents).
    source: Vec<Option<u32>>,
    /// Input row of each event (by position, time order).
    order: &'t [u32],
    schema_cols: HashSet<&'t str>,
}

impl<'t, 'a> Output<'t, 'a> {
    fn new(tree: &'t BuiltTree<'a>, order: &'t [u32], schema: &'t ProcSchema, c: &'t Cols) -> Self {
        let nodes: Vec<RowNode> = tree
            .rows
            .source_index
            .par_iter()
            .map(|&i| match tree.node(i) {
                Node::Event(p) => RowNode::Event(tree.events[p as usize]),
                Node::Inferred(k) => RowNode::Inferred(k),
            })
            .collect();
        let source = nodes
            .par_iter()
            .map(|r| match r {
                RowNode::Event(e) => Some(e.input_row),
                RowNode::Inferred(_) => None,
            })
            .collect();
        Output {
            tree,
            order,
            schema,
            c,
            nodes,
            source,
            schema_cols: schema.columns().into_iter().collect(),
        }
    }

    fn len(&self) -> usize {
        self.nodes.len()
    }

    fn node(&self, k: usize) -> &RowNode {
        &self.nodes[k]
    }

    fn inferred(&self, i: u32) -> &InferredInfo {
        &self.tree.inferred[i as usize]
    }

    fn link(&self, k: usize) -> Option<Link> {
        match self.node(k) {
            RowNode::Event(e) => Some(e.link),
            RowNode::Inferred(_) => None,
        }
    }

    fn unmatched(&self, k: usize) -> bool {
        matches!(self.link(k), Some(Link::Inferred(_)))
    }

    /// The event a row's parent link points at. It is nearly always the event of the
    /// parent's row, which is near in the output (or shared with the siblings), so it is
    /// read from there; it differs only when that event was folded into an earlier one
    /// with the same key.
    fn parent_event(&self, k: usize) -> Option<&EventInfo> {
        let Some(Link::Event(q)) = self.link(k) else {
            return None;
        };
        let rows = &self.tree.rows;
        if let Some(p) = rows.parent[k] {
            if let RowNode::Event(e) = self.node(p as usize) {
                if rows.source_index[p as usize] == q {
                    return Some(e);
                }
            }
        }
        Some(&self.tree.events[q as usize])
    }

    fn pid(&self, id: Id) -> &'a str {
        self.tree.pids.get(id)
    }

    fn name(&self, id: Id) -> &'a str {
        self.tree.names.get(id)
    }

    fn lc(&self, id: Id) -> &'t str {
        self.tree.names.lc(id)
    }

    fn logon(&self, id: Id) -> &'a str {
        self.tree.logons.get(id)
    }

    /// The process key of row `k`, written from the row's own values.
    fn write_key(&self, k: usize, out: &mut Vec<u8>) {
        match self.node(k) {
            RowNode::Event(e) => {
                let pid = e.pid.map_or("", |id| self.pid(id));
                write_key(out, self.lc(e.name_lc), pid, e.time_ns);
            }
            RowNode::Inferred(i) => {
                let inf = self.inferred(*i);
                write_key(out, self.lc(inf.name_lc), self.pid(inf.pid), 0);
            }
        }
    }

    /// `proc_key` and `parent_key`. A parent's key is copied from its row's, which is
    /// near (or shared by the siblings).
    fn key_columns(&self) -> (ArrayRef, ArrayRef) {
        let keys = TextBuf::build(self.len(), |k, buf| {
            buf.push_with(|out| self.write_key(k, out))
        });
        let parent = &self.tree.rows.parent;
        let parent_keys = TextBuf::gather(self.len(), |k| parent[k].map(|p| keys.get(p as usize)));
        (keys.into_array(), parent_keys.into_array())
    }

    /// Text column `t` in output order. When its values repeat (user names and SIDs
    /// do), they are numbered reading the events in time order, which is mostly input
    /// order, and written from that small table: reading a large column in output order
    /// scatters over memory and costs several times more. Columns of many distinct
    /// values (command lines) are read directly.
    fn text_in_output_order(&self, t: &TextColumn) -> ArrayRef {
        const FEW: usize = 1 << 14;
        let mut dict = Dict::default();
        let source = &self.source;
        match dict.number_few(t, self.order, FEW) {
            Some(ids) => {
                let pos = &self.tree.rows.source_index;
                text_column(self.len(), |k| {
                    source[k].and_then(|_| ids[pos[k] as usize].map(|id| dict.get(id)))
                })
            }
            None => text_column(self.len(), |k| source[k].and_then(|r| t.get(r as usize))),
        }
    }

    fn own_ppid(&self, k: usize) -> Option<&'a str> {
        match self.node(k) {
            RowNode::Event(e) => e.ppid.map(|id| self.pid(id)),
            RowNode::Inferred(_) => None,
        }
    }

    /// An input column in output order. Schema columns hold what the builder read (as
    /// text for numbers, as MSTICPy does); other columns are copied.
    fn input_column(&self, col: &str, array: &ArrayRef) -> Result<ArrayRef, ProcTreeError> {
        let (schema, c, n) = (self.schema, self.c, self.len());
        let is = |schema_col: &Option<String>| schema_col.as_deref() == Some(col);
        let text = |value: &dyn Fn(&EventInfo) -> Option<&'t str>,
                    inferred: &dyn Fn(&InferredInfo) -> Option<&'t str>| {
            text_column(n, |k| match self.node(k) {
                RowNode::Event(e) => value(e),
                RowNode::Inferred(i) => inferred(self.inferred(*i)),
            })
        };
        let out: ArrayRef = if col == schema.time_stamp {
            utc_times((0..n).map(|k| {
                Some(match self.node(k) {
                    RowNode::Event(e) => e.time_ns,
                    RowNode::Inferred(_) => 0,
                })
            }))
        } else if col == schema.process_id {
            text(&|e| e.pid.map(|id| self.pid(id)), &|i| {
                Some(self.pid(i.pid))
            })
        } else if col == schema.parent_id {
            text(&|e| e.ppid.map(|id| self.pid(id)), &|_| None)
        } else if col == schema.process_name {
            text(&|e| e.name.map(|id| self.name(id)), &|i| {
                c.has_parent_name.then(|| self.name(i.name))
            })
        } else if is(&schema.parent_name) && c.has_parent_name {
            text(&|e| e.parent_name.map(|id| self.name(id)), &|_| None)
        } else if is(&schema.host_name_column) && c.has_host {
            let host = |h| self.tree.hosts.get(h);
            text(&|e| e.host.map(host), &|i| i.host.map(host))
        } else if is(&schema.logon_id) && c.has_logon {
            text(&|e| e.logon.map(|id| self.logon(id)), &|i| {
                i.logon.map(|id| self.logon(id))
            })
        } else if is(&schema.target_logon_id) && c.has_target_logon {
            text(&|e| e.target_logon.map(|id| self.logon(id)), &|_| None)
        } else if is(&schema.event_id_column) && c.has_event_id {
            let event_id = |id| self.tree.event_ids.get(id);
            text(&|e| e.event_id.map(event_id), &|i| i.event_id.map(event_id))
        } else if array.data_type() == &DataType::Utf8
            || (self.schema_cols.contains(col) && array.data_type() != &DataType::LargeUtf8)
        {
            // MSTICPy turns numeric schema columns into text; anything it cannot read as
            // text is passed through unchanged. Plain text is copied the same way.
            match TextColumn::from_array(col, array) {
                Ok(t) => self.text_in_output_order(&t),
                Err(_) => take_or_null(array, &self.source)?,
            }
        } else {
            take_or_null(array, &self.source)?
        };
        Ok(out)
    }

    /// A column MSTICPy adds; `None` for those made elsewhere (`path`, `parent_key`).
    fn added_column(&self, col: &str) -> Result<Option<ArrayRef>, ProcTreeError> {
        let (schema, c, n) = (self.schema, self.c, self.len());
        let rows = &self.tree.rows;
        Ok(Some(match col {
            "EffectiveLogonId" => {
                if c.has_logon {
                    text_column(n, |k| match self.node(k) {
                        RowNode::Event(e) => e.effective_logon.map(|id| self.logon(id)),
                        RowNode::Inferred(i) => self.inferred(*i).logon.map(|id| self.logon(id)),
                    })
                } else {
                    Arc::new(Int64Array::from(vec![0i64; n]))
                }
            }
            "EffectiveLogonId_par" => {
                if c.has_logon {
                    text_column(n, |k| {
                        let logon = match (self.link(k), self.node(k)) {
                            (Some(Link::Event(_)), _) => {
                                self.parent_event(k).and_then(|q| q.effective_logon)
                            }
                            (Some(Link::Inferred(_)), RowNode::Event(e)) => e.logon,
                            _ => None,
                        };
                        logon.map(|id| self.logon(id))
                    })
                } else {
                    Arc::new(
                        (0..n)
                            .map(|k| match self.link(k) {
                                Some(Link::None) => None,
                                _ => Some(0i64),
                            })
                            .collect::<Int64Array>(),
                    )
                }
            }
            "new_process_lc" => text_column(n, |k| {
                Some(match self.node(k) {
                    RowNode::Event(e) => self.lc(e.name_lc),
                    RowNode::Inferred(i) => self.lc(self.inferred(*i).name_lc),
                })
            }),
            "parent_proc_lc" if c.has_parent_name => text_column(n, |k| match self.node(k) {
                RowNode::Event(e) => e.parent_lc.map(|id| self.lc(id)),
                RowNode::Inferred(_) => None,
            }),
            "parent_proc_lc" => text_column(n, |k| match self.link(k) {
                Some(Link::Event(_)) => self.parent_event(k).map(|q| self.lc(q.name_lc)),
                Some(Link::Inferred(_)) => Some(UNKNOWN),
                _ => None,
            }),
            "ParentName" => text_column(n, |k| match self.link(k) {
                Some(Link::Event(_)) => self
                    .parent_event(k)
                    .and_then(|q| q.name)
                    .map(|id| self.name(id)),
                Some(Link::Inferred(_)) => Some(UNKNOWN),
                Some(Link::None) => None,
                None => Some(UNKNOWN),
            }),
            "source_index" => {
                TextBuf::build(n, |k, buf| buf.push_index(rows.source_index[k])).into_array()
            }
            "new_process_lc_par" => text_column(n, |k| match self.link(k) {
                Some(Link::Event(_)) => self.parent_event(k).map(|q| self.lc(q.name_lc)),
                Some(Link::Inferred(_)) => Some(match self.node(k) {
                    RowNode::Event(e) if c.has_parent_name => {
                        e.parent_lc.map_or(UNKNOWN, |id| self.lc(id))
                    }
                    _ => UNKNOWN,
                }),
                _ => None,
            }),
            "source_index_par" => Arc::new(
                (0..n)
                    .map(|k| self.parent_event(k).map(|q| i64::from(q.input_row)))
                    .collect::<Int64Array>(),
            ),
            "timestamp_orig_par" => utc_times((0..n).map(|k| match self.link(k) {
                Some(Link::Event(_)) => self.parent_event(k).map(|q| q.time_ns),
                Some(Link::Inferred(_)) => Some(0),
                _ => None,
            })),
            "NewProcessId_par" if schema.process_id != "NewProcessId" => {
                text_column(n, |k| self.own_ppid(k).filter(|_| self.unmatched(k)))
            }
            "IsRoot" => Arc::new(BooleanArray::from(rows.is_root.clone())),
            "IsLeaf" => Arc::new(BooleanArray::from(rows.is_leaf.clone())),
            "IsBranch" => Arc::new(BooleanArray::from(rows.is_branch.clone())),
            // Written during the walk, and with the keys.
            "path" | PARENT_KEY => return Ok(None),
            "parent_index" => TextBuf::build(n, |k, buf| match (rows.reached[k], rows.parent[k]) {
                (true, Some(p)) => buf.push_index(rows.source_index[p as usize]),
                _ => buf.push_null(),
            })
            .into_array(),
            other if other == format!("{}_par", schema.process_id) => {
                text_column(n, |k| match self.link(k) {
                    Some(Link::Event(_)) => self
                        .parent_event(k)
                        .and_then(|q| q.pid)
                        .map(|id| self.pid(id)),
                    Some(Link::Inferred(_)) if schema.process_id == "NewProcessId" => {
                        self.own_ppid(k)
                    }
                    _ => None,
                })
            }
            other if other == format!("{}_par", schema.parent_id) => text_column(n, |k| {
                self.parent_event(k)
                    .and_then(|q| q.ppid)
                    .map(|id| self.pid(id))
            }),
            other if other == format!("{}_par", schema.process_name) => {
                text_column(n, |k| match self.link(k) {
                    Some(Link::Event(_)) => self
                        .parent_event(k)
                        .and_then(|q| q.name)
                        .map(|id| self.name(id)),
                    Some(Link::Inferred(_)) if !c.has_parent_name => Some(UNKNOWN),
                    _ => None,
                })
            }
            // Every name `added_columns` yields has a rule above; a null column keeps the
            // layout intact should a future name slip through.
            _ => new_null_array(&DataType::LargeUtf8, n),
        }))
    }
}
