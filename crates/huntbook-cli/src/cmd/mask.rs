//! `huntbook mask`: a table with its identifying columns replaced by keyed pseudonyms,
//! for sharing. The key comes from the environment so it never shows in a command line,
//! a shell history or a process list.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use huntbook_transform::mask::{self, MaskOptions, MaskType};

use super::table_io::{self, Progress};

/// The environment variable holding the masking key.
const KEY_VARIABLE: &str = "HUNTBOOK_MASK_KEY";

/// Mask identifying columns with consistent keyed pseudonyms
#[derive(clap::Args)]
#[command(after_help = "\
The key is read from the HUNTBOOK_MASK_KEY environment variable: the same key gives \
the same pseudonyms (so masked tables still join), another key gives others, and \
without the key they cannot be recomputed.

Columns are chosen by name: MSTICPy's default map (Account, IpAddress, TenantId, \
SubjectUserSid, UserPrincipalName, ...) plus --columns and --column-map, which win. \
Types: str, ip, uuid, sid, acct, dict, list, null (empty the column), keep (leave it), \
or any other text as a set of delimiter characters whose tokens are masked one by one.

Examples:
  export HUNTBOOK_MASK_KEY=\"$(cat ~/.huntbook-mask-key)\"
  huntbook mask events.csv -o masked.csv
  huntbook mask signins.parquet --columns UserPrincipalName=acct,Notes=keep -o shared.parquet
  huntbook mask events.jsonl --no-default-map --column-map columns.json -o masked.jsonl
      columns.json: {\"acct\": [\"User\"], \"ip\": [\"SrcIp\"]} or {\"User\": \"acct\"}")]
pub struct Args {
    /// The table to mask (.csv, .jsonl or .parquet)
    pub input: PathBuf,
    /// COLUMN=TYPE pairs, comma-separated or repeated; they win over the maps
    #[arg(long, value_name = "COLUMN=TYPE,...", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// A JSON column map ({type: [columns]} or {column: type}) added over the default
    #[arg(long, value_name = "FILE.json")]
    pub column_map: Option<PathBuf>,
    /// Start from an empty map instead of MSTICPy's column names
    #[arg(long)]
    pub no_default_map: bool,
    /// Where to write the masked table (.csv, .jsonl or .parquet)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(args: Args) -> u8 {
    table_io::exit_code(mask_table(args))
}

fn mask_table(args: Args) -> Result<(), String> {
    table_io::check_output(&args.output)?;
    let key = match std::env::var_os(KEY_VARIABLE) {
        Some(key) if !key.is_empty() => key.as_bytes().to_vec(),
        _ => {
            return Err(format!(
                "no masking key: set the {KEY_VARIABLE} environment variable to a secret of your \
                 choice (the same key gives the same pseudonyms; keep it to mask more data consistently)"
            ))
        }
    };
    let mut options = MaskOptions::new(key);
    options.use_default = !args.no_default_map;
    if let Some(path) = &args.column_map {
        let text = std::fs::read_to_string(path).map_err(|e| table_io::in_file(path, e))?;
        options.columns = mask::parse_column_map(&text, &path.display().to_string())
            .map_err(|e| e.to_string())?;
    }
    let named = parse_columns(&args.columns)?;

    let progress = Progress::new();
    let batch = table_io::read_input(&args.input, &progress)?;
    let mut asked: Vec<&String> = named.keys().collect();
    asked.sort();
    table_io::require_columns(&args.input, &batch, &asked)?;
    options.columns.extend(named);

    let map = options.effective_map();
    let masked_columns: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .filter_map(|f| {
            map.get(f.name())
                .filter(|t| **t != MaskType::Keep)
                .map(|t| format!("{} ({})", f.name(), t.name()))
        })
        .collect();
    progress.step(format!(
        "Masking {} columns of {} rows",
        masked_columns.len(),
        batch.num_rows()
    ));
    let masked = mask::mask(&batch, &options).map_err(|e| table_io::in_file(&args.input, e))?;
    table_io::write_output(&args.output, masked, &progress)?;
    if masked_columns.is_empty() {
        progress.note(format!(
            "warning: {}: no column is in the masking map, so nothing was masked; name columns with --columns",
            args.input.display()
        ));
    } else {
        progress.note(format!("masked {}", masked_columns.join(", ")));
    }
    progress.note(format!(
        "{} rows written to {}",
        batch.num_rows(),
        args.output.display()
    ));
    Ok(())
}

/// `COLUMN=TYPE` pairs from `--columns`.
fn parse_columns(pairs: &[String]) -> Result<HashMap<String, MaskType>, String> {
    let mut map = HashMap::new();
    for pair in pairs {
        let Some((column, kind)) = pair.split_once('=') else {
            return Err(format!(
                "--columns '{pair}': expected COLUMN=TYPE, such as Account=acct (types: str, ip, uuid, sid, acct, \
                 dict, list, null, keep, or delimiter characters)"
            ));
        };
        let kind = MaskType::parse(kind).map_err(|e| format!("--columns '{pair}': {e}"))?;
        map.insert(column.trim().to_string(), kind);
    }
    Ok(map)
}
