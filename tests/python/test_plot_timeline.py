"""Timelines drawn in headless Chromium: they load with no error and no request, draw
one mark per row in view, show a row's values on hover, and zoom to the domain asked
for by the wheel and by the range selector."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest

import huntbook

T0 = pd.Timestamp("2024-03-01T08:00:00Z")


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 3000
    return pd.DataFrame(
        {
            "TimeGenerated": T0 + pd.to_timedelta(np.sort(rng.uniform(0, 6 * 3600, n)), unit="s"),
            "Operation": rng.choice(["FileAccessed", "UserLoggedIn", "MailItemsAccessed", "FileDownloaded"], n),
            "UserId": [f"user{i:04d}@contoso.com" for i in range(n)],
            "ClientIP": rng.choice(["10.0.0.5", "203.0.113.9", "198.51.100.7"], n),
            "Bytes": rng.integers(100, 100_000, n),
        }
    )


def open_chart(chromium, chart: huntbook.plot.Chart, tmp_path: pathlib.Path, name: str):
    path = tmp_path / f"{name}.html"
    chart.save(path)
    page = chromium.open(path, width=960, height=720)
    page.assert_clean()
    return page


def state(page) -> dict:
    return page.eval("() => { const d = document.querySelector('.hb-chart').dataset; return {marks: +d.marks, domain: d.domain.split(',').map(Number)}; }")


def canvas_box(page, which: int = 0) -> dict:
    return page.eval(f"() => {{ const r = document.querySelectorAll('.hb-chart canvas')[{which}].getBoundingClientRect(); return {{x: r.x, y: r.y, w: r.width, h: r.height}}; }}")


def in_view(times: pd.Series, domain) -> int:
    ms = times.astype("int64") // 1_000_000 if times.dtype.kind == "M" else times
    return int(((ms >= domain[0]) & (ms <= domain[1])).sum())


def epoch_ms(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, utc=True).astype("int64") / 1e6


def hover_row(page, series: int, index: int) -> str:
    box = canvas_box(page)
    x, y = page.eval(f"() => document.querySelector('.hb-chart').hbChart.markAt({series}, {index})")
    page.hover(box["x"] + x, box["y"] + y)
    return page.eval("() => { const t = document.querySelector('.hb-tip'); return t.style.display === 'block' ? t.innerText : ''; }")


def test_events_draw_one_mark_per_row_and_hover_shows_the_row(chromium, events, tmp_path):
    chart = events.hb.timeline(
        group_by="Operation", source_columns=["UserId", "ClientIP"], title="Office activity",
        ref_time=T0 + pd.Timedelta(hours=2), ref_label="First alert",
    )
    page = open_chart(chromium, chart, tmp_path, "events")
    assert state(page)["marks"] == len(events)
    # The row of one user: where the chart put it, from the spec's own order.
    spec = chart.spec
    users = spec["series"][0]["tips"][0]
    target = "user1234@contoso.com"
    index = users["codes"].index(users["dict"].index(target))
    text = hover_row(page, 0, index)
    row = events[events.UserId == target].iloc[0]
    assert target in text and row.ClientIP in text and row.Operation in text, text
    assert row.TimeGenerated.strftime("%Y-%m-%d %H:%M:%S") in text, text
    page.screenshot("plot_timeline_events")


def test_the_wheel_zooms_round_the_pointer_to_the_expected_domain(chromium, events, tmp_path):
    page = open_chart(chromium, events.hb.timeline(group_by="Operation"), tmp_path, "zoom")
    before = state(page)["domain"]
    box = canvas_box(page)
    area = page.eval("() => document.querySelector('.hb-chart').hbChart.plotArea()")
    px = area["left"] + area["width"] / 2
    page.page.mouse.move(box["x"] + px, box["y"] + area["top"] + 5)
    page.page.mouse.wheel(0, -300)
    page.eval("() => new Promise(r => requestAnimationFrame(() => r()))")
    after = state(page)["domain"]
    # Each 100 of wheel scales the span by 1.2 about the instant under the pointer.
    at = before[0] + (px - area["left"]) / area["width"] * (before[1] - before[0])
    k = 1.2 ** (-300 / 100)
    expected = [at - (at - before[0]) * k, at + (before[1] - at) * k]
    # The pointer lands on a whole pixel: allow the time of one pixel.
    pixel = (before[1] - before[0]) / area["width"]
    assert after == pytest.approx(expected, abs=pixel), (after, expected)
    assert state(page)["marks"] == in_view(epoch_ms(events.TimeGenerated), after)
    assert 0 < state(page)["marks"] < len(events)


def test_the_range_selector_sets_the_window(chromium, events, tmp_path):
    page = open_chart(chromium, events.hb.timeline(group_by="Operation"), tmp_path, "range")
    full = state(page)["domain"]
    area = page.eval("() => document.querySelector('.hb-chart').hbChart.plotArea()")
    box = canvas_box(page, 1)
    y = box["y"] + box["h"] / 2
    # Dragging outside the window draws a new one from 20% to 45% of the whole span...
    x0, x1 = area["left"] + 0.2 * area["width"], area["left"] + 0.45 * area["width"]
    # ...but first shrink the window so the drag starts outside it.
    page.eval(f"() => document.querySelector('.hb-chart').hbChart.setDomain({full[0]}, {full[0] + (full[1] - full[0]) * 0.1})")
    page.page.mouse.move(box["x"] + x0, y)
    page.page.mouse.down()
    page.page.mouse.move(box["x"] + x1, y, steps=5)
    page.page.mouse.up()
    domain = state(page)["domain"]
    span = full[1] - full[0]
    assert domain == pytest.approx([full[0] + 0.2 * span, full[0] + 0.45 * span], abs=span / area["width"] * 1.5)
    assert state(page)["marks"] == in_view(epoch_ms(events.TimeGenerated), domain)
    page.screenshot("plot_timeline_range")


def test_overlay_and_alert_and_colour_column(chromium, events, tmp_path):
    second = events.iloc[::10][["TimeGenerated", "Operation", "UserId"]]
    alert = {"StartTimeUtc": T0 + pd.Timedelta(hours=3), "AlertName": "Mass download"}
    chart = huntbook.plot.timeline(
        events, group_by="Operation", color_column="ClientIP", source_columns=["UserId"],
        overlay_data=second, overlay_label="Alerts", alert=alert,
    )
    page = open_chart(chromium, chart, tmp_path, "overlay")
    assert state(page)["marks"] == len(events) + len(second)
    legend = page.eval("() => document.querySelector('.hb-legend').innerText")
    assert "203.0.113.9" in legend and "Alerts" in legend, legend
    spec = chart.spec
    assert [r["label"] for r in spec["refs"]] == ["Mass download"] and spec["refs"][0]["alert"]
    page.screenshot("plot_timeline_overlay")


def test_values_and_durations(chromium, events, tmp_path):
    values = huntbook.plot.timeline_values(events, "Bytes", kind="line", group_by="ClientIP", source_columns=["UserId"])
    page = open_chart(chromium, values, tmp_path, "values")
    assert state(page)["marks"] == len(events)
    spec = values.spec
    series = [s["name"] for s in spec["series"]].index("203.0.113.9")
    first = events[events.ClientIP == "203.0.113.9"].iloc[0]
    text = hover_row(page, series, 0)
    assert first.UserId in text and str(first.Bytes) in text, text
    page.screenshot("plot_timeline_values")

    durations = huntbook.plot.timeline_duration(events, group_by="ClientIP")
    page = open_chart(chromium, durations, tmp_path, "duration")
    assert state(page)["marks"] == events.ClientIP.nunique()
    area = page.eval("() => document.querySelector('.hb-chart').hbChart.plotArea()")
    box = canvas_box(page)
    lanes = durations.spec["lanes"]
    lane = lanes.index("10.0.0.5")
    page.hover(box["x"] + area["left"] + area["width"] / 2, box["y"] + area["top"] + (lane + 0.5) * area["laneHeight"])
    tip = page.eval("() => document.querySelector('.hb-tip').innerText")
    assert "10.0.0.5" in tip and str((events.ClientIP == "10.0.0.5").sum()) in tip, tip


def test_bad_input_names_the_problem(events):
    with pytest.raises(ValueError, match="'Nope'"):
        huntbook.plot.timeline(events, group_by="Nope")
    with pytest.raises(ValueError, match="kind 'pie'"):
        huntbook.plot.timeline_values(events, "Bytes", kind="pie")
    with pytest.raises(ValueError, match="ref_time"):
        huntbook.plot.timeline(events, ref_time="not a time")


def test_the_chart_shows_itself_in_a_notebook_and_saves_atomically(events, tmp_path):
    chart = events.hb.timeline()
    html = chart._repr_html_()
    assert html.startswith('<div class="hb-chart"') and "huntbook.render(" in html
    assert "http://" not in html and "https://" not in html
    with pytest.raises(ValueError, match="cannot write"):
        chart.save(tmp_path / "missing" / "t.html")
    assert not list(tmp_path.iterdir())
