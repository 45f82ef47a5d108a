"""The same notebooks through papermill and through `huntbook run`: same injected cell,
same cell statuses, same outputs, same metadata keys, same exit codes.

The only differences allowed are huntbook's documented improvements (truthful
statuses on kernel death and timeout, display scraps keeping their data, nan/inf
stored as strings in metadata, HTML export honouring source_hidden); none of those
cases is exercised here, so everything compared must be equal.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

VENV_BIN = pathlib.Path(sys.executable).parent


def make_notebook(path: pathlib.Path, cells: list, tag_first_code: bool = True) -> pathlib.Path:
    nb = new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.language_info = {"name": "python"}
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def params_cell(source: str):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


NOTEBOOKS = {
    "outputs": lambda: [
        new_markdown_cell("# Outputs"),
        params_cell('a = 1\ns = "default"\nlst = []\nd = {}'),
        new_code_cell("print(a, s, lst, d)\nimport sys; print('to stderr', file=sys.stderr)"),
        new_code_cell(
            "from IPython.display import display, HTML, clear_output, Markdown\n"
            "h = display(HTML('<b>v1</b>'), display_id=True)\n"
            "h.update(HTML('<b>v2</b>'))\n"
            "display(Markdown('*md*'))"
        ),
        new_code_cell("print('gone')\nclear_output(wait=True)\nprint('kept')"),
        new_code_cell(""),
        new_code_cell("{'answer': a * 2, 'items': lst}"),
    ],
    "error": lambda: [
        params_cell("x = 1"),
        new_code_cell("y = x + 1\nprint(y)"),
        new_code_cell("raise ValueError(f'bad value {x}')"),
        new_code_cell("print('never')"),
    ],
    "magic_error": lambda: [
        params_cell("x = 1"),
        new_code_cell("%this_magic_does_not_exist"),
        new_code_cell("print('never')"),
    ],
    "exit0": lambda: [
        params_cell("x = 1"),
        new_code_cell("import sys\nsys.exit(0)"),
        new_code_cell("print('never')"),
    ],
    "exit_bare": lambda: [
        params_cell("x = 1"),
        new_code_cell("raise SystemExit"),
        new_code_cell("print('never')"),
    ],
    "exit1": lambda: [
        params_cell("x = 1"),
        new_code_cell("import sys\nsys.exit(1)"),
        new_code_cell("print('never')"),
    ],
    "no_params_cell": lambda: [
        new_code_cell("print('first')"),
        new_code_cell("print(x)"),
    ],
}

PARAMS = ["-p", "a", "5", "-p", "s", "it's \"quoted\" é", "-y", "lst: [1, two, 3.5, null, yes]\nd: {k: 010}", "-p", "x", "7"]


def run_papermill(src: pathlib.Path, out: pathlib.Path, extra: list[str]) -> int:
    cmd = [str(VENV_BIN / "papermill"), str(src), str(out), "-k", "python3", "--no-progress-bar", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=src.parent, timeout=120).returncode


def run_huntbook(bin_path, src: pathlib.Path, out: pathlib.Path, extra: list[str]) -> int:
    cmd = [str(bin_path), "run", str(src), str(out), "-k", "python3", "--python", sys.executable, "--no-progress-bar", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=src.parent, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode


def comparable_outputs(cell) -> list:
    outs = []
    for o in cell.get("outputs", []):
        o = dict(o)
        o.pop("execution_count", None)
        if o.get("output_type") == "error":
            # Tracebacks name the cell by its execution count only; compare the rest as is.
            o["traceback"] = [line for line in o["traceback"]]
        outs.append(json.loads(json.dumps(o, sort_keys=True)))
    return outs


def summary(nb) -> dict:
    return {
        "cell_types": [c.cell_type for c in nb.cells],
        "tags": [c.metadata.get("tags") for c in nb.cells],
        "statuses": [c.metadata.get("papermill", {}).get("status") for c in nb.cells],
        "exceptions": [c.metadata.get("papermill", {}).get("exception") for c in nb.cells],
        "sources": [c.source for c in nb.cells if c.cell_type == "code"],
        "markdown": [c.source for c in nb.cells if c.cell_type == "markdown"],
        "outputs": [comparable_outputs(c) for c in nb.cells],
        "counts": [c.get("execution_count") for c in nb.cells],
        "papermill_keys": sorted(nb.metadata.papermill.keys()),
        "parameters": nb.metadata.papermill.get("parameters"),
        "exception": nb.metadata.papermill.get("exception"),
        "cell_metadata_keys": [sorted(c.metadata.get("papermill", {}).keys()) for c in nb.cells],
        "execution_keys": [sorted(c.metadata.get("execution", {}).keys()) for c in nb.cells],
    }


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_same_as_papermill(tmp_path, huntbook_bin, name):
    src = make_notebook(tmp_path / f"{name}.ipynb", NOTEBOOKS[name]())
    pm_out, hb_out = tmp_path / "pm.ipynb", tmp_path / "hb.ipynb"
    pm_code = run_papermill(src, pm_out, PARAMS)
    hb_code = run_huntbook(huntbook_bin, src, hb_out, PARAMS)
    assert hb_code == pm_code
    pm_nb, hb_nb = nbformat.read(pm_out, as_version=4), nbformat.read(hb_out, as_version=4)
    nbformat.validate(hb_nb)
    pm, hb = summary(pm_nb), summary(hb_nb)
    for key in pm:
        assert hb[key] == pm[key], f"{name}: {key} differs"
    assert hb_nb.metadata["huntbook"]["version"]


def test_rerun_of_a_papermill_output_replaces_the_injected_cell(tmp_path, huntbook_bin):
    src = make_notebook(tmp_path / "src.ipynb", NOTEBOOKS["error"]())
    first = tmp_path / "first.ipynb"
    assert run_papermill(src, first, ["-p", "x", "1"]) == 1
    pm_out, hb_out = tmp_path / "pm.ipynb", tmp_path / "hb.ipynb"
    assert run_papermill(first, pm_out, ["-p", "x", "2"]) == 1
    assert run_huntbook(huntbook_bin, first, hb_out, ["-p", "x", "2"]) == 1
    pm, hb = summary(nbformat.read(pm_out, as_version=4)), summary(nbformat.read(hb_out, as_version=4))
    assert hb == pm
    assert sum(1 for tags in hb["tags"] if tags and "injected-parameters" in tags) == 1
    assert sum(1 for tags in hb["tags"] if tags and "papermill-error-cell-tag" in tags) == 2


def test_report_mode_and_prepare_only_match(tmp_path, huntbook_bin):
    src = make_notebook(tmp_path / "src.ipynb", NOTEBOOKS["outputs"]())
    for extra in (["--report-mode"], ["--prepare-only"]):
        pm_out, hb_out = tmp_path / "pm.ipynb", tmp_path / "hb.ipynb"
        assert run_papermill(src, pm_out, ["-p", "a", "3", *extra]) == 0
        assert run_huntbook(huntbook_bin, src, hb_out, ["-p", "a", "3", *extra]) == 0
        pm_nb, hb_nb = nbformat.read(pm_out, as_version=4), nbformat.read(hb_out, as_version=4)
        nbformat.validate(hb_nb)
        assert summary(hb_nb) == summary(pm_nb), extra
        hidden = lambda nb: [c.metadata.get("jupyter", {}).get("source_hidden") for c in nb.cells]
        assert hidden(hb_nb) == hidden(pm_nb)
