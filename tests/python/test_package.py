import pathlib
import tomllib

import huntbook

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_version_matches_the_workspace():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    assert huntbook.__version__ == cargo["workspace"]["package"]["version"]
