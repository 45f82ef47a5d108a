//! `huntbook plot`: a table file drawn as a chart of `huntbook_vis`, written as one
//! self-contained HTML page that opens in any browser, offline.

use std::path::{Path, PathBuf};

use chrono::Utc;
use huntbook_core::time::parse_time;
use huntbook_vis::timeline::{self, Reference, TimelineOptions, ValueKind};
use huntbook_vis::Chart;

use super::table_io::{self, Progress};

/// Draw a table as an interactive HTML chart (no CDN, works offline)
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook plot timeline events.csv --group-by Operation -o timeline.html
  huntbook plot values flows.parquet --value TotalBytesSent --kind line -o bytes.html
  huntbook plot duration logons.csv --group-by TargetUserName -o sessions.html")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Timeline(TimelineArgs),
    Values(ValuesArgs),
    Duration(DurationArgs),
}

/// What every chart takes: the input, the output page, and the page's look.
#[derive(clap::Args)]
pub struct Page {
    /// The table (.csv, .jsonl or .parquet)
    pub input: PathBuf,
    /// Where to write the chart (.html)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
    /// The chart's title
    #[arg(long)]
    pub title: Option<String>,
    /// Width in pixels
    #[arg(long, default_value_t = 900)]
    pub width: u32,
    /// Height in pixels (default: from the number of lanes)
    #[arg(long)]
    pub height: Option<u32>,
}

/// What the timelines share: the time column, lanes and reference lines.
#[derive(clap::Args)]
pub struct Time {
    /// The time column
    #[arg(long, value_name = "COLUMN", default_value = "TimeGenerated")]
    pub time: String,
    /// A reference line: TIME or TIME=LABEL (ISO 8601, or MSTICPy's grammar such as -2h); repeatable
    #[arg(long = "ref", value_name = "TIME[=LABEL]")]
    pub refs: Vec<String>,
    /// The alert's time, drawn as the alert: TIME or TIME=NAME
    #[arg(long, value_name = "TIME[=NAME]")]
    pub alert: Option<String>,
    /// No range selector under the chart
    #[arg(long)]
    pub no_range_tool: bool,
}

/// Events on a time axis, one lane per group
#[derive(clap::Args)]
#[command(after_help = "\
Hover a point for its time, group and --source-columns; scroll to zoom, drag to pan, \
double-click to see everything, or drag a window in the range selector.

Examples:
  huntbook plot timeline events.csv --group-by Operation -o timeline.html
  huntbook plot timeline signins.parquet --group-by UserPrincipalName \\
      --source-columns IPAddress,ResultType --alert '2024-03-01T10:15:00Z=Password spray' -o signins.html")]
pub struct TimelineArgs {
    #[command(flatten)]
    pub page: Page,
    #[command(flatten)]
    pub time: Time,
    /// One lane per value of this column
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Columns shown when hovering an event, comma-separated
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub source_columns: Vec<String>,
    /// Colour events by this column instead of by lane
    #[arg(long, value_name = "COLUMN")]
    pub color_by: Option<String>,
}

/// A numeric column over time
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook plot values flows.parquet --value TotalBytesSent --kind line -o bytes.html
  huntbook plot values logons.csv --value Count --group-by Computer --kind circle -o logons.html")]
pub struct ValuesArgs {
    #[command(flatten)]
    pub page: Page,
    #[command(flatten)]
    pub time: Time,
    /// The column of numbers
    #[arg(long, value_name = "COLUMN")]
    pub value: String,
    /// vbar, line or circle
    #[arg(long, default_value = "vbar")]
    pub kind: String,
    /// One series per value of this column
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Columns shown when hovering a value, comma-separated
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub source_columns: Vec<String>,
}

/// A bar per group from its first event to its last
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook plot duration logons.csv --group-by TargetUserName -o sessions.html
  huntbook plot duration jobs.parquet --group-by Job --time Start --end-time End -o jobs.html")]
pub struct DurationArgs {
    #[command(flatten)]
    pub page: Page,
    #[command(flatten)]
    pub time: Time,
    /// One bar per value of this column
    #[arg(long, value_name = "COLUMN")]
    pub group_by: String,
    /// A column of end times that can stretch a bar past the last start
    #[arg(long, value_name = "COLUMN")]
    pub end_time: Option<String>,
}

pub fn run(args: Args) -> u8 {
    table_io::exit_code(match args.command {
        Command::Timeline(a) => draw(&a.page, &a.time, |batch, options| {
            let options = TimelineOptions {
                group_by: a.group_by.clone(),
                source_columns: a.source_columns.clone(),
                color_column: a.color_by.clone(),
                ..options
            };
            timeline::timeline(batch, &options)
        }),
        Command::Values(a) => draw(&a.page, &a.time, |batch, options| {
            let kind: ValueKind = a.kind.parse()?;
            let options = TimelineOptions {
                group_by: a.group_by.clone(),
                source_columns: a.source_columns.clone(),
                ..options
            };
            timeline::timeline_values(batch, &a.value, kind, &options)
        }),
        Command::Duration(a) => draw(&a.page, &a.time, |batch, options| {
            let options = TimelineOptions {
                group_by: Some(a.group_by.clone()),
                ..options
            };
            timeline::timeline_duration(batch, a.end_time.as_deref(), &options)
        }),
    })
}

/// Reads the input, draws it with `chart` and writes the page.
fn draw(
    page: &Page,
    time: &Time,
    chart: impl FnOnce(
        &arrow_array::RecordBatch,
        TimelineOptions,
    ) -> Result<Chart, huntbook_vis::VisError>,
) -> Result<(), String> {
    check_html(&page.output)?;
    let mut references = Vec::new();
    for text in &time.refs {
        references.push(reference(text, "Ref time", false)?);
    }
    if let Some(text) = &time.alert {
        references.push(reference(text, "Alert", true)?);
    }
    let options = TimelineOptions {
        time_column: time.time.clone(),
        title: page.title.clone(),
        width: page.width,
        height: page.height,
        references,
        range_tool: !time.no_range_tool,
        ..Default::default()
    };
    let progress = Progress::new();
    let batch = table_io::read_input(&page.input, &progress)?;
    progress.step("Drawing".into());
    let chart = chart(&batch, options).map_err(|e| table_io::in_file(&page.input, e))?;
    write_page(&page.output, &chart, &progress)
}

/// A chart is a web page: another extension would open in the wrong program.
fn check_html(path: &Path) -> Result<(), String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => Ok(()),
        _ => Err(format!(
            "{}: a chart is written as an HTML page; name the output something.html",
            path.display()
        )),
    }
}

fn write_page(path: &Path, chart: &Chart, progress: &Progress) -> Result<(), String> {
    progress.step(format!("Writing {}", path.display()));
    huntbook_notebook::io::write_atomic(path, chart.page().as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `TIME` or `TIME=LABEL` as a reference line.
fn reference(text: &str, label: &str, alert: bool) -> Result<Reference, String> {
    let (when, label) = match text.split_once('=') {
        Some((when, label)) => (when, label.to_string()),
        None => (text, label.to_string()),
    };
    let time = parse_time(when.trim(), Utc::now()).map_err(|e| {
        format!("--ref/--alert '{text}': {e}; give an ISO 8601 time such as 2024-03-01T10:15:00Z")
    })?;
    let time = time
        .timestamp_nanos_opt()
        .ok_or_else(|| format!("--ref/--alert '{text}': the time is out of range"))?;
    Ok(Reference { time, label, alert })
}
