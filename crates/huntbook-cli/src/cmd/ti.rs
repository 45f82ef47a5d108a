//! `huntbook ti`: threat-intel lookups across the providers of the configuration
//! (`lookup`), and which providers are loaded (`providers`).

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{Array, StringArray};
use huntbook_context::ti::{
    to_record_batch, LookupItem, LookupOptions, LookupRow, Scope, TiLookup,
};
use huntbook_core::config::{Config, ConfigSearch};
use indicatif::{ProgressBar, ProgressStyle};

use super::table_io::{self, Progress};

/// Threat-intel lookups of IPs, domains, URLs and hashes across providers
#[derive(clap::Args)]
#[command(after_help = "\
Providers are the TIProviders entries of huntbook.yaml / msticpyconfig.yaml (see \
`huntbook config check`); answers are cached (TICache section).

Examples:
  huntbook ti lookup 38.75.137.9 evil-site.com 44d88612fea8a8f36de82e1278abb02f
  huntbook ti lookup --file iocs.csv --column Observable -o results.csv
  huntbook ti providers")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Lookup(LookupArgs),
    Providers(ConfigArgs),
}

/// Which configuration to use.
#[derive(clap::Args)]
pub struct ConfigArgs {
    /// The huntbook.yaml to use instead of searching for one
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The msticpyconfig.yaml to use instead of searching for one
    #[arg(long, value_name = "FILE")]
    pub msticpy: Option<PathBuf>,
}

/// Look observables up; one row per observable and provider
#[derive(clap::Args)]
#[command(after_help = "\
Observables are checked first: IP addresses must be public, hashes must look random, \
defanged spellings (hxxp, [.]) are made plain. Rows have MSTICPy's columns: Ioc, IocType, \
SafeIoc, QuerySubtype, Provider, Result, Severity (unknown, information, warning, high), \
Details, RawResult, Reference, Status (0 ok, 1 not supported, 2 bad format, 3 query \
failed, 4 no data, 10 other, or the HTTP status).

Without -o a summary is printed; with -o the whole table is written (.csv, .jsonl or \
.parquet).

Examples:
  huntbook ti lookup 38.75.137.9 evil-site.com 44d88612fea8a8f36de82e1278abb02f
  huntbook ti lookup --file iocs.csv --column Observable -o results.csv
  huntbook ti lookup --file iocs.csv --column Observable --type-column IoCType --providers OTX,VirusTotal -o results.parquet
  huntbook ti lookup 38.75.137.9 --subtype passivedns --providers OTX
  huntbook ti lookup 10.0.0.1 --show-bad        # shows why it was not looked up")]
pub struct LookupArgs {
    /// Observables to look up
    pub iocs: Vec<String>,
    /// A table of observables (.csv, .jsonl or .parquet)
    #[arg(long, value_name = "FILE", requires = "column")]
    pub file: Option<PathBuf>,
    /// The column of --file holding the observables
    #[arg(short = 'c', long, value_name = "COLUMN")]
    pub column: Option<String>,
    /// A column of --file holding each observable's type
    #[arg(long, value_name = "COLUMN")]
    pub type_column: Option<String>,
    /// The type of every observable (default: worked out from each)
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    pub ioc_type: Option<String>,
    /// A query subtype, such as passivedns
    #[arg(long, value_name = "SUBTYPE")]
    pub subtype: Option<String>,
    /// Ask these providers (comma-separated names) instead of the primary ones
    #[arg(short = 'p', long, value_delimiter = ',', value_name = "NAMES")]
    pub providers: Vec<String>,
    /// Ask every loaded provider, primary and secondary
    #[arg(long, conflicts_with = "providers")]
    pub all_providers: bool,
    /// Keep rows of observables that failed the checks or that a provider does not support
    #[arg(long)]
    pub show_bad: bool,
    /// Do not read or write the answer cache
    #[arg(long)]
    pub no_cache: bool,
    /// Write the result table here
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: Args) -> u8 {
    match args.command {
        Command::Lookup(args) => table_io::exit_code(lookup(args)),
        Command::Providers(args) => table_io::exit_code(providers(args)),
    }
}

fn load(args: &ConfigArgs) -> Result<TiLookup, String> {
    let search = ConfigSearch {
        msticpy_file: args.msticpy.clone(),
        huntbook_file: args.config.clone(),
        ..ConfigSearch::from_process()
    };
    let config = Config::load(&search).map_err(|e| e.to_string())?;
    TiLookup::from_config(&config, &huntbook_http::vault::resolver(&config))
        .map_err(|e| e.to_string())
}

fn providers(args: ConfigArgs) -> Result<(), String> {
    let ti = load(&args)?;
    let status = ti.provider_status();
    if status.is_empty() {
        return Err("no TIProviders are configured; add entries to huntbook.yaml (see `huntbook config init`)".into());
    }
    for s in status {
        let state = match (s.loaded, s.enabled) {
            (false, _) => "not loaded",
            (true, true) => "loaded",
            (true, false) => "disabled",
        };
        let primary = if s.primary { "primary" } else { "secondary" };
        println!(
            "{:<16} {:<14} {:<10} {:<10} {}",
            s.name, s.kind, primary, state, s.detail
        );
    }
    Ok(())
}

fn items(args: &LookupArgs) -> Result<Vec<LookupItem>, String> {
    let mut items: Vec<LookupItem> = args
        .iocs
        .iter()
        .map(|ioc| item(ioc, args.ioc_type.clone(), args))
        .collect();
    if let (Some(path), Some(column)) = (&args.file, &args.column) {
        let batch = table_io::read_input(path, &Progress::new())?;
        let mut wanted = vec![column.clone()];
        wanted.extend(args.type_column.clone());
        table_io::require_columns(path, &batch, &wanted)?;
        let text = |name: &str| -> Result<StringArray, String> {
            let column = batch.column_by_name(name).expect("checked above");
            arrow_cast_to_text(column)
                .map_err(|e| table_io::in_file(path, format!("column '{name}': {e}")))
        };
        let iocs = text(column)?;
        let types = args.type_column.as_deref().map(text).transpose()?;
        for row in 0..iocs.len() {
            if iocs.is_null(row) || iocs.value(row).trim().is_empty() {
                continue;
            }
            let ioc_type = types
                .as_ref()
                .filter(|t| !t.is_null(row))
                .map(|t| t.value(row).to_string())
                .or_else(|| args.ioc_type.clone());
            items.push(item(iocs.value(row), ioc_type, args));
        }
    }
    if items.is_empty() {
        return Err("nothing to look up; give observables, or --file with --column".into());
    }
    Ok(items)
}

fn item(ioc: &str, ioc_type: Option<String>, args: &LookupArgs) -> LookupItem {
    LookupItem {
        ioc: ioc.to_string(),
        ioc_type,
        subtype: args.subtype.clone(),
    }
}

/// Observables as text whatever the column's type (a CSV of hashes may read as text,
/// one of numbers would not be indicators anyway).
fn arrow_cast_to_text(column: &arrow_array::ArrayRef) -> Result<StringArray, String> {
    column
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| format!("holds {}, not text", column.data_type()))
}

fn lookup(args: LookupArgs) -> Result<(), String> {
    if let Some(output) = &args.output {
        table_io::check_output(output)?;
    }
    let mut ti = load(&args.config)?;
    if args.no_cache {
        ti.set_cache(None);
    }
    let items = items(&args)?;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("Observables processed {bar:30} {pos}/{len} [{elapsed}]")
            .expect("valid template"),
    );
    let options = LookupOptions {
        providers: (!args.providers.is_empty()).then(|| args.providers.clone()),
        scope: if args.all_providers {
            Scope::All
        } else {
            Scope::Primary
        },
        show_bad_items: args.show_bad,
        show_not_supported: args.show_bad,
        progress: Some({
            let bar = bar.clone();
            Arc::new(move |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
        }),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let rows = runtime
        .block_on(ti.lookup(&items, &options))
        .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    match &args.output {
        Some(output) => {
            let batch = to_record_batch(&rows).map_err(|e| e.to_string())?;
            table_io::write_output(output, batch, &Progress::new())?;
            eprintln!(
                "huntbook: {} rows written to {}",
                rows.len(),
                output.display()
            );
        }
        None => print_summary(&rows),
    }
    Ok(())
}

fn print_summary(rows: &[LookupRow]) {
    if rows.is_empty() {
        println!("No rows: no provider supports these observables (see --show-bad).");
        return;
    }
    println!(
        "{:<40} {:<14} {:<12} {:>6}  Details",
        "Ioc", "Provider", "Severity", "Status"
    );
    for row in rows {
        let details = match &row.answer.details {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let details: String = details.chars().take(100).collect();
        println!(
            "{:<40} {:<14} {:<12} {:>6}  {details}",
            row.ioc,
            row.provider,
            row.answer.severity.name(),
            row.answer.status.code()
        );
    }
}
