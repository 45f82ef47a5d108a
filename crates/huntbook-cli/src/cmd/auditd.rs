//! `huntbook auditd parse`: Linux audit logs (raw `audit.log` text, or Sentinel
//! `AuditLog`-style tables) to an event table with MSTICPy's columns.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use arrow_array::RecordBatch;
use huntbook_transform::auditd::{self, AuditdOptions, ParseWarning};

use super::table_io::{self, Progress};

/// Parse Linux audit (auditd) logs into event tables
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook auditd parse /var/log/audit/audit.log -o events.parquet")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Parse(ParseArgs),
}

/// Group audit records into events (SYSCALL + EXECVE become SYSCALL_EXECVE with cmdline)
#[derive(clap::Args)]
#[command(after_help = "\
Output columns: TimeGenerated (UTC), EventType, mssg_id (epoch:serial), then the event \
fields alphabetically (pid, ppid, uid, ... as integers, the rest as text). With \
--column, the input is a table (.csv, .jsonl, .parquet) with one event per row, its \
records in that column as Sentinel's AuditLog has them; the other columns are kept.

Lines (or rows) that are not audit records are reported on stderr with their line \
(or row) number and skipped; the rest is still written.

Examples:
  huntbook auditd parse audit.log -o events.parquet
  huntbook auditd parse audit.log --event-type SYSCALL_EXECVE -o execs.csv
      Only process executions, ready for `huntbook proctree build execs.csv --schema linux`.
  huntbook auditd parse auditlog.parquet --column AuditdMessage -o events.parquet")]
pub struct ParseArgs {
    /// A raw audit log, or with --column a table of Sentinel AuditLog rows
    pub input: PathBuf,
    /// Read the input as a table whose COLUMN holds each event's records
    #[arg(short = 'c', long, value_name = "COLUMN")]
    pub column: Option<String>,
    /// Keep only events of this type (SYSCALL_EXECVE, USER_LOGIN, ...)
    #[arg(long, value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Keep every field of every record, not only MSTICPy's selection
    #[arg(long)]
    pub all_fields: bool,
    /// Where to write the events (.csv, .jsonl or .parquet)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Warnings printed one by one; beyond this only their number is given.
const SHOWN_WARNINGS: usize = 20;

pub fn run(args: Args) -> u8 {
    match args.command {
        Command::Parse(args) => table_io::exit_code(parse(args)),
    }
}

fn parse(args: ParseArgs) -> Result<(), String> {
    table_io::check_output(&args.output)?;
    let options = AuditdOptions {
        all_fields: args.all_fields,
        event_type: args.event_type.clone(),
    };
    let progress = Progress::new();
    let (events, warnings) = match &args.column {
        Some(column) => read_rows(&args, column, &options, &progress)?,
        None => read_log(&args, &options, &progress)?,
    };
    report(&args, &warnings, &progress);
    let count = events.num_rows();
    table_io::write_output(&args.output, events, &progress)?;
    progress.note(format!(
        "{count} events written to {}",
        args.output.display()
    ));
    Ok(())
}

type Events = (RecordBatch, Vec<ParseWarning>);

/// Parses a raw log, with a bar over the bytes read.
fn read_log(
    args: &ParseArgs,
    options: &AuditdOptions,
    progress: &Progress,
) -> Result<Events, String> {
    let file = File::open(&args.input).map_err(|e| table_io::in_file(&args.input, e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader = progress.track_read(len, format!("Parsing {}", args.input.display()), file);
    auditd::parse_reader(BufReader::with_capacity(1 << 20, reader), options)
        .map_err(|e| table_io::in_file(&args.input, e))
}

/// Reads a table of Sentinel AuditLog rows.
fn read_rows(
    args: &ParseArgs,
    column: &str,
    options: &AuditdOptions,
    progress: &Progress,
) -> Result<Events, String> {
    let batch = table_io::read_input(&args.input, progress)?;
    table_io::require_columns(&args.input, &batch, &[column])?;
    progress.step(format!(
        "Reading audit events from {} rows",
        batch.num_rows()
    ));
    auditd::extract_events(&batch, column, options).map_err(|e| table_io::in_file(&args.input, e))
}

fn report(args: &ParseArgs, warnings: &[ParseWarning], progress: &Progress) {
    for warning in warnings.iter().take(SHOWN_WARNINGS) {
        progress.note(format!("warning: {}: {warning}", args.input.display()));
    }
    if warnings.len() > SHOWN_WARNINGS {
        progress.note(format!(
            "warning: {}: {} more lines or rows skipped or odd",
            args.input.display(),
            warnings.len() - SHOWN_WARNINGS
        ));
    }
}
