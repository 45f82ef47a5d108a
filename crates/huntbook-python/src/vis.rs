//! Charts (`huntbook_vis`) for the `huntbook.plot` module: each function takes an
//! Arrow batch and the chart's settings as a dict with MSTICPy's names, draws with the
//! GIL released, and returns a [`Chart`] whose HTML the Python class shows.
use std::path::PathBuf;

use huntbook_vis::timeline::{self as draw, Overlay, Reference, TimelineOptions};
use pyo3::prelude::*;

use crate::arrow::batch_from_py;
use crate::transforms::value_error;

/// A drawn chart: its HTML fragment (for a notebook), its page (for a file).
#[pyclass(module = "huntbook._huntbook", frozen)]
pub struct Chart(huntbook_vis::Chart);

#[pymethods]
impl Chart {
    #[getter]
    fn kind(&self) -> &str {
        self.0.kind()
    }

    #[getter]
    fn title(&self) -> &str {
        self.0.title()
    }

    /// The JSON the chart's script draws.
    fn spec_json(&self) -> String {
        serde_json::Value::Object(self.0.spec().clone()).to_string()
    }

    fn fragment(&self) -> String {
        self.0.fragment()
    }

    fn page(&self) -> String {
        self.0.page()
    }

    /// Writes the page to `path` through a temporary file, so no half-written chart is
    /// ever left behind.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let page = self.0.page();
        py.detach(|| huntbook_notebook::io::write_atomic(&path, page.as_bytes()))
            .map_err(|e| value_error(format!("cannot write {}: {e}", path.display())))
    }
}

/// Runs `draw` with the GIL released and wraps its chart.
fn chart<E: std::fmt::Display + Send>(
    py: Python<'_>,
    draw: impl FnOnce() -> Result<huntbook_vis::Chart, E> + Send,
) -> PyResult<Chart> {
    py.detach(draw).map(Chart).map_err(value_error)
}

/// Timeline settings as `huntbook.plot` passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Timeline {
    time_column: String,
    group_by: Option<String>,
    source_columns: Vec<String>,
    color_column: Option<String>,
    title: Option<String>,
    height: Option<u32>,
    width: u32,
    /// (nanoseconds since the epoch, label, is the alert)
    references: Vec<(i64, String, bool)>,
    range_tool: bool,
    legend: bool,
}

impl Timeline {
    fn options(self, overlay: Option<(&Bound<'_, PyAny>, String)>) -> PyResult<TimelineOptions> {
        let overlay = match overlay {
            Some((data, label)) => Some(Overlay {
                data: batch_from_py(data)?,
                label,
            }),
            None => None,
        };
        Ok(TimelineOptions {
            time_column: self.time_column,
            group_by: self.group_by,
            source_columns: self.source_columns,
            color_column: self.color_column,
            title: self.title,
            height: self.height,
            width: self.width,
            references: self
                .references
                .into_iter()
                .map(|(time, label, alert)| Reference { time, label, alert })
                .collect(),
            overlay,
            range_tool: self.range_tool,
            legend: self.legend,
        })
    }
}

#[pyfunction]
#[pyo3(signature = (batch, settings, overlay=None, overlay_label=String::new()))]
fn timeline(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    settings: Timeline,
    overlay: Option<&Bound<'_, PyAny>>,
    overlay_label: String,
) -> PyResult<Chart> {
    let data = batch_from_py(batch)?;
    let options = settings.options(overlay.map(|o| (o, overlay_label)))?;
    chart(py, || draw::timeline(&data, &options))
}

#[pyfunction]
fn timeline_values(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    settings: Timeline,
    value_column: String,
    kind: String,
) -> PyResult<Chart> {
    let data = batch_from_py(batch)?;
    let options = settings.options(None)?;
    let kind = kind.parse().map_err(value_error)?;
    chart(py, || {
        draw::timeline_values(&data, &value_column, kind, &options)
    })
}

#[pyfunction]
#[pyo3(signature = (batch, settings, end_time_column=None))]
fn timeline_duration(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    settings: Timeline,
    end_time_column: Option<String>,
) -> PyResult<Chart> {
    let data = batch_from_py(batch)?;
    let options = settings.options(None)?;
    chart(py, || {
        draw::timeline_duration(&data, end_time_column.as_deref(), &options)
    })
}

/// How a network or entity graph is drawn, as `huntbook.plot` passes it.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct GraphStyle {
    title: Option<String>,
    width: u32,
    height: u32,
    node_size: u32,
    font_size: u32,
    seed: u64,
}

impl From<GraphStyle> for huntbook_vis::network::GraphStyle {
    fn from(s: GraphStyle) -> Self {
        huntbook_vis::network::GraphStyle {
            title: s.title,
            width: s.width,
            height: s.height,
            node_size: s.node_size,
            font_size: s.font_size,
            seed: s.seed,
        }
    }
}

/// Network settings as `huntbook.plot.network` passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Network {
    source_col: String,
    target_col: String,
    source_attrs: Vec<String>,
    target_attrs: Vec<String>,
    edge_attrs: Vec<String>,
    directed: bool,
}

#[pyfunction]
fn network(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    settings: Network,
    style: GraphStyle,
) -> PyResult<Chart> {
    let data = batch_from_py(batch)?;
    let options = huntbook_vis::network::NetworkOptions {
        source_col: settings.source_col,
        target_col: settings.target_col,
        source_attrs: settings.source_attrs,
        target_attrs: settings.target_attrs,
        edge_attrs: settings.edge_attrs,
        directed: settings.directed,
        style: style.into(),
    };
    chart(py, || huntbook_vis::network::network(&data, &options))
}

#[pyfunction]
#[pyo3(signature = (batch, style, entities_column, name_column=None, alert_columns=None, alerts=None))]
fn incident_graph(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    style: GraphStyle,
    entities_column: String,
    name_column: Option<String>,
    alert_columns: Option<Vec<String>>,
    alerts: Option<&Bound<'_, PyAny>>,
) -> PyResult<Chart> {
    let data = batch_from_py(batch)?;
    let options = huntbook_vis::network::IncidentGraphOptions {
        entities_column,
        name_column,
        alert_columns,
        alerts: alerts.map(batch_from_py).transpose()?,
        style: style.into(),
    };
    chart(py, || {
        huntbook_vis::network::incident_graph(&data, &options)
    })
}

/// Process tree settings as `huntbook.plot` passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct ProcessTree {
    legend_col: Option<String>,
    title: Option<String>,
    height: u32,
    width: u32,
    hide_legend: bool,
    pid_fmt: String,
}

/// A tree frame (from `build_process_tree`) as a chart. The schema (a built-in name, a
/// column map, or inferred from the columns as the tree builder infers it) says which
/// columns hold the name, pid, command line, user, logon ids and time; those of its
/// optional columns that the frame lacks are left out of the tooltips.
#[pyfunction]
#[pyo3(signature = (batch, settings, schema=None))]
fn process_tree(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    settings: ProcessTree,
    schema: Option<&Bound<'_, PyAny>>,
) -> PyResult<Chart> {
    use huntbook_vis::tree::{self as tree, ProcessTreeOptions};

    let data = batch_from_py(batch)?;
    let names: Vec<String> = data
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let schema = huntbook_transform::proctree::schema_for(
        crate::transforms::schema_from_py(schema)?.as_ref(),
        names.iter().map(String::as_str),
    )
    .map_err(value_error)?;
    let columns: Vec<&str> = names.iter().map(String::as_str).collect();
    let options = ProcessTreeOptions {
        legend_col: settings.legend_col,
        title: settings.title,
        width: settings.width,
        height: settings.height,
        hide_legend: settings.hide_legend,
        pid_fmt: settings.pid_fmt.parse().map_err(value_error)?,
        ..ProcessTreeOptions::for_schema(&schema, &columns)
    };
    chart(py, || tree::process_tree(&data, &options))
}

/// Matrix settings as `huntbook.plot.matrix` passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Matrix {
    x: String,
    y: String,
    value_col: Option<String>,
    dist_count: bool,
    log_size: bool,
    invert: bool,
    intersect: bool,
    sort_x: String,
    sort_y: String,
    sort_by: String,
    title: Option<String>,
    width: u32,
    height: u32,
}

#[pyfunction]
fn matrix(py: Python<'_>, batch: &Bound<'_, PyAny>, settings: Matrix) -> PyResult<Chart> {
    use huntbook_vis::matrix::MatrixOptions;
    let data = batch_from_py(batch)?;
    let options = MatrixOptions {
        x_column: settings.x,
        y_column: settings.y,
        value_column: settings.value_col,
        dist_count: settings.dist_count,
        log_size: settings.log_size,
        invert: settings.invert,
        intersect: settings.intersect,
        sort_x: settings.sort_x.parse().map_err(value_error)?,
        sort_y: settings.sort_y.parse().map_err(value_error)?,
        sort_by: settings.sort_by.parse().map_err(value_error)?,
        title: settings.title,
        width: settings.width,
        height: settings.height,
    };
    chart(py, || huntbook_vis::matrix::matrix(&data, &options))
}

/// Map settings as `huntbook.plot.map` passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct MapSettings {
    lat_column: String,
    long_column: String,
    layer_column: Option<String>,
    tooltip_columns: Vec<String>,
    popup_columns: Vec<String>,
    marker_cluster: bool,
    tiles: Option<String>,
    zoom_start: Option<u32>,
    location: Option<(f64, f64)>,
    center_mode: String,
    title: Option<String>,
    width: u32,
    height: u32,
}

#[pyfunction]
fn map(py: Python<'_>, batch: &Bound<'_, PyAny>, settings: MapSettings) -> PyResult<Chart> {
    use huntbook_vis::map::MapOptions;
    let data = batch_from_py(batch)?;
    let options = MapOptions {
        lat_column: settings.lat_column,
        long_column: settings.long_column,
        layer_column: settings.layer_column,
        tooltip_columns: settings.tooltip_columns,
        popup_columns: settings.popup_columns,
        marker_cluster: settings.marker_cluster,
        tiles: settings.tiles,
        zoom_start: settings.zoom_start,
        location: settings.location,
        center_mode: settings.center_mode.parse().map_err(value_error)?,
        title: settings.title,
        width: settings.width,
        height: settings.height,
    };
    chart(py, || huntbook_vis::map::map(&data, &options))
}

#[pyfunction]
fn timeseries_anomalies(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    settings: Timeline,
    value_column: String,
    baseline_column: String,
    anomalies_column: String,
) -> PyResult<Chart> {
    use huntbook_vis::timeseries::AnomalyOptions;
    let data = batch_from_py(batch)?;
    let options = AnomalyOptions {
        value_column,
        baseline_column,
        anomalies_column,
        timeline: settings.options(None)?,
    };
    chart(py, || {
        huntbook_vis::timeseries::timeseries_anomalies(&data, &options)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Chart>()?;
    m.add_function(wrap_pyfunction!(timeline, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_values, m)?)?;
    m.add_function(wrap_pyfunction!(timeline_duration, m)?)?;
    m.add_function(wrap_pyfunction!(process_tree, m)?)?;
    m.add_function(wrap_pyfunction!(network, m)?)?;
    m.add_function(wrap_pyfunction!(incident_graph, m)?)?;
    m.add_function(wrap_pyfunction!(matrix, m)?)?;
    m.add_function(wrap_pyfunction!(map, m)?)?;
    m.add_function(wrap_pyfunction!(timeseries_anomalies, m)?)?;
    Ok(())
}
