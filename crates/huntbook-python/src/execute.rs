//! `execute_notebook` and `inspect_notebook` for Python, over `huntbook_kernel::execute`.
//!
//! The run happens with the GIL released; a small task re-takes it every 200 ms to let
//! Python see Ctrl-C (a `KeyboardInterrupt` in Jupyter stops the run cleanly) and the
//! optional progress callback is called with the GIL held.

use std::path::PathBuf;
use std::time::Duration;

use huntbook_kernel::engine::{EngineOptions, RunObserver, StreamCopies};
use huntbook_kernel::run::{execute_notebook, secrets_from_env, ExecuteRequest, Failure};
use huntbook_kernel::{LaunchOptions, Transport};
use huntbook_notebook::outputs::DEFAULT_CELL_OUTPUT_LIMIT;
use huntbook_notebook::params::{inspect, Parameters};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_execute_notebook, m)?)?;
    m.add_function(wrap_pyfunction!(_inspect_notebook, m)?)?;
    Ok(())
}

/// Runs a notebook; returns the output notebook as JSON text. Failures raise the
/// exception classes of `huntbook.errors`.
#[pyfunction]
#[pyo3(signature = (input_path, output_path, parameters, kernel_name, language, cwd, python, execution_timeout, start_timeout, prepare_only, report_mode, allow_errors, log_output, stdout_file, stderr_file, autosave_cell_every, inject_paths, progress, secrets))]
#[allow(clippy::too_many_arguments)]
fn _execute_notebook(
    py: Python<'_>,
    input_path: String,
    output_path: Option<String>,
    parameters: Option<&Bound<'_, PyDict>>,
    kernel_name: Option<String>,
    language: Option<String>,
    cwd: Option<PathBuf>,
    python: Option<PathBuf>,
    execution_timeout: Option<f64>,
    start_timeout: f64,
    prepare_only: bool,
    report_mode: bool,
    allow_errors: bool,
    log_output: bool,
    stdout_file: Option<PathBuf>,
    stderr_file: Option<PathBuf>,
    autosave_cell_every: f64,
    inject_paths: bool,
    progress: Option<Py<PyAny>>,
    secrets: Vec<String>,
) -> PyResult<String> {
    let params = match parameters {
        Some(dict) => crate::params::py_to_parameters(dict)?,
        None => Parameters::new(),
    };
    let request = ExecuteRequest {
        input_path,
        output_path,
        parameters: params,
        kernel_name,
        language,
        python,
        prepare_only,
        report_mode,
        inject_input_path: inject_paths,
        inject_output_path: inject_paths,
        engine: EngineOptions {
            launch: LaunchOptions {
                cwd,
                start_timeout: seconds(start_timeout),
                transport: Transport::Ipc,
                env: vec![("PYDEVD_DISABLE_FILE_VALIDATION".into(), "1".into())],
                ..LaunchOptions::default()
            },
            execution_timeout: execution_timeout.map(seconds),
            interrupt_grace: Duration::from_secs(5),
            allow_errors,
            autosave_every: seconds(autosave_cell_every),
            max_cell_output: DEFAULT_CELL_OUTPUT_LIMIT,
            pool: None,
        },
        secrets: secrets_from_env(&secrets).map_err(|failure| to_py_err(py, failure, None))?,
    };
    let streams = StreamCopies::open(stdout_file.as_deref(), stderr_file.as_deref(), log_output)
        .map_err(PyValueError::new_err)?;
    let mut observer = PyObserver { progress, streams };
    let result = py.detach(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async {
            let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(None);
            tokio::spawn(watch_python_signals(stop_tx));
            execute_notebook(&request, &mut observer, &mut stop_rx).await
        })
    });
    match result {
        Err(failure) => Err(to_py_err(py, failure, None)),
        Ok(report) => {
            let text = huntbook_notebook::io::to_string(&report.notebook);
            match report.failure {
                None => Ok(text),
                Some(failure) => Err(to_py_err(py, failure, Some(text))),
            }
        }
    }
}

/// The parameters a notebook declares: a list of `(name, inferred_type_name, default, help)`.
#[pyfunction]
fn _inspect_notebook(path: PathBuf) -> PyResult<Vec<(String, String, String, String)>> {
    let nb = huntbook_notebook::io::read_path(&path)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let declared = inspect::inspect(&nb).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(declared
        .into_iter()
        .map(|p| (p.name, p.inferred_type_name, p.default, p.help))
        .collect())
}

/// Maps a failure to the exception classes defined in `huntbook/errors.py`.
fn to_py_err(py: Python<'_>, failure: Failure, notebook_json: Option<String>) -> PyErr {
    let message = failure.to_string();
    let build = || -> PyResult<PyErr> {
        let errors = py.import("huntbook.errors")?;
        let err = match &failure {
            Failure::BadInput(_) => return Ok(PyValueError::new_err(message.clone())),
            Failure::Stopped { .. } => return Ok(PyKeyboardInterrupt::new_err(message.clone())),
            Failure::KernelStart(_) => errors
                .getattr("KernelStartError")?
                .call1((message.clone(),))?,
            Failure::CellError(e) => errors.getattr("ExecutionError")?.call1((
                e.cell_index,
                e.exec_count,
                e.source.clone(),
                e.ename.clone(),
                e.evalue.clone(),
                e.traceback.clone(),
                message.clone(),
            ))?,
            Failure::Timeout { cell_index, .. } => errors
                .getattr("ExecutionTimeout")?
                .call1((*cell_index, message.clone()))?,
            Failure::KernelDied { cell_index, .. } => errors
                .getattr("DeadKernelError")?
                .call1((*cell_index, message.clone()))?,
        };
        if let Some(text) = &notebook_json {
            err.setattr("notebook_json", text)?;
        }
        Ok(PyErr::from_value(err))
    };
    build().unwrap_or_else(|e| e)
}

fn seconds(secs: f64) -> Duration {
    Duration::from_secs_f64(secs.max(0.0))
}

/// Lets Python's signal handlers run while the GIL is released; a pending
/// `KeyboardInterrupt` becomes a stop request for the run.
async fn watch_python_signals(stop: tokio::sync::watch::Sender<Option<i32>>) {
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let interrupted = Python::attach(|py| py.check_signals().is_err());
        if interrupted {
            let _ = stop.send(Some(SIGINT));
            return;
        }
        if stop.is_closed() {
            return;
        }
    }
}

/// SIGINT's number on every Unix huntbook supports.
const SIGINT: i32 = 2;

/// Progress callback, `log_output` and the stdout/stderr files.
struct PyObserver {
    progress: Option<Py<PyAny>>,
    streams: StreamCopies,
}

impl RunObserver for PyObserver {
    fn cell_finished(&mut self, index: usize, total: usize) {
        if let Some(callback) = &self.progress {
            Python::attach(|py| {
                if let Err(e) = callback.call1(py, (index + 1, total)) {
                    e.print(py);
                }
            });
        }
    }

    fn stream(&mut self, name: &str, text: &str) {
        self.streams.write(name, text);
    }

    fn warning(&mut self, message: &str) {
        Python::attach(|py| {
            let _ = py
                .import("warnings")
                .and_then(|w| w.call_method1("warn", (format!("huntbook: {message}"),)));
        });
    }
}
