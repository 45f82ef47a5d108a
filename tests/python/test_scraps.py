"""Scraps between huntbook and scrapbook, on a real ipykernel.

Notebooks that call ``huntbook.glue`` and ``scrapbook.glue`` are executed by nbclient
(and papermill for the parameterised ones); each side must read what the other wrote.
The one intended difference: a scrap glued with ``display=True`` keeps its data in
huntbook, while scrapbook lets the display replace it.
"""

from __future__ import annotations

import base64
import io
import json
import pathlib
import subprocess
import sys
import textwrap
import warnings

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

import huntbook
import huntbook.scraps

# The kernelspec registered in the project venv (it runs the venv's interpreter).
KERNEL = "python3"

FRAME = "pd.DataFrame({'host': ['a', 'b'], 'hits': [3, 4], 'score': [0.5, None]})"


def expected_frame() -> pd.DataFrame:
    return pd.DataFrame({"host": ["a", "b"], "hits": [3, 4], "score": [0.5, None]})


# One cell per string; `{glue}` is the glue function under test.
GLUE_CELLS = [
    "import sys\nimport pandas as pd\nfrom IPython.display import HTML",
    "{glue}('kernel_prefix', sys.prefix)",
    "{glue}('greeting', 'hello\\nworld')\n{glue}('count', 12)\n{glue}('ratio', 0.25)",
    "{glue}('flags', {'a': [1, 2, None], 'b': True})\n{glue}('listed', [1, 'two', 3.0])",
    "{glue}('parsed', '{\"k\": [1, 2]}', encoder='json')",
    "print('noise before')\n{glue}('frame', " + FRAME + ")",
    "{glue}('shown', 42, display=True)",
    "{glue}('html_only', HTML('<b>bold</b>'))",
    "{glue}('restricted', " + FRAME + ", display=['text/plain'])",
    "{glue}('count', 13)",
]


def make_notebook(cells: list[str], glue: str, preamble: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(preamble)]
    nb.cells += [nbformat.v4.new_code_cell(c.replace("{glue}", glue)) for c in cells]
    return nb


def execute(nb: nbformat.NotebookNode, path: pathlib.Path) -> pathlib.Path:
    NotebookClient(nb, kernel_name=KERNEL, timeout=120, resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("scraps")


@pytest.fixture(scope="module")
def huntbook_nb(folder) -> pathlib.Path:
    """A notebook whose scraps were written by huntbook.glue."""
    cells = GLUE_CELLS + [
        "try:\n    huntbook.glue('nothing', None)\nexcept TypeError as e:\n    huntbook.glue('none_error', str(e))",
    ]
    nb = make_notebook(cells, "huntbook.glue", "import huntbook")
    return execute(nb, folder / "by_huntbook.ipynb")


@pytest.fixture(scope="module")
def scrapbook_nb(folder) -> pathlib.Path:
    """A notebook whose scraps were written by scrapbook.glue, plus a papermill record."""
    cells = GLUE_CELLS + [
        "from IPython.display import display\n"
        "display({'application/papermill.record+json': {'old_record': [1, 2]}}, raw=True)\n"
        "display({'text/plain': 'old display'}, metadata={'papermill': {'name': 'old_display'}}, raw=True)",
    ]
    nb = make_notebook(cells, "sb.glue", "import scrapbook as sb")
    return execute(nb, folder / "by_scrapbook.ipynb")


def read_with_scrapbook(path):
    import scrapbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return scrapbook.read_notebook(str(path))


def assert_same_data(ours, theirs):
    if isinstance(theirs, pd.DataFrame):
        pd.testing.assert_frame_equal(ours, theirs)
    else:
        assert ours == theirs
        # scrapbook's dicts are NotebookNodes (a dict subclass); 1 and 1.0 must not pass.
        assert isinstance(theirs, type(ours)), (type(ours), type(theirs))


def test_kernel_is_the_venv_interpreter(huntbook_nb):
    assert huntbook.read_notebook(huntbook_nb).scraps["kernel_prefix"].data == sys.prefix


def test_huntbook_reads_its_own_scraps(huntbook_nb):
    scraps = huntbook.read_notebook(huntbook_nb).scraps
    assert list(scraps) == [
        "kernel_prefix", "greeting", "count", "ratio", "flags", "listed", "parsed",
        "frame", "shown", "html_only", "restricted", "none_error",
    ]
    assert scraps["greeting"] == huntbook.Scrap("greeting", "hello\nworld", "text", None)
    assert scraps["count"].data == 13
    assert scraps["ratio"].data == 0.25
    assert scraps["flags"].data == {"a": [1, 2, None], "b": True}
    assert scraps["listed"].data == [1, "two", 3.0]
    assert (scraps["parsed"].data, scraps["parsed"].encoder) == ({"k": [1, 2]}, "json")
    assert scraps["frame"].encoder == "pandas"
    pd.testing.assert_frame_equal(scraps["frame"].data, expected_frame())
    shown = scraps["shown"]
    assert (shown.data, shown.encoder) == (42, "json")
    assert shown.display["data"]["text/plain"] == "42"
    assert shown.display["metadata"]["scrapbook"] == {"name": "shown", "data": False, "display": True}
    html = scraps["html_only"]
    assert (html.data, html.encoder) == (None, "display")
    assert html.display["data"]["text/html"] == "<b>bold</b>"
    restricted = scraps["restricted"]
    assert list(restricted.display["data"]) == ["text/plain"]
    pd.testing.assert_frame_equal(restricted.data, expected_frame())
    assert "None" in scraps["none_error"].data and "cannot hold" in scraps["none_error"].data
    assert "nothing" not in scraps
    assert scraps.data_dict["count"] == 13
    assert set(scraps.display_dict) == {"shown", "html_only", "restricted"}
    assert list(scraps.dataframe.columns) == ["name", "data", "encoder", "display"]


def test_scrapbook_reads_huntbook_scraps(huntbook_nb):
    ours = huntbook.read_notebook(huntbook_nb).scraps
    theirs = read_with_scrapbook(huntbook_nb).scraps
    assert list(theirs) == list(ours)
    for name, scrap in theirs.items():
        mine = ours[name]
        assert scrap.encoder == mine.encoder or (name in {"shown", "restricted"} and scrap.encoder == "display")
        assert scrap.display == mine.display, name
        if name in {"shown", "restricted"}:
            # The documented difference: scrapbook drops the data of display=True scraps.
            assert scrap.data is None and mine.data is not None
        else:
            assert_same_data(mine.data, scrap.data)


def test_huntbook_reads_scrapbook_scraps(scrapbook_nb):
    ours = huntbook.read_notebook(scrapbook_nb).scraps
    theirs = read_with_scrapbook(scrapbook_nb).scraps
    assert list(ours) == list(theirs)
    assert "old_record" in ours and "old_display" in ours
    for name, scrap in theirs.items():
        mine = ours[name]
        assert mine.display == scrap.display, name
        if name in {"shown", "restricted"}:
            assert scrap.data is None
            assert mine.encoder != "display" and mine.display is not None
            continue
        assert mine.encoder == scrap.encoder, name
        assert_same_data(mine.data, scrap.data)
    assert ours["old_record"] == huntbook.Scrap("old_record", [1, 2], "json", None)
    assert ours["shown"].data == 42
    pd.testing.assert_frame_equal(ours["restricted"].data, expected_frame())


def test_malformed_scraps_warn_and_are_skipped(tmp_path):
    nb = nbformat.v4.new_notebook()
    bad = {"application/scrapbook.scrap.json+json": {"name": "broken", "data": None, "encoder": "json", "version": 1}}
    frame = {"application/scrapbook.scrap.pandas+json": {"name": "frame", "data": "not parquet", "encoder": "pandas", "version": 1}}
    good = {"application/scrapbook.scrap.json+json": {"name": "good", "data": 1, "encoder": "json", "version": 1}}
    nb.cells = [nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output("display_data", data=d) for d in (bad, frame, good)])]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.warns(huntbook.ScrapWarning, match=r"cell 0, output 0: scrap \"broken\" has null `data`"):
        loaded = huntbook.read_notebook(path)
    with pytest.warns(huntbook.ScrapWarning, match="'frame': its pandas data is not readable"):
        scraps = loaded.scraps
    assert list(scraps) == ["frame", "good"]
    assert scraps["frame"].data == "not parquet"


def test_cli_reports_malformed_scraps_on_stderr(huntbook_bin, tmp_path):
    nb = nbformat.v4.new_notebook()
    bad = {"application/scrapbook.scrap.json+json": {"name": "old", "data": 1, "encoder": "json"}}
    nb.cells = [nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output("display_data", data=bad)])]
    path = tmp_path / "unversioned.ipynb"
    nbformat.write(nb, path)
    result = subprocess.run([huntbook_bin, "scraps", path, "--json"], capture_output=True, text=True)
    assert result.returncode == 0 and json.loads(result.stdout) == {}
    assert "warning" in result.stderr and 'scrap "old" has no `version`' in result.stderr and "cell 0, output 0" in result.stderr


def test_reading_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.ipynb"):
        huntbook.read_notebook(tmp_path / "missing.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(huntbook.NotebookError, match="broken.ipynb is not valid notebook JSON") as info:
        huntbook.read_notebook(broken)
    assert isinstance(info.value, ValueError)
    with pytest.raises(NotADirectoryError):
        huntbook.read_notebooks(broken)


# --- glue outside a kernel -------------------------------------------------------


@pytest.fixture
def fresh_warning_flag(monkeypatch):
    monkeypatch.setattr(huntbook.scraps, "_warned_outside_kernel", False)


def test_glue_outside_a_kernel_warns_once(fresh_warning_flag, capsys):
    with pytest.warns(huntbook.ScrapWarning, match="not running in a Jupyter kernel") as record:
        huntbook.glue("a", 1)
        huntbook.glue("b", "two")
    assert len(record) == 1
    assert capsys.readouterr().out == ""


def test_glue_rejects_what_it_cannot_store(fresh_warning_flag):
    with pytest.raises(TypeError, match="'n' is None"):
        huntbook.glue("n", None)
    with pytest.raises(TypeError, match="cannot store scrap 's' of type builtins.set"):
        huntbook.glue("s", {1, 2})
    with pytest.raises(TypeError, match="name must be a str"):
        huntbook.glue(3, 1)
    with pytest.raises(ValueError, match="unknown encoder 'arrow'"):
        huntbook.glue("x", 1, encoder="arrow")
    with pytest.raises(ValueError, match="its string is not JSON"):
        huntbook.glue("x", "{nope", encoder="json")
    with pytest.raises(TypeError, match="cannot be stored as JSON"):
        huntbook.glue("x", {"k": object()}, encoder="json")
    with pytest.raises(TypeError, match="not a pandas.DataFrame"):
        huntbook.glue("x", [1], encoder="pandas")


def test_encoder_choice_follows_scrapbook():
    choose = huntbook.scraps._choose_encoder
    assert choose("x", "s", False) == "text"
    assert [choose("x", v, False) for v in ([1], (1,), {"a": 1}, 1, 1.5, True)] == ["json"] * 6
    assert choose("x", expected_frame(), False) == "pandas"
    from IPython.display import HTML

    assert choose("x", HTML("<b/>"), False) == "display"
    assert choose("x", object(), True) == "display"


# --- folders ---------------------------------------------------------------------


PARAM_NOTEBOOK = [
    ("parameters", "host = 'default'\nthreshold = 1"),
    (None, "import huntbook\nhuntbook.glue('host', host)\nhuntbook.glue('hits', len(host) * threshold)"),
    (None, "huntbook.glue('summary', 'checked ' + host, display=True)"),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> pathlib.Path:
    """Three papermill runs of one parameterised notebook, and a file that is not one."""
    import papermill

    root = tmp_path_factory.mktemp("runs")
    source = nbformat.v4.new_notebook()
    source.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    for tag, code in PARAM_NOTEBOOK:
        cell = nbformat.v4.new_code_cell(code)
        if tag:
            cell.metadata["tags"] = [tag]
        source.cells.append(cell)
    template = root / "source.ipynb"
    nbformat.write(source, template)
    out = root / "out"
    out.mkdir()
    for host, threshold in [("host-b", 2), ("host-a", 1), ("other", 3)]:
        papermill.execute_notebook(
            str(template), str(out / f"triage-{host}.ipynb"),
            parameters={"host": host, "threshold": threshold}, kernel_name=KERNEL, progress_bar=False,
        )
    (out / "notes.txt").write_text("not a notebook")
    return out


def test_read_notebooks_matches_scrapbook(runs):
    import scrapbook

    book = huntbook.read_notebooks(runs)
    theirs = scrapbook.read_notebooks(str(runs))
    assert list(book) == list(theirs) == ["triage-host-a", "triage-host-b", "triage-other"]
    for key, nb in book.items():
        other = theirs[key]
        assert nb.parameters == other.parameters
        assert nb.execution_counts == other.execution_counts
        assert nb.cell_timing == other.cell_timing
        assert all(isinstance(t, float) and t > 0 for t in nb.cell_timing)
        assert nb.papermill_metadata["parameters"] == nb.parameters
        assert nb.scraps.data_dict == {
            "host": nb.parameters["host"],
            "hits": len(nb.parameters["host"]) * nb.parameters["threshold"],
            "summary": "checked " + nb.parameters["host"],
        }
    assert book.scraps.data_dict["host"] == "other"
    assert {k: v.data_dict for k, v in book.notebook_scraps.items()}["triage-host-a"]["hits"] == 6
    pd.testing.assert_frame_equal(book.metrics, theirs.metrics, check_dtype=False)


def test_papermill_dataframe_works_on_current_pandas(runs):
    import scrapbook

    book = huntbook.read_notebooks(runs)
    frame = book.papermill_dataframe
    assert list(frame.columns) == ["name", "value", "type", "filename", "key"]
    theirs = scrapbook.read_notebooks(str(runs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        parts = [
            pd.concat([nb.parameter_dataframe, nb.papermill_record_dataframe], ignore_index=True).assign(key=key)
            for key, nb in theirs.items()
        ]
    # scrapbook loses the data of the display=True scrap `summary`; huntbook keeps it.
    ours_without_summary = frame[frame.name != "summary"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours_without_summary, pd.concat(parts, ignore_index=True))
    assert frame[frame.name == "summary"].value.tolist() == ["checked host-a", "checked host-b", "checked other"]
    host_a = frame[frame.key == "triage-host-a"]
    assert host_a[host_a.type == "parameter"].name.tolist() == ["host", "threshold"]
    assert host_a[host_a.type == "record"].name.tolist() == ["hits", "host", "summary"]


def test_read_notebooks_filters_and_reports(runs):
    assert list(huntbook.read_notebooks(runs, path_filter="triage-host-*")) == ["triage-host-a", "triage-host-b"]
    assert list(huntbook.read_notebooks(runs, path_filter=lambda p: p.endswith("other.ipynb"))) == ["triage-other"]
    book = huntbook.read_notebooks(runs)
    report = book.scraps_report()
    assert report.startswith("### triage-host-a\n\n#### summary\n\n'checked host-a'\n\n---\n\n### triage-host-b")
    assert "#### hits" not in report
    with_data = book.scraps_report(notebook_names="triage-other", include_data=True)
    assert with_data == "### triage-other\n\n#### summary\n\n'checked other'\n\n#### host\n\nother\n\n#### hits\n\n15\n"
    missing = book.scraps_report(scrap_names="nope", notebook_names=["triage-other"], headers=False)
    assert missing == "No scrap found with name 'nope' in this notebook\n"


# --- the CLI ---------------------------------------------------------------------


def test_cli_json_matches_the_python_reader(huntbook_bin, huntbook_nb):
    result = subprocess.run([huntbook_bin, "scraps", huntbook_nb, "--json"], capture_output=True, text=True, check=True)
    listed = json.loads(result.stdout)
    scraps = huntbook.read_notebook(huntbook_nb).scraps
    assert list(listed) == list(scraps)
    for name, entry in listed.items():
        scrap = scraps[name]
        assert entry["encoder"] == scrap.encoder and entry["display"] == scrap.display
        if scrap.encoder == "pandas":
            frame = pd.read_parquet(io.BytesIO(base64.b64decode(entry["data"])))
            pd.testing.assert_frame_equal(frame, scrap.data)
        else:
            assert entry["data"] == scrap.data
    assert result.stderr == ""


def test_cli_table(huntbook_bin, huntbook_nb):
    result = subprocess.run([huntbook_bin, "scraps", huntbook_nb], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "ENCODER", "DISPLAY", "DATA"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["count"].split() == ["count", "json", "-", "13"]
    assert rows["greeting"].split()[-1] == '"hello\\nworld"'
    assert rows["frame"].split()[1:4] == ["pandas", "-", "DataFrame"] and "bytes parquet)" in rows["frame"]
    assert rows["shown"].split()[1:] == ["json", "text/plain", "42"]
    assert rows["html_only"].split()[1] == "display" and rows["html_only"].endswith("(display only)")


def test_cli_errors(huntbook_bin, tmp_path):
    result = subprocess.run([huntbook_bin, "scraps", tmp_path / "missing.ipynb"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "missing.ipynb" in result.stderr and result.stdout == ""
    broken = tmp_path / "broken.ipynb"
    broken.write_text(textwrap.dedent('{"nbformat": 3}'))
    result = subprocess.run([huntbook_bin, "scraps", broken, "--json"], capture_output=True, text=True)
    assert result.returncode == 2 and "nbformat 3 is not supported" in result.stderr
    help_text = subprocess.run([huntbook_bin, "scraps", "--help"], capture_output=True, text=True, check=True).stdout
    assert "Examples:" in help_text and "--json" in help_text
