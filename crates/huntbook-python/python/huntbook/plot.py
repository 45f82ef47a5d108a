"""Charts as self-contained interactive HTML: timelines, process trees, interaction
matrices, maps and time-series anomalies, and (through the ``hb`` accessor) the same
charts straight from a DataFrame.

Every function returns a :class:`Chart`. In Jupyter it shows itself (``_repr_html_``);
``chart.save("timeline.html")`` writes a page that opens anywhere, offline: the
drawing script is inside the file, and nothing is fetched from the network.

Example::

    import huntbook
    chart = huntbook.plot.timeline(events, group_by="Operation",
                                   source_columns=["UserId", "ClientIP"], ref_time=alert_time)
    chart.save("timeline.html")
    events.hb.timeline(group_by="Computer")       # the same, from the accessor
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import pandas as pd

from huntbook import _huntbook
from huntbook._tables import Table, to_batch

__all__ = [
    "Chart",
    "timeline",
    "timeline_values",
    "timeline_duration",
    "process_tree",
    "network",
    "incident_graph",
    "HuntbookAccessor",
    "matrix",
    "plot_map",
    "map",
    "timeseries_anomalies",
]

#: An instant: a pandas Timestamp, a datetime, ISO 8601 text or epoch nanoseconds.
Instant = Union[pd.Timestamp, dt.datetime, str, int]


class Chart:
    """A drawn chart. Shows itself in a notebook; :meth:`save` writes it to a file.

    Example::

        >>> chart = huntbook.plot.timeline(events, group_by="Operation")
        >>> chart.save("timeline.html")
        >>> chart.kind
        'timeline'
    """

    def __init__(self, chart: Any) -> None:
        self._chart = chart

    @property
    def kind(self) -> str:
        """What the chart shows: ``"timeline"``, ``"process_tree"``, ``"matrix"``..."""
        return self._chart.kind

    @property
    def title(self) -> str:
        return self._chart.title

    @property
    def spec(self) -> Dict[str, Any]:
        """The data and settings the chart draws, as a dict."""
        return json.loads(self._chart.spec_json())

    @property
    def html(self) -> str:
        """The chart as a whole HTML page."""
        return self._chart.page()

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the chart as a standalone HTML page (through a temporary file)."""
        self._chart.save(os.fspath(path))

    def _repr_html_(self) -> str:
        return self._chart.fragment()

    def __repr__(self) -> str:
        return f"<huntbook Chart {self.kind}: {self.title!r}>"


def _nanos(value: Instant, what: str) -> int:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{what}: {value!r} is not a time ({err})") from err
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.tz_convert("UTC").value)


def _alert_reference(alert: Any) -> Tuple[int, str, bool]:
    """The alert's time and name, from a dict, a row (Series) or an alert object."""
    def get(name: str) -> Any:
        if isinstance(alert, (dict, pd.Series)):
            return alert.get(name)
        return getattr(alert, name, None)

    when = next((get(n) for n in ("StartTimeUtc", "StartTime", "TimeGenerated") if get(n) is not None), None)
    if when is None:
        raise ValueError("alert: it has no StartTimeUtc, StartTime or TimeGenerated to place it on the timeline")
    name = next((get(n) for n in ("AlertName", "DisplayName", "AlertDisplayName") if get(n)), "Alert")
    return _nanos(when, "alert"), str(name), True


def _references(
    ref_time: Optional[Instant],
    ref_label: Optional[str],
    ref_event: Any,
    ref_events: Optional[pd.DataFrame],
    ref_col: Optional[str],
    ref_times: Optional[Iterable[Tuple[Instant, str]]],
    alert: Any,
    time_column: str,
) -> List[Tuple[int, str, bool]]:
    """MSTICPy's reference arguments as (nanoseconds, label, is alert) triples."""
    refs: List[Tuple[int, str, bool]] = []
    if ref_time is not None:
        refs.append((_nanos(ref_time, "ref_time"), ref_label or "Ref time", False))
    if ref_event is not None:
        when = ref_event.get(time_column) if hasattr(ref_event, "get") else getattr(ref_event, time_column, None)
        if when is None:
            raise ValueError(f"ref_event: it has no {time_column!r}")
        refs.append((_nanos(when, "ref_event"), ref_label or "Ref event", False))
    if ref_events is not None:
        if time_column not in ref_events.columns:
            raise ValueError(f"ref_events: no column {time_column!r}")
        labels = ref_events[ref_col] if ref_col else ref_events.index
        for when, label in zip(ref_events[time_column], labels):
            refs.append((_nanos(when, "ref_events"), str(label), False))
    for when, label in ref_times or []:
        refs.append((_nanos(when, "ref_times"), str(label), False))
    if alert is not None:
        refs.append(_alert_reference(alert))
    return refs


def _columns_batch(data: Table, names: Iterable[Optional[str]]) -> Any:
    """The batch of the columns a chart reads; all columns when one is missing, so
    that Rust names the missing one along with the columns there are."""
    wanted = list(dict.fromkeys(c for c in names if c))
    present = set(data.columns if isinstance(data, pd.DataFrame) else data.schema.names)
    return to_batch(data, wanted) if set(wanted) <= present else to_batch(data)


def _settings(
    data: Table,
    time_column: str,
    group_by: Optional[str],
    source_columns: Optional[Sequence[str]],
    color_column: Optional[str],
    title: Optional[str],
    height: Optional[int],
    width: int,
    references: List[Tuple[int, str, bool]],
    range_tool: bool,
    legend: bool,
    extra: Sequence[Optional[str]] = (),
) -> Tuple[Any, Dict[str, Any]]:
    """The batch of the columns a timeline reads (``extra`` too), and its settings."""
    source = list(source_columns or [])
    batch = _columns_batch(data, [time_column, group_by, color_column, *source, *extra])
    return batch, {
        "time_column": time_column,
        "group_by": group_by,
        "source_columns": source,
        "color_column": color_column,
        "title": title,
        "height": height,
        "width": width,
        "references": references,
        "range_tool": range_tool,
        "legend": legend,
    }


def timeline(
    data: Table,
    *,
    time_column: str = "TimeGenerated",
    group_by: Optional[str] = None,
    source_columns: Optional[Sequence[str]] = None,
    color_column: Optional[str] = None,
    title: Optional[str] = None,
    height: Optional[int] = None,
    width: int = 900,
    ref_time: Optional[Instant] = None,
    ref_label: Optional[str] = None,
    ref_event: Any = None,
    ref_events: Optional[pd.DataFrame] = None,
    ref_col: Optional[str] = None,
    ref_times: Optional[Iterable[Tuple[Instant, str]]] = None,
    alert: Any = None,
    overlay_data: Optional[Table] = None,
    overlay_label: str = "overlay",
    range_tool: bool = True,
    legend: bool = True,
) -> Chart:
    """Events on a time axis, one lane per ``group_by`` value (MSTICPy's
    ``display_timeline``).

    Hover a point for its time, group and ``source_columns``; scroll to zoom, drag to
    pan, double-click to see everything, or drag the window in the range selector.

    Args:
        data: the events.
        time_column: when each event happened.
        group_by: one lane per value of this column (one lane without it).
        source_columns: columns shown when hovering an event.
        color_column: colour events by this column instead of by lane.
        title, height, width: the chart's title and size in pixels (the height grows
            with the lanes by default).
        ref_time, ref_label: a reference line at an instant, and its label.
        ref_event: a row (Series) whose ``time_column`` is the reference.
        ref_events, ref_col: a frame of reference events, labelled by ``ref_col``.
        ref_times: ``[(instant, label), ...]`` reference lines.
        alert: an alert (dict, row or object with ``StartTimeUtc``/``TimeGenerated``
            and ``AlertName``/``DisplayName``), marked as the alert.
        overlay_data, overlay_label: a second table drawn over the first in the
            same lanes, as squares.
        range_tool: show the overview under the chart that sets the zoom.
        legend: show the legend.

    Example::

        >>> chart = huntbook.plot.timeline(signins, group_by="UserPrincipalName",
        ...                                source_columns=["IPAddress", "ResultType"],
        ...                                ref_time="2024-03-01T10:15:00Z", ref_label="First alert")
        >>> chart.save("signins.html")
    """
    refs = _references(ref_time, ref_label, ref_event, ref_events, ref_col, ref_times, alert, time_column)
    batch, settings = _settings(
        data, time_column, group_by, source_columns, color_column, title, height, width, refs, range_tool, legend
    )
    overlay = None if overlay_data is None else to_batch(overlay_data)
    return Chart(_huntbook.timeline(batch, settings, overlay, overlay_label))


def timeline_values(
    data: Table,
    value_column: str,
    *,
    kind: str = "vbar",
    time_column: str = "TimeGenerated",
    group_by: Optional[str] = None,
    source_columns: Optional[Sequence[str]] = None,
    title: Optional[str] = None,
    height: Optional[int] = None,
    width: int = 900,
    ref_time: Optional[Instant] = None,
    ref_label: Optional[str] = None,
    ref_times: Optional[Iterable[Tuple[Instant, str]]] = None,
    alert: Any = None,
    range_tool: bool = True,
    legend: bool = True,
) -> Chart:
    """A numeric column over time, as bars (``"vbar"``), a ``"line"`` or points
    (``"circle"``), one series per ``group_by`` value (MSTICPy's
    ``display_timeline_values``).

    Example::

        >>> huntbook.plot.timeline_values(flows, "TotalBytesSent", kind="line", group_by="Protocol")
    """
    refs = _references(ref_time, ref_label, None, None, None, ref_times, alert, time_column)
    batch, settings = _settings(
        data, time_column, group_by, source_columns, None, title, height, width, refs, range_tool, legend,
        extra=[value_column],
    )
    return Chart(_huntbook.timeline_values(batch, settings, value_column, kind))


def timeline_duration(
    data: Table,
    group_by: str,
    *,
    time_column: str = "TimeGenerated",
    end_time_column: Optional[str] = None,
    title: Optional[str] = None,
    height: Optional[int] = None,
    width: int = 900,
    ref_time: Optional[Instant] = None,
    ref_label: Optional[str] = None,
    ref_times: Optional[Iterable[Tuple[Instant, str]]] = None,
    alert: Any = None,
    range_tool: bool = True,
) -> Chart:
    """A bar per ``group_by`` value from its first event to its last (MSTICPy's
    ``display_timeline_duration``); hover a bar for the times and the event count.

    Example::

        >>> huntbook.plot.timeline_duration(logons, group_by="TargetUserName")
    """
    refs = _references(ref_time, ref_label, None, None, None, ref_times, alert, time_column)
    batch, settings = _settings(
        data, time_column, group_by, None, None, title, height, width, refs, range_tool, False,
        extra=[end_time_column],
    )
    return Chart(_huntbook.timeline_duration(batch, settings, end_time_column))


#: The keywords of :func:`process_tree` (``tree.plot(...)`` with only these draws the tree).
PROCESS_TREE_KEYWORDS = frozenset({"schema", "legend_col", "title", "height", "width", "hide_legend", "pid_fmt"})


def _is_process_tree(data: Table) -> bool:
    """A frame from ``build_process_tree`` (MSTICPy's or ours), index reset or not."""
    names = set(data.columns if isinstance(data, pd.DataFrame) else data.schema.names)
    return {"path", "parent_key", "IsRoot"} <= names


def process_tree(
    data: Table,
    *,
    schema: Union[str, Dict[str, str], None] = None,
    legend_col: Optional[str] = None,
    title: Optional[str] = None,
    height: int = 700,
    width: int = 900,
    hide_legend: bool = False,
    pid_fmt: str = "hex",
) -> Chart:
    """A process tree: one box per process under its parent, in tree order (MSTICPy's
    ``plot_process_tree``; given process events rather than a tree, the tree is built
    first, as ``build_and_show_process_tree`` does).

    Boxes show the process name, pid and command line and are coloured by
    ``legend_col``. Hover a box for its command line, user, logon ids and time; click
    its +/- to collapse or expand its subtree; click the box to highlight it and its
    ancestors; type a name or a pid (hex or decimal) in the search box to find it.
    Only the rows in view are drawn, so trees of tens of thousands of processes scroll
    smoothly (wheel or scrollbar).

    Args:
        data: a frame from :func:`huntbook.build_process_tree`, or process events.
        schema: the events' schema (a built-in name such as ``"windows"`` or a column
            map, as :func:`huntbook.build_process_tree` takes); inferred by default.
        legend_col: colour the boxes by this column, with a legend (by level without it).
        title, height, width: the title and the size in pixels of the scrolling view.
        hide_legend: no legend, even with ``legend_col``.
        pid_fmt: process ids as ``"hex"``, ``"dec"`` or ``"guid"`` (as written).

    Example::

        >>> tree = huntbook.build_process_tree(procs)
        >>> chart = huntbook.plot.process_tree(tree, legend_col="SubjectUserName")
        >>> chart.save("tree.html")
        >>> tree.plot(legend_col="SubjectUserName")     # the same
    """
    if not _is_process_tree(data):
        from huntbook.proctree import build_process_tree

        data = build_process_tree(data, schema)
    if schema is None and isinstance(data, pd.DataFrame):
        # A tree we built knows its schema; others are inferred from their columns.
        index = getattr(data.hb_tree, "_tree", None)
        schema = getattr(index, "schema_name", None) or None
    if isinstance(data, pd.DataFrame) and data.index.name == "proc_key":
        data = data.reset_index()
    settings = {
        "legend_col": legend_col,
        "title": title,
        "height": height,
        "width": width,
        "hide_legend": hide_legend,
        "pid_fmt": pid_fmt,
    }
    return Chart(_huntbook.process_tree(to_batch(data), settings, schema))
def _graph_style(
    title: Optional[str], width: int, height: int, node_size: int, font_size: Union[int, str], seed: int
) -> Dict[str, Any]:
    """The drawing settings of a network or entity graph; ``font_size`` as MSTICPy
    takes it: points as a number or text (``"10pt"``), or pixels as ``"13px"``."""
    if isinstance(font_size, str):
        text = font_size.strip().lower()
        try:
            pixels = float(text[:-2]) if text.endswith("px") else float(text.rstrip("pt")) * 4 / 3
        except ValueError:
            raise ValueError(f"font_size: {font_size!r} is not a size such as 10, '10pt' or '13px'") from None
    else:
        pixels = font_size * 4 / 3
    return {
        "title": title,
        "width": width,
        "height": height,
        "node_size": node_size,
        "font_size": max(1, round(pixels)),
        "seed": seed,
    }


def network(
    data: Table,
    source_col: str,
    target_col: str,
    *,
    title: Optional[str] = None,
    source_attrs: Optional[Iterable[str]] = None,
    target_attrs: Optional[Iterable[str]] = None,
    edge_attrs: Optional[Iterable[str]] = None,
    graph_type: str = "graph",
    node_size: int = 25,
    font_size: Union[int, str] = 10,
    height: int = 700,
    width: int = 900,
    layout: str = "spring",
    seed: int = 1,
) -> Chart:
    """A graph of who talks to whom (MSTICPy's ``df.mp_plot.network`` /
    ``plot_nx_graph``): a node per distinct value of ``source_col`` and
    ``target_col``, an edge per pair with the number of rows between them.

    Nodes are sized by their number of neighbours and coloured by the column they
    come from; labels show where there is room (zoom in for more). Hover a node for
    its name and the distinct values of ``source_attrs`` / ``target_attrs`` in its
    rows, and to highlight its neighbours; hover an edge for its row count and the
    distinct values of ``edge_attrs``. Scroll to zoom, drag to pan, double-click to
    fit. Rows missing either end are left out.

    Args:
        data: one row per connection (flows, logons, ...).
        source_col, target_col: the columns whose values are the nodes.
        title: the chart's title (``"<source_col> to <target_col>"`` by default).
        source_attrs: columns describing a node where it is the source.
        target_attrs: columns describing a node where it is the target.
        edge_attrs: columns describing an edge.
        graph_type: ``"graph"`` (``a -> b`` and ``b -> a`` are one edge) or
            ``"digraph"`` (two edges, drawn with arrows).
        node_size: diameter in pixels of the best-connected node.
        font_size: label size in points (``10``, ``"10pt"``) or ``"13px"``.
        height, width: the chart's size in pixels.
        layout: ``"spring"``, the force-directed layout (the only one).
        seed: the layout's seed; the same data and seed always draw the same way.

    Example::

        >>> flows = pd.read_parquet("network.parquet")
        >>> chart = huntbook.plot.network(flows, "SourceIP", "DestinationIP",
        ...                               target_attrs=["DestinationHostName"],
        ...                               edge_attrs=["DestinationPort", "Protocol"])
        >>> chart.save("flows.html")
    """
    if graph_type not in ("graph", "digraph"):
        raise ValueError(f"graph_type: {graph_type!r} is not 'graph' or 'digraph'")
    if layout != "spring":
        raise ValueError(f"layout: {layout!r} is not available; huntbook lays graphs out with 'spring' (force-directed)")
    settings = {
        "source_col": source_col,
        "target_col": target_col,
        "source_attrs": list(source_attrs or []),
        "target_attrs": list(target_attrs or []),
        "edge_attrs": list(edge_attrs or []),
        "directed": graph_type == "digraph",
    }
    wanted = [source_col, target_col, *settings["source_attrs"], *settings["target_attrs"], *settings["edge_attrs"]]
    names = list(dict.fromkeys(wanted))
    present = set(data.columns if isinstance(data, pd.DataFrame) else data.schema.names)
    # Missing columns are left for Rust to report, with the columns there are.
    batch = to_batch(data, names) if set(names) <= present else to_batch(data)
    style = _graph_style(title, width, height, node_size, font_size, seed)
    return Chart(_huntbook.network(batch, settings, style))


def _as_text(column: pd.Series) -> pd.Series:
    """An object column holding dicts or lists (JSON already parsed) as JSON text."""
    if column.dtype != object:
        return column
    return column.map(lambda v: json.dumps(v, default=str) if isinstance(v, (dict, list)) else v)


def _rows_batch(
    data: pd.DataFrame,
    entities_column: str,
    name_column: Optional[str],
    alert_columns: Optional[Sequence[str]],
    what: str,
) -> Any:
    """The columns of an alerts or incidents frame that the graph reads, with parsed
    JSON (dicts and lists) written back as JSON text."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"{what}: incident_graph takes pandas DataFrames of alerts or incidents")
    if alert_columns is None:
        names = [c for c in data.columns if c != "ExtendedProperties"]
    else:
        wanted = [entities_column, name_column, "AlertIds", "SystemAlertId", *alert_columns]
        names = list(dict.fromkeys(c for c in wanted if c))
    present = [c for c in names if c in data.columns]
    return to_batch(pd.DataFrame({str(c): _as_text(data[c]) for c in present}, index=data.index))


def incident_graph(
    data: pd.DataFrame,
    *,
    alerts: Optional[pd.DataFrame] = None,
    entities_column: str = "Entities",
    name_column: Optional[str] = None,
    alert_columns: Optional[Sequence[str]] = None,
    title: Optional[str] = None,
    node_size: int = 25,
    font_size: Union[int, str] = 10,
    height: int = 700,
    width: int = 900,
    seed: int = 1,
) -> Chart:
    """Alerts (or incidents) and their entities as a graph (MSTICPy's
    ``df.mp_plot.incident_graph`` / ``EntityGraph``).

    Each row is a node, linked to the entities of its Sentinel ``Entities`` JSON
    (text, or already parsed into lists of dicts): accounts, hosts, IPs, files,
    processes, URLs... coloured by type with a legend. ``$ref`` links are resolved,
    an entity seen by several alerts (the same host, the same account) is one node
    that joins them, and links between entities (a process's image file, parent and
    host) are edges. Hover a node for its properties, an edge for the relation.

    Args:
        data: alerts (``SecurityAlert``: named by ``AlertName``/``DisplayName``) or
            incidents (named by ``Title``).
        alerts: with ``data`` a frame of incidents (``SecurityIncident``), their
            alerts: each incident is linked to the alerts whose ``SystemAlertId`` its
            ``AlertIds`` lists, and each alert to its entities.
        entities_column: the column of entity JSON.
        name_column: the column naming each row of ``data`` (found by default).
        alert_columns: columns shown when hovering a row, those of them each frame
            has (all but the entities and ``ExtendedProperties`` by default).
        title, node_size, font_size, height, width, seed: as for :func:`network`.

    Example::

        >>> alerts = pd.read_parquet("alerts.parquet")
        >>> huntbook.plot.incident_graph(alerts).save("alerts.html")
        >>> alerts.hb.incident_graph(alert_columns=["AlertName", "AlertSeverity"])
        >>> huntbook.plot.incident_graph(incidents, alerts=alerts)
    """
    batch = _rows_batch(data, entities_column, name_column, alert_columns, "data")
    alert_batch = None if alerts is None else _rows_batch(alerts, entities_column, None, alert_columns, "alerts")
    style = _graph_style(title, width, height, node_size, font_size, seed)
    columns = None if alert_columns is None else list(alert_columns)
    return Chart(_huntbook.incident_graph(batch, style, entities_column, name_column, columns, alert_batch))


def _sort_text(value: Union[str, bool, None]) -> str:
    """MSTICPy's sort argument (``"asc"``, ``"desc"``, True, False, None) as text."""
    if value is None or value is False:
        return ""
    if value is True:
        return "true"
    if isinstance(value, str):
        return value
    raise ValueError(f"sort: {value!r} is not one of 'asc', 'desc', True, False or None")


def matrix(
    data: Table,
    x: Optional[str] = None,
    y: Optional[str] = None,
    *,
    x_col: Optional[str] = None,
    y_col: Optional[str] = None,
    value_col: Optional[str] = None,
    dist_count: bool = False,
    log_size: bool = False,
    invert: bool = False,
    intersect: bool = False,
    sort: Union[str, bool, None] = None,
    sort_x: Union[str, bool, None] = None,
    sort_y: Union[str, bool, None] = None,
    sort_by: str = "total",
    title: Optional[str] = None,
    height: int = 700,
    width: int = 900,
) -> Chart:
    """An interaction matrix: the values of ``x`` across, of ``y`` down, and a circle
    where a pair occurs (MSTICPy's ``plot_matrix``).

    The circle's size is the pair's row count, or the distinct count of ``value_col``
    (``dist_count=True``), or the sum of ``value_col``. Hover a circle for the pair
    and its value; scroll to zoom, drag to move, double-click for the first view.
    With many labels the chart opens on as many as can be read and says so.

    Args:
        data: the rows.
        x, y: the columns across and down (aliases ``x_col``, ``y_col``).
        value_col: the column summed, or counted with ``dist_count``.
        dist_count: size by the number of distinct ``value_col`` values.
        log_size: size by the natural log of the value.
        invert: size by the largest value over the value, so rare pairs are big.
        intersect: every circle the same size: only whether a pair occurs.
        sort, sort_x, sort_y: order the labels of both axes, or of one (which wins
            over ``sort``): ``"asc"``, ``"desc"``, True (ascending), or False/None
            (as they appear in the data).
        sort_by: what sorted labels are ordered by: ``"total"`` (the sum of their
            cells' values, so ``"desc"`` puts the busiest first) or ``"label"``
            (their text, as MSTICPy orders them).
        title, height, width: the chart's title and size in pixels.

    Example::

        >>> chart = huntbook.plot.matrix(flows, x="SourceIP", y="DestinationPort",
        ...                              value_col="TotalBytesSent", sort="desc")
        >>> chart.save("matrix.html")
    """
    if x is not None and x_col is not None and x != x_col:
        raise ValueError("give the x column once: x= or its alias x_col=")
    if y is not None and y_col is not None and y != y_col:
        raise ValueError("give the y column once: y= or its alias y_col=")
    x, y = x or x_col, y or y_col
    if not x or not y:
        raise ValueError("name the columns across and down: x= and y= (or x_col= and y_col=)")
    settings = {
        "x": x,
        "y": y,
        "value_col": value_col,
        "dist_count": dist_count,
        "log_size": log_size,
        "invert": invert,
        "intersect": intersect,
        "sort_x": _sort_text(sort_x if sort_x is not None else sort),
        "sort_y": _sort_text(sort_y if sort_y is not None else sort),
        "sort_by": sort_by,
        "title": title,
        "width": width,
        "height": height,
    }
    return Chart(_huntbook.matrix(_columns_batch(data, [x, y, value_col]), settings))


def plot_map(
    data: pd.DataFrame,
    ip_column: Optional[str] = None,
    lat_column: Optional[str] = None,
    long_column: Optional[str] = None,
    layer_column: Optional[str] = None,
    popup_columns: Optional[Sequence[str]] = None,
    tooltip_columns: Optional[Sequence[str]] = None,
    *,
    marker_cluster: bool = True,
    tiles: Optional[str] = None,
    zoom_start: Optional[int] = None,
    location: Optional[Tuple[float, float]] = None,
    center_mode: str = "median",
    title: Optional[str] = None,
    width: int = 900,
    height: int = 500,
    databases: Optional[Sequence[Union[str, os.PathLike]]] = None,
) -> Chart:
    """Rows on a world map, from latitude and longitude columns or from IP addresses
    located with :func:`huntbook.geoip` (MSTICPy's ``plot_map`` / ``FoliumMap``).
    Also available as ``huntbook.plot.map``.

    The map is drawn offline over a world outline (Web Mercator); nothing is fetched
    unless ``tiles`` names a tile server. Markers are clustered per zoom level (a
    cluster shows its count; click it, or zoom in, to split it); hover a point for its
    ``tooltip_columns``, click it for its ``popup_columns``. With ``layer_column``
    each value gets a colour and a legend entry that hides and shows it.

    Args:
        data: the rows.
        ip_column: locate this column's addresses with :func:`huntbook.geoip` (needs
            a GeoIP database) when ``lat_column``/``long_column`` are not given.
        lat_column, long_column: the coordinates (default ``Latitude``/``Longitude``
            when the data has them).
        layer_column: colour and group markers by this column.
        popup_columns, tooltip_columns: columns shown on a click and on hover
            (default: the coordinates; with ``ip_column``, the address and place).
        marker_cluster: cluster nearby markers.
        tiles: a tile URL such as ``"https://tile.openstreetmap.org/{z}/{x}/{y}.png"``.
        zoom_start: the zoom to open at (default: the closest that shows all points).
        location: the centre as (latitude, longitude) (default: from the points).
        center_mode: how the centre is taken: ``"median"`` or ``"mean"``
            (MSTICPy's ``"modal"`` is its mean).
        title, width, height: the chart's title and size in pixels.
        databases: with ``ip_column``, the ``.mmdb`` files to locate the addresses in
            (default: the configured GeoIP folder, as :func:`huntbook.geoip`).

    Example::

        >>> chart = huntbook.plot.map(signins, layer_column="ResultType",
        ...                           tooltip_columns=["UserPrincipalName", "IPAddress"])
        >>> chart.save("signins_map.html")
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    if ip_column and not (lat_column and long_column):
        from huntbook.geo import geoip

        data = geoip(data, ip_column=ip_column, databases=databases)
        lat_column, long_column = "Latitude", "Longitude"
        defaults_tip = [ip_column, "CountryCode", "City"]
        defaults_popup = [ip_column, "CountryOrRegionName", "City", lat_column, long_column]
    else:
        if not (lat_column and long_column) and {"Latitude", "Longitude"} <= set(data.columns):
            lat_column, long_column = lat_column or "Latitude", long_column or "Longitude"
        if not (lat_column and long_column):
            raise ValueError(
                "name the coordinates (lat_column= and long_column=) or the addresses to "
                "locate (ip_column=)"
            )
        defaults_tip = defaults_popup = [lat_column, long_column]
    tooltip = list(tooltip_columns) if tooltip_columns else [c for c in defaults_tip if c in data.columns]
    popup = list(popup_columns) if popup_columns else [c for c in defaults_popup if c in data.columns]
    settings = {
        "lat_column": lat_column,
        "long_column": long_column,
        "layer_column": layer_column,
        "tooltip_columns": tooltip,
        "popup_columns": popup,
        "marker_cluster": marker_cluster,
        "tiles": tiles,
        "zoom_start": zoom_start,
        "location": None if location is None else (float(location[0]), float(location[1])),
        "center_mode": center_mode,
        "title": title,
        "width": width,
        "height": height,
    }
    batch = _columns_batch(data, [lat_column, long_column, layer_column, *tooltip, *popup])
    return Chart(_huntbook.map(batch, settings))


# ``huntbook.plot.map``, as MSTICPy's accessor names it. It hides the builtin ``map``
# in this module only: code here uses comprehensions (or ``builtins.map``) instead.
map = plot_map  # noqa: A001


def timeseries_anomalies(
    data: Table,
    y: Optional[str] = None,
    time_column: str = "TimeGenerated",
    anomalies_column: str = "anomalies",
    *,
    value_column: Optional[str] = None,
    baseline_column: str = "baseline",
    source_columns: Optional[Sequence[str]] = None,
    title: Optional[str] = None,
    height: Optional[int] = None,
    width: int = 900,
    ref_time: Optional[Instant] = None,
    ref_label: Optional[str] = None,
    ref_times: Optional[Iterable[Tuple[Instant, str]]] = None,
    range_tool: bool = True,
    legend: bool = True,
) -> Chart:
    """The observed values as a line, the baseline dashed, and the anomalies marked
    (MSTICPy's ``display_timeseries_anomalies``), from the table
    :func:`huntbook.timeseries_anomalies` returns.

    A point is marked where ``anomalies_column`` is not 0 (1 or -1). Hover a point
    for its time, value and ``source_columns`` (default: baseline, score and
    anomalies); zoom and pan as on a timeline.

    Args:
        data: one row per time step, with the value, baseline and anomalies columns.
        y: the observed values (alias ``value_column``; default ``"Total"``).
        time_column, anomalies_column, baseline_column: the other columns read.
        source_columns: columns shown when hovering a point.
        title, height, width: the chart's title and size in pixels.
        ref_time, ref_label, ref_times: reference lines, as on a timeline.
        range_tool: show the overview under the chart that sets the zoom.
        legend: show the legend.

    Example::

        >>> scored = huntbook.timeseries_anomalies(hourly, time_column="TimeGenerated",
        ...                                        value_column="TotalBytesSent")
        >>> huntbook.plot.timeseries_anomalies(scored, y="TotalBytesSent")
    """
    if y is not None and value_column is not None and y != value_column:
        raise ValueError("give the value column once: y= or its alias value_column=")
    y = y or value_column or "Total"
    columns = list(data.columns if isinstance(data, pd.DataFrame) else data.schema.names)
    if source_columns is None:
        source_columns = [c for c in (baseline_column, "score", anomalies_column) if c in columns]
    refs = _references(ref_time, ref_label, None, None, None, ref_times, None, time_column)
    batch, settings = _settings(
        data, time_column, None, source_columns, None, title, height, width, refs, range_tool, legend,
        extra=[y, baseline_column, anomalies_column],
    )
    return Chart(_huntbook.timeseries_anomalies(batch, settings, y, baseline_column, anomalies_column))


class HuntbookAccessor:
    """huntbook's charts from a DataFrame (``df.hb``).

    Example::

        >>> events.hb.timeline(group_by="Computer", source_columns=["Account"])
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def timeline(self, **kwargs: Any) -> Chart:
        """:func:`timeline` of this frame."""
        return timeline(self._frame, **kwargs)

    def timeline_values(self, value_column: str, **kwargs: Any) -> Chart:
        """:func:`timeline_values` of this frame."""
        return timeline_values(self._frame, value_column, **kwargs)

    def timeline_duration(self, group_by: str, **kwargs: Any) -> Chart:
        """:func:`timeline_duration` of this frame."""
        return timeline_duration(self._frame, group_by, **kwargs)

    def process_tree(self, **kwargs: Any) -> Chart:
        """:func:`process_tree` of this frame (a tree, or process events)."""
        return process_tree(self._frame, **kwargs)

    def network(self, source_col: str, target_col: str, **kwargs: Any) -> Chart:
        """:func:`network` of this frame."""
        return network(self._frame, source_col, target_col, **kwargs)

    def incident_graph(self, **kwargs: Any) -> Chart:
        """:func:`incident_graph` of this frame (a frame of alerts or incidents)."""
        return incident_graph(self._frame, **kwargs)

    def matrix(self, x: Optional[str] = None, y: Optional[str] = None, **kwargs: Any) -> Chart:
        """:func:`matrix` of this frame."""
        return matrix(self._frame, x, y, **kwargs)

    def map(self, **kwargs: Any) -> Chart:
        """:func:`plot_map` of this frame."""
        return plot_map(self._frame, **kwargs)

    def timeseries_anomalies(self, y: Optional[str] = None, **kwargs: Any) -> Chart:
        """:func:`timeseries_anomalies` of this frame."""
        return timeseries_anomalies(self._frame, y, **kwargs)
