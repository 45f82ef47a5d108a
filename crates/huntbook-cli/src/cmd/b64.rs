//! `huntbook b64 unpack`: base64 (and the zip, gzip and tar inside it) decoded out of a
//! text column, one output row per decoded item, with MSTICPy's `unpack_df` columns.

use std::path::PathBuf;

use huntbook_transform::unpack::{self, UnpackOptions, Utf16Mode};

use super::table_io::{self, Progress};

/// Decode base64 and archives hidden in text
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook b64 unpack events.parquet --column CommandLine -o decoded.parquet")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Unpack(UnpackArgs),
}

/// Decode the base64 in a text column: one row per decoded item
#[derive(clap::Args)]
#[command(after_help = "\
Output columns are MSTICPy's unpack_df columns: reference, original_string, file_name, \
file_type, input_bytes, decoded_string, encoding_type, file_hashes, md5, sha1, sha256, \
printable_bytes, src_index (the input row, 0-based), the input column and \
full_decoded_string (the input with each decoded run replaced by <decoded ...> markup). \
Nested base64, gzip, zip and tar are followed level by level. In CSV, reference and \
file_hashes are written as JSON text and input_bytes as hex.

Examples:
  huntbook b64 unpack events.parquet --column CommandLine -o decoded.parquet
  huntbook b64 unpack events.csv --column CommandLine --max-depth 3 -o decoded.jsonl
  huntbook b64 unpack events.csv --column CommandLine --msticpy -o decoded.csv
      MSTICPy's own rules (for comparisons): no UTF-16 detection, digests decoded too.")]
pub struct UnpackArgs {
    /// The table to decode (.csv, .jsonl or .parquet)
    pub input: PathBuf,
    /// The text column holding the encoded data
    #[arg(short = 'c', long, value_name = "COLUMN")]
    pub column: String,
    /// How decoded bytes are tried as UTF-16: auto (PowerShell -EncodedCommand), never, always
    #[arg(long, value_name = "MODE")]
    pub utf16: Option<Utf16>,
    /// Nested levels decoded after the first (default 20)
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Decode exactly as MSTICPy does (its text walk, no UTF-16, hex runs decoded)
    #[arg(long)]
    pub msticpy: bool,
    /// Where to write the decoded items (.csv, .jsonl or .parquet)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Utf16 {
    Auto,
    Never,
    Always,
}

pub fn run(args: Args) -> u8 {
    match args.command {
        Command::Unpack(args) => table_io::exit_code(unpack_column(args)),
    }
}

fn unpack_column(args: UnpackArgs) -> Result<(), String> {
    table_io::check_output(&args.output)?;
    let mut options = if args.msticpy {
        UnpackOptions::msticpy()
    } else {
        UnpackOptions::default()
    };
    if let Some(mode) = args.utf16 {
        options.utf16 = match mode {
            Utf16::Auto => Utf16Mode::Auto,
            Utf16::Never => Utf16Mode::Never,
            Utf16::Always => Utf16Mode::Always,
        };
    }
    if let Some(depth) = args.max_depth {
        options.max_recursion = depth;
    }

    let progress = Progress::new();
    let batch = table_io::read_input(&args.input, &progress)?;
    table_io::require_columns(&args.input, &batch, &[&args.column])?;
    progress.step(format!("Decoding base64 in {} rows", batch.num_rows()));
    let decoded = unpack::unpack_base64(&batch, &args.column, &options)
        .map_err(|e| table_io::in_file(&args.input, e))?;
    let items = decoded.num_rows();
    table_io::write_output(&args.output, decoded, &progress)?;
    progress.note(format!(
        "{items} decoded items from {} rows written to {}",
        batch.num_rows(),
        args.output.display()
    ));
    Ok(())
}
