"""Shared fixtures for the Python tests (run by scripts/test inside the project venv)."""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def huntbook_bin() -> pathlib.Path:
    """The huntbook CLI built by scripts/setup."""
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache/huntbook/target"))
    path = target / "debug" / "huntbook"
    assert path.exists(), f"{path} is missing: run scripts/setup first"
    return path
