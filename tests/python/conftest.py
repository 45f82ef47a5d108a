"""Shared fixtures for the Python tests (run by scripts/test inside the project venv)."""

import functools
import os
import pathlib
import time
from typing import NamedTuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def huntbook_bin() -> pathlib.Path:
    """The huntbook CLI built by scripts/setup."""
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache/huntbook/target"))
    path = target / "debug" / "huntbook"
    assert path.exists(), f"{path} is missing: run scripts/setup first"
    return path


# How long the session's Chromium took to start, for the summary at the end.
_chromium_start: list[float] = []


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """Headless Chromium for the chart tests, started once per session (see browser.py):
    `chromium.open(path_or_html, width=900, height=700)` returns a ChartPage."""
    from browser import Chromium

    browser = Chromium(tmp_path_factory.mktemp("pages"))
    _chromium_start.append(browser.start_seconds)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(autouse=True)
def _close_chart_pages(request):
    """Closes the pages a test opened, so a long suite does not pile up renderers;
    tests that do not use the browser never start it."""
    yield
    if "chromium" in request.fixturenames:
        request.getfixturevalue("chromium").close_pages()


def pytest_terminal_summary(terminalreporter):
    for seconds in _chromium_start:
        terminalreporter.write_line(f"chromium started in {seconds:.2f} s")


def fake_service(package: str, example: str, *args: str):
    """A fixture running one of the Rust testkit's fake services (a cargo example
    that prints one JSON line describing itself, then serves until its stdin
    closes); the fixture's value is that description."""
    import json
    import subprocess

    @functools.cache
    def binary() -> pathlib.Path:
        # Built once per test session; each test gets a fresh server below.
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache/huntbook/target"))
        subprocess.run(
            ["cargo", "build", "-q", "-p", package, "--features", "testkit", "--example", example],
            cwd=ROOT,
            check=True,
        )
        return target / "debug" / "examples" / example

    @pytest.fixture
    def running():
        proc = subprocess.Popen(
            [str(binary()), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            yield json.loads(proc.stdout.readline())
        finally:
            proc.stdin.close()
            proc.wait(timeout=10)

    return running


class _Token(NamedTuple):
    token: str
    expires_on: int


class StaticCredential:
    """An azure-identity style credential that hands out one token."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str) -> _Token:
        self.scopes.append(scopes)
        return _Token(self.token, int(time.time()) + 3600)
