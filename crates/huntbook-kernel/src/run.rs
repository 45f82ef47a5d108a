//! papermill's `execute_notebook`, end to end: load, parameterise, prepare, run, report.
//!
//! [`execute_notebook`] is what `huntbook run` and the Python `execute_notebook` call.
//! It resolves the output path template, reads the input (a file or `-` for stdin),
//! injects the parameters, writes the run's metadata, runs the cells through
//! [`crate::engine::run_cells`] (unless `prepare_only`), adds papermill's error
//! markers when a cell failed, and writes the output atomically (or to stdout for `-`).
//! The result says how the run ended; [`Failure::exit_code`] maps it to the exit codes
//! documented in `huntbook run --help`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use huntbook_core::secret::{EnvSource, Secret, SecretRef, SecretResolver};
use huntbook_notebook::execution::{self, ExecutionError, Placement, Prepare};
use huntbook_notebook::params::{inspect, translate::Translator, ParamValue, Parameters};
use huntbook_notebook::path_template::{self, Builtins};
use huntbook_notebook::secrets::{self, LiveScrubber, Scrubber};
use huntbook_notebook::{io as nbio, Notebook};

use crate::engine::{run_cells, set_kernelspec_metadata, EngineOptions, RunEnd, RunObserver};
use crate::{Discovery, KernelError};

/// Everything a run needs, with papermill's names.
#[derive(Debug, Clone)]
pub struct ExecuteRequest {
    /// Input notebook path, or `-` for stdin.
    pub input_path: String,
    /// Output path (may be a template), `-` for stdout, or `None` to write nothing.
    pub output_path: Option<String>,
    pub parameters: Parameters,
    pub kernel_name: Option<String>,
    pub language: Option<String>,
    /// A Python interpreter or venv whose kernelspecs and interpreter to use.
    pub python: Option<PathBuf>,
    pub prepare_only: bool,
    pub report_mode: bool,
    /// Add `PAPERMILL_INPUT_PATH` / `PAPERMILL_OUTPUT_PATH` as parameters.
    pub inject_input_path: bool,
    pub inject_output_path: bool,
    pub engine: EngineOptions,
    /// Secrets the notebook may read, as (environment variable, value): they reach the
    /// kernel as environment variables, parameters that name or hold one are refused,
    /// and their values are scrubbed from the output notebook and the observer's text.
    pub secrets: Vec<(String, Secret)>,
}

/// How a run ended badly.
#[derive(Debug)]
pub enum Failure {
    /// Bad input or usage: nothing ran.
    BadInput(String),
    /// The kernel could not be found or did not start.
    KernelStart(KernelError),
    /// A cell raised (papermill's `PapermillExecutionError`).
    CellError(ExecutionError),
    Timeout { cell_index: usize, after: Duration },
    KernelDied { cell_index: usize, reason: String },
    Stopped { signal: i32 },
}

impl Failure {
    /// The process exit code for this failure (see `huntbook run --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::CellError(_) => 1,
            Failure::BadInput(_) => 2,
            Failure::KernelStart(_) => 3,
            Failure::Timeout { .. } => 124,
            Failure::KernelDied { .. } => 138,
            Failure::Stopped { signal } => 128u8.saturating_add(*signal as u8),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::BadInput(message) => write!(f, "{message}"),
            Failure::KernelStart(e) => write!(f, "{e}"),
            Failure::CellError(e) => write!(f, "{}", e.message()),
            Failure::Timeout { cell_index, after } => write!(
                f,
                "cell {cell_index} ran longer than the execution timeout ({}s); the kernel was interrupted and stopped. \
                 Raise --execution-timeout if the cell needs longer.",
                after.as_secs_f64()
            ),
            Failure::KernelDied { cell_index, reason } => write!(
                f,
                "the kernel died while running cell {cell_index}: {reason}. \
                 If it ran out of memory, give it more or process less data per cell."
            ),
            Failure::Stopped { signal } => {
                write!(f, "stopped by {}; the output notebook was saved as it stood", crate::engine::signal_name(*signal))
            }
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct ExecuteReport {
    pub notebook: Notebook,
    /// Where the output was written (after template expansion), if to a file.
    pub output_path: Option<PathBuf>,
    pub placement: Option<Placement>,
    /// Warnings given to the observer during the run (unknown parameters...).
    pub warnings: Vec<String>,
    pub failure: Option<Failure>,
}

/// Runs a notebook as papermill does. `Err` means nothing ran (bad input, kernel not
/// found); a notebook that ran and failed comes back as `Ok` with `failure` set.
pub async fn execute_notebook(
    req: &ExecuteRequest,
    observer: &mut dyn RunObserver,
    stop: &mut tokio::sync::watch::Receiver<Option<i32>>,
) -> Result<ExecuteReport, Failure> {
    let run_id = uuid::Uuid::new_v4().to_string();
    let mut warnings = Vec::new();
    reject_remote(&req.input_path)?;
    let input_stem = Path::new(&req.input_path).file_stem().map(|s| s.to_string_lossy().into_owned());
    let builtins = Builtins { now: Utc::now(), run_id, notebook: input_stem.unwrap_or_else(|| "notebook".into()) };
    let output_path = match &req.output_path {
        Some(path) if path != "-" => {
            reject_remote(path)?;
            Some(path_template::render(path, &req.parameters, &builtins).map_err(|e| Failure::BadInput(e.to_string()))?)
        }
        other => other.clone(),
    };
    let mut parameters = Parameters::new();
    if req.inject_input_path {
        parameters.set("PAPERMILL_INPUT_PATH", ParamValue::Str(req.input_path.clone()));
    }
    if req.inject_output_path {
        parameters.set("PAPERMILL_OUTPUT_PATH", ParamValue::Str(output_path.clone().unwrap_or_default()));
    }
    parameters.extend(req.parameters.clone());
    let scrubber = Scrubber::new(req.secrets.iter().map(|(_, value)| value.expose()));
    for (name, value) in parameters.iter() {
        secrets::check_parameter(name, &value.to_json().to_string(), &scrubber)
            .map_err(|e| Failure::BadInput(e.to_string()))?;
    }
    let mut observer = ScrubbingObserver::new(observer, &scrubber);
    let observer: &mut dyn RunObserver = &mut observer;

    let mut nb = read_input(&req.input_path)?;
    let discovery = Discovery { python: req.python.clone() };
    // -k / -l override the notebook; the chosen spec is recorded in the output.
    let spec = match (&req.kernel_name, &req.language, req.prepare_only) {
        (Some(name), _, false) => Some(crate::find_kernelspec(name, &discovery).map_err(Failure::KernelStart)?),
        (None, Some(language), false) if nb.kernel_name().is_none() => {
            Some(crate::kernelspec_for_language(language, &discovery).map_err(Failure::KernelStart)?)
        }
        _ => None,
    };
    if let Some(spec) = &spec {
        set_kernelspec_metadata(&mut nb, spec);
    }

    let mut placement = None;
    if !parameters.is_empty() {
        let kernel_name = req.kernel_name.as_deref().or(nb.kernel_name());
        // papermill's lookup order, then the language of the kernelspec in use.
        let language = req.language.as_deref().or(nb.language()).or(spec.as_ref().map(|s| s.language.as_str()));
        let translator = Translator::find(kernel_name, language).map_err(|e| Failure::BadInput(e.to_string()))?;
        if let Ok(declared) = inspect::inspect(&nb) {
            for name in inspect::unknown_names(&declared, &parameters) {
                if !name.starts_with("PAPERMILL_") {
                    warn(&mut warnings, observer, format!("Passed unknown parameter: {name}"));
                }
            }
        }
        let source = translator.render(&parameters);
        let placed = execution::inject_parameters(&mut nb, source, req.report_mode);
        if placed == Placement::Top {
            let message = "Input notebook does not contain a cell with tag 'parameters'; the parameters were injected at the top";
            warn(&mut warnings, observer, message.into());
        }
        placement = Some(placed);
    }
    execution::prepare(
        &mut nb,
        &Prepare {
            input_path: &req.input_path,
            output_path: output_path.as_deref().unwrap_or(""),
            parameters: (!parameters.is_empty()).then_some(&parameters),
            report_mode: req.report_mode,
            huntbook_version: env!("CARGO_PKG_VERSION"),
        },
    );

    let file_path = output_path.as_deref().filter(|p| *p != "-").map(PathBuf::from);
    if let Some(path) = &file_path {
        create_parent(path)?;
    }
    let mut failure = None;
    if !req.prepare_only {
        let spec = match spec {
            Some(spec) => spec,
            None => {
                let name = nb.kernel_name().ok_or_else(|| {
                    Failure::BadInput(
                        "No kernel name found in notebook and no override provided: pass -k NAME (e.g. -k python3)".into(),
                    )
                })?;
                crate::find_kernelspec(name, &discovery).map_err(Failure::KernelStart)?
            }
        };
        // Saves while the run goes on write a scrubbed copy: scrubbing merges stream
        // outputs, which must not move the outputs the kernel is still updating.
        let mut save = |nb: &Notebook| match &file_path {
            Some(path) => {
                nbio::write_path(&scrubbed(nb, &scrubber), path).map_err(|e| std::io::Error::other(e.to_string()))
            }
            None => Ok(()),
        };
        let mut engine = req.engine.clone();
        let secret_env = req.secrets.iter().map(|(name, value)| (name.clone(), value.expose().to_string()));
        engine.launch.env.extend(secret_env);
        let end = run_cells(&mut nb, &spec, &engine, &mut save, observer, stop)
            .await
            .map_err(Failure::KernelStart)?;
        failure = match end {
            RunEnd::Completed | RunEnd::Exited { .. } | RunEnd::CellError { .. } => None,
            RunEnd::Timeout { cell_index, after } => Some(Failure::Timeout { cell_index, after }),
            RunEnd::KernelDied { cell_index, reason } => Some(Failure::KernelDied { cell_index, reason }),
            RunEnd::Stopped { signal, .. } => Some(Failure::Stopped { signal }),
        };
        // Before the error is read: its message goes to the log and the error markers.
        scrubber.scrub_notebook(&mut nb);
        let error = if req.engine.allow_errors { None } else { execution::find_execution_error(&nb) };
        if let Some(error) = error {
            execution::add_error_markers(&mut nb, &error);
            failure = failure.or(Some(Failure::CellError(error)));
        }
    }
    write_output(&nb, output_path.as_deref())?;
    Ok(ExecuteReport { notebook: nb, output_path: file_path, placement, warnings, failure })
}

fn scrubbed<'a>(nb: &'a Notebook, scrubber: &Scrubber) -> std::borrow::Cow<'a, Notebook> {
    if scrubber.is_empty() {
        return std::borrow::Cow::Borrowed(nb);
    }
    let mut copy = nb.clone();
    scrubber.scrub_notebook(&mut copy);
    std::borrow::Cow::Owned(copy)
}

/// Passes the run's text on to another observer with the secrets scrubbed from it.
/// Stream text is scrubbed as it arrives, holding back only a possible secret's start
/// until the next piece or the end of the cell.
struct ScrubbingObserver<'a> {
    inner: &'a mut dyn RunObserver,
    scrubber: &'a Scrubber,
    live: Vec<(String, LiveScrubber<'a>)>,
}

impl<'a> ScrubbingObserver<'a> {
    fn new(inner: &'a mut dyn RunObserver, scrubber: &'a Scrubber) -> ScrubbingObserver<'a> {
        ScrubbingObserver {
            inner,
            scrubber,
            live: Vec::new(),
        }
    }

    fn flush(&mut self) {
        for (name, live) in std::mem::take(&mut self.live) {
            let rest = live.finish();
            if !rest.is_empty() {
                self.inner.stream(&name, &rest);
            }
        }
    }
}

impl RunObserver for ScrubbingObserver<'_> {
    fn cell_started(&mut self, index: usize, total: usize, description: Option<&str>) {
        self.inner.cell_started(index, total, description);
    }

    fn cell_finished(&mut self, index: usize, total: usize) {
        self.flush();
        self.inner.cell_finished(index, total);
    }

    fn stream(&mut self, name: &str, text: &str) {
        if self.scrubber.is_empty() {
            return self.inner.stream(name, text);
        }
        let at = match self.live.iter().position(|(n, _)| n == name) {
            Some(at) => at,
            None => {
                self.live
                    .push((name.to_string(), LiveScrubber::new(self.scrubber)));
                self.live.len() - 1
            }
        };
        let clean = self.live[at].1.push(text);
        if !clean.is_empty() {
            self.inner.stream(name, &clean);
        }
    }

    fn display_text(&mut self, text: &str) {
        self.inner.display_text(&self.scrubber.scrub(text));
    }

    fn warning(&mut self, message: &str) {
        self.inner.warning(&self.scrubber.scrub(message));
    }

    fn phase(&mut self, name: &str, took: Duration) {
        self.inner.phase(name, took);
    }
}

impl Drop for ScrubbingObserver<'_> {
    // A run that ends mid-cell (timeout, dead kernel) still lets out what it held.
    fn drop(&mut self) {
        self.flush();
    }
}

/// The secrets named by environment variable (`huntbook run --secret NAME`), read from
/// this process's environment; a name that is not set is bad input.
pub fn secrets_from_env(names: &[String]) -> Result<Vec<(String, Secret)>, Failure> {
    let resolver = SecretResolver::new().with_source(EnvSource);
    names
        .iter()
        .map(|name| {
            let reference = SecretRef::EnvironmentVar { name: name.clone() };
            let secret = resolver
                .resolve(&reference)
                .map_err(|e| Failure::BadInput(format!("secret {name}: {e}")))?;
            Ok((name.clone(), secret))
        })
        .collect()
}

/// Tells the observer now and keeps the warning for the report.
fn warn(warnings: &mut Vec<String>, observer: &mut dyn RunObserver, message: String) {
    observer.warning(&message);
    warnings.push(message);
}

fn reject_remote(path: &str) -> Result<(), Failure> {
    let remote = ["s3://", "abs://", "adl://", "gs://", "hdfs://", "http://", "https://"];
    match remote.iter().find(|scheme| path.starts_with(*scheme)) {
        Some(scheme) => Err(Failure::BadInput(format!(
            "{path}: {scheme} paths are not supported here; copy the notebook to a local file \
             (object storage comes with `huntbook serve`'s output store)"
        ))),
        None => Ok(()),
    }
}

fn read_input(path: &str) -> Result<Notebook, Failure> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::BadInput(format!("cannot read the notebook from stdin: {e}")))?;
        return nbio::parse(&text, "<stdin>").map_err(|e| Failure::BadInput(e.to_string()));
    }
    nbio::read_path(Path::new(path)).map_err(|e| Failure::BadInput(e.to_string()))
}

fn create_parent(path: &Path) -> Result<(), Failure> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| Failure::BadInput(format!("cannot create the output folder {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

fn write_output(nb: &Notebook, output_path: Option<&str>) -> Result<(), Failure> {
    match output_path {
        None => Ok(()),
        Some("-") => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(nbio::to_string(nb).as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| Failure::BadInput(format!("cannot write the notebook to stdout: {e}")))
        }
        Some(path) => nbio::write_path(nb, Path::new(path)).map_err(|e| Failure::BadInput(e.to_string())),
    }
}
