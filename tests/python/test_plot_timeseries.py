"""huntbook.plot.timeseries_anomalies: what it draws against MSTICPy's
display_timeseries_anomalies on the same scored series (huntbook.timeseries_anomalies of
the sample flows), and the chart in Chromium."""

import pandas as pd
import pytest
from msticpy.vis.timeseries import display_timeseries_anomalies

import huntbook

API = "document.querySelector('.hb-chart').hbChart"


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder, anchor="2026-11-28T00:00:00Z")
    flows = pd.read_parquet(folder / "network.parquet")
    hourly = flows.set_index("TimeGenerated").resample("1h")["SentBytes"].sum().rename("Total").reset_index()
    frame = huntbook.timeseries_anomalies(hourly, time_column="TimeGenerated", value_column="Total")
    assert (frame["anomalies"] != 0).any(), "the sample flows should hold an anomaly"
    return frame


def epoch_ms(times) -> list:
    return [int(pd.Timestamp(t).value // 1_000_000) for t in times]


def test_lines_and_anomalies_match_msticpy(scored):
    spec = huntbook.plot.timeseries_anomalies(scored).spec
    observed, baseline, anomalies = spec["series"]
    t0 = spec["t0"]
    layout = display_timeseries_anomalies(scored, y="Total", time_column="TimeGenerated")
    renderers = layout.children[0].renderers
    value_r, baseline_r, anomaly_r = renderers[0].data_source.data, renderers[1].data_source.data, renderers[2].data_source.data
    assert [t + t0 for t in observed["t"]] == epoch_ms(value_r["TimeGenerated"])
    assert observed["y"] == list(value_r["Total"])
    assert baseline["y"] == list(baseline_r["baseline"])
    assert baseline["dashed"] is True and observed["dashed"] is False
    # MSTICPy marks the anomalies of 1; huntbook also marks those of -1 (a high value at
    # a quiet time), which the tooltip's anomalies column tells apart.
    flags = dict(zip(epoch_ms(scored["TimeGenerated"]), scored["anomalies"]))
    ours = [t + t0 for t in anomalies["t"]]
    assert [t for t in ours if flags[t] == 1] == epoch_ms(anomaly_r["TimeGenerated"])
    assert len(ours) == int((scored["anomalies"] != 0).sum())
    assert anomalies["colour"] == "#D55E00" and anomalies["kind"] == "circle"


def test_bad_input_names_the_column(scored):
    with pytest.raises(ValueError, match="'Total'"):
        huntbook.plot.timeseries_anomalies(scored.rename(columns={"Total": "Bytes"}))
    with pytest.raises(ValueError, match="'expected'"):
        huntbook.plot.timeseries_anomalies(scored, baseline_column="expected")
    with pytest.raises(ValueError, match="once"):
        huntbook.plot.timeseries_anomalies(scored, y="Total", value_column="Other")


def in_window(ts, a, b) -> int:
    return sum(a <= t <= b for t in ts)


def test_the_chart_draws_points_in_view_and_hover_shows_an_anomaly(chromium, scored, tmp_path):
    alert = scored["TimeGenerated"].iloc[len(scored) // 2]
    chart = scored.hb.timeseries_anomalies(ref_time=alert, ref_label="alert")
    spec = chart.spec
    path = tmp_path / "anomalies.html"
    chart.save(path)
    page = chromium.open(path)
    page.assert_clean()
    marks = lambda: int(page.eval("document.querySelector('.hb-chart').dataset.marks"))  # noqa: E731
    n_anomalies = len(spec["series"][2]["t"])
    assert marks() == 2 * len(scored) + n_anomalies
    assert [r["label"] for r in spec["refs"]] == ["alert"]
    # Hover the first anomaly: its time, value, score and flag.
    row = scored[scored["anomalies"] != 0].iloc[0]
    x, y = page.eval(f"{API}.markAt(2, 0)")
    box = page.eval("(() => { const r = document.querySelector('.hb-chart canvas').getBoundingClientRect(); return [r.left, r.top]; })()")
    page.hover(box[0] + x, box[1] + y)
    tip = page.eval("document.querySelector('.hb-tip').innerText")
    # The observed point and the anomaly marker share the place; either names the value.
    assert f"observed: {int(row['Total'])}" in tip or f"anomaly: {int(row['Total'])}" in tip
    assert f"score: {row['score']}" in tip and f"anomalies: {row['anomalies']}" in tip
    assert pd.Timestamp(row["TimeGenerated"]).strftime("%Y-%m-%d %H:%M:%S") in tip
    page.screenshot("plot_timeseries_anomalies")
    # Zoom to the day round the first anomaly: only its points are drawn.
    t = epoch_ms([row["TimeGenerated"]])[0]
    # (Half-hour edges: no point sits on an edge of the window.)
    page.eval(f"{API}.setDomain({t - 12.5 * 3600_000}, {t + 12.5 * 3600_000})")
    a, b = page.eval(f"{API}.domain()")
    rel = [v - spec["t0"] for v in (a, b)]
    expected = sum(in_window(s["t"], *rel) for s in spec["series"])
    assert marks() == expected < 2 * len(scored)
    page.screenshot("plot_timeseries_anomalies_zoomed")
    page.assert_clean()
