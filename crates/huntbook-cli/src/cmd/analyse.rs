//! `huntbook analyse`: the analyses of `huntbook_analysis` on a table file. `timeseries`
//! scores a series for anomalies with STL, as MSTICPy's `timeseries_anomalies_stl`;
//! `polling` measures how regularly each group of events repeats, as MSTICPy's
//! `PeriodogramPollingDetector`.

use std::path::PathBuf;

use huntbook_analysis::polling;
use huntbook_analysis::timeseries::{self, AnomalyOptions, StlParams};

use super::table_io::{self, Progress};

/// Find the odd ones in a table: time-series anomalies, polling (beaconing)
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook analyse timeseries bytes.csv --time TimeGenerated --value TotalBytesSent -o scored.csv
  huntbook analyse polling flows.parquet --group-by SourceIP,DestinationIP -o beacons.csv")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Timeseries(TimeseriesArgs),
    Polling(PollingArgs),
}

/// Measure how regularly each group of events repeats (beaconing)
#[derive(clap::Args)]
#[command(after_help = "\
Events are grouped by the --group-by columns and counted per second; a periodogram of \
the counts and Fisher's g test say whether one frequency stands out. The output has one \
row per group, most significant (lowest p_value) first: the group columns, event_count, \
p_value, dominant_frequency (per second), dominant_interval (seconds), first_time and \
last_time. With --rows, every input row instead, with MSTICPy's p_value, \
dominant_frequency and dominant_interval added.

Examples:
  huntbook analyse polling flows.parquet --group-by SourceIP,DestinationIP -o beacons.csv
  huntbook analyse polling proxy.csv --time EventTime --group-by ClientIP,Host --rows -o scored.parquet")]
pub struct PollingArgs {
    /// The events (.csv, .jsonl or .parquet)
    pub input: PathBuf,
    /// The time column (timestamps, or whole seconds)
    #[arg(long, value_name = "COLUMN", default_value = "TimeGenerated")]
    pub time: String,
    /// The columns whose values make a group, comma-separated (none: one group)
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub group_by: Vec<String>,
    /// Every input row with its group's results, instead of one row per group
    #[arg(long)]
    pub rows: bool,
    /// Where to write the results (.csv, .jsonl or .parquet)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Score a series for anomalies with STL (seasonal-trend decomposition by loess)
#[derive(clap::Args)]
#[command(after_help = "\
The table holds one row per time step (say, bytes sent per hour). The values are \
decomposed in row order into seasonal + trend + residual (statsmodels' STL), and each \
residual is scored by its z-score. The output, sorted by time, has the time and value \
columns and MSTICPy's columns: residual, trend, seasonal, weights, baseline (seasonal + \
trend), all as whole numbers, score, and anomalies: 1 where the score passes the \
threshold and the seasonal part is positive, -1 where it passes it and the seasonal \
part is negative (a high value at a quiet time), 0 elsewhere.

Examples:
  huntbook analyse timeseries bytes.csv --time TimeGenerated --value TotalBytesSent -o scored.csv
  huntbook analyse timeseries logons.parquet --time Hour --value Count --period 168 -o scored.parquet
      hourly counts with a weekly cycle
  huntbook analyse timeseries bytes.csv --time TimeGenerated --value TotalBytesSent \\
      --threshold 2.5 --robust -o scored.jsonl
      a lower bar, and a fit that spikes do not pull")]
pub struct TimeseriesArgs {
    /// The series (.csv, .jsonl or .parquet)
    pub input: PathBuf,
    /// The time column
    #[arg(long, value_name = "COLUMN")]
    pub time: String,
    /// The column of numbers to score
    #[arg(long, value_name = "COLUMN")]
    pub value: String,
    /// Points per season: 24 for hourly data with a daily cycle
    #[arg(long, default_value_t = 24)]
    pub period: usize,
    /// Width of the seasonal smoother (odd, >= 3); larger lets the season change less
    #[arg(long, default_value_t = 7)]
    pub seasonal: usize,
    /// Width of the trend smoother (odd, > period); default from period and seasonal
    #[arg(long)]
    pub trend: Option<usize>,
    /// The z-score a point must pass to be an anomaly
    #[arg(long, default_value_t = 3.0)]
    pub threshold: f64,
    /// Robust fit: reweight points by their residuals so spikes do not pull the fit
    #[arg(long)]
    pub robust: bool,
    /// Where to write the scored table (.csv, .jsonl or .parquet)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(args: Args) -> u8 {
    match args.command {
        Command::Timeseries(args) => table_io::exit_code(score_series(args)),
        Command::Polling(args) => table_io::exit_code(measure_polling(args)),
    }
}

fn measure_polling(args: PollingArgs) -> Result<(), String> {
    table_io::check_output(&args.output)?;
    let progress = Progress::new();
    let batch = table_io::read_input(&args.input, &progress)?;
    let mut wanted: Vec<&str> = args.group_by.iter().map(String::as_str).collect();
    wanted.push(&args.time);
    table_io::require_columns(&args.input, &batch, &wanted)?;
    let group_by = &wanted[..wanted.len() - 1];
    progress.step(format!(
        "Measuring the periodicity of {} events",
        batch.num_rows()
    ));
    let result = if args.rows {
        polling::detect_polling(&batch, &args.time, group_by)
    } else {
        polling::polling_groups(&batch, &args.time, group_by)
    }
    .map_err(|e| table_io::in_file(&args.input, e))?;
    let rows = result.num_rows();
    table_io::write_output(&args.output, result, &progress)?;
    progress.note(format!("{rows} rows written to {}", args.output.display()));
    Ok(())
}

fn score_series(args: TimeseriesArgs) -> Result<(), String> {
    table_io::check_output(&args.output)?;
    let progress = Progress::new();
    let batch = table_io::read_input(&args.input, &progress)?;
    table_io::require_columns(&args.input, &batch, &[&args.time, &args.value])?;
    let options = AnomalyOptions {
        stl: StlParams {
            seasonal: args.seasonal,
            trend: args.trend,
            robust: args.robust,
            ..StlParams::new(args.period)
        },
        score_threshold: args.threshold,
    };
    progress.step(format!("Decomposing {} points", batch.num_rows()));
    let scored = timeseries::timeseries_anomalies(&batch, &args.time, &args.value, &options)
        .map_err(|e| table_io::in_file(&args.input, e))?;
    let marks = scored
        .column_by_name("anomalies")
        .and_then(|c| c.as_any().downcast_ref::<arrow_array::Int64Array>())
        .map(|a| a.values().to_vec())
        .unwrap_or_default();
    let spikes = marks.iter().filter(|m| **m == 1).count();
    let quiet = marks.iter().filter(|m| **m == -1).count();
    table_io::write_output(&args.output, scored, &progress)?;
    progress.note(format!(
        "{} rows written to {}: {spikes} anomalies at busy times (1), {quiet} at quiet times (-1)",
        batch.num_rows(),
        args.output.display()
    ));
    Ok(())
}
