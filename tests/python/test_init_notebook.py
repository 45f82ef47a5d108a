"""huntbook.init_notebook: what is ready and what is missing, from real configuration
files; credentials reported by where they are kept, never by value."""

from __future__ import annotations

import huntbook

SECRET = "s3cr3t-vt-key-value"


def write(tmp_path, monkeypatch, text):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("MSTICPYCONFIG", raising=False)
    monkeypatch.delenv("HUNTBOOK_CONFIG", raising=False)
    path = tmp_path / "huntbook.yaml"
    path.write_text(text)
    return path


def test_ready_environments_providers_and_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("HB_INIT_VT_KEY", SECRET)
    path = write(tmp_path, monkeypatch, (
        "AzureSentinel:\n  Workspaces:\n    Prod:\n"
        "      WorkspaceId: 52b1ab41-869e-4138-9e40-2a4457f09bf0\n"
        "      TenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47\n"
        "TIProviders:\n  VirusTotal:\n    Args:\n      AuthKey: {EnvironmentVar: HB_INIT_VT_KEY}\n"
        "  OTX:\n    Args:\n      AuthKey: {EnvironmentVar: HB_INIT_UNSET}\n"
        f"TICache:\n  Path: {tmp_path / 'cache.sqlite'}\n"
    ))
    status = huntbook.init_notebook(config=path, verbose=False)
    # The unset credential is the one error, and it says what to do.
    errors = [p for p in status.problems if p[0] == "error"]
    assert [(key, "HB_INIT_UNSET" in message) for _, key, message, _ in errors] == [("TIProviders.OTX.Args.AuthKey", True)]
    assert not status.ready
    assert [(n, ok) for n, ok, _ in status.environments] == [("LocalData", True), ("MSSentinel", True)]
    assert "Prod" in dict((n, d) for n, _, d in status.environments)["MSSentinel"]
    loaded = {p["Provider"]: p["Loaded"] for p in status.ti_providers}
    assert loaded == {"VirusTotal": True, "OTX": False}
    creds = {key: state for key, _, state in status.credentials}
    assert creds["TIProviders.VirusTotal.Args.AuthKey"] == "ok"
    assert creds["TIProviders.OTX.Args.AuthKey"].startswith("missing")
    shown = status._repr_html_() + str(status)
    assert SECRET not in shown and "HB_INIT_UNSET" in shown
    monkeypatch.setenv("HB_INIT_UNSET", "now-set")
    assert huntbook.init_notebook(config=path, verbose=False).ready


def test_errors_make_it_not_ready_and_say_where(tmp_path, monkeypatch):
    path = write(tmp_path, monkeypatch, "AzureSentinel:\n  Workspaces:\n    Broken:\n      TenantId: nope\n")
    status = huntbook.init_notebook(config=path, verbose=False)
    assert not status.ready
    errors = [p for p in status.problems if p[0] == "error"]
    assert errors and any("huntbook.yaml" in where for *_, where in errors), errors
    assert dict((n, ok) for n, ok, _ in status.environments)["MSSentinel"] is False
    assert "error" in str(status)
