//! The `huntbook` command: a thin clap layer over the huntbook crates.
//!
//! Each subcommand lives in its own module under `cmd/` with an `Args` struct (its
//! options, help and examples) and a `run` function returning the process exit code.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for bad input or usage (a malformed notebook, an unknown option).
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "huntbook",
    version,
    about = "Security operations and threat hunting with Jupyter notebooks",
    after_help = "\
Examples:
  huntbook run triage.ipynb out.ipynb -p ip_address 1.2.3.4   # run a notebook with parameters
  huntbook params triage.ipynb                                # which parameters does it take?
  huntbook scraps out.ipynb                                   # what did the run record?
  huntbook export out.ipynb --no-input -o report.html         # a self-contained HTML report

`huntbook COMMAND --help` shows each command's options and examples."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(cmd::run::Args),
    Params(cmd::params::Args),
    Scraps(cmd::scraps::Args),
    Export(cmd::export::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => cmd::run::run(args),
        Command::Params(args) => cmd::params::run(args),
        Command::Scraps(args) => cmd::scraps::run(args),
        Command::Export(args) => cmd::export::run(args),
    };
    ExitCode::from(code)
}
