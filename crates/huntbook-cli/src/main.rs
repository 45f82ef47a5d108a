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
  huntbook run ip_triage.ipynb out.ipynb -p ip_address 1.2.3.4   # run a notebook with parameters
  huntbook params ip_triage.ipynb                                # which parameters does it take?
  huntbook scraps out.ipynb                                      # what did the run record?
  huntbook export out.ipynb --no-input -o report.html            # a self-contained HTML report
  huntbook ioc extract events.csv --column CommandLine -o iocs.csv  # indicators in a column
  huntbook ioc type 'hxxps://evil-site[.]com/a'                     # prints: url
  huntbook b64 unpack events.parquet --column CommandLine -o decoded.parquet
  huntbook proctree build procs.csv -o tree.parquet --summary       # process trees
  huntbook proctree show procs.csv --root 'cmd.exe|0x1a4c'          # one tree as text
  huntbook auditd parse audit.log -o events.parquet                 # audit log to events
  huntbook mask events.csv -o masked.csv                            # key: $HUNTBOOK_MASK_KEY
  huntbook config check --resolve                                   # settings, origins, problems
  huntbook query list --env MSSentinel --search logon               # query templates
  huntbook sample-data -o data                                      # a SOC dataset to hunt in
  huntbook query run SecurityAlert.list_alerts --data data --start -7d -o alerts.parquet
  huntbook geoip 8.8.8.8 81.2.69.160                                # where are they?
  huntbook whois --file signins.csv --column SourceIP -o whois.parquet  # who holds them?
  huntbook ti lookup 38.75.137.9 evil-site.com                      # threat intel
  huntbook analyse timeseries bytes.csv --time TimeGenerated --value TotalBytesSent -o scored.csv
  huntbook plot timeline events.csv --group-by Operation -o timeline.html  # an interactive chart
  huntbook serve                                                    # API + workers (huntbook.yaml)
  huntbook token create --scope run                                 # an API token, shown once
  huntbook submit ip_context -p ip_address 1.2.3.4 --wait           # run through the service
  huntbook runs list --status failed                                # what the service ran

Tables are CSV, JSON lines (.jsonl) or Parquet, by file extension.

`huntbook COMMAND --help` shows each command's options and examples."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Boxed: its many options would make every variant as large.
    Run(Box<cmd::run::Args>),
    Params(cmd::params::Args),
    Scraps(cmd::scraps::Args),
    Export(cmd::export::Args),
    Ioc(cmd::ioc::Args),
    B64(cmd::b64::Args),
    Proctree(cmd::proctree::Args),
    Auditd(cmd::auditd::Args),
    Mask(cmd::mask::Args),
    Config(cmd::config::Args),
    Query(cmd::query::Args),
    SampleData(cmd::sample_data::Args),
    Geoip(cmd::geo::GeoipArgs),
    Whois(cmd::geo::WhoisArgs),
    Ti(cmd::ti::Args),
    Analyse(cmd::analyse::Args),
    Plot(cmd::plot::Args),
    Serve(cmd::serve::Args),
    Token(cmd::token::Args),
    Submit(cmd::submit::Args),
    Runs(cmd::runs::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => cmd::run::run(*args),
        Command::Params(args) => cmd::params::run(args),
        Command::Scraps(args) => cmd::scraps::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Ioc(args) => cmd::ioc::run(args),
        Command::B64(args) => cmd::b64::run(args),
        Command::Proctree(args) => cmd::proctree::run(args),
        Command::Auditd(args) => cmd::auditd::run(args),
        Command::Mask(args) => cmd::mask::run(args),
        Command::Config(args) => cmd::config::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::SampleData(args) => cmd::sample_data::run(args),
        Command::Geoip(args) => cmd::geo::run_geoip(args),
        Command::Whois(args) => cmd::geo::run_whois(args),
        Command::Ti(args) => cmd::ti::run(args),
        Command::Analyse(args) => cmd::analyse::run(args),
        Command::Plot(args) => cmd::plot::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Token(args) => cmd::token::run(args),
        Command::Submit(args) => cmd::submit::run(args),
        Command::Runs(args) => cmd::runs::run(args),
    };
    ExitCode::from(code)
}
