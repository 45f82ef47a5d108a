//! What the table commands (`ioc`, `b64`, `proctree`, `auditd`, `mask`) share: reading
//! the input table, checking the columns asked for, a progress spinner on stderr, and
//! writing the result.
//!
//! Errors are plain messages that name the file (and column) and say what to do; the
//! commands print them with [`super::fail`]. Outputs are written atomically by
//! `huntbook_table::write_table`, so a failed command never leaves half a file.

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::Duration;

use arrow_array::RecordBatch;
use huntbook_table::{read_table, write_table, Format, Table};
use indicatif::{ProgressBar, ProgressBarIter, ProgressStyle};

/// A spinner (or a byte bar) on stderr saying what the command is doing. Hidden when
/// stderr is not a terminal, so logs and pipes only get the messages that matter.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new() -> Progress {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress { bar }
    }

    /// Says what is being done now.
    pub fn step(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Turns the spinner into a bar over the `len` bytes that `reader` will deliver.
    pub fn track_read<R: Read>(&self, len: u64, message: String, reader: R) -> ProgressBarIter<R> {
        self.bar.set_style(
            ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} [{elapsed}]")
                .expect("valid template"),
        );
        self.bar.set_length(len);
        self.bar.set_message(message);
        self.bar.wrap_read(reader)
    }

    /// Prints a line above the spinner (stderr), so the two do not garble each other.
    pub fn note(&self, message: String) {
        self.bar.suspend(|| eprintln!("huntbook: {message}"));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Fails early on an output name whose format is unknown, before any long work.
pub fn check_output(path: &Path) -> Result<(), String> {
    Format::from_path(path)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Reads a CSV, JSON lines or Parquet file into one batch.
pub fn read_input(path: &Path, progress: &Progress) -> Result<RecordBatch, String> {
    progress.step(format!("Reading {}", path.display()));
    let table = read_table(path).map_err(|e| e.to_string())?;
    table
        .concat()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Fails unless `batch` (read from `path`) has every one of `columns`, naming the
/// missing one and listing those the file has.
pub fn require_columns<S: AsRef<str>>(
    path: &Path,
    batch: &RecordBatch,
    columns: &[S],
) -> Result<(), String> {
    let schema = batch.schema();
    for column in columns {
        let column = column.as_ref();
        if schema.column_with_name(column).is_none() {
            let available: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(format!(
                "{}: no column '{column}'; the columns are: {}. Pass one of these names (they are case-sensitive)",
                path.display(),
                available.join(", ")
            ));
        }
    }
    Ok(())
}

/// A transform's error about the table read from `path`, prefixed with the file name.
pub fn in_file(path: &Path, error: impl std::fmt::Display) -> String {
    format!("{}: {error}", path.display())
}

/// Writes `batch` in the format the output's extension names, atomically.
pub fn write_output(path: &Path, batch: RecordBatch, progress: &Progress) -> Result<(), String> {
    progress.step(format!("Writing {}", path.display()));
    let table = Table::from_batches(batch.schema(), vec![batch]);
    write_table(path, &table).map_err(|e| e.to_string())
}

/// The exit code for a command's result: 0, or the usage code after printing the error.
pub fn exit_code(result: Result<(), String>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(message) => super::fail(message),
    }
}
