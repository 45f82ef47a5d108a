//! Running a notebook's cells on a kernel, with papermill's bookkeeping.
//!
//! [`run_cells`] starts the kernel, runs each cell in order, feeds what the kernel
//! publishes into an [`OutputCollector`], and keeps the execution record of
//! `huntbook_notebook::execution` up to date, saving through a caller-supplied
//! function at the start, at each cell start and end, and on the autosave interval.
//!
//! It never waits without a deadline and always says how the run ended
//! ([`RunEnd`]): a timeout or a dead kernel marks the running cell `failed` and adds
//! an error output that names the cause, while the cells never run stay `pending`.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use chrono::Utc;
use huntbook_notebook::execution::{self, is_executable, record_timing};
use huntbook_notebook::outputs::{execute_result, OutputCollector};
use huntbook_notebook::{Notebook, Output};
use serde_json::json;

use crate::{ExecuteOptions, IopubEvent, Kernel, KernelError, KernelPool, KernelSpec, LaunchOptions, ReplyStatus};

/// How cells are run.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub launch: LaunchOptions,
    /// Per-cell limit; on expiry the kernel is interrupted, then killed.
    pub execution_timeout: Option<Duration>,
    /// How long an interrupted kernel gets before it is killed.
    pub interrupt_grace: Duration,
    /// Keep running after a cell raises (every cell's errors are allowed).
    pub allow_errors: bool,
    /// Save at least this often while a cell runs; zero disables.
    pub autosave_every: Duration,
    /// Output kept per cell, in bytes.
    pub max_cell_output: usize,
    /// Take the kernel from this pool (a pre-started one when it holds one) instead of
    /// starting it.
    pub pool: Option<KernelPool>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnd {
    /// Every cell ran (a cell may have raised an allowed error).
    Completed,
    /// A cell raised and errors were not allowed; later cells did not run.
    CellError { cell_index: usize },
    /// `sys.exit()` / `sys.exit(0)`: a clean stop.
    Exited { cell_index: usize },
    /// A cell ran past the execution timeout.
    Timeout { cell_index: usize, after: Duration },
    /// The kernel process died.
    KernelDied { cell_index: usize, reason: String },
    /// huntbook was asked to stop (SIGINT / SIGTERM).
    Stopped { cell_index: Option<usize>, signal: i32 },
}

/// What a run reports to the person watching it (progress, `--log-output`).
pub trait RunObserver {
    /// A cell is about to run; `description` is the cell's `papermill_description=`.
    fn cell_started(&mut self, _index: usize, _total: usize, _description: Option<&str>) {}
    fn cell_finished(&mut self, _index: usize, _total: usize) {}
    /// Stream text as it arrives (`stdout` / `stderr`).
    fn stream(&mut self, _name: &str, _text: &str) {}
    /// The `text/plain` of a display or result, as it arrives.
    fn display_text(&mut self, _text: &str) {}
    fn warning(&mut self, _message: &str) {}
    /// How long a phase of the run took: `kernel_start`, `execute` (time inside the kernel's
    /// execute requests, output handling included), `kernel_stop`.
    fn phase(&mut self, _name: &str, _took: Duration) {}
}

/// Copies of the cells' streams as they arrive: `--stdout-file`, `--stderr-file`
/// (appended and flushed per message) and `--log-output` (echoed to stderr).
pub struct StreamCopies {
    stdout: Option<std::fs::File>,
    stderr: Option<std::fs::File>,
    echo: bool,
}

impl StreamCopies {
    /// Opens the files for appending; the error names the file that cannot be opened.
    pub fn open(
        stdout: Option<&std::path::Path>,
        stderr: Option<&std::path::Path>,
        echo: bool,
    ) -> Result<StreamCopies, String> {
        let open = |path: Option<&std::path::Path>| {
            path.map(|p| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| format!("cannot open {} for appending: {e}", p.display()))
            })
            .transpose()
        };
        Ok(StreamCopies { stdout: open(stdout)?, stderr: open(stderr)?, echo })
    }

    /// Copies one stream message (`name` is `stdout` or `stderr`).
    pub fn write(&mut self, name: &str, text: &str) {
        use std::io::Write;
        let file = if name == "stderr" { &mut self.stderr } else { &mut self.stdout };
        if let Some(file) = file {
            let _ = file.write_all(text.as_bytes()).and_then(|_| file.flush());
        }
        if self.echo {
            eprint!("{text}");
        }
    }
}

/// An observer that watches nothing.
pub struct Quiet;
impl RunObserver for Quiet {}

/// Where saves go. Errors are reported to the observer and the run goes on: losing an
/// intermediate save must not lose the run.
pub type Saver<'a> = dyn FnMut(&Notebook) -> std::io::Result<()> + 'a;

/// Runs every cell of `nb` on a kernel started from `spec`. `stop` resolves to a
/// signal number when the run must stop early.
pub async fn run_cells(
    nb: &mut Notebook,
    spec: &KernelSpec,
    opts: &EngineOptions,
    save: &mut Saver<'_>,
    observer: &mut dyn RunObserver,
    stop: &mut tokio::sync::watch::Receiver<Option<i32>>,
) -> Result<RunEnd, KernelError> {
    let total = nb.cells.len();
    execution::notebook_start(nb, Utc::now());
    save_or_warn(save, nb, observer);

    let started = Instant::now();
    let mut kernel = tokio::select! {
        kernel = async {
            match &opts.pool {
                Some(pool) => pool.take(spec, &opts.launch).await,
                None => Kernel::launch(spec, opts.launch.clone()).await,
            }
        } => kernel?,
        signal = wait_for_stop(stop) => {
            // Nothing ran: every cell stays `pending`.
            execution::notebook_end(nb, Utc::now());
            nb.metadata_object("papermill").insert("exception".into(), json!(true));
            return Ok(RunEnd::Stopped { cell_index: None, signal });
        }
    };
    observer.phase("kernel_start", started.elapsed());
    nb.metadata.insert("language_info".into(), kernel.language_info().clone());
    let mut executing = Duration::ZERO;

    let mut collector = OutputCollector::new(opts.max_cell_output);
    let mut end = RunEnd::Completed;
    for index in 0..total {
        execution::cell_start(nb, index, Utc::now());
        observer.cell_started(index, total, description(&nb.cells[index].source).as_deref());
        save_or_warn(save, nb, observer);

        if is_executable(&nb.cells[index]) {
            let allowed = opts.allow_errors || nb.cells[index].has_tag(execution::RAISES_EXCEPTION_TAG);
            collector.begin_cell();
            let exec_opts = ExecuteOptions {
                timeout: opts.execution_timeout,
                stop_on_error: !allowed,
                interrupt_grace: opts.interrupt_grace,
                ..ExecuteOptions::default()
            };
            let code = nb.cells[index].source.clone();
            let execute_started = Instant::now();
            let result = {
                // The event callback and the autosave timer both touch the notebook, one at
                // a time on this task; neither holds the borrow across an await.
                let live = RefCell::new(LiveCell {
                    nb: &mut *nb,
                    collector: &mut collector,
                    observer: &mut *observer,
                    unsaved: false,
                });
                let mut on_event = |event: IopubEvent| {
                    let mut live = live.borrow_mut();
                    let LiveCell { nb, collector, observer, unsaved } = &mut *live;
                    apply_event(nb, index, collector, event, &mut **observer);
                    *unsaved = true;
                };
                let execute = kernel.execute(&code, &exec_opts, &mut on_event);
                tokio::pin!(execute);
                let autosave = !opts.autosave_every.is_zero();
                let mut ticker = tokio::time::interval(opts.autosave_every.max(Duration::from_millis(10)));
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticker.reset();
                loop {
                    tokio::select! {
                        result = &mut execute => break Some(result),
                        signal = wait_for_stop(stop) => {
                            end = RunEnd::Stopped { cell_index: Some(index), signal };
                            break None;
                        }
                        _ = ticker.tick(), if autosave => {
                            let mut live = live.borrow_mut();
                            if live.unsaved {
                                let LiveCell { nb, observer, unsaved, .. } = &mut *live;
                                save_or_warn(save, nb, &mut **observer);
                                *unsaved = false;
                            }
                        }
                    }
                }
            };
            executing += execute_started.elapsed();
            collector.finish_cell(nb, index);
            match result {
                None => {
                    fail_cell(nb, index, "KeyboardInterrupt", &stopped_message(&end));
                }
                Some(Ok(reply)) => {
                    if let Some(count) = reply.execution_count {
                        nb.cells[index].execution_count = Some(count);
                    }
                    record_timing(&mut nb.cells[index], "shell.execute_reply", &reply.date);
                    if reply.status != ReplyStatus::Ok {
                        if is_clean_exit(&reply) {
                            // papermill marks the cell failed but treats the run as a success.
                            execution::cell_failed(nb, index);
                            end = RunEnd::Exited { cell_index: index };
                        } else if !allowed {
                            execution::cell_failed(nb, index);
                            end = RunEnd::CellError { cell_index: index };
                        }
                    }
                }
                Some(Err(KernelError::Timeout { after })) => {
                    let message = format!(
                        "A cell timed out while it was being executed, after {} seconds. \
                         huntbook interrupted the kernel and stopped the run.",
                        after.as_secs_f64()
                    );
                    fail_cell(nb, index, "CellTimeoutError", &message);
                    end = RunEnd::Timeout { cell_index: index, after };
                }
                Some(Err(KernelError::Died { status })) => {
                    let message = format!("Kernel died while executing this cell: {status}");
                    fail_cell(nb, index, "DeadKernelError", &message);
                    end = RunEnd::KernelDied { cell_index: index, reason: status };
                }
                Some(Err(KernelError::IopubTimeout { .. })) => {
                    // The reply came but the output never finished: papermill's
                    // "Timeout waiting for IOPub output", a cell error, never a silent cut.
                    fail_cell(nb, index, "CellTimeoutError", "Timeout waiting for IOPub output");
                    end = RunEnd::CellError { cell_index: index };
                }
                Some(Err(other)) => {
                    fail_cell(nb, index, "KernelError", &other.to_string());
                    end = RunEnd::KernelDied { cell_index: index, reason: other.to_string() };
                }
            }
        }
        execution::cell_complete(nb, index, Utc::now());
        save_or_warn(save, nb, observer);
        observer.cell_finished(index, total);
        if end != RunEnd::Completed {
            break;
        }
    }

    execution::notebook_complete(nb, Utc::now());
    observer.phase("execute", executing);
    let stopping = Instant::now();
    match (&end, &opts.pool) {
        (RunEnd::Timeout { .. } | RunEnd::KernelDied { .. } | RunEnd::Stopped { .. }, _) => kernel.kill().await,
        // A service's worker moves on to its next run while the kernel winds down.
        (_, Some(pool)) => pool.retire(kernel),
        (_, None) => kernel.shutdown(Duration::from_secs(5)).await,
    }
    observer.phase("kernel_stop", stopping.elapsed());
    Ok(end)
}

/// What the event callback and the autosave timer share while a cell runs.
struct LiveCell<'a> {
    nb: &'a mut Notebook,
    collector: &'a mut OutputCollector,
    observer: &'a mut dyn RunObserver,
    /// Output arrived since the last save.
    unsaved: bool,
}

/// Applies one IOPub event to cell `index`.
fn apply_event(
    nb: &mut Notebook,
    index: usize,
    collector: &mut OutputCollector,
    event: IopubEvent,
    observer: &mut dyn RunObserver,
) {
    match event {
        IopubEvent::Status { busy, date } => {
            let key = if busy { "iopub.status.busy" } else { "iopub.status.idle" };
            record_timing(&mut nb.cells[index], key, &date);
        }
        IopubEvent::ExecuteInput { execution_count, date } => {
            record_timing(&mut nb.cells[index], "iopub.execute_input", &date);
            if let Some(count) = execution_count {
                nb.cells[index].execution_count = Some(count);
            }
        }
        IopubEvent::Stream { name, text, .. } => {
            observer.stream(&name, &text);
            collector.push(nb, index, Output::stream(&name, text), None);
        }
        IopubEvent::DisplayData { data, metadata, display_id, .. } => {
            show_plain(observer, &data);
            collector.push(nb, index, Output::display(data, metadata), display_id.as_deref());
        }
        IopubEvent::UpdateDisplayData { data, metadata, display_id, .. } => {
            collector.update_display(nb, &display_id, &data, &metadata);
        }
        IopubEvent::ExecuteResult { execution_count, data, metadata, display_id, .. } => {
            show_plain(observer, &data);
            if let Some(count) = execution_count {
                nb.cells[index].execution_count = Some(count);
            }
            collector.push(nb, index, execute_result(execution_count, data, metadata), display_id.as_deref());
        }
        IopubEvent::Error { ename, evalue, traceback, .. } => {
            observer.stream("stderr", &execution::strip_ansi(&traceback.join("\n")));
            collector.push(nb, index, Output::error(&ename, &evalue, traceback), None);
        }
        IopubEvent::ClearOutput { wait, .. } => collector.clear(nb, index, wait),
    }
}

fn show_plain(observer: &mut dyn RunObserver, data: &huntbook_notebook::JsonMap) {
    if let Some(text) = data.get("text/plain").and_then(|t| t.as_str()) {
        observer.display_text(text);
    }
}

/// Marks the cell failed and says why in an error output, so that the notebook
/// itself tells the truth (papermill leaves such cells `completed`).
fn fail_cell(nb: &mut Notebook, index: usize, ename: &str, evalue: &str) {
    let traceback = vec![format!("\u{1b}[0;31m{ename}\u{1b}[0m: {evalue}")];
    nb.cells[index].outputs.push(Output::error(ename, evalue, traceback));
    execution::cell_failed(nb, index);
}

fn stopped_message(end: &RunEnd) -> String {
    match end {
        RunEnd::Stopped { signal, .. } => {
            format!("huntbook received signal {signal} ({}) and stopped the run.", signal_name(*signal))
        }
        _ => String::new(),
    }
}

/// The conventional name of a signal number.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGKILL => "SIGKILL",
        _ => "signal",
    }
}

fn is_clean_exit(reply: &crate::ExecuteReply) -> bool {
    reply.ename.as_deref() == Some("SystemExit")
        && matches!(reply.evalue.as_deref(), Some("") | Some("0") | None)
}

/// The text after `papermill_description=` in a cell, up to whitespace.
fn description(source: &str) -> Option<String> {
    let (_, after) = source.split_once("papermill_description=")?;
    after.split_whitespace().next().map(str::to_string)
}

fn save_or_warn(save: &mut Saver<'_>, nb: &Notebook, observer: &mut dyn RunObserver) {
    if let Err(e) = save(nb) {
        observer.warning(&format!("could not save the output notebook: {e}"));
    }
}

async fn wait_for_stop(stop: &mut tokio::sync::watch::Receiver<Option<i32>>) -> i32 {
    loop {
        if let Some(signal) = *stop.borrow_and_update() {
            return signal;
        }
        if stop.changed().await.is_err() {
            // The sender is gone: nobody can ask us to stop any more.
            std::future::pending::<()>().await;
        }
    }
}

/// Records the `-k` choice in `metadata.kernelspec`, as papermill users expect.
pub fn set_kernelspec_metadata(nb: &mut Notebook, spec: &KernelSpec) {
    nb.metadata.insert(
        "kernelspec".into(),
        json!({"name": spec.name, "display_name": spec.display_name, "language": spec.language}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_is_the_word_after_the_marker() {
        assert_eq!(description("x = 1\n# papermill_description=load_data now"), Some("load_data".into()));
        assert_eq!(description("x = 1"), None);
    }
}
