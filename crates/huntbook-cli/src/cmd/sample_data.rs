//! `huntbook sample-data`: write the deterministic sample SOC dataset that the
//! LocalData query library reads.

use std::path::PathBuf;

use chrono::{DateTime, Duration, DurationRound, Utc};
use huntbook_data::sample::{generate, SampleOptions};

use super::table_io::{self, Progress};

/// Write a sample SOC dataset (alerts, processes, logons, sign-ins, flows, Office,
/// syslog, auditd, osquery and Velociraptor logs) with an intrusion to hunt
#[derive(clap::Args)]
#[command(after_help = "\
The tables are Parquet files named as the LocalData queries expect; the same --seed \
and --anchor give the same files. The data covers the seven days before the anchor \
(default: the current hour), so `--start -7d` finds all of it.

Examples:
  huntbook sample-data -o data
  huntbook query run SecurityAlert.list_alerts --data data --start -7d -o alerts.csv
  huntbook sample-data -o big --rows 1000000        # for benchmarks
  huntbook sample-data -o fixed --anchor 2024-06-01T12:00:00Z --seed 42")]
pub struct Args {
    /// The folder to write into (created if missing)
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: PathBuf,
    /// Background rows per table
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub rows: usize,
    /// Seed of the generator
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// End of the data's seven days (RFC 3339); default: now, rounded down to the hour
    #[arg(long, value_name = "TIME")]
    pub anchor: Option<DateTime<Utc>>,
}

pub fn run(args: Args) -> u8 {
    table_io::exit_code(write(args))
}

fn write(args: Args) -> Result<(), String> {
    if args.rows == 0 {
        return Err("--rows must be at least 1".into());
    }
    let anchor = match args.anchor {
        Some(a) => a,
        None => Utc::now()
            .duration_trunc(Duration::hours(1))
            .map_err(|e| e.to_string())?,
    };
    let options = SampleOptions {
        rows: args.rows,
        seed: args.seed,
        anchor,
    };
    let progress = Progress::new();
    progress.step(format!("Generating {} rows per table", args.rows));
    let written = generate(&args.output, &options, |w| {
        progress.step(format!("Wrote {} ({} rows)", w.path.display(), w.rows));
    })
    .map_err(|e| e.to_string())?;
    for w in &written {
        println!("{}\t{}", w.path.display(), w.rows);
    }
    progress.note(format!(
        "{} files written to {}, covering {} to {anchor}",
        written.len(),
        args.output.display(),
        anchor - Duration::days(7)
    ));
    Ok(())
}
