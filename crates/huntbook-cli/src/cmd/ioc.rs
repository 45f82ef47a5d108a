//! `huntbook ioc`: indicators of compromise in a table's text columns (`extract`), and
//! the type of one observable (`type`), with MSTICPy's type names and priorities.

use std::path::PathBuf;

use huntbook_transform::ioc::{self, CustomIocType, ExtractOptions, IocType, BUILTIN_TYPES};

use super::table_io::{self, Progress};

/// Find indicators of compromise (IPs, domains, URLs, emails, hashes, paths)
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook ioc extract events.csv --column CommandLine -o iocs.csv
  huntbook ioc extract events.parquet -c CommandLine -t ipv4,url,sha256 --refang -o iocs.parquet
  huntbook ioc type 'hxxps://evil-site[.]com/a'          # prints: url")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Extract(ExtractArgs),
    Type(TypeArgs),
}

/// Extract indicators from text columns into a table of IoCType, Observable, SourceIndex, Input
#[derive(clap::Args)]
#[command(after_help = "\
Types (names or aliases): ipv4 (ip), ipv6 (ip6), dns (domain, hostname), url, email, \
windows_path (winpath), linux_path (linux), md5_hash (md5), sha1_hash (sha1), \
sha256_hash (sha256), and file_hash or hash for the three hashes. Without --types every \
type but the paths is looked for. Defanged spellings (hxxp, [.], [at]) are found unless \
--no-defanged. SourceIndex is the input row (0-based).

Files are CSV, JSON lines (.jsonl) or Parquet, by extension.

Examples:
  huntbook ioc extract events.csv --column CommandLine -o iocs.csv
  huntbook ioc extract events.parquet -c CommandLine -c Url --types ip,url,sha256 -o iocs.parquet
  huntbook ioc extract mail.jsonl --column Body --refang -o iocs.jsonl
      Report hxxps://evil[.]com as https://evil.com.
  huntbook ioc extract events.csv -c CommandLine --custom 'ticket:0=INC[0-9]{6}' -o iocs.csv
      Also find a type of your own (NAME[:PRIORITY]=REGEX; lower priority wins, default 0).")]
pub struct ExtractArgs {
    /// The table to scan (.csv, .jsonl or .parquet)
    pub input: PathBuf,
    /// A text column to scan (repeatable; columns are scanned in this order)
    #[arg(short = 'c', long = "column", value_name = "COLUMN", required = true)]
    pub columns: Vec<String>,
    /// Types to look for, comma-separated names or aliases (default: all but paths)
    #[arg(short = 't', long, value_name = "TYPES", value_delimiter = ',')]
    pub types: Vec<String>,
    /// With the default types, also look for Windows paths
    #[arg(long)]
    pub include_paths: bool,
    /// Report defanged observables in their plain form (evil[.]com -> evil.com)
    #[arg(long)]
    pub refang: bool,
    /// Match only plain indicators, not defanged spellings
    #[arg(long)]
    pub no_defanged: bool,
    /// Keep domains whatever their top-level domain (no public-suffix check)
    #[arg(long)]
    pub ignore_tlds: bool,
    /// A type of your own: NAME[:PRIORITY]=REGEX (Rust regex syntax; repeatable)
    #[arg(long, value_name = "NAME[:PRIORITY]=REGEX")]
    pub custom: Vec<String>,
    /// Where to write the indicators (.csv, .jsonl or .parquet)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Print the type of one observable (url, dns, ipv4, md5_hash, ...)
#[derive(clap::Args)]
#[command(after_help = "\
Prints the type of lowest priority number whose pattern matches the whole value \
(defanged spellings count); hashes are typed by their length (md5 32, sha1 40, sha256 64 \
hex digits). With --all, every type the value matches, best first.

Exit status: 0 when the value has a type, 1 when it is not an indicator of any type.

Examples:
  huntbook ioc type 'hxxps://evil-site[.]com/a'          # url
  huntbook ioc type 44d88612fea8a8f36de82e1278abb02f      # md5_hash
  huntbook ioc type --all evil.com")]
pub struct TypeArgs {
    /// The observable (an IP address, domain, URL, email, hash or path)
    pub value: String,
    /// Print every type the value matches, best first
    #[arg(long)]
    pub all: bool,
}

pub fn run(args: Args) -> u8 {
    match args.command {
        Command::Extract(args) => table_io::exit_code(extract(args)),
        Command::Type(args) => print_type(&args),
    }
}

fn extract(args: ExtractArgs) -> Result<(), String> {
    table_io::check_output(&args.output)?;
    let options = ExtractOptions {
        ioc_types: (!args.types.is_empty()).then(|| args.types.clone()),
        include_paths: args.include_paths,
        ignore_tlds: args.ignore_tlds,
        defanged: !args.no_defanged,
        refang: args.refang,
        custom_types: args
            .custom
            .iter()
            .map(|c| parse_custom(c))
            .collect::<Result<_, _>>()?,
    };
    // Check the types before reading a possibly large file.
    ioc::IocExtractor::new(&options).map_err(|e| e.to_string())?;

    let progress = Progress::new();
    let batch = table_io::read_input(&args.input, &progress)?;
    table_io::require_columns(&args.input, &batch, &args.columns)?;
    progress.step(format!(
        "Extracting indicators from {} rows",
        batch.num_rows()
    ));
    let columns: Vec<&str> = args.columns.iter().map(String::as_str).collect();
    let found = ioc::extract_iocs(&batch, &columns, &options)
        .map_err(|e| table_io::in_file(&args.input, e))?;
    let count = found.num_rows();
    table_io::write_output(&args.output, found, &progress)?;
    progress.note(format!(
        "{count} indicators from {} rows written to {}",
        batch.num_rows(),
        args.output.display()
    ));
    Ok(())
}

/// `NAME[:PRIORITY]=REGEX`. The priority sits with the name because a regex may itself
/// contain `:` and `=`.
fn parse_custom(text: &str) -> Result<CustomIocType, String> {
    let usage = || {
        format!(
            "--custom '{text}': expected NAME[:PRIORITY]=REGEX, such as 'ticket:0=INC[0-9]{{6}}'"
        )
    };
    let (head, regex) = text.split_once('=').ok_or_else(usage)?;
    let (name, priority) = match head.split_once(':') {
        Some((name, priority)) => (name, priority.trim().parse::<u32>().map_err(|_| usage())?),
        None => (head, 0),
    };
    if name.trim().is_empty() || regex.is_empty() {
        return Err(usage());
    }
    Ok(CustomIocType::new(name.trim(), regex, priority))
}

fn print_type(args: &TypeArgs) -> u8 {
    let value = args.value.trim();
    let types: Vec<IocType> = if args.all {
        let mut matching: Vec<IocType> = BUILTIN_TYPES
            .into_iter()
            .filter(|t| ioc::validate(value, t))
            .collect();
        matching.sort_by_key(|t| t.builtin_priority());
        matching
    } else {
        ioc::ioc_type(value).into_iter().collect()
    };
    if types.is_empty() {
        eprintln!(
            "huntbook: '{value}' is not an indicator of any known type{}",
            hash_hint(value)
        );
        return 1;
    }
    for t in types {
        println!("{t}");
    }
    0
}

/// Why a run of hex digits is not a hash: its length. Shorter runs (a pid, a port in
/// hex) are not taken for truncated hashes.
fn hash_hint(value: &str) -> String {
    if value.len() >= 16
        && value.bytes().all(|b| b.is_ascii_hexdigit())
        && ioc::file_hash_type(value).is_none()
    {
        format!(
            " ({} hex digits; a hash has 32 (md5), 40 (sha1) or 64 (sha256))",
            value.len()
        )
    } else {
        String::new()
    }
}
