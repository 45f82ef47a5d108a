//! `huntbook config`: check the configuration huntbook would use, or write a
//! starting file.

use std::path::PathBuf;

use huntbook_core::config::{self, Config, ConfigSearch, FileKind, Report, SecretStatus, Severity};
use huntbook_core::secret::SecretResolver;
use huntbook_notebook::io::write_atomic;

/// Check or create huntbook's configuration (huntbook.yaml over msticpyconfig.yaml)
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Check(CheckArgs),
    Init(InitArgs),
}

/// List the configuration files found, every setting with where it came from, and
/// every problem
#[derive(clap::Args)]
#[command(after_help = "\
Files are looked for in this order; for each of the two the first that exists is used, \
and huntbook.yaml overrides msticpyconfig.yaml key by key:
  msticpyconfig.yaml: --msticpy, $MSTICPYCONFIG, ./msticpyconfig.yaml, ~/.msticpy/msticpyconfig.yaml
  huntbook.yaml:      --config, $HUNTBOOK_CONFIG, ./huntbook.yaml, ~/.config/huntbook/huntbook.yaml

Credentials are shown as where they are kept ([secret: EnvironmentVar VT_KEY]), never \
their value. Exits 0 when there are no errors (warnings allowed), 2 otherwise.

Examples:
  huntbook config check
  huntbook config check --resolve                   # are the env vars and files there?
  huntbook config check --config team.yaml --msticpy ~/msticpyconfig.yaml")]
pub struct CheckArgs {
    /// The huntbook.yaml to use instead of searching for one
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The msticpyconfig.yaml to use instead of searching for one
    #[arg(long, value_name = "FILE")]
    pub msticpy: Option<PathBuf>,
    /// Also read environment-variable and file credentials and report each as ok or
    /// missing (values are never printed; vault credentials are not fetched)
    #[arg(long)]
    pub resolve: bool,
}

/// Write a commented huntbook.yaml to start from
#[derive(clap::Args)]
#[command(after_help = "\
The file has every section, with examples commented out, and shows each way of \
writing a credential: a literal, {EnvironmentVar: NAME}, {File: PATH}, {KeyVault: ...} \
and {HashiCorpVault: {Path: ..., Key: ...}}.

Examples:
  huntbook config init                              # ./huntbook.yaml
  huntbook config init -o ~/.config/huntbook/huntbook.yaml
  huntbook config init --force                      # replace an existing file")]
pub struct InitArgs {
    /// Where to write the file
    #[arg(
        short = 'o',
        long,
        value_name = "FILE",
        default_value = "huntbook.yaml"
    )]
    pub output: PathBuf,
    /// Replace the file if it exists
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> u8 {
    match args.command {
        Command::Check(args) => check(args),
        Command::Init(args) => init(args),
    }
}

fn check(args: CheckArgs) -> u8 {
    let search = ConfigSearch {
        msticpy_file: args.msticpy,
        huntbook_file: args.config,
        ..ConfigSearch::from_process()
    };
    let config = match Config::load(&search) {
        Ok(config) => config,
        Err(err) => {
            return super::fail(format!(
                "{err}\n(fix the file, or name another with --config/--msticpy)"
            ))
        }
    };
    let resolver = args.resolve.then(SecretResolver::local);
    let report = config.check(resolver.as_ref());
    print!("{}", render(&report));
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors == 0 {
        return 0;
    }
    super::fail(format!(
        "the configuration has {errors} error{}; fix the settings listed under Errors",
        if errors == 1 { "" } else { "s" }
    ))
}

fn render(report: &Report) -> String {
    let mut out = String::from("Files (in search order):\n");
    for kind in [FileKind::Msticpy, FileKind::Huntbook] {
        out.push_str(&format!("  {}\n", kind.file_name()));
        for file in report.files.iter().filter(|f| f.kind == kind) {
            out.push_str(&format!("    {file}\n"));
        }
    }
    out.push_str("\nSettings:\n");
    for setting in &report.settings {
        out.push_str(&format!(
            "  {} = {}  ({})\n",
            setting.key, setting.shown, setting.origin
        ));
    }
    if !report.secrets.is_empty() {
        out.push_str("\nCredentials:\n");
        for secret in &report.secrets {
            let status = match &secret.status {
                SecretStatus::Ok => "ok".to_string(),
                SecretStatus::Missing(why) => format!("missing: {why}"),
                SecretStatus::NotChecked => {
                    "not checked (vault credentials are fetched when used)".to_string()
                }
            };
            out.push_str(&format!(
                "  {} ({}): {status}\n",
                secret.key, secret.reference
            ));
        }
    }
    for (severity, title) in [(Severity::Error, "Errors"), (Severity::Warning, "Warnings")] {
        let problems: Vec<_> = report
            .problems
            .iter()
            .filter(|p| p.severity == severity)
            .collect();
        if !problems.is_empty() {
            out.push_str(&format!("\n{title}:\n"));
            for problem in problems {
                out.push_str(&format!("  {problem}\n"));
            }
        }
    }
    let count = |severity| {
        report
            .problems
            .iter()
            .filter(|p| p.severity == severity)
            .count()
    };
    out.push_str(&format!(
        "\n{} errors, {} warnings\n",
        count(Severity::Error),
        count(Severity::Warning)
    ));
    out
}

fn init(args: InitArgs) -> u8 {
    if !args.force && args.output.exists() {
        return super::fail(format!(
            "{} already exists; use --force to replace it, or -o to write elsewhere",
            args.output.display()
        ));
    }
    if let Err(err) = write_atomic(&args.output, config::TEMPLATE.as_bytes()) {
        return super::fail(format!("cannot write {}: {err}", args.output.display()));
    }
    println!(
        "wrote {}; edit it, then run `huntbook config check`",
        args.output.display()
    );
    0
}
