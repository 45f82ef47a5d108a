//! `huntbook proctree`: process trees from process-creation events (`build` writes
//! MSTICPy's tree table, `show` prints the tree as text).

use std::io::Write;
use std::path::{Path, PathBuf};

use huntbook_transform::proctree::{self, ProcSchema, ProcessTree, TextOptions};

use super::table_io::{self, Progress};

/// Process trees from process-creation events (Windows 4688, Sysmon, Defender, auditd, ...)
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook proctree build procs.csv --schema sysmon -o tree.parquet --summary
  huntbook proctree show procs.csv --root 'cmd.exe|0x1a4c'")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Build(BuildArgs),
    Show(ShowArgs),
}

const SCHEMA_HELP: &str = "\
Schemas: windows (4688), sysmon, mde (DeviceProcessEvents), mde_internal, linux (auditd \
SYSCALL_EXECVE), osquery, hx (FireEye HX); or a JSON file mapping MSTICPy's ProcSchema \
fields (process_name, process_id, parent_id, time_stamp, ...) to your columns. Without \
--schema, the built-in schema sharing the most columns with the input is used.";

/// Link each process to its parent and write the tree table
#[derive(clap::Args)]
#[command(after_help = format!("\
{SCHEMA_HELP}

The output has MSTICPy's columns: proc_key, the input columns, parent_key, IsRoot, \
IsLeaf, IsBranch, path, parent_index and the rest; parents that are not in the input \
get an inferred row.

Examples:
  huntbook proctree build procs.csv -o tree.parquet --summary
  huntbook proctree build sysmon.jsonl --schema sysmon -o tree.csv
  huntbook proctree build procs.parquet --schema my_schema.json --summary"))]
pub struct BuildArgs {
    /// The process events (.csv, .jsonl or .parquet)
    pub input: PathBuf,
    /// A built-in schema name or a JSON column map (default: inferred from the columns)
    #[arg(short = 's', long, value_name = "NAME|FILE.json")]
    pub schema: Option<String>,
    /// Where to write the tree table (.csv, .jsonl or .parquet)
    #[arg(
        short = 'o',
        long,
        value_name = "FILE",
        required_unless_present = "summary"
    )]
    pub output: Option<PathBuf>,
    /// Print the tree's summary (Processes, RootProcesses, ... LargestTreeDepth)
    #[arg(long)]
    pub summary: bool,
}

/// Print process trees as indented text
#[derive(clap::Args)]
#[command(after_help = format!("\
{SCHEMA_HELP}

--root takes a process key or its start: 'name|pid' or 'name|pid|time-prefix', where \
the name may be the file name alone (cmd.exe|0x1a4c finds \
c:\\windows\\system32\\cmd.exe|0x1a4c|...). Every tree holding a match is shown.

Examples:
  huntbook proctree show procs.csv
  huntbook proctree show procs.csv --root 'cmd.exe|0x1a4c'
  huntbook proctree show procs.parquet --schema windows --root 'powershell.exe|0x2a0' --wrap 0"))]
pub struct ShowArgs {
    /// The process events (.csv, .jsonl or .parquet)
    pub input: PathBuf,
    /// A built-in schema name or a JSON column map (default: inferred from the columns)
    #[arg(short = 's', long, value_name = "NAME|FILE.json")]
    pub schema: Option<String>,
    /// Show only the tree holding this process (a key, or name|pid[|time-prefix])
    #[arg(long, value_name = "KEY")]
    pub root: Option<String>,
    /// Wrap lines at this many characters (0: no wrapping)
    #[arg(long, value_name = "COLUMNS", default_value_t = 80)]
    pub wrap: usize,
    /// Show only process names, pids and command lines (no times or accounts)
    #[arg(long)]
    pub brief: bool,
}

pub fn run(args: Args) -> u8 {
    match args.command {
        Command::Build(args) => table_io::exit_code(build(args)),
        Command::Show(args) => table_io::exit_code(show(args)),
    }
}

fn build(args: BuildArgs) -> Result<(), String> {
    if let Some(output) = &args.output {
        table_io::check_output(output)?;
    }
    let progress = Progress::new();
    let tree = build_tree(&args.input, args.schema.as_deref(), &progress)?;
    let summary = tree.summary();
    if let Some(output) = &args.output {
        table_io::write_output(output, tree.into_batch(), &progress)?;
        progress.note(format!(
            "{} processes written to {}",
            summary.processes,
            output.display()
        ));
    }
    drop(progress);
    if args.summary {
        let lines = [
            ("Processes", summary.processes),
            ("RootProcesses", summary.root_processes),
            ("LeafProcesses", summary.leaf_processes),
            ("BranchProcesses", summary.branch_processes),
            ("IsolatedProcesses", summary.isolated_processes),
            ("LargestTreeDepth", summary.largest_tree_depth),
        ];
        print_text(
            &lines
                .iter()
                .map(|(name, n)| format!("{name}: {n}\n"))
                .collect::<String>(),
        );
    }
    Ok(())
}

fn show(args: ShowArgs) -> Result<(), String> {
    let progress = Progress::new();
    let tree = build_tree(&args.input, args.schema.as_deref(), &progress)?;
    let rows = match &args.root {
        None => None,
        Some(key) => {
            let found = tree.find_one(key).map_err(|e| {
                format!("{e}; keys look like name|pid|time, as in the proc_key column of `huntbook proctree build`")
            })?;
            let mut rows = Vec::new();
            for row in found {
                rows.extend(tree.root_tree(row).map_err(|e| e.to_string())?);
            }
            Some(rows)
        }
    };
    progress.step("Rendering".into());
    let options = TextOptions {
        wrap: args.wrap,
        details: !args.brief,
    };
    let text = tree.to_text(rows.as_deref(), &options);
    drop(progress);
    print_text(&text);
    Ok(())
}

/// Reads the events and builds the tree, saying which schema was used.
fn build_tree(
    input: &Path,
    schema: Option<&str>,
    progress: &Progress,
) -> Result<ProcessTree, String> {
    let schema = schema.map(load_schema).transpose()?;
    let batch = table_io::read_input(input, progress)?;
    progress.step(format!(
        "Building process trees from {} events",
        batch.num_rows()
    ));
    let tree = proctree::build_process_tree(&batch, schema.as_ref())
        .map_err(|e| table_io::in_file(input, e))?;
    let used = &tree.schema().name;
    if schema.is_none() {
        progress.note(format!(
            "{}: read with the {used} schema (inferred from its columns)",
            input.display()
        ));
    }
    Ok(tree)
}

/// A built-in schema by name, or a column map from a JSON file.
pub(super) fn load_schema(name: &str) -> Result<ProcSchema, String> {
    let path = Path::new(name);
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return ProcSchema::by_name(name).map_err(|e| e.to_string());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{name}: not valid JSON ({e}); expected a column map object"))?;
    ProcSchema::from_json(&value).map_err(|e| format!("{name}: {e}"))
}

/// Prints to stdout; a closed pipe (`| head`) is not an error worth reporting.
fn print_text(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
