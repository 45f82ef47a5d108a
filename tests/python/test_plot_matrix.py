"""huntbook.plot.matrix: the aggregation against MSTICPy's plot_matrix on the same flows,
and the chart in Chromium (clean load, marks in view, hover, zoom)."""

import math
import pathlib

import pandas as pd
import pytest
from msticpy.vis import matrix_plot

import huntbook


@pytest.fixture(scope="module")
def flows(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder, anchor="2026-11-28T00:00:00Z")
    return pd.read_parquet(folder / "network.parquet")


def cells(chart) -> pd.DataFrame:
    """The chart's cells as (x label, y label, value, size)."""
    spec = chart.spec
    return pd.DataFrame(
        {
            "x": [spec["x_labels"][i] for i in spec["x"]],
            "y": [spec["y_labels"][i] for i in spec["y"]],
            "value": spec["value"],
            "size": spec["size"],
        }
    )


def anchor_cells(flows: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """What MSTICPy's plot_matrix plots: its own aggregation of the same rows (ports as
    text: Bokeh takes only text as categories)."""
    plot = matrix_plot.plot_matrix(flows.astype({"DestinationPort": str}), hide=True, **kwargs)
    data = plot.renderers[0].data_source.data
    return pd.DataFrame(
        {
            "x": [str(v) for v in data[kwargs["x"]]],
            "y": [str(v) for v in data[kwargs["y"]]],
            "value": list(data["size"]),
            "plt_size": list(data["plt_size"]),
        }
    ), plot


def by_pair(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["x", "y"]).reset_index(drop=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"value_col": "SentBytes"},
        {"value_col": "DestinationIP", "dist_count": True},
        {"value_col": "SentBytes", "invert": True},
        {"value_col": "SentBytes", "log_size": True},
        {"invert": True, "log_size": True},
    ],
    ids=["count", "sum", "dist_count", "invert", "log_size", "invert_log"],
)
def test_cells_and_sizes_match_msticpy(flows, kwargs):
    ours = by_pair(cells(huntbook.plot.matrix(flows, x="SourceIP", y="DestinationPort", **kwargs)))
    theirs, _ = anchor_cells(flows, x="SourceIP", y="DestinationPort", **kwargs)
    theirs = by_pair(theirs)
    assert ours[["x", "y"]].equals(theirs[["x", "y"]])
    if not kwargs.get("invert") and not kwargs.get("log_size"):
        assert ours["value"].tolist() == pytest.approx(theirs["value"].tolist())
    # MSTICPy draws a diameter of size * 10 / largest; ours is size / largest.
    expected = [max(v, 0) / 10 for v in theirs["plt_size"]]
    assert ours["size"].tolist() == pytest.approx(expected, abs=6e-4)


def test_label_order_matches_msticpy_when_sorted_by_label(flows):
    for sort in ("asc", "desc"):
        chart = huntbook.plot.matrix(flows, x="DeviceName", y="Protocol", sort=sort, sort_by="label")
        _, plot = anchor_cells(flows, x="DeviceName", y="Protocol", sort=sort)
        assert chart.spec["x_labels"] == list(plot.x_range.factors)
        # Bokeh lists a categorical y axis from the bottom up; ours runs top down.
        assert chart.spec["y_labels"] == list(reversed(plot.y_range.factors))


def test_sorting_by_total_puts_the_busiest_first(flows):
    chart = huntbook.plot.matrix(flows, x="DeviceName", y="DestinationPort", sort_y="desc")
    totals = flows.groupby("DestinationPort").size()
    expected = sorted(totals.index, key=lambda p: (-totals[p], str(p)))
    assert chart.spec["y_labels"] == [str(p) for p in expected]


def test_bad_input_names_the_parameter(flows):
    with pytest.raises(ValueError, match="'Nope'"):
        huntbook.plot.matrix(flows, x="SourceIP", y="Nope")
    with pytest.raises(ValueError, match="value_col"):
        huntbook.plot.matrix(flows, x="SourceIP", y="Protocol", dist_count=True)
    with pytest.raises(ValueError, match="dist_count"):
        huntbook.plot.matrix(flows, x="SourceIP", y="Protocol", value_col="DeviceName")
    with pytest.raises(ValueError, match="sort"):
        huntbook.plot.matrix(flows, x="SourceIP", y="Protocol", sort="sideways")
    with pytest.raises(ValueError, match="x="):
        huntbook.plot.matrix(flows, y="Protocol")


def open_chart(chromium, chart, tmp_path: pathlib.Path):
    path = tmp_path / "matrix.html"
    chart.save(path)
    return chromium.open(path, height=800)


def in_view(spec, view) -> int:
    return sum(
        view["x"][0] <= x + 0.5 <= view["x"][1] and view["y"][0] <= y + 0.5 <= view["y"][1]
        for x, y in zip(spec["x"], spec["y"])
    )


def test_the_chart_draws_every_cell_in_view_and_hover_shows_its_values(chromium, flows, tmp_path):
    chart = flows.hb.matrix(x="DeviceName", y="DestinationPort", value_col="SentBytes", sort="desc")
    spec = chart.spec
    page = open_chart(chromium, chart, tmp_path)
    page.assert_clean()
    view = page.eval("document.querySelector('.hb-chart').hbChart.view()")
    marks = int(page.eval("document.querySelector('.hb-chart').dataset.marks"))
    assert marks == in_view(spec, view) == len(spec["x"])
    # The busiest pair: its cell shows its labels and its sum.
    i = max(range(len(spec["value"])), key=lambda k: spec["value"][k])
    x, y = page.eval(f"document.querySelector('.hb-chart').hbChart.markAt({i})")
    box = page.eval("(() => { const r = document.querySelector('.hb-chart canvas').getBoundingClientRect(); return [r.left, r.top]; })()")
    page.hover(box[0] + x, box[1] + y)
    tip = page.eval("document.querySelector('.hb-tip').innerText")
    label_x, label_y = spec["x_labels"][spec["x"][i]], spec["y_labels"][spec["y"][i]]
    expected = flows[(flows.DeviceName == label_x) & (flows.DestinationPort.astype(str) == label_y)].SentBytes.sum()
    assert f"DeviceName: {label_x}" in tip and f"DestinationPort: {label_y}" in tip
    assert f"sum of SentBytes: {expected}" in tip
    page.screenshot("plot_matrix")
    page.assert_clean()


def test_many_labels_open_readable_and_zoom_changes_the_cells_in_view(chromium, flows, tmp_path):
    chart = huntbook.plot.matrix(flows, x="SourcePort", y="DestinationIP", sort_x="desc")
    spec = chart.spec
    assert len(spec["x_labels"]) > 100
    page = open_chart(chromium, chart, tmp_path)
    page.assert_clean()
    api = "document.querySelector('.hb-chart').hbChart"
    view = page.eval(f"{api}.view()")
    # Too many columns to read at once: it opens on a window of them and says so.
    assert view["x"][1] - view["x"][0] < len(spec["x_labels"])
    assert "Showing part" in page.eval("document.querySelector('.hb-note').textContent")
    marks = lambda: int(page.eval("document.querySelector('.hb-chart').dataset.marks"))  # noqa: E731
    assert marks() == in_view(spec, view) < len(spec["x"])
    # Wheel out over the plot: more columns come into view, and every cell in view is drawn.
    area = page.eval(f"{api}.plotArea()")
    box = page.eval("(() => { const r = document.querySelector('.hb-chart canvas').getBoundingClientRect(); return [r.left, r.top]; })()")
    page.page.mouse.move(box[0] + area["left"] + 20, box[1] + area["top"] + 20)
    for _ in range(6):
        page.page.mouse.wheel(0, 300)
    page.hover(box[0] + area["left"] + 20, box[1] + area["top"] + 20)
    wider = page.eval(f"{api}.view()")
    assert wider["x"][1] - wider["x"][0] > view["x"][1] - view["x"][0]
    assert marks() == in_view(spec, wider) > in_view(spec, view)
    # Zoom right in on a few cells: fewer in view, the count follows.
    page.eval(f"{api}.setView([0, 3], [0, 2])")
    assert marks() == in_view(spec, {"x": [0, 3], "y": [0, 2]})
    page.eval(f"{api}.reset()")
    assert page.eval(f"{api}.view()") == view
    page.screenshot("plot_matrix_many_labels")
    page.assert_clean()


def test_intersect_draws_same_size_marks(flows):
    chart = huntbook.plot.matrix(flows, x="SourceIP", y="Protocol", intersect=True)
    assert set(chart.spec["size"]) == {1} and chart.spec["intersect"] is True
    assert not math.isnan(sum(chart.spec["value"]))
