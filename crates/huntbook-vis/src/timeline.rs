//! Timelines, as MSTICPy draws them: events on a time axis, values over time, and
//! durations.
//!
//! * [`timeline`]: one lane per group (`group_by`), a point per event, coloured by
//!   group or by another column, tooltips from `source_columns`, reference lines and
//!   alert markers, an overlay of a second table, zoom, pan and a range selector.
//! * [`timeline_values`]: a value column over time as bars, a line or points, one
//!   series per group.
//! * [`timeline_duration`]: a bar per group from its first to its last event.
//!
//! Rows are sorted by lane and time here, so the script finds the events in view
//! and the one under the mouse by binary search, even at 100k events.

use arrow_array::RecordBatch;
use huntbook_analysis::columns;
use serde_json::{json, Map, Value};

use crate::chart::Chart;
use crate::columns::{epoch_ms, number, offset_ms, tooltips, Labels};
use crate::VisError;

const SCRIPT: &str = include_str!("../js/timeline.js");

/// The lane of rows whose group is empty or missing.
const NO_GROUP: &str = "(none)";

/// A vertical line across the chart at an instant: a reference event or the alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Nanoseconds since the Unix epoch, UTC.
    pub time: i64,
    pub label: String,
    /// Drawn as the alert: stronger colour and a marker on top.
    pub alert: bool,
}

/// A second table drawn over the first, in the same lanes (MSTICPy's `overlay_data`).
#[derive(Debug, Clone)]
pub struct Overlay {
    pub data: RecordBatch,
    /// Its name in the legend.
    pub label: String,
}

/// What [`timeline`] draws and how. `Default` gives MSTICPy's defaults.
#[derive(Debug, Clone)]
pub struct TimelineOptions {
    pub time_column: String,
    /// One lane per value of this column; all events in one lane without it.
    pub group_by: Option<String>,
    /// Columns shown in the tooltip of each event.
    pub source_columns: Vec<String>,
    /// Colour events by this column rather than by their lane.
    pub color_column: Option<String>,
    pub title: Option<String>,
    /// Pixels; by default it grows with the number of lanes.
    pub height: Option<u32>,
    pub width: u32,
    pub references: Vec<Reference>,
    pub overlay: Option<Overlay>,
    /// The small overview under the chart, whose window sets the zoom.
    pub range_tool: bool,
    pub legend: bool,
}

impl Default for TimelineOptions {
    fn default() -> Self {
        TimelineOptions {
            time_column: "TimeGenerated".into(),
            group_by: None,
            source_columns: Vec::new(),
            color_column: None,
            title: None,
            height: None,
            width: 900,
            references: Vec::new(),
            overlay: None,
            range_tool: true,
            legend: true,
        }
    }
}

/// Events of `data` on a time axis, one lane per group.
pub fn timeline(data: &RecordBatch, options: &TimelineOptions) -> Result<Chart, VisError> {
    let mut lanes = Labels::default();
    let mut colours = Labels::default();
    let main = Events::read(
        data,
        &options.time_column,
        (options.group_by.as_deref(), "events"),
        options.color_column.as_deref(),
        &options.source_columns,
    )?;
    let mut t0 = main.first_time();
    let overlay = match &options.overlay {
        Some(overlay) => {
            // The overlay is drawn in its own colour, in the lanes of its groups when it
            // has the group column, with the tooltip columns it has.
            let has = |c: &&str| overlay.data.column_by_name(c).is_some();
            let shown: Vec<String> = options
                .source_columns
                .iter()
                .filter(|c| has(&c.as_str()))
                .cloned()
                .collect();
            let group_by = options.group_by.as_deref().filter(has);
            let events = Events::read(
                &overlay.data,
                &options.time_column,
                (group_by, &overlay.label),
                None,
                &shown,
            )
            .map_err(|e| VisError::Invalid(format!("overlay data: {e}")))?;
            t0 = min_time(t0, events.first_time());
            Some((events, overlay.label.clone(), shown))
        }
        None => None,
    };
    let t0 = t0.unwrap_or(0);
    // Lanes are named in sorted order so the same data always draws the same way.
    let mut names: Vec<&str> = main.groups.iter().map(|g| g.as_str()).collect();
    if let Some((events, ..)) = &overlay {
        names.extend(events.groups.iter().map(|g| g.as_str()));
    }
    names.sort_unstable();
    names.dedup();
    for name in &names {
        lanes.code(name);
    }
    let mut series = vec![main.series(
        data,
        "events",
        &mut lanes,
        &mut colours,
        t0,
        &options.source_columns,
    )?];
    if let Some((events, label, shown)) = &overlay {
        let mut spec = events.series(
            &options.overlay.as_ref().expect("overlay").data,
            label,
            &mut lanes,
            &mut Labels::default(),
            t0,
            shown,
        )?;
        spec["overlay"] = true.into();
        series.push(spec);
    }
    let mut spec = base_spec(options, t0, "events");
    spec.insert("lanes".into(), json!(lanes.into_values()));
    spec.insert("series".into(), Value::Array(series));
    spec.insert(
        "color_by".into(),
        json!(options
            .color_column
            .as_deref()
            .or(options.group_by.as_deref())),
    );
    spec.insert("colors".into(), json!(colours.into_values()));
    Ok(Chart::new(
        "timeline",
        SCRIPT,
        title(options, "Timeline"),
        spec,
    ))
}

/// How [`timeline_values`] draws each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Bars,
    Line,
    Points,
}

impl std::str::FromStr for ValueKind {
    type Err = VisError;

    /// MSTICPy's names (`vbar`, `line`, `circle`) and plain ones.
    fn from_str(s: &str) -> Result<Self, VisError> {
        match s {
            "vbar" | "bar" | "bars" => Ok(ValueKind::Bars),
            "line" | "lines" => Ok(ValueKind::Line),
            "circle" | "point" | "points" | "scatter" => Ok(ValueKind::Points),
            other => Err(VisError::Invalid(format!(
                "kind '{other}' is not one of vbar, line, circle"
            ))),
        }
    }
}

impl ValueKind {
    fn name(self) -> &'static str {
        match self {
            ValueKind::Bars => "vbar",
            ValueKind::Line => "line",
            ValueKind::Points => "circle",
        }
    }
}

/// A numeric column over time: one series per group, drawn as `kind`.
pub fn timeline_values(
    data: &RecordBatch,
    value_column: &str,
    kind: ValueKind,
    options: &TimelineOptions,
) -> Result<Chart, VisError> {
    let times = columns::times(data, &options.time_column)?;
    let values = columns::numbers(data, value_column)?;
    let groups = group_labels(data, options.group_by.as_deref(), value_column)?;
    let t0 = times.iter().flatten().min().copied().unwrap_or(0);
    let mut names: Vec<&str> = groups.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut series = Vec::new();
    for name in names {
        let mut rows: Vec<usize> = (0..data.num_rows())
            .filter(|&r| groups[r] == name && times[r].is_some())
            .collect();
        rows.sort_by_key(|&r| times[r]);
        series.push(Series {
            name: name.to_string(),
            kind,
            rows,
            dashed: false,
            colour: None,
            values: None,
        });
    }
    let spec = values_spec(data, &times, &values, series, options, value_column, t0)?;
    Ok(Chart::new(
        "timeline",
        SCRIPT,
        title(options, &format!("{value_column} over time")),
        spec,
    ))
}

/// One line or set of marks of a values chart.
pub(crate) struct Series {
    pub name: String,
    pub kind: ValueKind,
    /// Rows of the table, in time order.
    pub rows: Vec<usize>,
    pub dashed: bool,
    /// A CSS colour that means something (the alert colour for anomalies); by
    /// default the palette's colour of the series' place.
    pub colour: Option<&'static str>,
    /// Values of its own, by row of the table, instead of the chart's value column
    /// (a baseline drawn with the values it is the baseline of).
    pub values: Option<Vec<Option<f64>>>,
}

/// The spec of a values chart: each series' times, values and tooltips.
pub(crate) fn values_spec(
    data: &RecordBatch,
    times: &[Option<i64>],
    values: &[Option<f64>],
    series: Vec<Series>,
    options: &TimelineOptions,
    value_column: &str,
    t0: i64,
) -> Result<Map<String, Value>, VisError> {
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let ys = s.values.as_deref().unwrap_or(values);
        let mut spec = json!({
            "name": s.name,
            "kind": s.kind.name(),
            "dashed": s.dashed,
            "t": s.rows.iter().map(|&r| offset_ms(times[r].expect("timed rows"), t0)).collect::<Vec<_>>(),
            "y": s.rows.iter().map(|&r| number(ys[r])).collect::<Vec<_>>(),
            "tips": tooltips(data, &options.source_columns, &s.rows)?,
        });
        if let Some(colour) = s.colour {
            spec["colour"] = colour.into();
        }
        out.push(spec);
    }
    let mut spec = base_spec(options, t0, "values");
    spec.insert("value_column".into(), value_column.into());
    spec.insert("series".into(), Value::Array(out));
    Ok(spec)
}

/// One bar per group, from its first event to its last (MSTICPy's
/// `display_timeline_duration`); `end_time_column` extends a bar to the latest end.
pub fn timeline_duration(
    data: &RecordBatch,
    end_time_column: Option<&str>,
    options: &TimelineOptions,
) -> Result<Chart, VisError> {
    let group_by = options.group_by.as_deref().ok_or_else(|| {
        VisError::Invalid(
            "a duration timeline needs group_by: the column whose values get a bar".into(),
        )
    })?;
    let starts = columns::times(data, &options.time_column)?;
    let ends = match end_time_column {
        Some(name) => columns::times(data, name)?,
        None => starts.clone(),
    };
    let groups = group_labels(data, Some(group_by), NO_GROUP)?;
    let mut spans: std::collections::BTreeMap<&str, (i64, i64, u64)> = Default::default();
    for row in 0..data.num_rows() {
        let Some(start) = starts[row] else { continue };
        let end = ends[row].unwrap_or(start).max(start);
        let span = spans.entry(groups[row].as_str()).or_insert((start, end, 0));
        span.0 = span.0.min(start);
        span.1 = span.1.max(end);
        span.2 += 1;
    }
    let t0 = spans.values().map(|s| s.0).min().unwrap_or(0);
    let mut spec = base_spec(options, t0, "duration");
    spec.insert("lanes".into(), json!(spans.keys().collect::<Vec<_>>()));
    spec.insert(
        "start".into(),
        json!(spans
            .values()
            .map(|s| offset_ms(s.0, t0))
            .collect::<Vec<_>>()),
    );
    spec.insert(
        "end".into(),
        json!(spans
            .values()
            .map(|s| offset_ms(s.1, t0))
            .collect::<Vec<_>>()),
    );
    spec.insert(
        "count".into(),
        json!(spans.values().map(|s| s.2).collect::<Vec<_>>()),
    );
    Ok(Chart::new(
        "timeline",
        SCRIPT,
        title(options, &format!("Duration by {group_by}")),
        spec,
    ))
}

/// The settings every timeline mode shares.
fn base_spec(options: &TimelineOptions, t0: i64, mode: &str) -> Map<String, Value> {
    let refs: Vec<Value> = options
        .references
        .iter()
        .map(|r| json!({"t": offset_ms(r.time, t0), "label": r.label, "alert": r.alert}))
        .collect();
    let mut spec = Map::new();
    spec.insert("mode".into(), mode.into());
    spec.insert("t0".into(), epoch_ms(t0));
    spec.insert("width".into(), options.width.into());
    spec.insert("height".into(), json!(options.height));
    spec.insert("refs".into(), Value::Array(refs));
    spec.insert("range_tool".into(), options.range_tool.into());
    spec.insert("legend".into(), options.legend.into());
    spec
}

fn title(options: &TimelineOptions, default: &str) -> String {
    options.title.clone().unwrap_or_else(|| default.to_string())
}

fn min_time(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The lane label of each row: the group column's text, `(none)` when missing; with
/// no group column, `single` for every row.
fn group_labels(
    data: &RecordBatch,
    group_by: Option<&str>,
    single: &str,
) -> Result<Vec<String>, VisError> {
    Ok(match group_by {
        Some(name) => columns::texts(data, name)?
            .into_iter()
            .map(|v| match v {
                Some(v) if !v.is_empty() => v,
                _ => NO_GROUP.to_string(),
            })
            .collect(),
        None => vec![single.to_string(); data.num_rows()],
    })
}

/// The timed rows of one table, with their lanes and colours.
struct Events {
    times: Vec<Option<i64>>,
    groups: Vec<String>,
    colours: Option<Vec<Option<String>>>,
}

impl Events {
    /// Reads the time, group and colour columns (when given) and checks that the
    /// tooltip columns are there before any work is done.
    fn read(
        data: &RecordBatch,
        time_column: &str,
        (group_by, single): (Option<&str>, &str),
        colour_column: Option<&str>,
        shown: &[String],
    ) -> Result<Self, VisError> {
        let times = columns::times(data, time_column)?;
        for name in shown {
            columns::column(data, name)?;
        }
        Ok(Events {
            times,
            groups: group_labels(data, group_by, single)?,
            colours: colour_column.map(|c| columns::texts(data, c)).transpose()?,
        })
    }

    fn first_time(&self) -> Option<i64> {
        self.times.iter().flatten().min().copied()
    }

    /// The rows as a spec series: sorted by lane then time, with `lane_start[i]` the
    /// first row of lane `i` (and one past the end last).
    fn series(
        &self,
        data: &RecordBatch,
        name: &str,
        lanes: &mut Labels,
        colours: &mut Labels,
        t0: i64,
        shown: &[String],
    ) -> Result<Value, VisError> {
        let lane_of: Vec<u32> = self.groups.iter().map(|g| lanes.code(g)).collect();
        let mut rows: Vec<usize> = (0..self.times.len())
            .filter(|&r| self.times[r].is_some())
            .collect();
        rows.sort_by_key(|&r| (lane_of[r], self.times[r]));
        let mut lane_start = vec![0usize; lanes.len() + 1];
        for &r in &rows {
            lane_start[lane_of[r] as usize + 1] += 1;
        }
        for i in 1..lane_start.len() {
            lane_start[i] += lane_start[i - 1];
        }
        let colour: Value = match &self.colours {
            Some(values) => Value::Array(
                rows.iter()
                    .map(|&r| match &values[r] {
                        Some(v) => colours.code(v).into(),
                        None => colours.code(NO_GROUP).into(),
                    })
                    .collect(),
            ),
            None => Value::Null,
        };
        Ok(json!({
            "name": name,
            "lane_start": lane_start,
            "t": rows.iter().map(|&r| offset_ms(self.times[r].expect("timed rows"), t0)).collect::<Vec<_>>(),
            "color": colour,
            "tips": tooltips(data, shown, &rows)?,
            "dropped": self.times.len() - rows.len(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, StringArray};

    use super::*;

    fn events() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "TimeGenerated",
                Arc::new(StringArray::from(vec![
                    Some("2024-03-01T10:00:02Z"),
                    Some("2024-03-01T10:00:00Z"),
                    None,
                    Some("2024-03-01T10:00:01Z"),
                ])) as ArrayRef,
            ),
            (
                "Operation",
                Arc::new(StringArray::from(vec![
                    Some("b"),
                    Some("a"),
                    Some("a"),
                    None,
                ])),
            ),
            (
                "User",
                Arc::new(StringArray::from(vec!["u1", "u2", "u3", "u4"])),
            ),
            (
                "Bytes",
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.5])),
            ),
        ])
        .unwrap()
    }

    fn options() -> TimelineOptions {
        TimelineOptions {
            group_by: Some("Operation".into()),
            source_columns: vec!["User".into()],
            ..Default::default()
        }
    }

    #[test]
    fn events_are_sorted_into_named_lanes_and_untimed_rows_dropped() {
        let chart = timeline(&events(), &options()).unwrap();
        let spec = chart.spec();
        assert_eq!(spec["lanes"], json!(["(none)", "a", "b"]));
        let s = &spec["series"][0];
        assert_eq!(s["lane_start"], json!([0, 1, 2, 3]));
        assert_eq!(s["t"], json!([1000, 0, 2000]));
        assert_eq!(s["tips"][0]["dict"], json!(["u4", "u2", "u1"]));
        assert_eq!(s["dropped"], 1);
        assert_eq!(spec["t0"], json!(1709287200000i64));
    }

    #[test]
    fn the_overlay_shares_lanes_and_references_are_relative() {
        let mut o = options();
        o.overlay = Some(Overlay {
            data: events(),
            label: "second".into(),
        });
        o.references = vec![Reference {
            time: 1709287200000 * 1_000_000 + 500_000_000,
            label: "alert".into(),
            alert: true,
        }];
        let spec = timeline(&events(), &o).unwrap().spec().clone();
        assert_eq!(spec["series"][1]["overlay"], true);
        assert_eq!(spec["series"][1]["lane_start"], json!([0, 1, 2, 3]));
        assert_eq!(spec["refs"][0]["t"], json!(500));
    }

    #[test]
    fn colours_come_from_the_colour_column() {
        let mut o = options();
        o.color_column = Some("User".into());
        let spec = timeline(&events(), &o).unwrap().spec().clone();
        assert_eq!(spec["colors"], json!(["u4", "u2", "u1"]));
        assert_eq!(spec["series"][0]["color"], json!([0, 1, 2]));
        assert_eq!(spec["color_by"], "User");
    }

    #[test]
    fn missing_columns_are_named() {
        let mut o = options();
        o.source_columns = vec!["Nope".into()];
        let e = timeline(&events(), &o).unwrap_err().to_string();
        assert!(e.contains("'Nope'"), "{e}");
        o.time_column = "When".into();
        let e = timeline(&events(), &o).unwrap_err().to_string();
        assert!(e.contains("'When'"), "{e}");
    }

    #[test]
    fn values_are_one_series_per_group_in_time_order() {
        let spec = timeline_values(&events(), "Bytes", ValueKind::Bars, &options())
            .unwrap()
            .spec()
            .clone();
        let names: Vec<_> = spec["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].clone())
            .collect();
        assert_eq!(names, vec![json!("(none)"), json!("a"), json!("b")]);
        assert_eq!(spec["series"][0]["y"], json!([4.5]));
        assert_eq!(spec["series"][0]["kind"], "vbar");
        assert!("pie".parse::<ValueKind>().is_err());
    }

    #[test]
    fn durations_run_from_first_to_last_event_per_group() {
        let mut o = options();
        o.group_by = Some("User".into());
        let spec = timeline_duration(&events(), None, &o)
            .unwrap()
            .spec()
            .clone();
        assert_eq!(spec["lanes"], json!(["u1", "u2", "u4"]));
        assert_eq!(spec["start"], json!([2000, 0, 1000]));
        assert_eq!(spec["count"], json!([1, 1, 1]));
        o.group_by = None;
        assert!(timeline_duration(&events(), None, &o).is_err());
    }
}
