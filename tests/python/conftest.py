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
