"""huntbook.widgets: the state of each widget drives what queries receive, every widget
shows static text beside its live view, and a notebook full of widgets runs
unattended through `huntbook run` without waiting for anyone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

import huntbook
from huntbook import widgets


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(str(folder))
    return folder


def static(widget) -> str:
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    return bundle["text/html"]


def test_get_text_takes_the_injected_default_and_follows_the_box():
    ip_address = "38.75.137.9"
    box = widgets.GetText(prompt="IP address to investigate", value=ip_address)
    assert box.value == ip_address
    assert "38.75.137.9" in static(box) and "IP address to investigate" in static(box)
    box._text.value = "10.1.2.3"
    assert box.value == "10.1.2.3" and "10.1.2.3" in static(box)


def test_query_time_window_moves_with_its_controls():
    qt = widgets.QueryTime(units="day", before=2, after=1, origin_time="2024-03-10T12:00:00Z")
    assert qt.start == pd.Timestamp("2024-03-08T12:00:00Z") and qt.end == pd.Timestamp("2024-03-11T12:00:00Z")
    qt._units.value = "hour"
    assert qt.timespan == (pd.Timestamp("2024-03-10T10:00:00Z"), pd.Timestamp("2024-03-10T13:00:00Z"))
    qt._before.value = 5
    assert qt.start == pd.Timestamp("2024-03-10T07:00:00Z")
    assert "2024-03-10 07:00:00" in static(qt)


def test_query_time_reads_the_time_grammar_exactly():
    qt = widgets.QueryTime(start="-7d@d", end="now")
    now = pd.Timestamp.now(tz="UTC")
    assert qt.start == (now - pd.Timedelta(days=7)).floor("D")
    assert abs(qt.end - now) < pd.Timedelta(seconds=5)
    with pytest.raises(ValueError, match="QueryTime start/end"):
        widgets.QueryTime(start="last tuesday", end="now")
    with pytest.raises(ValueError, match="both start and end"):
        widgets.QueryTime(start="-1d")
    with pytest.raises(ValueError, match="units 'fortnight'"):
        widgets.QueryTime(units="fortnight")


def test_a_query_receives_the_query_time_window(sample):
    qp = huntbook.QueryProvider("LocalData", data_paths=[str(sample)])
    qp.connect()
    everything = qp.SecurityAlert.list_alerts(start="-30d", end="now")
    middle = everything.TimeGenerated.sort_values().iloc[len(everything) // 2]
    qt = widgets.QueryTime(units="hour", before=12, after=0, origin_time=middle)
    alerts = qp.SecurityAlert.list_alerts(start=qt.start, end=qt.end)
    expected = everything[(everything.TimeGenerated >= qt.start) & (everything.TimeGenerated <= qt.end)]
    assert 0 < len(alerts) < len(everything)
    assert sorted(alerts.SystemAlertId) == sorted(expected.SystemAlertId)


def test_lookback_select_item_subset_and_options():
    lb = widgets.Lookback(default=6, units="hour", origin_time="2024-03-10T12:00:00Z")
    assert lb.start == pd.Timestamp("2024-03-10T06:00:00Z") and lb.lookback == pd.Timedelta(hours=6)
    lb.value = 24
    assert lb.start == pd.Timestamp("2024-03-09T12:00:00Z")
    with pytest.raises(ValueError, match="outside"):
        widgets.Lookback(default=0)

    seen = []
    hosts = widgets.SelectItem({"HR laptop": "WKS-HR-001", "Finance": "WKS-FIN-002"}, default="WKS-FIN-002",
                               description="Host", action=seen.append)
    assert hosts.value == "WKS-FIN-002" and hosts.label == "Finance"
    hosts._filter.value = "hr"
    assert list(hosts._select.options) == ["HR laptop"]
    hosts._select.value = "HR laptop"
    assert hosts.value == "WKS-HR-001" and seen == ["WKS-HR-001"]
    with pytest.raises(ValueError, match="not one of the items"):
        widgets.SelectItem(["a"], default="b")

    pick = widgets.SelectSubset(["4624", "4625", "4688"], default_selected=["4688"])
    assert pick.selected_items == ["4688"]
    pick._source.value = ("4624",)
    pick._buttons["Add >>"].click()
    assert pick.selected_values == ["4624", "4688"]
    pick._buttons["Remove all"].click()
    assert pick.selected_items == [] and "(none)" in static(pick)

    go = widgets.OptionButtons("Raise an incident?", buttons=["Yes", "No"], default="No")
    assert go.value == "No" and "No" in static(go)


def test_select_alert_picks_the_newest_or_the_given_alert(sample):
    alerts = pd.read_parquet(sample / "alerts.parquet")
    pick = widgets.SelectAlert(alerts)
    newest = alerts.sort_values("TimeGenerated").iloc[-1]
    assert pick.alert_id == newest.SystemAlertId
    oldest = alerts.sort_values("TimeGenerated").iloc[0]
    pick = widgets.SelectAlert(alerts, default_alert=oldest.SystemAlertId)
    assert pick.selected_alert.AlertName == oldest.AlertName
    assert oldest.AlertName in static(pick)
    with pytest.raises(ValueError, match="no alert with SystemAlertId 'nope'"):
        widgets.SelectAlert(alerts, default_alert="nope")


def test_md_and_alert_html():
    assert huntbook.display.md_html("Findings <b>", "large, bold, red") == (
        "<p style='font-size:130%;font-weight:bold;color:red'>Findings &lt;b&gt;</p>"
    )
    alert = {"AlertName": "Password spray", "AlertSeverity": "High",
             "Entities": json.dumps([{"$id": "2", "Type": "ip", "Address": "198.51.100.23"}])}
    text = huntbook.display.alert_html(alert)
    assert "Password spray" in text and "198.51.100.23" in text and "#D55E00" in text


NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [], "execution_count": None,
         "source": 'ip_address = "1.1.1.1"\nhost_name = "WKS-HR-001"'},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source":
            "import huntbook\n"
            "ip_text = huntbook.widgets.GetText(prompt='IP address to investigate', value=ip_address)\n"
            "qt = huntbook.widgets.QueryTime(units='day', before=1, after=0)\n"
            "host = huntbook.widgets.SelectItem(['WKS-HR-001', 'WKS-FIN-002'], default=host_name)\n"
            "go = huntbook.widgets.OptionButtons('Continue?', buttons=['Yes', 'No'], default='Yes')\n"
            "display(ip_text, qt, host, go)\n"
            "huntbook.md('Findings', 'large, bold')"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source":
            "huntbook.glue('chosen', [ip_text.value, host.value, go.value, str(qt.end - qt.start)])"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def test_a_notebook_of_widgets_runs_unattended_with_the_injected_defaults(huntbook_bin, tmp_path):
    source, out = tmp_path / "widgets.ipynb", tmp_path / "out.ipynb"
    for i, cell in enumerate(NOTEBOOK["cells"]):
        cell["id"] = f"c{i}"
    source.write_text(json.dumps(NOTEBOOK))
    run = subprocess.run(
        [str(huntbook_bin), "run", str(source), str(out), "-p", "ip_address", "203.0.113.9", "-p", "host_name",
         "WKS-FIN-002", "--python", os.environ.get("HUNTBOOK_TEST_PYTHON", sys.executable), "--no-progress-bar", "--execution-timeout", "60"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert huntbook.read_notebook(str(out)).scraps["chosen"].data == ["203.0.113.9", "WKS-FIN-002", "Yes", "1 days 00:00:00"]
    shown = "".join(
        "".join(o.get("data", {}).get("text/html", ""))
        for cell in json.loads(out.read_text())["cells"] for o in cell.get("outputs", [])
    )
    assert "203.0.113.9" in shown and "WKS-FIN-002" in shown and "Query start" in shown and "Findings" in shown
