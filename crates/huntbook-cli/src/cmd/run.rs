//! `huntbook run`: run a parameterised notebook unattended, with papermill's options.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use huntbook_kernel::engine::{EngineOptions, RunObserver, StreamCopies};
use huntbook_kernel::run::{execute_notebook, secrets_from_env, ExecuteRequest};
use huntbook_kernel::{LaunchOptions, Transport};
use huntbook_notebook::outputs::DEFAULT_CELL_OUTPUT_LIMIT;
use huntbook_notebook::params::{inspect, ParameterSources, Parameters};
use indicatif::{ProgressBar, ProgressStyle};

const EXAMPLES: &str = "\
Examples:
  huntbook run ip_triage.ipynb out.ipynb -p ip_address 1.2.3.4 -p start \"2024-07-01 13:05\"
  huntbook run ip_triage.ipynb out.ipynb -f params.yaml
  huntbook run ip_triage.ipynb 'out/{year}/{month}/{day}/ip_triage_{ip_address}_{run_id}.ipynb' -y 'ip_address: 1.2.3.4'
  huntbook run ip_triage.ipynb out.ipynb --execution-timeout 600 --report-mode
  huntbook run ip_triage.ipynb --help-notebook          # which parameters does it take?
  huntbook run ip_triage.ipynb out.ipynb --secret VT_API_KEY   # the notebook reads $VT_API_KEY; never in the output
  cat ip_triage.ipynb | huntbook run - - -p ip_address 1.2.3.4 > out.ipynb

Parameters are merged in papermill's order, later wins: --inject-paths, -b, -f, -y, -p, -r.
`-p` values are typed as papermill types them (True/False/None, int, float, else a string);
`-r` keeps the value a string; YAML follows papermill's YAML 1.1 rules (yes -> True, 010 -> 8,
dates stay strings). Values are always injected as literals, never as code.

Output path fields: {year} {month} {day} {date} {time} {run_id} {notebook} and any parameter
name; text from parameters is sanitised so it cannot leave the output folder.

Exit codes:
  0    success (including sys.exit() / sys.exit(0) in a cell)
  1    a cell raised an exception (as papermill)
  2    bad input or usage (malformed notebook, parameters or options)
  3    the kernel could not be found or did not start
  124  a cell ran past --execution-timeout (the kernel was interrupted, then stopped)
  138  the kernel died (crash, os._exit, out of memory) (as papermill)
  130  stopped by SIGINT, 143 by SIGTERM (the notebook is saved as it stood)";

/// Run a parameterised notebook on a Jupyter kernel and save the output notebook.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Input notebook, or `-` to read it from stdin.
    pub notebook_path: String,
    /// Output notebook (may be a template), or `-` for stdout; defaults to `-` when
    /// stdout is not a terminal.
    pub output_path: Option<String>,
    /// A parameter, typed as papermill types it (repeatable).
    #[arg(short = 'p', long = "parameters", num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    pub parameters: Vec<String>,
    /// A parameter whose value stays a string (repeatable).
    #[arg(short = 'r', long = "parameters-raw", alias = "parameters_raw", num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    pub parameters_raw: Vec<String>,
    /// A YAML or JSON file of parameters (repeatable).
    #[arg(
        short = 'f',
        long = "parameters-file",
        alias = "parameters_file",
        value_name = "PATH"
    )]
    pub parameters_file: Vec<PathBuf>,
    /// Parameters as a YAML string (repeatable).
    #[arg(
        short = 'y',
        long = "parameters-yaml",
        alias = "parameters_yaml",
        value_name = "YAML"
    )]
    pub parameters_yaml: Vec<String>,
    /// Parameters as base64-encoded YAML (repeatable).
    #[arg(
        short = 'b',
        long = "parameters-base64",
        alias = "parameters_base64",
        value_name = "BASE64"
    )]
    pub parameters_base64: Vec<String>,
    /// Add PAPERMILL_INPUT_PATH as a parameter.
    #[arg(long)]
    pub inject_input_path: bool,
    /// Add PAPERMILL_OUTPUT_PATH as a parameter.
    #[arg(long)]
    pub inject_output_path: bool,
    /// Add both PAPERMILL_INPUT_PATH and PAPERMILL_OUTPUT_PATH.
    #[arg(long)]
    pub inject_paths: bool,
    /// Kernel name to use instead of the notebook's (recorded in the output).
    #[arg(short = 'k', long = "kernel", value_name = "NAME")]
    pub kernel: Option<String>,
    /// Language of the notebook, for parameter rendering and kernel choice.
    #[arg(short = 'l', long = "language", value_name = "LANG")]
    pub language: Option<String>,
    /// A Python interpreter or virtualenv to run the kernel with (its kernelspecs are
    /// searched first and `python` in the kernelspec means this interpreter).
    #[arg(long, value_name = "PATH", env = "HUNTBOOK_PYTHON")]
    pub python: Option<PathBuf>,
    /// Working directory of the kernel.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Inject parameters and write the output without running anything (no kernel needed).
    #[arg(long)]
    pub prepare_only: bool,
    /// Hide code cells' input in the output notebook (and in `huntbook export`).
    #[arg(long)]
    pub report_mode: bool,
    /// Keep running after a cell raises; exit 0.
    #[arg(long)]
    pub allow_errors: bool,
    /// Seconds to wait for the kernel to start.
    #[arg(
        long,
        alias = "start_timeout",
        value_name = "SECS",
        default_value_t = 60.0
    )]
    pub start_timeout: f64,
    /// Seconds a cell may run before the kernel is interrupted and the run stopped.
    #[arg(long, value_name = "SECS")]
    pub execution_timeout: Option<f64>,
    /// Save the output notebook at least this often while a cell runs (0 disables).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub autosave_cell_every: f64,
    /// Output kept per cell, in bytes; beyond it output is dropped with a notice.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CELL_OUTPUT_LIMIT)]
    pub max_cell_output: usize,
    /// Show a progress bar over cells (on by default when stderr is a terminal).
    #[arg(long, overrides_with = "no_progress_bar")]
    pub progress_bar: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress_bar: bool,
    /// Print cells' output to stderr as it arrives.
    #[arg(long)]
    pub log_output: bool,
    /// How much huntbook says: DEBUG, INFO, WARNING, ERROR or CRITICAL.
    #[arg(long, value_name = "LEVEL", default_value = "INFO", value_parser = ["NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], ignore_case = true)]
    pub log_level: String,
    /// Append the cells' stdout to this file as it arrives.
    #[arg(long, value_name = "FILE")]
    pub stdout_file: Option<PathBuf>,
    /// Append the cells' stderr to this file as it arrives.
    #[arg(long, value_name = "FILE")]
    pub stderr_file: Option<PathBuf>,
    /// Show the parameters the notebook declares, then exit.
    #[arg(long)]
    pub help_notebook: bool,
    /// An environment variable holding a secret the notebook reads (repeat for more):
    /// parameters that name or hold a secret are refused, and its value is scrubbed
    /// from the output notebook and the logged output (also base64, hex or URL encoded).
    #[arg(long = "secret", value_name = "ENV_VAR")]
    pub secrets: Vec<String>,
    /// How to talk to a local kernel: ipc (Unix sockets, no port races) or tcp.
    #[arg(long, value_name = "KIND", default_value = "ipc", value_parser = ["ipc", "tcp"])]
    pub transport: String,
}

pub fn run(args: Args) -> u8 {
    if args.help_notebook {
        return help_notebook(&args.notebook_path);
    }
    let parameters = match collect_parameters(&args) {
        Ok(p) => p,
        Err(message) => return super::fail(message),
    };
    let secrets = match secrets_from_env(&args.secrets) {
        Ok(s) => s,
        Err(failure) => return super::fail(failure),
    };
    let output_path = match &args.output_path {
        Some(path) => Some(path.clone()),
        None if !std::io::stdout().is_terminal() => Some("-".into()),
        None => None,
    };
    let to_stdout = output_path.as_deref() == Some("-");
    let level = Level::parse(&args.log_level, to_stdout);
    let request = ExecuteRequest {
        input_path: args.notebook_path.clone(),
        output_path: output_path.clone(),
        parameters,
        kernel_name: args.kernel.clone(),
        language: args.language.clone(),
        python: args.python.clone(),
        prepare_only: args.prepare_only,
        report_mode: args.report_mode,
        inject_input_path: args.inject_input_path || args.inject_paths,
        inject_output_path: args.inject_output_path || args.inject_paths,
        engine: EngineOptions {
            launch: LaunchOptions {
                cwd: args.cwd.clone(),
                start_timeout: seconds(args.start_timeout),
                transport: if args.transport == "tcp" {
                    Transport::Tcp
                } else {
                    Transport::Ipc
                },
                env: vec![("PYDEVD_DISABLE_FILE_VALIDATION".into(), "1".into())],
                ..LaunchOptions::default()
            },
            execution_timeout: args.execution_timeout.map(seconds),
            interrupt_grace: Duration::from_secs(5),
            allow_errors: args.allow_errors,
            autosave_every: seconds(args.autosave_cell_every),
            max_cell_output: args.max_cell_output,
            pool: None,
        },
        secrets,
    };
    level.info(&format!("Input Notebook:  {}", args.notebook_path));
    if let Some(out) = &output_path {
        level.info(&format!("Output Notebook: {out}"));
    }

    let show_bar = !args.no_progress_bar
        && !args.log_output
        && !to_stdout
        && !args.prepare_only
        && (args.progress_bar || std::io::stderr().is_terminal());
    let mut observer = match CliObserver::new(&args, level, show_bar) {
        Ok(o) => o,
        Err(message) => return super::fail(message),
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(None);
        tokio::spawn(forward_signals(stop_tx));
        execute_notebook(&request, &mut observer, &mut stop_rx).await
    });
    observer.finish();
    match result {
        Err(failure) => {
            eprintln!("huntbook: error: {failure}");
            failure.exit_code()
        }
        Ok(report) => {
            if let Some(path) = &report.output_path {
                level.info(&format!("Output notebook written to {}", path.display()));
            }
            match report.failure {
                None => 0,
                Some(failure) => {
                    eprintln!("huntbook: error: {failure}");
                    failure.exit_code()
                }
            }
        }
    }
}

/// papermill's `--help-notebook`.
fn help_notebook(path: &str) -> u8 {
    let nb = match huntbook_notebook::io::read_path(std::path::Path::new(path)) {
        Ok(nb) => nb,
        Err(e) => return super::fail(e),
    };
    match inspect::inspect(&nb) {
        Ok(declared) => {
            print!("{}", inspect::format_help_notebook(path, &declared));
            0
        }
        Err(e) => {
            println!("\n  {e}");
            1
        }
    }
}

fn collect_parameters(args: &Args) -> Result<Parameters, String> {
    let mut sources = ParameterSources::new();
    for b64 in &args.parameters_base64 {
        sources = sources.base64(b64);
    }
    for file in &args.parameters_file {
        sources = sources.file(file);
    }
    for yaml in &args.parameters_yaml {
        sources = sources.yaml(yaml);
    }
    for pair in args.parameters.chunks(2) {
        sources = sources.value(&pair[0], &pair[1]);
    }
    for pair in args.parameters_raw.chunks(2) {
        sources = sources.raw(&pair[0], &pair[1]);
    }
    sources.resolve().map_err(|e| e.to_string())
}

fn seconds(secs: f64) -> Duration {
    Duration::from_secs_f64(secs.max(0.0))
}

/// Turns SIGINT / SIGTERM / SIGHUP into a stop request for the run.
async fn forward_signals(stop: tokio::sync::watch::Sender<Option<i32>>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    let number = tokio::select! {
        _ = int.recv() => libc::SIGINT,
        _ = term.recv() => libc::SIGTERM,
        _ = hup.recv() => libc::SIGHUP,
    };
    let _ = stop.send(Some(number));
}

/// papermill's log levels, reduced to what huntbook prints.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

impl Level {
    /// As papermill, INFO becomes ERROR when the notebook goes to stdout.
    fn parse(text: &str, to_stdout: bool) -> Level {
        let level = match text.to_ascii_uppercase().as_str() {
            "NOTSET" | "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARNING" => Level::Warning,
            _ => Level::Error,
        };
        if to_stdout && level == Level::Info {
            Level::Error
        } else {
            level
        }
    }

    fn debug(self, message: &str) {
        if self <= Level::Debug {
            eprintln!("huntbook: {message}");
        }
    }

    fn info(self, message: &str) {
        if self <= Level::Info {
            eprintln!("huntbook: {message}");
        }
    }

    fn warn(self, message: &str) {
        if self <= Level::Warning {
            eprintln!("huntbook: warning: {message}");
        }
    }
}

/// Progress bar, `--log-output` and `--stdout-file` / `--stderr-file`.
struct CliObserver {
    bar: Option<ProgressBar>,
    log_output: bool,
    level: Level,
    streams: StreamCopies,
}

impl CliObserver {
    fn new(args: &Args, level: Level, show_bar: bool) -> Result<CliObserver, String> {
        let streams = StreamCopies::open(
            args.stdout_file.as_deref(),
            args.stderr_file.as_deref(),
            args.log_output,
        )?;
        let bar = show_bar.then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>12} {bar:30} {pos}/{len} cells [{elapsed_precise}]",
                )
                .expect("valid template"),
            );
            bar.set_message("Executing");
            bar
        });
        Ok(CliObserver {
            bar,
            log_output: args.log_output,
            level,
            streams,
        })
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

impl RunObserver for CliObserver {
    fn cell_started(&mut self, index: usize, total: usize, description: Option<&str>) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            if let Some(description) = description {
                bar.set_message(format!("Executing {description}"));
            }
        }
        if self.log_output {
            eprintln!("Executing Cell {:-<40}", index + 1);
        }
    }

    fn cell_finished(&mut self, index: usize, _total: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        if self.log_output {
            eprintln!("Ending Cell {:-<43}", index + 1);
        }
    }

    fn stream(&mut self, name: &str, text: &str) {
        self.streams.write(name, text);
    }

    fn display_text(&mut self, text: &str) {
        if self.log_output {
            eprintln!("{text}");
        }
    }

    fn warning(&mut self, message: &str) {
        self.level.warn(message);
    }

    fn phase(&mut self, name: &str, took: Duration) {
        self.level.debug(&format!(
            "{name} took {:.1} ms",
            took.as_secs_f64() * 1000.0
        ));
    }
}
