//! Linux audit (auditd) logs to event tables, as MSTICPy's `auditdextract` does.
//!
//! Two inputs:
//! - raw log text (`type=X msg=audit(epoch:serial): k=v …`, optionally with `node=`
//!   prefixes and the enriched format's 0x1D section), read line by line from any
//!   `BufRead` ([`EventReader`], [`parse_reader`], [`parse_file`]) so a log of any size
//!   is never held as one string;
//! - Sentinel `AuditLog`-style tables ([`extract_events`]): one event per row, its
//!   records in a column (`AuditdMessage`) holding a list of `{type: [k=v, …]}` dicts as
//!   JSON or Python literal text, the time in `mssg_id`.
//!
//! Data flow for raw text: lines are read in chunks and parsed in parallel into
//! [`AuditRecord`]s (hex-encoded fields decoded); records are grouped by event id
//! (node, time stamp, serial) in first-seen order; a group is complete at its `EOE`
//! record or once 4096 further lines have passed; each group becomes one
//! [`AuditEvent`]: SYSCALL + EXECVE (+ CWD, PROCTITLE) merge into `SYSCALL_EXECVE`
//! with `cmdline` built from the arguments, other groups take their first record's
//! type, with MSTICPy's field selection and naming (see [`event::assemble`]). Lines
//! that are not audit records become [`ParseWarning`]s with their line number; the
//! rest is still parsed.
//!
//! Output columns: `TimeGenerated` (UTC timestamp from the event id), `EventType`,
//! `mssg_id` (raw text) or the table's other columns (Sentinel rows), then the event
//! fields in alphabetical order. `pid, ppid, uid, auid, gid, euid, egid, ses, old-ses,
//! old-auid, argc` are Int64 when every value is an integer (4294967295, auditd's
//! "unset", becomes -1); all other fields are strings.
//!
//! Deliberate differences from MSTICPy:
//! - Records are grouped by time stamp *and serial* (and node); MSTICPy groups by the
//!   time stamp only, merging unrelated events logged in the same millisecond.
//!   `mssg_id` is `epoch:serial` accordingly (MSTICPy's raw-file `mssg_id` is the
//!   epoch alone). Events come out in log order; MSTICPy sorts them by `mssg_id`.
//! - `cmdline` uses every argument (MSTICPy only keeps a0–a2 and pads the rest with
//!   empty strings, so `ls -la /tmp /home` becomes `ls -la /tmp `), long arguments split
//!   into `aN[i]` pieces are joined, arguments split over several EXECVE records are
//!   joined, and without arguments the process title is used.
//! - A missing field of a listed type skips that field only (MSTICPy stops reading the
//!   type at the first missing one).
//! - `proctitle` has its NUL separators turned into spaces. All arguments, `cwd`, PATH
//!   `name`, SYSCALL `comm`/`exe`/`key` and TTY `data` are hex-decoded when auditd
//!   encoded them (MSTICPy decodes a0–a3, `proctitle` and `cmd`).
//! - `msg='…'` of user-space records is read as one quoted value: `msg` holds its whole
//!   text and its pairs (`op`, `acct`, `res`, …) become fields; MSTICPy splits on spaces
//!   so its `msg` is `'op=PAM:…` and `res` is `success'`.
//! - Integer fields are integers in every record type (MSTICPy converts them only in
//!   the types it lists, leaving USER_START's `uid` a string, for instance).
//! - Column order: `TimeGenerated, EventType, mssg_id`, then fields alphabetically;
//!   MSTICPy's order is alphabetical with its last five columns moved to the front
//!   (an effect of sorting, not a chosen order).
//! - Lines that are not audit records are reported, not fatal.
//! - [`AuditdOptions::all_fields`] keeps every field (`comm`, `key`, `tty`, PATH names,
//!   …) instead of MSTICPy's selection.

pub mod event;
pub mod record;
pub mod sentinel;
mod table;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::BufRead;
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use rayon::prelude::*;

pub use event::{assemble, AuditEvent};
pub use record::{parse_line, AuditRecord, Field};
pub(crate) use table::take_rows;
pub use table::{events_to_batch, EventTableBuilder};

/// Where a warning comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based line of the raw log.
    Line(u64),
    /// 0-based row of the input table.
    Row(usize),
}

/// A problem that did not stop parsing: a skipped line or row, or an odd value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::Line(n) => write!(f, "line {n}: {}", self.message),
            Location::Row(n) => write!(f, "row {n}: {}", self.message),
        }
    }
}

/// Errors that stop parsing.
#[derive(Debug, thiserror::Error)]
pub enum AuditdError {
    #[error("reading the audit log failed after line {line}: {source}")]
    Io { line: u64, source: std::io::Error },
    #[error("cannot open audit log {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the table has no column '{0}' with the audit messages; name the column that holds them"
    )]
    MissingColumn(String),
    #[error(
        "column '{column}' has type {data_type}; expected a string column (Utf8 or LargeUtf8)"
    )]
    NotText {
        column: String,
        data_type: arrow_schema::DataType,
    },
    #[error("column '{column}' of type {data_type} cannot be carried into the output; drop it or cast it to a string first")]
    UnsupportedPassthrough {
        column: String,
        data_type: arrow_schema::DataType,
    },
    #[error("building the event table failed: {0}")]
    Arrow(#[from] ArrowError),
}

/// Parsing choices.
#[derive(Debug, Clone, Default)]
pub struct AuditdOptions {
    /// Keep every field of every record instead of MSTICPy's selection.
    pub all_fields: bool,
    /// Keep only events of this type (`SYSCALL_EXECVE`, `USER_LOGIN`, …), like
    /// MSTICPy's `event_type` argument.
    pub event_type: Option<String>,
}

/// Lines read and parsed together (in parallel) before grouping.
const CHUNK_LINES: usize = 8192;
/// A group with no new record for this many lines is taken as complete.
const GROUP_WINDOW: u64 = 4096;

type GroupKey = (Option<String>, i64, u64);

struct Pending {
    key: GroupKey,
    records: Vec<AuditRecord>,
    last_line: u64,
    done: bool,
}

/// Streams [`AuditEvent`]s out of raw audit log text.
pub struct EventReader<R> {
    reader: R,
    options: AuditdOptions,
    line_no: u64,
    pending: VecDeque<Pending>,
    index: HashMap<GroupKey, u64>,
    first_seq: u64,
    ready: VecDeque<AuditEvent>,
    warnings: Vec<ParseWarning>,
    eof: bool,
}

impl<R: BufRead> EventReader<R> {
    pub fn new(reader: R, options: AuditdOptions) -> Self {
        EventReader {
            reader,
            options,
            line_no: 0,
            pending: VecDeque::new(),
            index: HashMap::new(),
            first_seq: 0,
            ready: VecDeque::new(),
            warnings: Vec::new(),
            eof: false,
        }
    }

    /// Warnings collected so far (taken out of the reader).
    pub fn take_warnings(&mut self) -> Vec<ParseWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    fn read_chunk(&mut self) -> Result<(), AuditdError> {
        let mut lines = Vec::with_capacity(CHUNK_LINES);
        let mut buf = Vec::new();
        while lines.len() < CHUNK_LINES {
            buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut buf)
                .map_err(|source| AuditdError::Io {
                    line: self.line_no,
                    source,
                })?;
            if n == 0 {
                self.eof = true;
                break;
            }
            self.line_no += 1;
            // Invalid UTF-8 (binary junk in a log) must not stop the parse.
            lines.push((self.line_no, String::from_utf8_lossy(&buf).into_owned()));
        }
        let parsed: Vec<_> = lines
            .par_iter()
            .map(|(n, line)| {
                let mut notes = Vec::new();
                let result = record::parse_line(line, &mut notes);
                (*n, result, notes)
            })
            .collect();
        for (n, result, notes) in parsed {
            self.warnings
                .extend(notes.into_iter().map(|message| ParseWarning {
                    location: Location::Line(n),
                    message,
                }));
            match result {
                Ok(Some(rec)) => self.add(rec, n),
                Ok(None) => {}
                Err(e) => self.warnings.push(ParseWarning {
                    location: Location::Line(n),
                    message: e.0,
                }),
            }
        }
        self.flush(self.eof);
        Ok(())
    }

    fn add(&mut self, rec: AuditRecord, line: u64) {
        let key = (rec.node.clone(), rec.time_ns, rec.serial);
        let is_eoe = rec.record_type == "EOE";
        if let Some(&seq) = self.index.get(&key) {
            let p = &mut self.pending[(seq - self.first_seq) as usize];
            p.last_line = line;
            if is_eoe {
                p.done = true;
            } else {
                p.records.push(rec);
            }
            return;
        }
        if is_eoe {
            return;
        }
        let seq = self.first_seq + self.pending.len() as u64;
        self.index.insert(key.clone(), seq);
        self.pending.push_back(Pending {
            key,
            records: vec![rec],
            last_line: line,
            done: false,
        });
    }

    fn flush(&mut self, all: bool) {
        let mut groups = Vec::new();
        while let Some(front) = self.pending.front() {
            if !(all || front.done || self.line_no.saturating_sub(front.last_line) > GROUP_WINDOW) {
                break;
            }
            let p = self.pending.pop_front().expect("front exists");
            self.index.remove(&p.key);
            self.first_seq += 1;
            groups.push(p.records);
        }
        let all_fields = self.options.all_fields;
        let events: Vec<AuditEvent> = groups
            .par_iter()
            .filter_map(|g| event::assemble(g, all_fields))
            .collect();
        let wanted = self.options.event_type.as_deref();
        self.ready.extend(
            events
                .into_iter()
                .filter(|e| wanted.is_none_or(|t| e.event_type == t)),
        );
    }
}

impl<R: BufRead> Iterator for EventReader<R> {
    type Item = Result<AuditEvent, AuditdError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Some(Ok(ev));
            }
            if self.eof {
                return None;
            }
            if let Err(e) = self.read_chunk() {
                self.eof = true;
                return Some(Err(e));
            }
        }
    }
}

/// Parses raw audit log text from a reader into an event table, with warnings for the
/// lines that were skipped.
pub fn parse_reader<R: BufRead>(
    reader: R,
    options: &AuditdOptions,
) -> Result<(RecordBatch, Vec<ParseWarning>), AuditdError> {
    let mut events_reader = EventReader::new(reader, options.clone());
    let mut builder = EventTableBuilder::new();
    for ev in &mut events_reader {
        builder.push(&ev?);
    }
    Ok((builder.finish()?, events_reader.take_warnings()))
}

/// [`parse_reader`] over a string.
pub fn parse_str(
    text: &str,
    options: &AuditdOptions,
) -> Result<(RecordBatch, Vec<ParseWarning>), AuditdError> {
    parse_reader(text.as_bytes(), options)
}

/// [`parse_reader`] over a file.
pub fn parse_file(
    path: impl AsRef<Path>,
    options: &AuditdOptions,
) -> Result<(RecordBatch, Vec<ParseWarning>), AuditdError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| AuditdError::Open {
        path: path.display().to_string(),
        source,
    })?;
    parse_reader(std::io::BufReader::with_capacity(1 << 20, file), options)
}

/// Sentinel `AuditLog`-style rows to an event table (MSTICPy's `extract_events_to_df`):
/// each row's `input_column` (MSTICPy's default is `AuditdMessage`) holds one event's
/// records; its time comes from the `mssg_id` column (`epoch:serial`), or from the
/// records themselves when the cell holds raw lines. Other columns are carried over,
/// except `TimeGenerated`, which is replaced by the event time. Rows that cannot be
/// read are left out and reported.
pub fn extract_events(
    batch: &RecordBatch,
    input_column: &str,
    options: &AuditdOptions,
) -> Result<(RecordBatch, Vec<ParseWarning>), AuditdError> {
    table::extract_events(batch, input_column, options)
}

#[cfg(test)]
mod tests;
