"""The service's dashboard in headless Chromium, against a real `huntbook serve` on
loopback with a real kernel: sign in with a token, start a run from the form built
from the notebook's parameters, watch it finish, read its log and open its report.
The page must load nothing from anywhere but the service and raise no error."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]}, "outputs": [], "execution_count": None,
         "source": 'ip_address = "192.0.2.1"  # the address to look at\nlookback = 7\n'},
        {"cell_type": "code", "id": "f", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "import huntbook\nprint('looked at', ip_address, 'over', lookback, 'days')\n"
                   "huntbook.glue('finding', True)\nhuntbook.glue('finding_desc', f'beaconing from {ip_address}')\n"
                   "huntbook.glue('severity', 'High')\n"},
    ],
}


@pytest.fixture
def service(tmp_path: pathlib.Path, huntbook_bin: pathlib.Path):
    (tmp_path / "lookup.ipynb").write_text(json.dumps(NOTEBOOK))
    config = tmp_path / "huntbook.yaml"
    config.write_text(
        "Service:\n  store: sqlite:jobs.db\n  listen: 127.0.0.1:0\n  workers: 1\n"
        "  outputs:\n    location: outputs\n    html: findings\n"
        "Notebooks:\n  lookup:\n    path: lookup.ipynb\n    key_parameters: [ip_address]\n"
    )
    venv = pathlib.Path(sys.executable).parent.parent
    process = subprocess.Popen([str(huntbook_bin), "serve", "--config", str(config), "--python", str(venv)],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on http://"), f"{line!r} {process.stderr.read() if process.poll() else ''}"
        token = subprocess.run([str(huntbook_bin), "token", "create", "--scope", "run", "--config", str(config)],
                               cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
        yield line.strip().removeprefix("listening on "), token
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_start_a_run_from_the_form_watch_it_finish_and_open_its_report(chromium, service):
    url, token = service
    page = chromium.open_url(url + "/")
    p = page.page
    # Signed out: the token form. A wrong token is refused in place.
    p.fill("[data-testid=sign-in] input[name=token]", "hb_not-a-token")
    p.click("[data-testid=sign-in] button")
    p.wait_for_selector("[data-testid=sign-in] .error:not(:empty)")
    # The browser logs the refused request itself; that is the only error so far.
    assert page.errors and all("401" in error for error in page.errors), page.errors
    page.errors.clear()
    p.fill("[data-testid=sign-in] input[name=token]", token)
    p.click("[data-testid=sign-in] button")
    p.wait_for_selector("[data-testid=runs]")

    # The form shows the notebook's parameters with their defaults and help.
    p.click("nav a[data-nav=new]")
    p.wait_for_selector("[data-testid=new-run]")
    field = p.locator("input[name=ip_address]")
    assert field.input_value() == "192.0.2.1"
    assert "the address to look at" in p.inner_text("[data-testid=new-run]")
    field.fill("203.0.113.66")
    p.fill("input[name=lookback]", "3")
    p.click("[data-testid=new-run] button[type=submit]")

    # The run's page follows it to the end, with its log.
    p.wait_for_selector("[data-state=succeeded]", timeout=90_000)
    p.wait_for_function("document.querySelector('[data-testid=log]').textContent.includes('looked at')")
    assert "looked at 203.0.113.66 over 3 days" in p.inner_text("[data-testid=log]")
    assert p.inner_text("[data-testid=progress]").startswith("cell ")
    parameters = p.inner_text("main table")
    assert "203.0.113.66" in parameters and "3" in parameters

    # Its report opens in a sandboxed frame.
    p.click("[data-testid=open-report]")
    frame = p.wait_for_selector("[data-testid=report]")
    assert frame.get_attribute("sandbox") == "allow-scripts"
    assert "looked at 203.0.113.66 over 3 days" in frame.content_frame().content()
    page.screenshot("dashboard-run")

    # The finding and its incident are listed.
    p.click("nav a[data-nav=findings]")
    p.wait_for_selector("[data-testid=findings] td.muted, [data-testid=findings] .sev")
    assert "beaconing from 203.0.113.66" in p.inner_text("[data-testid=findings]")
    p.click("nav a[data-nav=incidents]")
    p.wait_for_selector("[data-testid=incidents]")
    assert "lookup: beaconing from 203.0.113.66" in p.inner_text("[data-testid=incidents]")
    page.assert_clean()
