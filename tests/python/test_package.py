import pathlib
import subprocess
import sys
import tomllib

import huntbook

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_version_matches_the_workspace():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    assert huntbook.__version__ == cargo["workspace"]["package"]["version"]


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_import_loads_nothing_heavy():
    # `import huntbook` must stay fast: pandas, pyarrow, the extension and ipywidgets
    # wait for the first call that needs them.
    loaded = _python(
        "import sys, huntbook; "
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy', 'ipywidgets', 'huntbook._huntbook', 'huntbook.plot') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_every_public_name_resolves():
    missing = [name for name in huntbook.__all__ if getattr(huntbook, name, None) is None]
    assert missing == []
    assert set(huntbook.__all__) <= set(dir(huntbook))


def test_unknown_attribute_is_an_attribute_error():
    try:
        huntbook.no_such_thing
    except AttributeError as e:
        assert "no_such_thing" in str(e)
    else:
        raise AssertionError("no error")


def test_accessors_work_whether_pandas_comes_first_or_after():
    probe = "print(type(pd.DataFrame({'a': [1]}).hb).__name__, type(pd.DataFrame({'a': [1]}).hb_tree).__name__)"
    assert _python("import pandas as pd, huntbook; " + probe) == "HuntbookAccessor ProcessTreeAccessor"
    assert _python("import huntbook, pandas as pd; " + probe) == "HuntbookAccessor ProcessTreeAccessor"
