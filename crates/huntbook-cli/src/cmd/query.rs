//! `huntbook query`: list the query templates of a data environment, show a query's
//! text with parameters filled in, and run queries over local data.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use huntbook_data::template::ParamType;
use huntbook_data::{Driver, Environment, ParamValue, QueryProvider, QueryStore};
use huntbook_table::{write_table, Table};

use super::table_io::{self, Progress};

/// Query templates (MSTICPy's YAML format): list, show and run them
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook query list --env MSSentinel --search logon
  huntbook query show SecurityAlert.list_alerts --env MSSentinel --start -7d
  huntbook sample-data -o data
  huntbook query run SecurityAlert.list_alerts --data data --start -7d -o alerts.parquet")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    List(ListArgs),
    Show(ShowArgs),
    Run(RunArgs),
}

/// Where queries come from.
#[derive(clap::Args)]
pub struct Source {
    /// Data environment (MSSentinel, Kusto, MDE, M365D, Splunk, Elastic, OpenSearch,
    /// LocalData, OSQueryLogs, VelociraptorLogs, ... or an alias such as LogAnalytics)
    #[arg(
        short = 'e',
        long = "env",
        default_value = "LocalData",
        value_name = "ENV"
    )]
    pub env: String,
    /// A folder of query files (read recursively) or one query file, added to the
    /// built-in library (repeatable; later ones replace queries of the same name)
    #[arg(long = "query-path", value_name = "PATH")]
    pub query_paths: Vec<PathBuf>,
    /// Folder of data files for LocalData, OSQueryLogs and VelociraptorLogs (repeatable)
    #[arg(short = 'd', long = "data", value_name = "DIR", default_value = ".")]
    pub data: Vec<PathBuf>,
}

/// List queries as Family.name with their descriptions
#[derive(clap::Args)]
#[command(after_help = "\
Lists the built-in queries of the environment (and those of --query-path). For \
OSQueryLogs and VelociraptorLogs, the queries are the tables found in the --data folders.

Examples:
  huntbook query list                                # LocalData
  huntbook query list --env MSSentinel --search logon
  huntbook query list --env Splunk --query-path my_queries/
  huntbook query list --env OSQueryLogs --data /var/log/osquery")]
pub struct ListArgs {
    #[command(flatten)]
    pub source: Source,
    /// Only queries whose name, description or tags contain this text (any case)
    #[arg(short = 's', long, value_name = "TEXT")]
    pub search: Option<String>,
}

/// Time range and parameter values for a query.
#[derive(clap::Args)]
pub struct Values {
    /// Start of the time range: -7d, -1d@d, 2024-05-01, 2024-05-01T12:00:00Z, now
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// End of the time range (same forms; default now)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub end: Option<String>,
    /// A parameter value NAME=VALUE (repeatable; lists are comma-separated)
    #[arg(
        short = 'p',
        long = "param",
        value_name = "NAME=VALUE",
        allow_hyphen_values = true
    )]
    pub params: Vec<String>,
}

/// Print a query's text with its parameters filled in (or its help)
#[derive(clap::Args)]
#[command(after_help = "\
A query with start and end parameters gets --start (default -1d) and --end (default \
now). Values are written as literals of the query language: quoted and escaped inside \
the query's strings, so a value cannot change the query.

Examples:
  huntbook query show SecurityAlert.list_alerts --env MSSentinel --start -7d
  huntbook query show WindowsSecurity.list_host_logons --env MSSentinel -p host_name=web01 --start -2d@d
  huntbook query show Network.list_flows_by_ip --env Splunk -p ip_address_list=10.0.0.1,10.0.0.2
  huntbook query show WindowsSecurity.list_host_logons --env MSSentinel --describe")]
pub struct ShowArgs {
    /// The query, as Family.name (see `huntbook query list`)
    pub query: String,
    #[command(flatten)]
    pub source: Source,
    #[command(flatten)]
    pub values: Values,
    /// Print the query's description, parameters and template instead
    #[arg(long)]
    pub describe: bool,
}

/// Run a query over local data and write the rows to a table file
#[derive(clap::Args)]
#[command(after_help = "\
Runs on the local drivers: LocalData (CSV, JSON lines and Parquet files; each \
parameter filters the column its query names, and Parquet files are filtered while \
read), OSQueryLogs and VelociraptorLogs. A query with start and end parameters gets \
--start (default -1d) and --end (default now).

Examples:
  huntbook sample-data -o data
  huntbook query run SecurityAlert.list_alerts --data data --start -7d -o alerts.parquet
  huntbook query run WindowsSecurity.list_host_processes --data data --start -7d \\
      -p host_name=WORKSTATION-07.contoso.local -o procs.csv
  huntbook query run osquery.pack_hunt_processes --env OSQueryLogs --data data -o procs.jsonl")]
pub struct RunArgs {
    /// The query, as Family.name (see `huntbook query list`)
    pub query: String,
    #[command(flatten)]
    pub source: Source,
    #[command(flatten)]
    pub values: Values,
    /// Where to write the rows (.csv, .jsonl or .parquet)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(args: Args) -> u8 {
    table_io::exit_code(match args.command {
        Command::List(a) => list(a),
        Command::Show(a) => show(a),
        Command::Run(a) => run_query(a),
    })
}

fn local_driver(env: &Environment, data: &[PathBuf]) -> Result<Option<Box<dyn Driver>>, String> {
    huntbook_data::local_driver(env, data).map_err(|e| e.to_string())
}

fn environment(name: &str) -> Result<Environment, String> {
    match Environment::parse(name) {
        Environment::Other(n) => {
            let all = Environment::known();
            let known: Vec<&str> = all.iter().map(Environment::name).collect();
            Err(format!(
                "unknown environment '{n}'; the environments are: {}",
                known.join(", ")
            ))
        }
        env => Ok(env),
    }
}

/// The queries of an environment: the library's and --query-path's, and for the log
/// drivers the tables found in the data folders.
fn open_store(source: &Source) -> Result<QueryStore, String> {
    let env = environment(&source.env)?;
    if matches!(
        env,
        Environment::OSQueryLogs | Environment::VelociraptorLogs
    ) {
        return Ok(open_provider(source)?.store().clone());
    }
    QueryStore::load(env, &source.query_paths).map_err(|e| e.to_string())
}

/// A provider over the local driver of the environment.
fn open_provider(source: &Source) -> Result<QueryProvider, String> {
    let env = environment(&source.env)?;
    let Some(driver) = local_driver(&env, &source.data)? else {
        return Err(format!(
            "{env} queries run on {env} itself, which `huntbook query run` cannot reach yet; \
             `huntbook query show QUERY --env {env}` prints the query to run there"
        ));
    };
    QueryProvider::connected(driver, &source.query_paths).map_err(|e| e.to_string())
}

fn list(args: ListArgs) -> Result<(), String> {
    let store = open_store(&args.source)?;
    for w in store.warnings() {
        eprintln!("huntbook: {w}");
    }
    let found = store.search(args.search.as_deref().unwrap_or(""));
    if found.is_empty() {
        eprintln!(
            "huntbook: no {} queries{}",
            store.environment(),
            args.search
                .map(|s| format!(" match '{s}'"))
                .unwrap_or_default()
        );
        return Ok(());
    }
    let width = found.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, q) in found {
        println!("{name:width$}  {}", q.description.trim());
    }
    Ok(())
}

/// The values to bind: `--start`/`--end` (with defaults) when the query has those
/// parameters, then `--param`s, times resolved with MSTICPy's grammar.
fn values(
    query: &huntbook_data::QuerySource,
    values: &Values,
    now: DateTime<Utc>,
) -> Result<Vec<(String, ParamValue)>, String> {
    let time = |flag: &str, text: &str| {
        huntbook_core::time::parse_time(text, now)
            .map(ParamValue::Time)
            .map_err(|e| format!("{flag} '{text}': {e}"))
    };
    let mut out = Vec::new();
    for (name, given, default) in [("start", &values.start, "-1d"), ("end", &values.end, "now")] {
        match (query.param(name), given) {
            // A default in the query itself (the log drivers' optional range) stands
            // unless a time is given.
            (Some(spec), given)
                if spec.kind == ParamType::Datetime
                    && (given.is_some() || spec.default.is_none()) =>
            {
                let text = given.as_deref().unwrap_or(default);
                out.push((name.to_string(), time(&format!("--{name}"), text)?));
            }
            (_, Some(_)) => {
                return Err(format!(
                    "query '{}' has no {name} time parameter; leave out --{name}",
                    query.name
                ));
            }
            _ => {}
        }
    }
    for p in &values.params {
        let Some((name, value)) = p.split_once('=') else {
            return Err(format!(
                "--param '{p}': expected NAME=VALUE, such as host_name=web01"
            ));
        };
        let name = name.trim();
        let value = match query.resolve_param(name) {
            Some(spec) if spec.kind == ParamType::Datetime => {
                time(&format!("--param {name}"), value.trim())?
            }
            _ => ParamValue::Text(value.to_string()),
        };
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), value));
    }
    Ok(out)
}

fn show(args: ShowArgs) -> Result<(), String> {
    let store = open_store(&args.source)?;
    let query = store.get(&args.query).map_err(|e| e.to_string())?;
    if args.describe {
        print!("{}", query.help());
        return Ok(());
    }
    let values = values(query, &args.values, Utc::now())?;
    let text = store
        .render(&args.query, &values)
        .map_err(|e| e.to_string())?;
    println!("{}", text.trim());
    Ok(())
}

fn run_query(args: RunArgs) -> Result<(), String> {
    table_io::check_output(&args.output)?;
    let progress = Progress::new();
    progress.step("Reading the data folders".to_string());
    let provider = open_provider(&args.source)?;
    let query = provider
        .store()
        .get(&args.query)
        .map_err(|e| e.to_string())?;
    let values = values(query, &args.values, Utc::now())?;
    let started = Instant::now();
    progress.step(format!("Running {}", args.query));
    let table: Table = provider
        .run(&args.query, &values)
        .map_err(|e| e.to_string())?;
    let rows = table.num_rows();
    progress.step(format!("Writing {}", args.output.display()));
    write_table(&args.output, &table).map_err(|e| e.to_string())?;
    progress.note(format!(
        "{rows} rows written to {} in {:.2} s",
        args.output.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
