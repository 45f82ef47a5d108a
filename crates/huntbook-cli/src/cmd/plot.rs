//! `huntbook plot`: a table file drawn as a chart of `huntbook_vis`, written as one
//! self-contained HTML page that opens in any browser, offline.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use chrono::Utc;
use huntbook_core::time::parse_time;
use huntbook_transform::proctree;
use huntbook_vis::map::MapOptions;
use huntbook_vis::matrix::MatrixOptions;
use huntbook_vis::network::{GraphStyle, IncidentGraphOptions, NetworkOptions};
use huntbook_vis::timeline::{self, Reference, TimelineOptions, ValueKind};
use huntbook_vis::timeseries::AnomalyOptions;
use huntbook_vis::tree::ProcessTreeOptions;
use huntbook_vis::Chart;

use super::table_io::{self, Progress};

/// Draw a table as an interactive HTML chart (no CDN, works offline)
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook plot timeline events.csv --group-by Operation -o timeline.html
  huntbook plot values flows.parquet --value TotalBytesSent --kind line -o bytes.html
  huntbook plot duration logons.csv --group-by TargetUserName -o sessions.html
  huntbook plot tree procs.csv --legend-col SubjectUserName -o tree.html
  huntbook plot network flows.parquet --source SourceIP --target DestinationIP -o talkers.html
  huntbook plot incidents alerts.parquet -o entities.html
  huntbook plot matrix flows.parquet --x SourceIP --y DestinationPort -o matrix.html
  huntbook plot map signins.parquet --layer UserPrincipalName -o where.html
  huntbook plot anomalies scored.csv --value TotalBytesSent -o anomalies.html")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Timeline(TimelineArgs),
    Values(ValuesArgs),
    Duration(DurationArgs),
    Tree(TreeArgs),
    Network(NetworkArgs),
    Incidents(IncidentsArgs),
    Matrix(MatrixArgs),
    Map(MapArgs),
    Anomalies(AnomaliesArgs),
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
    /// Height in pixels (default: each chart's own)
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

/// Process trees from process-creation events, collapsible and searchable
#[derive(clap::Args)]
#[command(after_help = "\
The events are linked into trees as `huntbook proctree build` does (the schema is \
inferred from the columns unless --schema names one). Click +/- to collapse a subtree, \
search by name or pid, click a process to highlight it and its ancestors.

Examples:
  huntbook plot tree procs.csv -o tree.html
  huntbook plot tree sysmon.jsonl --schema sysmon --legend-col User -o tree.html")]
pub struct TreeArgs {
    #[command(flatten)]
    pub page: Page,
    /// A built-in schema (windows, sysmon, linux, mde, mde_internal, osquery, hx) or a JSON column map
    #[arg(long)]
    pub schema: Option<String>,
    /// Colour the boxes by this column
    #[arg(long, value_name = "COLUMN")]
    pub legend_col: Option<String>,
}

/// Who talks to whom: a node per distinct source and target value
#[derive(clap::Args)]
#[command(after_help = "\
Rows are counted per (source, target) pair; hover a node or an edge for its values, \
scroll to zoom, drag to pan.

Examples:
  huntbook plot network flows.parquet --source SourceIP --target DestinationIP -o talkers.html
  huntbook plot network logons.csv --source IpAddress --target Computer --edge-attrs TargetUserName --directed -o logons.html")]
pub struct NetworkArgs {
    #[command(flatten)]
    pub page: Page,
    #[arg(long, value_name = "COLUMN")]
    pub source: String,
    #[arg(long, value_name = "COLUMN")]
    pub target: String,
    /// Columns describing a node where it is the source, comma-separated
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub source_attrs: Vec<String>,
    /// Columns describing a node where it is the target, comma-separated
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub target_attrs: Vec<String>,
    /// Columns describing an edge, comma-separated
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub edge_attrs: Vec<String>,
    /// a -> b and b -> a are two edges, drawn with arrows
    #[arg(long)]
    pub directed: bool,
}

/// Alerts (or incidents) and their entities as a graph
#[derive(clap::Args)]
#[command(after_help = "\
Each row's Sentinel entity JSON is read; entities seen by several alerts are one node \
that joins them.

Examples:
  huntbook plot incidents alerts.parquet -o entities.html
  huntbook plot incidents incidents.csv --alerts alerts.parquet -o incidents.html")]
pub struct IncidentsArgs {
    #[command(flatten)]
    pub page: Page,
    /// The column holding the entity JSON
    #[arg(long, value_name = "COLUMN", default_value = "Entities")]
    pub entities_column: String,
    /// The alerts of the incidents in the input, linked by AlertIds / SystemAlertId
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
}

/// How often each x meets each y: circles sized by count, distinct count or sum
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook plot matrix flows.parquet --x SourceIP --y DestinationPort -o matrix.html
  huntbook plot matrix flows.parquet --x SourceIP --y DestinationIP --value SentBytes --log-size -o bytes.html")]
pub struct MatrixArgs {
    #[command(flatten)]
    pub page: Page,
    #[arg(long, value_name = "COLUMN")]
    pub x: String,
    #[arg(long, value_name = "COLUMN")]
    pub y: String,
    /// Size by the sum of this column (or its distinct count with --dist-count)
    #[arg(long, value_name = "COLUMN")]
    pub value: Option<String>,
    #[arg(long)]
    pub dist_count: bool,
    /// Sizes on a log scale
    #[arg(long)]
    pub log_size: bool,
    /// Rare pairs drawn big
    #[arg(long)]
    pub invert: bool,
}

/// Located rows on an offline world map, clustered by zoom level
#[derive(clap::Args)]
#[command(after_help = "\
The world outline is inside the page; no tiles are fetched unless --tiles gives a URL \
with {z}/{x}/{y}.

Examples:
  huntbook plot map signins.parquet --layer UserPrincipalName --tooltip-columns IPAddress,City -o where.html
  huntbook plot map geo.csv --lat Lat --long Lon -o map.html")]
pub struct MapArgs {
    #[command(flatten)]
    pub page: Page,
    #[arg(long, value_name = "COLUMN", default_value = "Latitude")]
    pub lat: String,
    #[arg(long, value_name = "COLUMN", default_value = "Longitude")]
    pub long: String,
    /// One colour per value of this column
    #[arg(long, value_name = "COLUMN")]
    pub layer: Option<String>,
    /// Columns shown when hovering a point, comma-separated
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub tooltip_columns: Vec<String>,
    /// Columns shown when clicking a point, comma-separated
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub popup_columns: Vec<String>,
    /// A tile URL with {z}, {x} and {y}; the page then fetches tiles from it
    #[arg(long, value_name = "URL")]
    pub tiles: Option<String>,
}

/// Observed values, their baseline and the anomalies, from `huntbook analyse timeseries`
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  huntbook analyse timeseries bytes.csv --time TimeGenerated --value TotalBytesSent -o scored.csv
  huntbook plot anomalies scored.csv --value TotalBytesSent -o anomalies.html")]
pub struct AnomaliesArgs {
    #[command(flatten)]
    pub page: Page,
    #[command(flatten)]
    pub time: Time,
    /// The observed values
    #[arg(long, value_name = "COLUMN")]
    pub value: String,
    #[arg(long, value_name = "COLUMN", default_value = "baseline")]
    pub baseline: String,
    #[arg(long, value_name = "COLUMN", default_value = "anomalies")]
    pub anomalies: String,
}

pub fn run(args: Args) -> u8 {
    table_io::exit_code(match args.command {
        Command::Timeline(a) => timeline_options(&a.page, &a.time).and_then(|o| {
            let options = TimelineOptions {
                group_by: a.group_by,
                source_columns: a.source_columns,
                color_column: a.color_by,
                ..o
            };
            draw(&a.page, |batch| timeline::timeline(batch, &options))
        }),
        Command::Values(a) => timeline_options(&a.page, &a.time).and_then(|o| {
            let kind: ValueKind = a.kind.parse().map_err(|e| format!("--kind: {e}"))?;
            let options = TimelineOptions {
                group_by: a.group_by,
                source_columns: a.source_columns,
                ..o
            };
            draw(&a.page, |batch| {
                timeline::timeline_values(batch, &a.value, kind, &options)
            })
        }),
        Command::Duration(a) => timeline_options(&a.page, &a.time).and_then(|o| {
            let options = TimelineOptions {
                group_by: Some(a.group_by),
                ..o
            };
            draw(&a.page, |batch| {
                timeline::timeline_duration(batch, a.end_time.as_deref(), &options)
            })
        }),
        Command::Tree(a) => draw_tree(a),
        Command::Network(a) => {
            let options = NetworkOptions {
                source_attrs: a.source_attrs,
                target_attrs: a.target_attrs,
                edge_attrs: a.edge_attrs,
                directed: a.directed,
                style: style(&a.page),
                ..NetworkOptions::new(&a.source, &a.target)
            };
            draw(&a.page, |batch| {
                huntbook_vis::network::network(batch, &options)
            })
        }
        Command::Incidents(a) => draw_incidents(a),
        Command::Matrix(a) => {
            let defaults = MatrixOptions::default();
            let options = MatrixOptions {
                x_column: a.x,
                y_column: a.y,
                value_column: a.value,
                dist_count: a.dist_count,
                log_size: a.log_size,
                invert: a.invert,
                title: a.page.title.clone(),
                width: a.page.width,
                height: a.page.height.unwrap_or(defaults.height),
                ..defaults
            };
            draw(&a.page, |batch| {
                huntbook_vis::matrix::matrix(batch, &options)
            })
        }
        Command::Map(a) => {
            let defaults = MapOptions::default();
            let options = MapOptions {
                lat_column: a.lat,
                long_column: a.long,
                layer_column: a.layer,
                tooltip_columns: a.tooltip_columns,
                popup_columns: a.popup_columns,
                tiles: a.tiles,
                title: a.page.title.clone(),
                width: a.page.width,
                height: a.page.height.unwrap_or(defaults.height),
                ..defaults
            };
            draw(&a.page, |batch| huntbook_vis::map::map(batch, &options))
        }
        Command::Anomalies(a) => timeline_options(&a.page, &a.time).and_then(|timeline| {
            let options = AnomalyOptions {
                value_column: a.value,
                baseline_column: a.baseline,
                anomalies_column: a.anomalies,
                timeline,
            };
            draw(&a.page, |batch| {
                huntbook_vis::timeseries::timeseries_anomalies(batch, &options)
            })
        }),
    })
}

/// A graph's look from the page options.
fn style(page: &Page) -> GraphStyle {
    let defaults = GraphStyle::default();
    GraphStyle {
        title: page.title.clone(),
        width: page.width,
        height: page.height.unwrap_or(defaults.height),
        ..defaults
    }
}

/// The events linked into trees first, then drawn.
fn draw_tree(a: TreeArgs) -> Result<(), String> {
    let schema = a
        .schema
        .as_deref()
        .map(super::proctree::load_schema)
        .transpose()?;
    draw(&a.page, |batch| {
        let tree = proctree::build_process_tree(batch, schema.as_ref())
            .map_err(|e| huntbook_vis::VisError::Invalid(e.to_string()))?;
        let schema = tree.schema().clone();
        let table = tree.into_batch();
        let names = table.schema();
        let columns: Vec<&str> = names.fields().iter().map(|f| f.name().as_str()).collect();
        let defaults = ProcessTreeOptions::for_schema(&schema, &columns);
        let options = ProcessTreeOptions {
            legend_col: a.legend_col.clone(),
            title: a.page.title.clone(),
            width: a.page.width,
            height: a.page.height.unwrap_or(defaults.height),
            ..defaults
        };
        huntbook_vis::tree::process_tree(&table, &options)
    })
}

fn draw_incidents(a: IncidentsArgs) -> Result<(), String> {
    let alerts = match &a.alerts {
        Some(path) => Some(table_io::read_input(path, &Progress::new())?),
        None => None,
    };
    let options = IncidentGraphOptions {
        entities_column: a.entities_column,
        alerts,
        style: style(&a.page),
        ..Default::default()
    };
    draw(&a.page, |batch| {
        huntbook_vis::network::incident_graph(batch, &options)
    })
}

/// The timeline settings every time chart shares; references are read before any
/// table, so a bad one fails at once.
fn timeline_options(page: &Page, time: &Time) -> Result<TimelineOptions, String> {
    let mut references = Vec::new();
    for text in &time.refs {
        references.push(reference(text, "Ref time", false)?);
    }
    if let Some(text) = &time.alert {
        references.push(reference(text, "Alert", true)?);
    }
    Ok(TimelineOptions {
        time_column: time.time.clone(),
        title: page.title.clone(),
        width: page.width,
        height: page.height,
        references,
        range_tool: !time.no_range_tool,
        ..Default::default()
    })
}

/// Reads the input, draws it with `chart` and writes the page.
fn draw(
    page: &Page,
    chart: impl FnOnce(&RecordBatch) -> Result<Chart, huntbook_vis::VisError>,
) -> Result<(), String> {
    check_html(&page.output)?;
    let progress = Progress::new();
    let batch = table_io::read_input(&page.input, &progress)?;
    progress.step("Drawing".into());
    let chart = chart(&batch).map_err(|e| table_io::in_file(&page.input, e))?;
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
