//! Command-line rules: risky-command detection and command-speed detection, as
//! MSTICPy's `transform/cmd_line.py` (`risky_cmd_line`, `cmd_speed`).
//!
//! Risky commands: each command line is checked against a [`RuleSet`] of regexes, by
//! default the shipped `rules/cmdline_rules.json` (download-and-execute on Linux and
//! Windows, encoded PowerShell, certutil/bitsadmin/mshta abuse, authorized_keys and
//! sudoers changes, fork bombs, history and log wiping, moves onto /dev/null, reverse
//! shells, shadow-copy deletion, LSASS dumps, …); users load their own file (ours or
//! MSTICPy's layout, validated). Base64 runs in the command are decoded first (UTF-8
//! or UTF-16LE, as PowerShell's `-EncodedCommand` is, nested up to three levels) and
//! the decoded text is checked too. Each hit names the rule (id, name, severity), the
//! matched text, and whether it was found in the command or in decoded text.
//!
//! Data flow: `RecordBatch` with a command column (MSTICPy's default `Command`) →
//! rows checked in parallel → one output row per hit: `SourceIndex, TimeGenerated`
//! (when the input has it), `Command, RuleId, RuleName, Severity, MatchedText,
//! MatchedIn`.
//!
//! Command speed ([`cmd_speed`]): with commands sorted by time within each session
//! (all rows are one session without a session column), a window starting at command
//! *i* is flagged when command *i + N* comes less than *T* seconds after it; the hit
//! lists commands *i* … *i + N − 1*, as MSTICPy reports them (so N + 1 commands are
//! within T seconds). Empty commands are ignored, as in MSTICPy.
//!
//! Deliberate differences from MSTICPy:
//! - MSTICPy's five Syslog regexes are not shipped; its rules file can be loaded
//!   ([`RuleSet::from_json`] reads its layout) and then gives the same hits, except
//!   that patterns are searched anywhere in the text, across lines, where MSTICPy's
//!   `re.match` with a leading `.*` only sees the first line. Our shipped rules are
//!   narrower: MSTICPy's `(wget|curl).*\|?.*sh` fires on any wget/curl followed by
//!   "sh" anywhere (`curl https://x/ssh-keys`), and its `/bin/bash` rule on every
//!   bash invocation; ours need a pipe into a shell or interpreter. Compared on a set
//!   of sample commands, MSTICPy's rule file loaded here gave exactly MSTICPy's hits
//!   plus one more found in decoded base64; MSTICPy's fork-bomb rule only matches the
//!   spelling without spaces (`:(){:|:&};:`), ours also `:(){ :|:& };:` and renamed
//!   functions.
//! - MSTICPy decodes a command only when the whole command is base64, and then does
//!   not use the decoded text (its rules see the original only). Here base64 runs
//!   inside the command are decoded and matched.
//! - MSTICPy returns `{TimeGenerated: command}`, so hits at the same time overwrite
//!   each other and the rule is not named; here every hit is a row.
//! - Command speed is per session when a session column is given, and sorts by time;
//!   MSTICPy uses the input order (unsorted input gives negative time spans) and
//!   returns windows last-first.

mod rules;

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, UInt64Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt64Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use base64::Engine;
use rayon::prelude::*;

pub use rules::{Rule, RuleError, RuleSet, Severity};

/// Where a rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedIn {
    /// The command line as given.
    Command,
    /// Text decoded from base64 inside the command (depth 1 = decoded once).
    Decoded { depth: u8 },
}

impl MatchedIn {
    pub fn label(self) -> String {
        match self {
            MatchedIn::Command => "command".to_string(),
            MatchedIn::Decoded { depth: 1 } => "decoded".to_string(),
            MatchedIn::Decoded { depth } => format!("decoded (depth {depth})"),
        }
    }
}

/// One rule hit on one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    /// The text the rule matched.
    pub matched: String,
    pub matched_in: MatchedIn,
}

/// Decoding limits: base64 runs shorter than this are ignored (too many false
/// positives among identifiers and paths).
const MIN_B64_LEN: usize = 16;
const MAX_DEPTH: u8 = 3;
/// Total decoded text kept per command, so a huge payload cannot blow up memory.
const MAX_DECODED_BYTES: usize = 1 << 20;

/// Base64 runs in `text` decoded to text, with their nesting depth.
pub fn decoded_views(text: &str) -> Vec<(String, u8)> {
    static RUN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| regex::Regex::new(r"[A-Za-z0-9+/_-]{16,}={0,2}").expect("valid"));
    let mut out: Vec<(String, u8)> = Vec::new();
    let mut budget = MAX_DECODED_BYTES;
    let mut queue: Vec<(String, u8)> = vec![(text.to_string(), 0)];
    while let Some((t, depth)) = queue.pop() {
        if depth >= MAX_DEPTH {
            continue;
        }
        for m in run.find_iter(&t) {
            let Some(decoded) = decode_b64_text(m.as_str()) else {
                continue;
            };
            if decoded.len() > budget {
                return out;
            }
            budget -= decoded.len();
            queue.push((decoded.clone(), depth + 1));
            out.push((decoded, depth + 1));
        }
    }
    out
}

/// Decodes a base64 run (standard or URL-safe alphabet, padding optional) when the
/// result is text: UTF-16LE (PowerShell) or UTF-8, mostly printable.
fn decode_b64_text(run: &str) -> Option<String> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let body = run.trim_end_matches('=');
    if body.len() < MIN_B64_LEN || body.len() % 4 == 1 {
        return None;
    }
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if body.contains(['-', '_']) {
        if body.contains(['+', '/']) {
            return None;
        }
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    let bytes = GeneralPurpose::new(alphabet, config).decode(body).ok()?;
    let text = utf16le_text(&bytes).or_else(|| String::from_utf8(bytes).ok())?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    (printable * 10 >= text.chars().count() * 9 && !text.trim().is_empty()).then_some(text)
}

/// UTF-16LE text: even length and mostly zero high bytes (ASCII-range text).
fn utf16le_text(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let zeros = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if zeros * 10 < bytes.len() / 2 * 8 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// Checks one command line: the command itself, then its decoded base64. A rule is
/// reported once, where it first matched.
pub fn check_command(command: &str, rules: &RuleSet) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut seen = vec![false; rules.rules().len()];
    let mut check = |text: &str, matched_in: MatchedIn, hits: &mut Vec<Hit>| {
        for i in rules.matching(text) {
            if seen[i] {
                continue;
            }
            let rule = &rules.rules()[i];
            if let Some(m) = rule.find(text) {
                seen[i] = true;
                hits.push(Hit {
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    severity: rule.severity,
                    matched: m.to_string(),
                    matched_in,
                });
            }
        }
    };
    check(command, MatchedIn::Command, &mut hits);
    for (text, depth) in decoded_views(command) {
        check(&text, MatchedIn::Decoded { depth }, &mut hits);
    }
    hits
}

/// Errors of the table functions.
#[derive(Debug, thiserror::Error)]
pub enum CmdLineError {
    #[error("the table has no column '{0}'; name the column that holds the command lines")]
    MissingColumn(String),
    #[error("column '{column}' has type {data_type}; expected {expected}")]
    WrongType {
        column: String,
        data_type: DataType,
        expected: &'static str,
    },
    #[error("column '{column}', row {row}: '{value}' is not a date and time (expected RFC 3339 or 'YYYY-MM-DD HH:MM:SS[.fff]', taken as UTC)")]
    BadTime {
        column: String,
        row: usize,
        value: String,
    },
    #[error("command speed needs events >= 1 and a positive window, got events={events}, window={window_seconds}s")]
    BadSpeedOptions { events: usize, window_seconds: f64 },
    #[error("building the result table failed: {0}")]
    Arrow(#[from] ArrowError),
}

/// Options of [`risky_commands`].
#[derive(Debug, Clone)]
pub struct RiskyOptions<'a> {
    /// Column with the command lines (MSTICPy's default: `Command`).
    pub cmd_column: String,
    /// Copied into the output when present (MSTICPy keys its result by it).
    pub time_column: String,
    pub rules: &'a RuleSet,
}

impl Default for RiskyOptions<'static> {
    fn default() -> Self {
        RiskyOptions {
            cmd_column: "Command".into(),
            time_column: "TimeGenerated".into(),
            rules: RuleSet::builtin(),
        }
    }
}

struct Text<'a>(&'a ArrayRef);

impl Text<'_> {
    fn get(&self, row: usize) -> Option<&str> {
        if self.0.is_null(row) {
            return None;
        }
        Some(match self.0.data_type() {
            DataType::Utf8 => self.0.as_string::<i32>().value(row),
            DataType::LargeUtf8 => self.0.as_string::<i64>().value(row),
            DataType::Utf8View => self.0.as_string_view().value(row),
            _ => return None,
        })
    }
}

fn text_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<Text<'a>, CmdLineError> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| CmdLineError::MissingColumn(name.to_string()))?;
    match col.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(Text(col)),
        other => Err(CmdLineError::WrongType {
            column: name.to_string(),
            data_type: other.clone(),
            expected: "a string column",
        }),
    }
}

/// Risky-command hits for every row of `batch`, one output row per hit.
pub fn risky_commands(
    batch: &RecordBatch,
    options: &RiskyOptions<'_>,
) -> Result<RecordBatch, CmdLineError> {
    let commands = text_column(batch, &options.cmd_column)?;
    let per_row: Vec<(usize, Vec<Hit>)> = (0..batch.num_rows())
        .into_par_iter()
        .filter_map(|row| {
            let cmd = commands.get(row).filter(|c| !c.is_empty())?;
            let hits = check_command(cmd, options.rules);
            (!hits.is_empty()).then_some((row, hits))
        })
        .collect();
    let mut rows = Vec::new();
    let (mut cmd, mut id, mut name, mut sev, mut matched, mut place) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (row, hits) in &per_row {
        for h in hits {
            rows.push(*row);
            cmd.push(commands.get(*row).unwrap_or_default());
            id.push(h.rule_id.as_str());
            name.push(h.rule_name.as_str());
            sev.push(h.severity.as_str());
            matched.push(h.matched.as_str());
            place.push(h.matched_in.label());
        }
    }
    let mut fields = vec![Field::new("SourceIndex", DataType::UInt64, false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(UInt64Array::from_iter_values(
        rows.iter().map(|&r| r as u64),
    ))];
    if let Some((i, f)) = batch.schema().column_with_name(&options.time_column) {
        if let Some(times) = crate::auditd::take_rows(batch.column(i), &rows) {
            fields.push(Field::new(f.name(), f.data_type().clone(), true));
            columns.push(times);
        }
    }
    let strings = |v: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    for (n, v) in [
        ("Command", cmd),
        ("RuleId", id),
        ("RuleName", name),
        ("Severity", sev),
        ("MatchedText", matched),
    ] {
        fields.push(Field::new(n, DataType::Utf8, false));
        columns.push(strings(v));
    }
    fields.push(Field::new("MatchedIn", DataType::Utf8, false));
    columns.push(Arc::new(StringArray::from(place)));
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// One command for [`cmd_speed`].
#[derive(Debug, Clone, Copy)]
pub struct TimedCommand<'a> {
    /// The input row.
    pub row: usize,
    pub time_ns: i64,
    pub session: Option<&'a str>,
}

/// A burst of commands.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedWindow {
    pub session: Option<String>,
    /// Input rows of the commands reported (N of them, MSTICPy's slice).
    pub rows: Vec<usize>,
    /// Time of the window's first command and of the command N after it.
    pub start_ns: i64,
    pub end_ns: i64,
}

impl SpeedWindow {
    pub fn delta_seconds(&self) -> f64 {
        (self.end_ns - self.start_ns) as f64 / 1e9
    }
}

/// Windows where `events + 1` consecutive commands of one session fall within less
/// than `window_ns` (see the module docs for the exact rule).
pub fn cmd_speed(commands: &[TimedCommand<'_>], window_ns: i64, events: usize) -> Vec<SpeedWindow> {
    let mut sessions: Vec<(Option<&str>, Vec<&TimedCommand<'_>>)> = Vec::new();
    let mut index: std::collections::HashMap<Option<&str>, usize> =
        std::collections::HashMap::new();
    for c in commands {
        let slot = *index.entry(c.session).or_insert_with(|| {
            sessions.push((c.session, Vec::new()));
            sessions.len() - 1
        });
        sessions[slot].1.push(c);
    }
    let mut out = Vec::new();
    for (session, mut cmds) in sessions {
        cmds.sort_by_key(|c| c.time_ns);
        if events == 0 || cmds.len() <= events {
            continue;
        }
        for i in 0..cmds.len() - events {
            let (start, end) = (cmds[i].time_ns, cmds[i + events].time_ns);
            if end - start < window_ns {
                out.push(SpeedWindow {
                    session: session.map(str::to_string),
                    rows: cmds[i..i + events].iter().map(|c| c.row).collect(),
                    start_ns: start,
                    end_ns: end,
                });
            }
        }
    }
    out
}

/// Options of [`cmd_speed_table`] (MSTICPy's defaults: 10 events within 5 seconds).
#[derive(Debug, Clone)]
pub struct SpeedOptions {
    pub cmd_column: String,
    pub time_column: String,
    /// Column naming the session (logon id, `ses`, …); all rows are one session if None.
    pub session_column: Option<String>,
    pub window_seconds: f64,
    pub events: usize,
}

impl Default for SpeedOptions {
    fn default() -> Self {
        SpeedOptions {
            cmd_column: "Command".into(),
            time_column: "TimeGenerated".into(),
            session_column: None,
            window_seconds: 5.0,
            events: 10,
        }
    }
}

/// Reads a time column as nanoseconds since the epoch (UTC).
fn times_ns(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>, CmdLineError> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| CmdLineError::MissingColumn(name.to_string()))?;
    let n = col.len();
    let scaled = |f: &dyn Fn(usize) -> i64| -> Vec<Option<i64>> {
        (0..n).map(|i| col.is_valid(i).then(|| f(i))).collect()
    };
    Ok(match col.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => scaled(&|i| {
            col.as_primitive::<TimestampSecondType>()
                .value(i)
                .saturating_mul(1_000_000_000)
        }),
        DataType::Timestamp(TimeUnit::Millisecond, _) => scaled(&|i| {
            col.as_primitive::<TimestampMillisecondType>()
                .value(i)
                .saturating_mul(1_000_000)
        }),
        DataType::Timestamp(TimeUnit::Microsecond, _) => scaled(&|i| {
            col.as_primitive::<TimestampMicrosecondType>()
                .value(i)
                .saturating_mul(1_000)
        }),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            scaled(&|i| col.as_primitive::<TimestampNanosecondType>().value(i))
        }
        DataType::Date64 => scaled(&|i| {
            col.as_primitive::<Date64Type>()
                .value(i)
                .saturating_mul(1_000_000)
        }),
        DataType::Date32 => scaled(&|i| {
            i64::from(col.as_primitive::<Date32Type>().value(i)) * 86_400 * 1_000_000_000
        }),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = Text(col);
            let mut out = Vec::with_capacity(n);
            for row in 0..n {
                out.push(match text.get(row) {
                    None => None,
                    Some(v) => Some(parse_time(v).ok_or_else(|| CmdLineError::BadTime {
                        column: name.to_string(),
                        row,
                        value: v.to_string(),
                    })?),
                });
            }
            out
        }
        other => {
            return Err(CmdLineError::WrongType {
                column: name.to_string(),
                data_type: other.clone(),
                expected: "a timestamp, date or date-time string column",
            })
        }
    })
}

fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return dt.timestamp_nanos_opt();
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f%#z",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return dt.and_utc().timestamp_nanos_opt();
        }
    }
    None
}

/// Command bursts in a table: one output row per flagged window with `Session,
/// StartTime, EndTime, DeltaSeconds, SourceIndexes, Commands`.
pub fn cmd_speed_table(
    batch: &RecordBatch,
    options: &SpeedOptions,
) -> Result<RecordBatch, CmdLineError> {
    if options.events == 0 || options.window_seconds.is_nan() || options.window_seconds <= 0.0 {
        return Err(CmdLineError::BadSpeedOptions {
            events: options.events,
            window_seconds: options.window_seconds,
        });
    }
    let commands = text_column(batch, &options.cmd_column)?;
    let times = times_ns(batch, &options.time_column)?;
    let sessions = options
        .session_column
        .as_deref()
        .map(|c| text_column(batch, c))
        .transpose()?;
    let timed: Vec<TimedCommand<'_>> = (0..batch.num_rows())
        .filter(|&row| commands.get(row).is_some_and(|c| !c.is_empty()))
        .filter_map(|row| {
            Some(TimedCommand {
                row,
                time_ns: times[row]?,
                session: sessions.as_ref().and_then(|s| s.get(row)),
            })
        })
        .collect();
    let window_ns = (options.window_seconds * 1e9).round() as i64;
    let windows = cmd_speed(&timed, window_ns, options.events);

    let session: StringArray = windows.iter().map(|w| w.session.as_deref()).collect();
    let start = TimestampNanosecondArray::from_iter_values(windows.iter().map(|w| w.start_ns))
        .with_timezone("UTC");
    let end = TimestampNanosecondArray::from_iter_values(windows.iter().map(|w| w.end_ns))
        .with_timezone("UTC");
    let delta = Float64Array::from_iter_values(windows.iter().map(SpeedWindow::delta_seconds));
    let mut idx = ListBuilder::new(UInt64Builder::new());
    let mut cmds = ListBuilder::new(StringBuilder::new());
    for w in &windows {
        for &r in &w.rows {
            idx.values().append_value(r as u64);
            cmds.values().append_option(commands.get(r));
        }
        idx.append(true);
        cmds.append(true);
    }
    let idx = idx.finish();
    let cmds = cmds.finish();
    let schema = Schema::new(vec![
        Field::new("Session", DataType::Utf8, true),
        Field::new("StartTime", start.data_type().clone(), false),
        Field::new("EndTime", end.data_type().clone(), false),
        Field::new("DeltaSeconds", DataType::Float64, false),
        Field::new("SourceIndexes", idx.data_type().clone(), false),
        Field::new("Commands", cmds.data_type().clone(), false),
    ]);
    Ok(RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(session),
            Arc::new(start),
            Arc::new(end),
            Arc::new(delta),
            Arc::new(idx),
            Arc::new(cmds),
        ],
    )?)
}

#[cfg(test)]
mod tests;
