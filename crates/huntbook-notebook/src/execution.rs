//! The execution record a run leaves in a notebook, as papermill writes it.
//!
//! A run goes through these steps, each a function here so that the engine (in
//! `huntbook-kernel`) only decides *when* they happen:
//!
//! 1. [`inject_parameters`] places the rendered parameters cell;
//! 2. [`prepare`] writes `metadata.papermill` (paths, parameters), hides inputs in
//!    report mode, and removes stale error markers;
//! 3. [`notebook_start`], then per cell [`cell_start`], [`cell_failed`],
//!    [`cell_complete`], then [`notebook_complete`] keep the per-cell
//!    `metadata.papermill` status and timings;
//! 4. [`find_execution_error`] and [`add_error_markers`] report the first failure the
//!    way papermill does (two red markdown cells).
//!
//! Where papermill tells an untruth (after a dead kernel or a timeout it marks every
//! cell `completed`), the engine calls [`cell_failed`] on the running cell and leaves the
//! cells never run `pending`; [`notebook_complete`] keeps that.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::model::{Cell, CellType, JsonMap, Notebook};
use crate::params::Parameters;

/// The tag of the cell that declares a notebook's parameters.
pub const PARAMETERS_TAG: &str = "parameters";
/// The tag of the cell huntbook (or papermill) injected.
pub const INJECTED_TAG: &str = "injected-parameters";
/// The tag of papermill's red error-marker cells.
pub const ERROR_MARKER_TAG: &str = "papermill-error-cell-tag";
/// The tag of a cell whose error is expected: the run goes on after it.
pub const RAISES_EXCEPTION_TAG: &str = "raises-exception";
/// The papermill version whose output format huntbook writes.
pub const PAPERMILL_FORMAT_VERSION: &str = "2.7.0";

const ERROR_STYLE: &str =
    r#"style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;""#;

/// A cell's state in `metadata.papermill.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellStatus {
    Pending,
    Running,
    Completed,
    Failed,
}

impl CellStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CellStatus::Pending => "pending",
            CellStatus::Running => "running",
            CellStatus::Completed => "completed",
            CellStatus::Failed => "failed",
        }
    }

    /// The status recorded on a cell, if any.
    pub fn of(cell: &Cell) -> Option<CellStatus> {
        match cell.metadata.get("papermill")?.get("status")?.as_str()? {
            "pending" => Some(CellStatus::Pending),
            "running" => Some(CellStatus::Running),
            "completed" => Some(CellStatus::Completed),
            "failed" => Some(CellStatus::Failed),
            _ => None,
        }
    }
}

/// Where the injected cell went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// An earlier injected cell at this index was replaced (a re-run).
    Replaced(usize),
    /// Inserted at this index, right after the first `parameters` cell.
    AfterParameters(usize),
    /// No `parameters` cell: inserted at the top (papermill warns about this).
    Top,
}

/// Puts `source` (the rendered parameters) into the notebook as papermill does: it
/// replaces the first `injected-parameters` cell in place, else goes right after the
/// first `parameters` cell, else at the top. The new cell has a fresh id, no outputs,
/// and only the `injected-parameters` tag.
pub fn inject_parameters(nb: &mut Notebook, source: String, report_mode: bool) -> Placement {
    let mut cell = Cell::code(source);
    cell.set_tags(&[INJECTED_TAG]);
    if report_mode {
        cell.hide_source();
    }
    if let Some(index) = nb.find_tagged(INJECTED_TAG) {
        nb.cells[index] = cell;
        Placement::Replaced(index)
    } else if let Some(index) = nb.find_tagged(PARAMETERS_TAG) {
        nb.cells.insert(index + 1, cell);
        Placement::AfterParameters(index + 1)
    } else {
        nb.cells.insert(0, cell);
        Placement::Top
    }
}

/// What [`prepare`] records about the run.
#[derive(Debug, Clone, Default)]
pub struct Prepare<'a> {
    pub input_path: &'a str,
    pub output_path: &'a str,
    /// Set when parameters were given; with none, earlier recorded parameters stay.
    pub parameters: Option<&'a Parameters>,
    pub report_mode: bool,
    /// The huntbook version written to `metadata.huntbook.version`.
    pub huntbook_version: &'a str,
}

/// Writes the run's notebook-level metadata and tidies the cells before a run.
pub fn prepare(nb: &mut Notebook, run: &Prepare<'_>) {
    let papermill = nb.metadata_object("papermill");
    if papermill.is_empty() {
        papermill.insert("default_parameters".into(), json!({}));
        papermill.insert("parameters".into(), json!({}));
        papermill.insert("environment_variables".into(), json!({}));
        papermill.insert("version".into(), json!(PAPERMILL_FORMAT_VERSION));
    }
    if let Some(parameters) = run.parameters {
        papermill.insert("parameters".into(), parameters.to_json());
    }
    papermill.insert("input_path".into(), json!(run.input_path));
    papermill.insert("output_path".into(), json!(run.output_path));
    nb.metadata_object("huntbook").insert("version".into(), json!(run.huntbook_version));

    remove_error_markers(nb);
    for cell in &mut nb.cells {
        cell.metadata.entry("tags").or_insert_with(|| json!([]));
        cell.metadata_object("papermill");
        if run.report_mode && cell.is_code() {
            cell.hide_source();
        }
    }
}

/// Clears outputs and counts and marks every cell `pending`; stamps the start time.
pub fn notebook_start(nb: &mut Notebook, now: DateTime<Utc>) {
    let papermill = nb.metadata_object("papermill");
    papermill.insert("start_time".into(), json!(timestamp(now)));
    papermill.insert("end_time".into(), Value::Null);
    papermill.insert("duration".into(), Value::Null);
    papermill.insert("exception".into(), Value::Null);
    for cell in &mut nb.cells {
        if cell.is_code() {
            cell.execution_count = None;
            cell.outputs.clear();
        }
        cell.metadata.insert(
            "papermill".into(),
            json!({"exception": null, "start_time": null, "end_time": null, "duration": null, "status": "pending"}),
        );
    }
}

/// Marks a cell `running` and stamps its start.
pub fn cell_start(nb: &mut Notebook, index: usize, now: DateTime<Utc>) {
    let papermill = nb.cells[index].metadata_object("papermill");
    papermill.insert("start_time".into(), json!(timestamp(now)));
    papermill.insert("status".into(), json!(CellStatus::Running.as_str()));
    papermill.insert("exception".into(), json!(false));
}

/// Marks a cell `failed` and the notebook as having an exception.
pub fn cell_failed(nb: &mut Notebook, index: usize) {
    let papermill = nb.cells[index].metadata_object("papermill");
    papermill.insert("exception".into(), json!(true));
    papermill.insert("status".into(), json!(CellStatus::Failed.as_str()));
    nb.metadata_object("papermill").insert("exception".into(), json!(true));
}

/// Stamps a cell's end and duration; `running` becomes `completed`.
pub fn cell_complete(nb: &mut Notebook, index: usize, now: DateTime<Utc>) {
    let papermill = nb.cells[index].metadata_object("papermill");
    papermill.insert("end_time".into(), json!(timestamp(now)));
    if let Some(start) = papermill.get("start_time").and_then(Value::as_str).and_then(parse_timestamp) {
        papermill.insert("duration".into(), json!(seconds_between(start, now)));
    }
    if papermill.get("status").and_then(Value::as_str) != Some(CellStatus::Failed.as_str()) {
        papermill.insert("status".into(), json!(CellStatus::Completed.as_str()));
    }
}

/// Stamps the end and duration. As papermill, cells still `pending` before the first
/// failed cell become `completed` (they were skipped, e.g. empty code cells); cells
/// after a failure stay `pending`, because they never ran.
pub fn notebook_complete(nb: &mut Notebook, now: DateTime<Utc>) {
    notebook_end(nb, now);
    for cell in &mut nb.cells {
        match CellStatus::of(cell) {
            Some(CellStatus::Failed) => break,
            Some(CellStatus::Pending) => {
                cell.metadata_object("papermill").insert("status".into(), json!("completed"));
            }
            _ => {}
        }
    }
}

/// Stamps the end time and duration only: for a run stopped before any cell ran,
/// whose cells must stay `pending`.
pub fn notebook_end(nb: &mut Notebook, now: DateTime<Utc>) {
    let papermill = nb.metadata_object("papermill");
    papermill.insert("end_time".into(), json!(timestamp(now)));
    if let Some(start) = papermill.get("start_time").and_then(Value::as_str).and_then(parse_timestamp) {
        papermill.insert("duration".into(), json!(seconds_between(start, now)));
    }
}

/// The first failure in an executed notebook, as papermill reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionError {
    pub cell_index: usize,
    pub exec_count: Option<i64>,
    pub source: String,
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

impl ExecutionError {
    /// papermill's message: a rule, where it happened, and the plain traceback.
    pub fn message(&self) -> String {
        let traceback = strip_ansi(&self.traceback.join("\n"));
        format!(
            "\n{}\nException encountered at \"In [{}]\":\n{}\n",
            "-".repeat(75),
            count_text(self.exec_count),
            traceback
        )
    }
}

/// papermill's error scan: the first `error` output (a clean `sys.exit()` /
/// `sys.exit(0)` is not an error), else the first cell whose `metadata.papermill`
/// says it raised without an error output (e.g. a failing magic). Unlike papermill,
/// cells tagged `raises-exception` are skipped: their error was declared expected.
pub fn find_execution_error(nb: &Notebook) -> Option<ExecutionError> {
    for (index, cell) in nb.cells.iter().enumerate() {
        if cell.has_tag(RAISES_EXCEPTION_TAG) {
            continue;
        }
        let mut clean_exit = false;
        for output in &cell.outputs {
            if let crate::model::Output::Error { ename, evalue, traceback, .. } = output {
                if ename == "SystemExit" && (evalue.is_empty() || evalue == "0") {
                    clean_exit = true;
                    continue;
                }
                return Some(ExecutionError {
                    cell_index: index,
                    exec_count: cell.execution_count,
                    source: cell.source.clone(),
                    ename: ename.clone(),
                    evalue: evalue.clone(),
                    traceback: traceback.clone(),
                });
            }
        }
        let raised = cell.metadata.get("papermill").and_then(|p| p.get("exception")) == Some(&json!(true));
        if !clean_exit && raised {
            return Some(ExecutionError {
                cell_index: index,
                exec_count: cell.execution_count,
                source: cell.source.clone(),
                ename: "CellExecutionError".into(),
                evalue: String::new(),
                traceback: Vec::new(),
            });
        }
    }
    None
}

/// Adds papermill's two red markers: an anchor right before the failing cell and a
/// header at the top linking to it.
pub fn add_error_markers(nb: &mut Notebook, error: &ExecutionError) {
    let header = format!(
        "<span {ERROR_STYLE}>An Exception was encountered at '<a href=\"#papermill-error-cell\">In [{}]</a>'.</span>",
        count_text(error.exec_count)
    );
    let anchor = format!(
        "<span id=\"papermill-error-cell\" {ERROR_STYLE}>Execution using papermill encountered an exception here and stopped:</span>"
    );
    let mut anchor_cell = Cell::markdown(anchor);
    anchor_cell.set_tags(&[ERROR_MARKER_TAG]);
    let mut header_cell = Cell::markdown(header);
    header_cell.set_tags(&[ERROR_MARKER_TAG]);
    nb.cells.insert(error.cell_index.min(nb.cells.len()), anchor_cell);
    nb.cells.insert(0, header_cell);
}

/// Removes error markers left by an earlier run.
pub fn remove_error_markers(nb: &mut Notebook) {
    nb.cells.retain(|c| !c.has_tag(ERROR_MARKER_TAG));
}

/// The per-cell timing block nbclient records (`metadata.execution`).
pub fn record_timing(cell: &mut Cell, key: &str, date: &str) {
    cell.metadata_object("execution").insert(key.into(), json!(date));
}

/// Cells that the engine runs: code cells with non-blank source and no
/// `skip-execution` tag (as nbclient).
pub fn is_executable(cell: &Cell) -> bool {
    cell.cell_type == CellType::Code && !cell.source.trim().is_empty() && !cell.has_tag("skip-execution")
}

/// papermill's timestamp format: UTC ISO 8601 with microseconds and `+00:00`.
pub fn timestamp(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

fn seconds_between(start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    (end - start).num_microseconds().unwrap_or(0) as f64 / 1e6
}

fn count_text(count: Option<i64>) -> String {
    count.map_or_else(|| "None".to_string(), |c| c.to_string())
}

/// Removes ANSI escape sequences (colour codes in tracebacks).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The papermill metadata of a cell, for reading.
pub fn cell_papermill(cell: &Cell) -> Option<&JsonMap> {
    cell.metadata.get("papermill")?.as_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Output;
    use crate::params::ParamValue;

    fn notebook(cells: Vec<Cell>) -> Notebook {
        let mut nb = Notebook::new();
        nb.cells = cells;
        nb
    }

    fn tagged(source: &str, tag: &str) -> Cell {
        let mut c = Cell::code(source);
        c.set_tags(&[tag, "keep-me"]);
        c
    }

    #[test]
    fn injection_goes_after_parameters_and_is_replaced_on_rerun() {
        let mut nb = notebook(vec![Cell::markdown("# t"), tagged("a = 1", PARAMETERS_TAG), Cell::code("print(a)")]);
        assert_eq!(inject_parameters(&mut nb, "# Parameters\na = 2\n".into(), false), Placement::AfterParameters(2));
        let first_id = nb.cells[2].id.clone();
        assert_eq!(nb.cells[2].tags().collect::<Vec<_>>(), [INJECTED_TAG]);
        assert_eq!(inject_parameters(&mut nb, "# Parameters\na = 3\n".into(), true), Placement::Replaced(2));
        assert_eq!(nb.cells.len(), 4);
        assert_eq!(nb.cells[2].source, "# Parameters\na = 3\n");
        assert_ne!(nb.cells[2].id, first_id);
        assert!(nb.cells[2].source_hidden());
        assert_eq!(nb.cells[1].tags().collect::<Vec<_>>(), [PARAMETERS_TAG, "keep-me"]);
    }

    #[test]
    fn injection_without_parameters_cell_goes_on_top() {
        let mut nb = notebook(vec![Cell::code("x")]);
        assert_eq!(inject_parameters(&mut nb, "# Parameters\n".into(), false), Placement::Top);
        assert!(nb.cells[0].has_tag(INJECTED_TAG));
    }

    #[test]
    fn prepare_keeps_earlier_metadata_and_hides_code_in_report_mode() {
        let mut nb = notebook(vec![Cell::markdown("m"), Cell::code("x")]);
        let mut params = Parameters::new();
        params.set("x", ParamValue::Float(f64::INFINITY));
        prepare(
            &mut nb,
            &Prepare { input_path: "in.ipynb", output_path: "out.ipynb", parameters: Some(&params), report_mode: true, huntbook_version: "0.1.0" },
        );
        let pm = &nb.metadata["papermill"];
        assert_eq!(pm["parameters"]["x"], "inf");
        assert_eq!(pm["version"], PAPERMILL_FORMAT_VERSION);
        assert_eq!(pm["input_path"], "in.ipynb");
        assert_eq!(nb.metadata["huntbook"]["version"], "0.1.0");
        assert!(nb.cells[1].source_hidden() && !nb.cells[0].source_hidden());
        assert_eq!(nb.cells[0].metadata["tags"], json!([]));
        // A second prepare without parameters keeps the recorded ones.
        prepare(&mut nb, &Prepare { input_path: "a", output_path: "b", ..Default::default() });
        assert_eq!(nb.metadata["papermill"]["parameters"]["x"], "inf");
    }

    #[test]
    fn statuses_follow_the_run() {
        let mut nb = notebook(vec![Cell::markdown("m"), Cell::code("ok"), Cell::code("boom"), Cell::code("never")]);
        nb.cells[1].outputs.push(Output::stream("stdout", "stale"));
        let t0 = Utc::now();
        notebook_start(&mut nb, t0);
        assert!(nb.cells[1].outputs.is_empty());
        for i in 0..3 {
            cell_start(&mut nb, i, t0);
            if i == 2 {
                cell_failed(&mut nb, i);
            }
            cell_complete(&mut nb, i, t0 + chrono::Duration::milliseconds(1500));
        }
        notebook_complete(&mut nb, t0 + chrono::Duration::seconds(2));
        let statuses: Vec<_> = nb.cells.iter().map(|c| CellStatus::of(c).unwrap()).collect();
        use CellStatus::*;
        assert_eq!(statuses, [Completed, Completed, Failed, Pending]);
        assert_eq!(nb.cells[1].metadata["papermill"]["duration"], 1.5);
        assert_eq!(nb.metadata["papermill"]["duration"], 2.0);
        assert_eq!(nb.metadata["papermill"]["exception"], true);
    }

    #[test]
    fn error_scan_and_markers() {
        let mut exit0 = Cell::code("sys.exit(0)");
        exit0.outputs.push(Output::error("SystemExit", "0", vec![]));
        let mut boom = Cell::code("1/0");
        boom.execution_count = Some(4);
        boom.outputs.push(Output::error("ZeroDivisionError", "division by zero", vec!["\u{1b}[31mTrace\u{1b}[0m".into()]));
        let mut nb = notebook(vec![Cell::code("a"), exit0, boom]);
        let err = find_execution_error(&nb).unwrap();
        assert_eq!((err.cell_index, err.exec_count, err.ename.as_str()), (2, Some(4), "ZeroDivisionError"));
        assert!(err.message().contains("Exception encountered at \"In [4]\":\nTrace\n"));
        add_error_markers(&mut nb, &err);
        assert_eq!(nb.cells.len(), 5);
        assert!(nb.cells[0].source.contains("In [4]"));
        assert!(nb.cells[3].source.contains("id=\"papermill-error-cell\""));
        remove_error_markers(&mut nb);
        assert_eq!(nb.cells.len(), 3);
    }

    #[test]
    fn clean_exit_is_not_an_error_but_a_silent_raise_is() {
        let mut exit = Cell::code("sys.exit()");
        exit.outputs.push(Output::error("SystemExit", "", vec![]));
        exit.metadata.insert("papermill".into(), json!({"exception": true}));
        assert_eq!(find_execution_error(&notebook(vec![exit])), None);
        let mut expected = Cell::code("1/0");
        expected.set_tags(&[RAISES_EXCEPTION_TAG]);
        expected.outputs.push(Output::error("ZeroDivisionError", "division by zero", vec![]));
        assert_eq!(find_execution_error(&notebook(vec![expected])), None);
        let mut magic = Cell::code("%bad");
        magic.metadata.insert("papermill".into(), json!({"exception": true}));
        assert_eq!(find_execution_error(&notebook(vec![magic])).unwrap().ename, "CellExecutionError");
    }

    #[test]
    fn executable_cells() {
        assert!(is_executable(&Cell::code("x")));
        assert!(!is_executable(&Cell::code("  \n")));
        assert!(!is_executable(&Cell::markdown("x")));
        assert!(!is_executable(&tagged("x", "skip-execution")));
    }
}
