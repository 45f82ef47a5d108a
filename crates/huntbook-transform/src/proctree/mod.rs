//! Process trees from process-creation events, with MSTICPy's rules and columns.
//!
//! # How data moves
//!
//! 1. A [`ProcSchema`] says which columns hold the name, pid, parent pid, time, host,
//!    logon ids and event id. Built-in schemas cover Windows 4688, Sysmon event 1,
//!    Defender `DeviceProcessEvents` and its internal schema, Linux auditd
//!    (`SYSCALL_EXECVE`), OSQuery and FireEye HX; custom maps come from a dict. Without
//!    one, the schema sharing the most columns (at least four) is used.
//! 2. Exact duplicate rows are dropped, rows are filtered on the event id, and pids are
//!    read as text the way MSTICPy does (numbers in decimal, `0x1a4c` kept as written).
//!    Times may be Arrow timestamps (any unit, with or without zone: naive means UTC) or
//!    text (ISO 8601, `%Y-%m-%d %H:%M:%S%.f`).
//! 3. Each event's parent is the latest event on the same host, started at or before it,
//!    whose pid is the event's parent pid (and whose lower-cased name is the event's
//!    parent name, when the schema has one): one sweep through each host's events in
//!    time order, remembering the latest event per pid and name, so pid reuse is
//!    handled and the work is O(n log n).
//! 4. Events with no such parent get an inferred parent row (time 1970-01-01, name from
//!    the parent name or `unknown`), one per distinct parent description, as MSTICPy.
//! 5. Keys are `name_lc|pid|time` with the time rounded to 10 µs and written
//!    `%Y-%m-%d %H:%M:%S.%f`; `path` is the chain of zero-padded `source_index` values
//!    from the root; rows are sorted by path.
//!
//! The output batch is MSTICPy's frame after `reset_index()`: `proc_key`, the input
//! columns (numeric schema columns as text, the time column as UTC nanoseconds), then
//! `EffectiveLogonId, new_process_lc, parent_proc_lc, source_index, <pid>_par,
//! EffectiveLogonId_par, new_process_lc_par, source_index_par, <ppid>_par, <name>_par,
//! timestamp_orig_par, [NewProcessId_par], [ParentName, parent_proc_lc], parent_key,
//! IsRoot, IsLeaf, IsBranch, path, parent_index`. [`ProcessTree`] keeps an index over it
//! for navigation, the summary and the text rendering.
//!
//! A caller may keep back the input columns the builder does not link by (the Python
//! face keeps a DataFrame's Python text, whose conversion costs more than the build):
//! [`build_process_tree_with`] then asks for them only at the rows that may be exact
//! duplicates, and the caller lays them out by [`ProcessTree::source_rows`].
//!
//! # Where this differs from MSTICPy (on purpose)
//!
//! - Parents are matched within a host only; MSTICPy links a process to a parent on any
//!   host. Keys keep MSTICPy's format, so two hosts may each have a row with the same
//!   `proc_key` (typically an inferred parent such as `services.exe|0x2a0|1970-...`);
//!   duplicates of a key are dropped per host, not across hosts.
//! - Ties in time keep input order (MSTICPy's unstable sort leaves them arbitrary).
//! - The event id is compared as text, so `EventID` may be a number or a string column.
//! - A missing or null parent name counts as `unknown`, as MSTICPy treats an empty one.
//!   A null parent pid makes the event a root with no inferred parent; a null name or
//!   pid is written as empty text in the key. A null time is an error naming the row.
//! - Input columns named like one of the added columns are replaced, not suffixed.
//! - `source_index_par` is an integer column (MSTICPy's is float because of NaN).
//! - Defender data (both schemas) is built with the same time-backwards matching on
//!   `FileName`/`ProcessId`/`InitiatingProcessId`/`InitiatingProcessFileName` (or the
//!   `CreatedProcess*` names) and keeps its input column names; MSTICPy instead renames
//!   `DeviceProcessEvents` to its internal schema and links on the recorded initiating
//!   process creation times, adding grandparent rows from `InitiatingProcessParent*`.
//! - The siblings of a root are just the root (MSTICPy raises there).
//! - Text rendering keeps `tree_to_text`'s layout (`+ ` / `+-- ` headers, two-space
//!   item separators, 80-column wrap) but labels the logon id `LogonId` (MSTICPy labels
//!   it `Account` a second time), prefers the user name to the SID, and shows a missing
//!   value as empty rather than `nan`.
//!
//! Checked against MSTICPy 3.0.2 on tables from [`generate`] (3,000 events, several
//! seeds): on one host the summary, every `parent_key` and every `path` agree; with 4
//! and 10 hosts every differing parent is one MSTICPy took from another host.

mod build;
mod columns;
pub mod generate;
mod navigate;
mod schema;
mod table;
mod text;

use arrow_array::RecordBatch;

pub use build::{key_time, process_key, ProcInput, UNKNOWN};
pub use columns::{parse_time, TextSource};
pub use navigate::{Summary, TextOptions};
pub use schema::{infer_schema, schema_for, ProcSchema};
pub use table::OtherColumns;

/// Problems building a tree, each naming the column or row and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ProcTreeError {
    #[error("no process schema matches these columns ({columns}): pass a schema (a built-in name such as 'windows', 'sysmon', 'linux', 'mde', 'osquery', or a column map)")]
    NoSchema { columns: String },
    #[error("unknown process schema '{name}': use one of windows, sysmon, linux, mde, mde_internal, osquery, hx, or a column map")]
    UnknownSchema { name: String },
    #[error("bad process schema: {detail} (a column map needs process_name, process_id, parent_id and time_stamp)")]
    BadSchema { detail: String },
    #[error("column '{column}' is missing from the input; the columns are: {available}. Rename it or pass a schema that names the right column")]
    MissingColumn { column: String, available: String },
    #[error("column '{column}' has type {found}; expected {expected}")]
    ColumnType {
        column: String,
        found: String,
        expected: &'static str,
    },
    #[error("column '{column}' row {row}: cannot read '{value}' as a time; use ISO 8601 such as 2024-03-01T10:00:00Z")]
    BadTime {
        column: String,
        row: usize,
        value: String,
    },
    #[error(
        "column '{column}' row {row}: the time is missing; drop or fill rows without a time first"
    )]
    NullTime { column: String, row: usize },
    #[error("no process with key '{key}' in the tree")]
    UnknownProcess { key: String },
    #[error("building the output table failed: {detail}")]
    Arrow { detail: String },
}

/// A built process tree: MSTICPy's output table plus an index for navigation.
/// Rows are addressed by their position in [`ProcessTree::batch`].
pub struct ProcessTree {
    batch: RecordBatch,
    schema: ProcSchema,
    source: Vec<Option<u32>>,
    nav: navigate::Navigation,
}

/// Build process trees from process events. `schema` `None` infers it from the columns.
pub fn build_process_tree(
    batch: &RecordBatch,
    schema: Option<&ProcSchema>,
) -> Result<ProcessTree, ProcTreeError> {
    build_process_tree_with(batch, schema, None)
}

/// As [`build_process_tree`], for a caller that keeps some input columns back:
/// `batch` holds at least the columns the builder reads ([`ProcSchema::reads`]), and
/// `others` gives the rest at the rows that may be duplicates. The table then has only
/// `batch`'s columns and the added ones; the caller lays its other columns out by
/// [`ProcessTree::source_rows`].
pub fn build_process_tree_with(
    batch: &RecordBatch,
    schema: Option<&ProcSchema>,
    others: Option<OtherColumns<'_>>,
) -> Result<ProcessTree, ProcTreeError> {
    let t = table::build_table(batch, schema, others)?;
    let nav = navigate::Navigation::new(
        t.parents,
        t.depths,
        t.reached,
        t.is_root,
        t.is_leaf,
        t.is_branch,
    );
    Ok(ProcessTree {
        batch: t.batch,
        schema: t.schema,
        source: t.source,
        nav,
    })
}

impl std::fmt::Debug for ProcessTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessTree")
            .field("schema", &self.schema.name)
            .field("rows", &self.len())
            .field("summary", &self.summary())
            .finish()
    }
}

impl ProcessTree {
    /// The tree table (MSTICPy's columns, `proc_key` first).
    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// Take the table out.
    pub fn into_batch(self) -> RecordBatch {
        self.batch
    }

    /// The schema used (inferred or given).
    pub fn schema(&self) -> &ProcSchema {
        &self.schema
    }

    /// The input row behind each row of the table; `None` for an inferred parent.
    pub fn source_rows(&self) -> &[Option<u32>] {
        &self.source
    }

    /// The columns MSTICPy adds, in its order, as the table has them.
    pub fn added_columns(&self) -> Vec<String> {
        let has_parent_name = self
            .schema
            .parent_name
            .as_deref()
            .is_some_and(|p| self.batch.schema().index_of(p).is_ok());
        table::added_columns(&self.schema, has_parent_name)
    }

    /// Number of rows (processes, inferred parents included).
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
