//! Helpers for tests that drive the real `huntbook` binary against real kernels.
//!
//! Every test builds its notebooks with `huntbook_notebook`, writes them into its own
//! temporary directory and runs `huntbook` there (so relative output paths and files a
//! cell creates stay inside that directory). Kernels run from the project's venv,
//! found as `$HUNTBOOK_TEST_PYTHON` or `<workspace>/.venv/bin/python`; a missing venv is
//! a failure, not a skip, so that a broken set-up can never pass as green.
//!
//! Processes are always waited for with a deadline: a hung `huntbook` is killed and
//! the test fails saying so, instead of the whole suite hanging. With
//! `HUNTBOOK_TEST_TIMES` set, each run prints its wall time and command line (see them
//! with `--nocapture`), to find what makes the suite slow.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use huntbook_notebook::execution::{CellStatus, ERROR_MARKER_TAG, INJECTED_TAG, PARAMETERS_TAG};
use huntbook_notebook::{Cell, Notebook, Output};
use serde_json::{json, Value};

/// The longest any single `huntbook run` may take before the test calls it hung.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// The venv interpreter that has ipykernel, bash_kernel and nbformat installed.
pub fn python() -> PathBuf {
    let path = match std::env::var_os("HUNTBOOK_TEST_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join(".venv/bin/python"),
    };
    assert!(
        path.exists(),
        "no test Python interpreter at {}: run `scripts/setup --test` to create the venv with \
         ipykernel, bash_kernel and nbformat (or point HUNTBOOK_TEST_PYTHON at an interpreter that has them)",
        path.display()
    );
    path
}

// ---------------------------------------------------------------------------------
// Notebooks

/// A notebook using the `python3` kernel, with these cells.
pub fn notebook(cells: Vec<Cell>) -> Notebook {
    let mut nb = Notebook::new();
    nb.metadata.insert(
        "kernelspec".into(),
        json!({"name": "python3", "language": "python", "display_name": "Python 3"}),
    );
    nb.cells = cells;
    nb
}

/// A code cell.
pub fn code(source: &str) -> Cell {
    Cell::code(source)
}

/// A markdown cell.
pub fn markdown(source: &str) -> Cell {
    Cell::markdown(source)
}

/// The cell tagged `parameters`.
pub fn params_cell(source: &str) -> Cell {
    tagged(source, &[PARAMETERS_TAG])
}

/// A code cell with these tags.
pub fn tagged(source: &str, tags: &[&str]) -> Cell {
    let mut cell = Cell::code(source);
    cell.set_tags(tags);
    cell
}

/// Writes `nb` as `dir/name` and returns the path.
pub fn write_nb(dir: &Path, name: &str, nb: &Notebook) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    huntbook_notebook::io::write_path(nb, &path)
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

/// Reads an output notebook, after checking it with Python's nbformat validator.
pub fn read_valid(path: &Path) -> Notebook {
    validate(path);
    read(path)
}

/// Fails unless Python's nbformat reads and validates the notebook at `path`.
pub fn validate(path: &Path) {
    validate_all(&[path]);
}

/// [`validate`] for several notebooks, with one Python start.
pub fn validate_all<P: AsRef<Path>>(paths: &[P]) {
    let out = Command::new(python())
        .args([
            "-c",
            "import nbformat, sys\nfor p in sys.argv[1:]:\n    nbformat.validate(nbformat.read(p, as_version=4))",
        ])
        .args(paths.iter().map(AsRef::as_ref))
        .output()
        .expect("running python for nbformat validation");
    assert!(
        out.status.success(),
        "nbformat rejects one of {:?}:\n{}",
        paths
            .iter()
            .map(|p| p.as_ref().display().to_string())
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads a notebook without validating it (after a [`validate_all`]).
pub fn read(path: &Path) -> Notebook {
    huntbook_notebook::io::read_path(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The index of the first cell whose source contains `needle`.
pub fn index_of(nb: &Notebook, needle: &str) -> usize {
    nb.cells
        .iter()
        .position(|c| c.source.contains(needle))
        .unwrap_or_else(|| panic!("no cell contains {needle:?}; sources: {:#?}", sources(nb)))
}

/// The first cell whose source contains `needle`.
pub fn cell<'a>(nb: &'a Notebook, needle: &str) -> &'a Cell {
    &nb.cells[index_of(nb, needle)]
}

pub fn sources(nb: &Notebook) -> Vec<&str> {
    nb.cells.iter().map(|c| c.source.as_str()).collect()
}

/// The papermill status recorded on a cell.
pub fn status(cell: &Cell) -> &'static str {
    CellStatus::of(cell)
        .map(CellStatus::as_str)
        .unwrap_or("<none>")
}

/// Everything a cell wrote to stdout, joined.
pub fn stdout_of(cell: &Cell) -> String {
    stream_of(cell, "stdout")
}

/// Everything a cell wrote to the named stream, joined.
pub fn stream_of(cell: &Cell, stream: &str) -> String {
    cell.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Stream { name, text, .. } if name == stream => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// All text a cell shows: streams, `text/plain` of results and displays, errors.
pub fn all_text(cell: &Cell) -> String {
    let mut text = String::new();
    for output in &cell.outputs {
        match output {
            Output::Stream { text: t, .. } => text.push_str(t),
            Output::DisplayData { data, .. } | Output::ExecuteResult { data, .. } => {
                if let Some(t) = data.get("text/plain").and_then(Value::as_str) {
                    text.push_str(t);
                }
            }
            Output::Error { ename, evalue, .. } => {
                text.push_str(&format!("{ename}: {evalue}\n"));
            }
        }
    }
    text
}

/// The `(ename, evalue)` of a cell's error outputs.
pub fn errors(cell: &Cell) -> Vec<(String, String)> {
    cell.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Error { ename, evalue, .. } => Some((ename.clone(), evalue.clone())),
            _ => None,
        })
        .collect()
}

/// How many of papermill's red error-marker cells the notebook has.
pub fn marker_count(nb: &Notebook) -> usize {
    nb.cells
        .iter()
        .filter(|c| c.has_tag(ERROR_MARKER_TAG))
        .count()
}

/// Indices of the injected-parameters cells.
pub fn injected(nb: &Notebook) -> Vec<usize> {
    nb.cells
        .iter()
        .enumerate()
        .filter(|(_, c)| c.has_tag(INJECTED_TAG))
        .map(|(i, _)| i)
        .collect()
}

/// `metadata.papermill` of the notebook.
pub fn papermill_meta(nb: &Notebook) -> &Value {
    nb.metadata
        .get("papermill")
        .unwrap_or_else(|| panic!("no metadata.papermill in {:#?}", nb.metadata))
}

/// Standard base64 (with padding), for `-b`.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Running huntbook

/// A `huntbook run` command line being built; runs in `dir` with `--python <venv>`.
pub struct Huntbook {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    line: Vec<String>,
}

/// `huntbook run --python <venv python> ...` in `dir`.
pub fn huntbook_run(dir: &Path) -> Huntbook {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_huntbook"));
    let python = python();
    cmd.current_dir(dir).arg("run").arg("--python").arg(&python);
    // The tests must not depend on a venv the person running them has activated.
    cmd.env_remove("VIRTUAL_ENV").env_remove("HUNTBOOK_PYTHON");
    Huntbook {
        cmd,
        stdin: None,
        line: vec![
            "huntbook".into(),
            "run".into(),
            "--python".into(),
            python.display().to_string(),
        ],
    }
}

impl Huntbook {
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.line.push(arg.as_ref().to_string_lossy().into_owned());
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Feeds these bytes to huntbook's stdin (otherwise stdin is empty).
    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }

    /// Starts huntbook and returns at once.
    pub fn spawn(mut self) -> Running {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = self.cmd.spawn().expect("starting the huntbook binary");
        let stdin = child.stdin.take().unwrap();
        let input = self.stdin.take().unwrap_or_default();
        let feeder = std::thread::spawn(move || {
            let mut stdin = stdin;
            let _ = stdin.write_all(&input);
        });
        let out = drain(child.stdout.take().unwrap());
        let err = drain(child.stderr.take().unwrap());
        Running {
            child,
            started,
            out: Some(out),
            err: Some(err),
            feeder: Some(feeder),
            line: self.line.join(" "),
        }
    }

    /// Runs huntbook to the end (at most [`RUN_LIMIT`]).
    pub fn run(self) -> Outcome {
        self.spawn().wait()
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// A huntbook process that is running.
pub struct Running {
    pub child: Child,
    pub started: Instant,
    out: Option<JoinHandle<Vec<u8>>>,
    err: Option<JoinHandle<Vec<u8>>>,
    feeder: Option<JoinHandle<()>>,
    line: String,
}

/// How a huntbook run ended.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    /// The exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    pub line: String,
}

impl Outcome {
    /// Panics with the command line and stderr unless huntbook exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`{}` exited with {:?} (expected {code}) after {:.1?}\n--- stderr ---\n{}",
            self.line,
            self.status,
            self.elapsed,
            self.stderr
        );
        self
    }

    pub fn success(&self) -> &Self {
        self.expect_code(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (it is reaped once it has exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends a signal to huntbook (only to its own pid).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on a pid we spawned and have not yet reaped.
        let rc = unsafe { libc::kill(self.pid() as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill({}, {signal}) failed", self.pid());
    }

    /// Waits for the end, at most [`RUN_LIMIT`].
    pub fn wait(self) -> Outcome {
        self.wait_at_most(RUN_LIMIT)
    }

    /// Waits for the end; past `limit` the process is killed and the test fails.
    pub fn wait_at_most(mut self, limit: Duration) -> Outcome {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for huntbook") {
                break status;
            }
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = self
                    .err
                    .take()
                    .map(|h| h.join().unwrap_or_default())
                    .unwrap_or_default();
                panic!(
                    "`{}` still running after {limit:?}: killed it\n--- stderr ---\n{}",
                    self.line,
                    String::from_utf8_lossy(&stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = self.started.elapsed();
        if std::env::var_os("HUNTBOOK_TEST_TIMES").is_some() {
            eprintln!("[{:>6.2}s] {}", elapsed.as_secs_f64(), self.line);
        }
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
        let stdout = self.out.take().unwrap().join().unwrap_or_default();
        let stderr = self.err.take().unwrap().join().unwrap_or_default();
        Outcome {
            status,
            code: status.code(),
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed,
            line: self.line.clone(),
        }
    }
}

impl Running {
    /// Waits for the end like [`Running::wait`], noting every descendant process seen
    /// meanwhile (polled every 50 ms), then fails if any of them is still alive a few
    /// seconds after huntbook exited: no run may leave a kernel behind.
    pub fn wait_leaving_nothing(mut self) -> (Outcome, Vec<Proc>) {
        let mut seen: Vec<Proc> = Vec::new();
        while self.is_running() && self.started.elapsed() < RUN_LIMIT {
            for p in descendants(self.pid()) {
                if !seen.contains(&p) {
                    seen.push(p);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let outcome = self.wait();
        let gone = wait_for(Duration::from_secs(5), || {
            seen.iter().all(|p| !alive(p)).then_some(())
        });
        assert!(
            gone.is_some(),
            "`{}` left processes behind: {:?}",
            outcome.line,
            seen.iter().filter(|p| alive(p)).collect::<Vec<_>>()
        );
        (outcome, seen)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that panicked half-way must not leave huntbook (and its kernel) behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads a notebook that another process is writing, `None` while it is absent or
/// unreadable (huntbook writes atomically, so a present file should always parse).
pub fn peek_nb(path: &Path) -> Option<Notebook> {
    let text = std::fs::read_to_string(path).ok()?;
    huntbook_notebook::io::parse(&text, &path.display().to_string()).ok()
}

// ---------------------------------------------------------------------------------
// Processes

/// A process, identified by pid and start time so that a reused pid is not mistaken
/// for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proc {
    pub pid: u32,
    pub start_ticks: u64,
    pub command: String,
}

/// `(state, ppid, starttime)` from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(char, u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces or ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    // Field 22 of stat; `rest` starts at field 3.
    let start = fields.get(19)?.parse().ok()?;
    Some((state, ppid, start))
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('\0', " ")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// Every live descendant of `root` (children, their children, ...).
pub fn descendants(root: u32) -> Vec<Proc> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        {
            if let Some((state, ppid, start)) = stat(pid) {
                if state != 'Z' && state != 'X' {
                    parent_of.push((pid, ppid, start));
                }
            }
        }
    }
    let mut found = Vec::new();
    let mut frontier: HashSet<u32> = [root].into();
    while !frontier.is_empty() {
        let mut next = HashSet::new();
        for &(pid, ppid, start) in &parent_of {
            if frontier.contains(&ppid) {
                found.push(Proc {
                    pid,
                    start_ticks: start,
                    command: cmdline(pid),
                });
                next.insert(pid);
            }
        }
        frontier = next;
    }
    found
}

/// Whether the process still exists (a zombie counts as gone: it no longer runs).
pub fn alive(proc: &Proc) -> bool {
    matches!(stat(proc.pid), Some((state, _, start)) if start == proc.start_ticks && state != 'Z' && state != 'X')
}

/// Resident memory of a process in KiB, if it still exists.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"a: 1\nb: [x, y]"), "YTogMQpiOiBbeCwgeV0=");
    }

    #[test]
    fn finds_own_children() {
        let mut child = Command::new("/bin/sleep").arg("30").spawn().unwrap();
        let me = std::process::id();
        // Right after fork the child still shows the test binary's command line
        // until its exec completes, so look again until it reads as the sleep.
        let deadline = Instant::now() + Duration::from_secs(10);
        let proc = loop {
            let kids = descendants(me);
            let proc = kids
                .iter()
                .find(|p| p.pid == child.id())
                .expect("the sleep is a descendant")
                .clone();
            if proc.command.contains("sleep") || Instant::now() > deadline {
                break proc;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(proc.command.contains("sleep"), "{}", proc.command);
        assert!(alive(&proc));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!alive(&proc));
        assert!(rss_kib(me).unwrap() > 0);
    }
}
