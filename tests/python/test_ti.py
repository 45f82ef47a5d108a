"""huntbook.TILookup against a VirusTotal served on loopback and local feeds written
by the reference libraries (stix2, pymisp) when they are installed."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

import huntbook

KEY = "py-test-vt-key"


class _VirusTotal(BaseHTTPRequestHandler):
    """VirusTotal v3's IP, domain and file reports (x-apikey header)."""

    def do_GET(self):  # noqa: N802 (the http.server name)
        if self.headers.get("x-apikey") != KEY:
            return self._send(401, {"error": {"code": "WrongCredentialsError", "message": "Wrong API key"}})
        for prefix in ("/api/v3/ip_addresses/", "/api/v3/domains/", "/api/v3/files/"):
            if self.path.startswith(prefix):
                ident = self.path[len(prefix):]
                if ident.startswith("45.33.32.156"):
                    return self._send(404, {"error": {"code": "NotFoundError", "message": "not found"}})
                bad = 3 if ident in ("38.75.137.9", "evil-site.com") else 0
                return self._send(200, {"data": {"id": ident, "attributes": {
                    "last_analysis_stats": {"malicious": bad, "suspicious": 0, "harmless": 70}}}})
        self._send(404, {"error": {"code": "NotFoundError", "message": "no route"}})

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def vt_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _VirusTotal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def _config(tmp_path, monkeypatch, base_url, feeds=()):
    monkeypatch.setenv("HB_PY_TEST_VT_KEY", KEY)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("MSTICPYCONFIG", raising=False)
    monkeypatch.delenv("HUNTBOOK_CONFIG", raising=False)
    lines = [
        "TIProviders:",
        "  VirusTotal:",
        "    Primary: true",
        "    Args:",
        "      AuthKey: {EnvironmentVar: HB_PY_TEST_VT_KEY}",
        f"      BaseUrl: {base_url}",
        "  OTX:",
        "    Args:",
        "      AuthKey: {EnvironmentVar: HB_PY_TEST_UNSET}",
    ]
    if feeds:
        lines += ["  Feeds:", "    Provider: LocalFeeds", "    Primary: true", "    Args:", "      Paths:"]
        lines += [f"        - {p}" for p in feeds]
    lines += ["TICache:", f"  Path: {tmp_path / 'cache.sqlite'}"]
    path = tmp_path / "huntbook.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_lookup_ioc_gives_msticpy_columns(tmp_path, monkeypatch, vt_server):
    ti = huntbook.TILookup(_config(tmp_path, monkeypatch, vt_server))
    result = ti.lookup_ioc("38[.]75[.]137[.]9")
    assert list(result.columns) == ["Ioc", "IocType", "SafeIoc", "QuerySubtype", "Provider", "Result",
                                    "Severity", "Details", "RawResult", "Reference", "Status"]
    row = result.iloc[0]
    assert (row.Provider, row.SafeIoc, row.IocType, row.Severity, row.Status) == (
        "VirusTotal", "38.75.137.9", "ipv4", "high", 0)
    assert row.Details["last_analysis_stats"]["malicious"] == 3
    assert row.RawResult["data"]["id"] == "38.75.137.9"
    assert "VirusTotal" in ti.loaded_providers
    status = {s["Provider"]: s for s in ti.provider_status}
    assert status["OTX"]["Loaded"] is False and "HB_PY_TEST_UNSET" in status["OTX"]["Detail"]
    assert "VirusTotal" in ti.available_providers and "LocalFeeds" in ti.available_providers


def test_lookup_iocs_from_a_frame_with_progress(tmp_path, monkeypatch, vt_server):
    ti = huntbook.TILookup(_config(tmp_path, monkeypatch, vt_server))
    df = pd.DataFrame({
        "Observable": ["38.75.137.9", "evil-site.com", "45.33.32.156", "10.0.0.1", None],
        "IoCType": ["ipv4", "dns", "ipv4", "ipv4", None],
    })
    calls = []
    result = ti.lookup_iocs(df, col="Observable", ioc_type_col="IoCType",
                            progress=lambda done, total: calls.append((done, total)))
    by_ioc = result.set_index("Ioc")
    assert len(result) == 3, result
    assert by_ioc.loc["evil-site.com", "Severity"] == "high"
    assert by_ioc.loc["45.33.32.156", "Status"] == 404
    assert by_ioc.loc["45.33.32.156", "Details"] == "Not found."
    assert calls[-1] == (3, 3)
    shown = ti.lookup_iocs(["10.0.0.1"], show_bad_ioc=True)
    assert shown.iloc[0].Status == 2 and shown.iloc[0].Details == "IP address is not global"
    with pytest.raises(ValueError, match="no TI provider named Nope"):
        ti.lookup_ioc("38.75.137.9", providers=["Nope"])
    with pytest.raises(KeyError, match="'Missing' is not in the DataFrame"):
        ti.lookup_iocs(df, column="Missing")


def test_feeds_written_by_stix2_and_pymisp_are_read(tmp_path, monkeypatch, vt_server):
    stix2 = pytest.importorskip("stix2")
    pymisp = pytest.importorskip("pymisp")
    sha256 = "094fd325049b8a9cf6d3e5ef2a6d4cc6a567d7d49c35f8bb8dd9e3c6acf3d78d"
    indicators = [
        stix2.Indicator(name="C2", pattern="[ipv4-addr:value = '185.100.87.41']", pattern_type="stix",
                        confidence=90),
        stix2.Indicator(name="Dropper", pattern=f"[file:hashes.'SHA-256' = '{sha256}']", pattern_type="stix",
                        confidence=40),
        stix2.Indicator(name="Phish", pattern="[url:value = 'http://phish.example.net/login.php']",
                        pattern_type="stix"),
    ]
    bundle = stix2.Bundle(objects=indicators)
    stix_path = tmp_path / "intel.json"
    stix_path.write_text(bundle.serialize())
    # The file parses back as valid STIX 2.1.
    assert len(stix2.parse(stix_path.read_text(), allow_custom=False).objects) == 3

    event = pymisp.MISPEvent()
    event.info = "Mirror domains"
    event.threat_level_id = 1
    event.add_attribute("domain", "mirror-evil.example.org", to_ids=True)
    event.add_attribute("ip-dst|port", "176.10.99.200|8443", to_ids=True)
    event.add_attribute("comment", "from a partner", to_ids=False)
    org = pymisp.MISPOrganisation()
    org.from_dict(name="CIRCL", uuid="55f6ea5e-2c60-40e5-964f-47a8950d210f")
    event.Orgc = org
    feed_dir = tmp_path / "misp"
    feed_dir.mkdir()
    feed = event.to_feed(with_meta=True)
    # A feed folder as MISP publishes it: the manifest, each event, hashes.csv.
    manifest = feed["Event"].pop("_manifest")
    hashes = feed["Event"].pop("_hashes")
    (feed_dir / f"{event.uuid}.json").write_text(json.dumps(feed))
    (feed_dir / "manifest.json").write_text(json.dumps(manifest))
    (feed_dir / "hashes.csv").write_text("".join(f"{h},{event.uuid}\n" for h in hashes))
    # pymisp reads the event back.
    back = pymisp.MISPEvent()
    back.load_file(str(feed_dir / f"{event.uuid}.json"))
    assert back.info == "Mirror domains"

    ti = huntbook.TILookup(_config(tmp_path, monkeypatch, vt_server, feeds=[stix_path, feed_dir]))
    result = ti.lookup_iocs(["185.100.87.41", sha256, "http://phish.example.net/login.php",
                             "mirror-evil.example.org", "176.10.99.200"], providers=["Feeds"])
    by_ioc = result.set_index("Ioc")
    assert by_ioc.loc["185.100.87.41", "Severity"] == "high"
    assert by_ioc.loc[sha256, "Severity"] == "warning"
    assert bool(by_ioc.loc["http://phish.example.net/login.php", "Result"])
    assert by_ioc.loc["mirror-evil.example.org", "Severity"] == "high"
    assert by_ioc.loc["176.10.99.200", "Severity"] == "high"


def test_sentinel_threat_intel_table_answers_offline_through_local_data(tmp_path):
    """AzSTI (Microsoft Sentinel's threat-intel table) over the sample's exported
    indicator table: MSTICPy's severities and details, misses as "Not found."."""
    huntbook.write_sample_data(tmp_path / "data", rows=300, seed=2)
    config = tmp_path / "huntbook.yaml"
    config.write_text(
        "TIProviders:\n"
        "  SentinelTI:\n"
        "    Provider: AzSTI\n"
        "    Primary: true\n"
        "    Args:\n"
        "      DataEnvironment: LocalData\n"
        f"      DataPaths: [{tmp_path / 'data'}]\n"
        "TICache:\n"
        "  Enabled: false\n"
    )
    ti = huntbook.TILookup(config=str(config))
    assert ti.provider_status[0]["Loaded"]
    found = ti.lookup_iocs(["cdn-update.example.net", "45.142.120.9", "8.8.8.8"]).set_index("Ioc")
    assert found.loc["cdn-update.example.net", "Severity"] == "high"
    assert found.loc["cdn-update.example.net", "Details"]["ThreatType"] == ["C2"]
    assert found.loc["45.142.120.9", "Severity"] == "warning"
    assert not found.loc["8.8.8.8", "Result"]
    assert found.loc["8.8.8.8", "Details"] == "Not found."
