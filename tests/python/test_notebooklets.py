"""huntbook.notebooklets on the sample SOC dataset: each notebooklet finds its part of
the planted intrusion (WORKSTATION-07's chain and beacon, the spray on SRV-DB01,
carol's impossible travel and forwarding rule, the SSH brute force on lnx-web01), and
a clean host, address or account gives no finding."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pandas as pd
import pytest

import huntbook

ANCHOR = "2024-06-01T12:00:00Z"
SPAN = dict(start="2024-05-25T00:00:00Z", end=ANCHOR)
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder, rows=600, seed=3, anchor=ANCHOR)
    return folder


@pytest.fixture(scope="module")
def qp(data):
    return huntbook.QueryProvider("LocalData", data_paths=[data])


def titles(result) -> list[str]:
    return [f.title for f in result.findings]


def entity_values(result) -> set[str]:
    return {e.get("Address") or e.get("HostName") or e.get("Name") or e.get("Value") for e in result.entities}


def test_ip_summary_of_the_c2_finds_the_beacon_and_the_indicator(data):
    steps = []
    s = huntbook.notebooklets.ip_address_summary("203.0.113.66", data_paths=data, progress=lambda d, t: steps.append((d, t)), **SPAN)
    assert steps[-1][0] == steps[-1][1] and len(steps) == steps[-1][1]
    assert s.ip_type == "Private"  # documentation range: MSTICPy's type, no GeoIP or whois
    assert s.hosts == ["WORKSTATION-07.contoso.local"]
    assert set(s.host_flows["DestinationPort"]) == {443}
    beacon = next(f for f in s.findings if f.title == "Beaconing")
    assert beacon.severity == "High" and "every 60 s" in beacon.description
    assert {"Type": "host", "HostName": "WORKSTATION-07", "DnsDomain": "contoso.local"} in beacon.entities
    ti = next(f for f in s.findings if f.title.startswith("Threat intelligence"))
    assert ti.severity == "High" and "C2" in ti.description
    assert list(s.ti_results["Ioc"]) == ["203.0.113.66"]
    assert set(s.alerts["AlertName"]) == {"Suspicious encoded PowerShell command line", "Periodic beaconing to rare destination"}
    assert s.severity == "High" and "High" in s.summary
    assert s.timeline.kind == "timeline"
    assert s.geoip.empty and any("GeoIP and whois skipped" in n for n in s.notes)
    assert s.signins.empty and s.logons.empty  # empty frames, not missing attributes
    assert "203.0.113.66" in entity_values(s)
    html = s._repr_html_()
    assert "Beaconing" in html and "host_flows" in html


def test_ip_summary_of_the_spray_source(data):
    s = huntbook.notebooklets.ip_address_summary("198.51.100.23", data_paths=[data], **SPAN)
    spray = next(f for f in s.findings if f.title == "Password spray")
    assert spray.severity == "High" and "SRV-DB01" in spray.description
    assert {"svc_backup", "SRV-DB01", "198.51.100.23"} <= entity_values(s)
    assert s.findings[0].severity == "High"
    # the feed rates the spray source lower: 60% confident, no action
    assert next(f for f in s.findings if f.title.startswith("Threat")).severity == "Medium"


def test_a_clean_address_has_no_finding(data):
    s = huntbook.notebooklets.ip_address_summary("81.2.69.160", data_paths=data, **SPAN)
    assert len(s.office_activity) > 0 and len(s.signins) > 0  # an office address, busy
    assert s.findings == [] and s.severity == "Informational" and s.entities == []
    assert s.summary.endswith("No findings.")
    assert any("GeoIP skipped" in n for n in s.notes)  # no MaxMind database here: a note
    assert any("whois skipped" in n for n in s.notes)


def test_whois_answers_or_says_why_not(data):
    # Offline (as here), RDAP and Team Cymru cannot be reached: a note, not an error.
    s = huntbook.notebooklets.ip_address_summary("81.2.69.160", data_paths=data, whois=True, **SPAN)
    assert s.whois["IpAddress"].tolist() == ["81.2.69.160"]
    looked_up = s.whois["asn"].notna().all()
    assert looked_up or any(n.startswith("whois: ") for n in s.notes), s.notes


def test_geoip_from_a_database_when_there_is_one(data, tmp_path):
    db = tmp_path / "city.mmdb"
    huntbook.write_mmdb(db, {"81.2.69.0/24": {"city": {"names": {"en": "London"}}, "country": {"iso_code": "GB"}}})
    s = huntbook.notebooklets.ip_address_summary("81.2.69.160", data_paths=data, geoip_databases=[db], **SPAN)
    assert s.geoip["City"].tolist() == ["London"]


def test_host_summary_of_the_victim_finds_the_attack_chain(data):
    s = huntbook.notebooklets.host_summary("WORKSTATION-07.contoso.local", data_paths=data, **SPAN)
    found = titles(s)
    for rule in ("Encoded PowerShell command", "LSASS memory dump", "certutil used to download or decode",
                 "Scheduled task that runs a program from a user-writable folder"):
        assert f"{rule} on WORKSTATION-07.contoso.local" in found, found
    assert "Beaconing" in found
    assert "Threat intelligence: http://203.0.113.66/svc.exe is known bad" in found
    alerts = next(f for f in s.findings if "High alert(s)" in f.title)
    assert "Credential dumping via comsvcs.dll MiniDump" in alerts.description
    assert s.severity == "High"
    images = set(s.processes["NewProcessName"])
    assert r"C:\Users\Public\svc.exe" in images
    assert s.process_tree.kind == "process_tree" and s.timeline.kind == "timeline"
    assert "http://203.0.113.66/svc.exe" in set(s.iocs["Observable"])


def test_host_summary_of_the_sprayed_server_and_the_linux_host(data):
    db = huntbook.notebooklets.host_summary("SRV-DB01.contoso.local", data_paths=data, **SPAN)
    spray = next(f for f in db.findings if f.title == "Password spray")
    assert "198.51.100.23" in spray.description and spray.severity == "High"
    # Linux tables hold short names: the full name is searched by its short one too.
    web = huntbook.notebooklets.host_summary("lnx-web01.contoso.local", data_paths=data, **SPAN)
    ssh = next(f for f in web.findings if f.title == "Password spray")
    assert "192.0.2.77" in ssh.description and "ubuntu" in ssh.description
    assert "Executable bit set on a file in a temporary directory on lnx-web01.contoso.local" in titles(web)
    assert "/tmp/.x.sh" in set(web.linux_processes["exe"])
    assert web.processes.empty


def test_a_clean_host_has_no_finding(data):
    s = huntbook.notebooklets.host_summary("WORKSTATION-03.contoso.local", data_paths=data, **SPAN)
    assert len(s.processes) > 0 and len(s.host_flows) > 0
    assert s.findings == [], titles(s)


def test_account_summary_finds_impossible_travel_and_the_forwarding_rule(data):
    s = huntbook.notebooklets.account_summary("carol@contoso.com", data_paths=data, **SPAN)
    travel = next(f for f in s.findings if f.title == "Impossible travel")
    assert "London -> Sydney" in travel.description and travel.severity in ("Medium", "High")
    rule = next(f for f in s.findings if f.title.startswith("Mailbox rule forwarding"))
    assert "archive-carol@protonmail.example" in rule.description and rule.severity == "Medium"
    assert "45.142.120.9" in next(f for f in s.findings if f.title.startswith("Threat")).title
    assert {"carol", "45.142.120.9"} <= entity_values(s)
    assert s.map.kind == "map"
    assert list(s.mailbox_rules["Operation"]) == ["New-InboxRule"]
    assert (s.signins["UserPrincipalName"] == "carol@contoso.com").all()


def test_a_clean_account_has_no_finding(data):
    s = huntbook.notebooklets.account_summary("CONTOSO\\dave", data_paths=data, **SPAN)
    assert s.signins.empty  # sign-ins are by UPN
    assert len(s.logons) > 0 and (s.logons["TargetUserName"] == "dave").all()
    assert s.findings == []
    s = huntbook.notebooklets.account_summary("dave@contoso.com", data_paths=data, **SPAN)
    assert len(s.signins) > 0 and s.findings == [], titles(s)


def story_alert(qp, name: str) -> pd.Series:
    alerts = qp.SecurityAlert.list_alerts(**SPAN)
    return alerts[alerts["AlertName"] == name].iloc[0]


def test_alert_triage_of_the_credential_dump(qp):
    alert = story_alert(qp, "Credential dumping via comsvcs.dll MiniDump")
    s = huntbook.notebooklets.alert_triage(alert, provider=qp)
    assert s.subject == "Credential dumping via comsvcs.dll MiniDump"
    assert set(s.alert_entities["Type"]) == {"host", "account", "ip"}
    assert "Suspicious encoded PowerShell command line" in set(s.related_alerts["AlertName"])
    assert list(s.host_summaries) == ["WORKSTATION-07.contoso.local"]
    assert "LSASS memory dump on WORKSTATION-07.contoso.local" in titles(s)
    assert s.severity == "High"
    # the range defaults to a day either side of the alert
    assert s.start == alert["TimeGenerated"] - pd.Timedelta(days=1)


def test_alert_triage_by_id_and_of_the_travel_and_ssh_alerts(qp):
    travel = story_alert(qp, "Impossible travel activity")
    s = huntbook.notebooklets.alert_triage(travel["SystemAlertId"], provider=qp, **SPAN)
    assert s.alerts["SystemAlertId"].tolist() == [travel["SystemAlertId"]]
    with pytest.raises(ValueError, match="no alert to triage"):
        huntbook.notebooklets.alert_triage(travel["SystemAlertId"], provider=qp)  # not in the last 7 days
    ti = next(f for f in s.findings if f.title.startswith("Threat"))
    assert "45.142.120.9" in ti.title and ti.severity == "Medium"
    ssh = huntbook.notebooklets.alert_triage(story_alert(qp, "SSH brute force followed by download and execute"), provider=qp)
    assert "Password spray" in titles(ssh)


def test_alert_triage_of_a_noise_alert_has_no_finding(qp):
    alerts = qp.SecurityAlert.list_alerts(**SPAN)
    noise = alerts[(alerts["AlertName"] == "New service installed") & ~alerts["CompromisedEntity"].str.startswith("WORKSTATION-07")
                   & ~alerts["CompromisedEntity"].str.startswith("SRV-DB01")]
    s = huntbook.notebooklets.alert_triage(noise.iloc[0], provider=qp)
    assert s.findings == [], titles(s)


def test_bad_input_is_a_clear_error(data):
    with pytest.raises(ValueError, match="'not-an-ip' is not an IP address"):
        huntbook.notebooklets.ip_address_summary("not-an-ip", data_paths=data)
    with pytest.raises(TypeError, match="not both"):
        huntbook.notebooklets.host_summary("h", timespan=("-1d", "now"), start="-2d", data_paths=data)
    with pytest.raises(ValueError, match="starts .* after it ends"):
        huntbook.notebooklets.host_summary("h", start="now", end="-1d", data_paths=data)
    with pytest.raises(ValueError, match="no 'Entities' column"):
        huntbook.notebooklets.alert_triage(pd.DataFrame({"SystemAlertId": ["x"]}), data_paths=data)
    with pytest.raises(TypeError, match="takes a DataFrame of alerts"):
        huntbook.notebooklets.alert_triage(42, data_paths=data)
    with pytest.raises(AttributeError, match="has no 'nope'; it has .*geoip"):
        huntbook.notebooklets.ip_address_summary("10.1.2.3", data_paths=data).nope


def test_a_missing_query_or_table_is_a_note_not_an_error(tmp_path):
    # An empty folder: every query fails (no such file), and the result says so.
    s = huntbook.notebooklets.host_summary("WORKSTATION-07.contoso.local", data_paths=tmp_path)
    assert s.findings == [] and s.processes.empty
    assert any(n.startswith("processes: WindowsSecurity.list_host_processes failed") for n in s.notes)


def test_timespan_from_a_widget_or_a_pair_and_data_from_the_current_folder(data, monkeypatch, tmp_path):
    qt = huntbook.widgets.QueryTime(start="2024-05-30", end="2024-05-31")
    s = huntbook.notebooklets.account_summary("carol@contoso.com", timespan=qt, data_paths=data)
    assert (s.start, s.end) == (pd.Timestamp("2024-05-30", tz="UTC"), pd.Timestamp("2024-05-31", tz="UTC"))
    assert s.signins["TimeGenerated"].between(s.start, s.end).all()
    # no data_paths and no configuration: ./data
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    os.symlink(data, tmp_path / "data")
    s = huntbook.notebooklets.ip_address_summary("198.51.100.23", timespan=(SPAN["start"], SPAN["end"]))
    assert "Password spray" in titles(s)


class Recording:
    """A connected Microsoft Sentinel provider that records the queries asked of it and
    answers each with no rows."""

    environment = "MSSentinel"
    connected = True
    data_paths: list = []

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, family: str):
        recording = self

        class Family:
            def __getattr__(self, name: str):
                def query(**params):
                    recording.calls.append((f"{family}.{name}", params))
                    return pd.DataFrame()

                return query

        return Family()


def test_the_same_calls_run_on_microsoft_sentinel(qp):
    """Every query a notebooklet asks for is in the Microsoft Sentinel library and takes
    the parameters it is given (rendered to KQL without a connection)."""
    recording = Recording()
    nb = huntbook.notebooklets
    nb.ip_address_summary("203.0.113.66", provider=recording, **SPAN)
    nb.host_summary("WORKSTATION-07.contoso.local", provider=recording, **SPAN)
    nb.account_summary("carol@contoso.com", provider=recording, **SPAN)
    nb.alert_triage(story_alert(qp, "Credential dumping via comsvcs.dll MiniDump"), provider=recording)
    asked = {name for name, _ in recording.calls}
    assert {"SecurityAlert.list_alerts_for_ip", "WindowsSecurity.list_host_processes",
            "Azure.list_aad_signins_for_account", "SecurityAlert.list_alerts"} <= asked
    sentinel = huntbook.QueryProvider("MSSentinel")
    for name, params in recording.calls:
        family, query = name.split(".")
        text = getattr(getattr(sentinel, family), query)(print=True, **params)
        assert isinstance(text, str) and "TimeGenerated" in text, name


# --- The example notebooks, run unattended ----------------------------------------------

EXAMPLES = {
    "ip_triage.ipynb": ("ip_address", "203.0.113.66", "Beaconing", {"203.0.113.66"}),
    "host_summary.ipynb": ("host_name", "WORKSTATION-07.contoso.local", "LSASS memory dump on WORKSTATION-07.contoso.local", {"WORKSTATION-07"}),
    "account_summary.ipynb": ("account_name", "carol@contoso.com", "Impossible travel", {"carol", "45.142.120.9"}),
}


def run_example(huntbook_bin, name: str, out: pathlib.Path, data, *params: str) -> dict:
    run = subprocess.run(
        [str(huntbook_bin), "run", str(ROOT / "examples" / name), str(out), "-p", "data_path", str(data),
         "-p", "start", SPAN["start"], "-p", "end", SPAN["end"], *params,
         "--cwd", str(out.parent), "--python", os.environ.get("HUNTBOOK_TEST_PYTHON", sys.executable), "--no-progress-bar"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return {name: scrap.data for name, scrap in huntbook.read_notebook(str(out)).scraps.items()}


def test_the_committed_examples_have_no_outputs_and_a_parameters_cell():
    for name in [*EXAMPLES, "alert_triage.ipynb"]:
        nb = json.loads((ROOT / "examples" / name).read_text())
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), name
        assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1, name
    assert not (ROOT / "examples" / "triage.ipynb").exists()


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_each_example_runs_unattended_and_glues_its_finding(huntbook_bin, data, tmp_path, name):
    parameter, value, title, entities = EXAMPLES[name]
    scraps = run_example(huntbook_bin, name, tmp_path / name, data, "-p", parameter, value)
    assert scraps["finding"] is True
    assert scraps["severity"] == "High"
    assert title in scraps["finding_desc"]
    assert title in [f["title"] for f in scraps["findings"]]
    named = {e.get("Address") or e.get("HostName") or e.get("Name") for e in scraps["entities"]}
    assert entities <= named
    assert all(e["$id"] for e in scraps["entities"])
    executed = json.loads((tmp_path / name).read_text())
    text = json.dumps(executed)
    assert "hb-widget" in text  # the widgets rendered as static text


def test_alert_triage_example_picks_a_high_alert_or_the_given_one(huntbook_bin, data, tmp_path, qp):
    scraps = run_example(huntbook_bin, "alert_triage.ipynb", tmp_path / "newest.ipynb", data)
    assert scraps["finding"] is True and scraps["severity"] == "High"
    noise = qp.SecurityAlert.list_alerts(**SPAN)
    noise = noise[(noise["AlertName"] == "New service installed") & ~noise["CompromisedEntity"].str.startswith("WORKSTATION-07")
                  & ~noise["CompromisedEntity"].str.startswith("SRV-DB01")]
    scraps = run_example(huntbook_bin, "alert_triage.ipynb", tmp_path / "noise.ipynb", data,
                         "-p", "alert_id", noise["SystemAlertId"].iloc[0])
    assert scraps["finding"] is False and scraps["severity"] == "Informational" and scraps["entities"] == []
    assert scraps["finding_desc"] == ""


def test_the_ip_triage_report_draws_its_charts(huntbook_bin, data, tmp_path, chromium):
    out = tmp_path / "ip_triage.ipynb"
    run_example(huntbook_bin, "ip_triage.ipynb", out, data, "-p", "ip_address", "203.0.113.66")
    report = tmp_path / "ip_triage.html"
    export = subprocess.run([str(huntbook_bin), "export", str(out), "--no-input", "-o", str(report)], capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    page = chromium.open(report, width=1000, height=900)
    page.assert_clean()
    marks = page.eval("() => Array.from(document.querySelectorAll('.hb-chart')).map(c => +c.dataset.marks)")
    assert len(marks) == 1 and marks[0] > 300, marks  # the timeline: every flow and alert
    assert page.eval("() => document.querySelector('.hb-notebooklet').innerText").count("High") >= 2
    page.screenshot("ip_triage_report")
