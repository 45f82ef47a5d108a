"""huntbook.execute_notebook / inspect_notebook with papermill's names, compared with
papermill's own Python API on the same notebooks."""

from __future__ import annotations

import pathlib

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import huntbook


def write(path: pathlib.Path, *sources: str, params: str = 'ip = "10.0.0.1"  # the address\nlimit: int = 5') -> pathlib.Path:
    nb = new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell("# t"), cell, *[new_code_cell(s) for s in sources]]
    nbformat.write(nb, path)
    return path


def test_returns_the_output_notebook_and_reports_progress(tmp_path):
    src = write(tmp_path / "in.ipynb", "print(ip, limit)")
    seen = []
    nb = huntbook.execute_notebook(
        src, tmp_path / "out.ipynb", parameters={"ip": "1.2.3.4", "limit": 7}, progress=lambda d, t: seen.append((d, t))
    )
    assert nb.metadata.papermill.parameters == {"ip": "1.2.3.4", "limit": 7}
    assert nb.cells[3].outputs[0]["text"] == "1.2.3.4 7\n"
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    on_disk = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    nbformat.validate(on_disk)
    assert on_disk.cells[2].metadata.tags == ["injected-parameters"]


def test_cell_error_carries_papermills_fields(tmp_path):
    src = write(tmp_path / "in.ipynb", "x = 1", "raise KeyError('missing host')", "print('never')")
    with pytest.raises(papermill.PapermillExecutionError) as pm:
        papermill.execute_notebook(str(src), str(tmp_path / "pm.ipynb"), kernel_name="python3", progress_bar=False)
    with pytest.raises(huntbook.ExecutionError) as hb:
        huntbook.execute_notebook(src, tmp_path / "hb.ipynb")
    for field in ("cell_index", "exec_count", "source", "ename", "evalue"):
        assert getattr(hb.value, field) == getattr(pm.value, field), field
    assert len(hb.value.traceback) == len(pm.value.traceback)
    assert 'Exception encountered at "In [3]"' in str(hb.value)
    assert hb.value.notebook_json


def test_timeout_and_prepare_only(tmp_path):
    src = write(tmp_path / "in.ipynb", "import time\ntime.sleep(30)")
    with pytest.raises(huntbook.ExecutionTimeout) as err:
        huntbook.execute_notebook(src, tmp_path / "out.ipynb", execution_timeout=1)
    assert err.value.cell_index == 2  # as papermill, counted before the markers are added
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[4].metadata.papermill.status == "failed"
    nb = huntbook.execute_notebook(src, tmp_path / "prep.ipynb", parameters={"ip": "x"}, prepare_only=True, kernel_name="no-such-kernel")
    assert nb.cells[2].source == '# Parameters\nip = "x"\n'
    assert all(c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


def test_unknown_kernel_is_a_clear_error(tmp_path):
    src = write(tmp_path / "in.ipynb", "1")
    with pytest.raises(huntbook.KernelStartError, match="no-such-kernel"):
        huntbook.execute_notebook(src, tmp_path / "out.ipynb", kernel_name="no-such-kernel")


def test_inspect_matches_papermill(tmp_path):
    src = write(
        tmp_path / "in.ipynb",
        params='ip = "10.0.0.1"  # the address\nlimit: int = 5\nhosts = [\n  "a",\n  "b",\n]\nratio = 0.5  # type: float',
    )
    assert huntbook.inspect_notebook(src) == papermill.inspect_notebook(str(src))


def test_read_notebooks_sweeps_run_outputs(tmp_path):
    src = write(tmp_path / "in.ipynb", "import huntbook\nhuntbook.glue('ip_seen', ip)")
    outs = tmp_path / "outs"
    for ip in ("1.1.1.1", "2.2.2.2"):
        huntbook.execute_notebook(src, str(outs / "run_{ip}.ipynb"), parameters={"ip": ip})
    book = huntbook.read_notebooks(outs)
    assert sorted(book) == ["run_1.1.1.1", "run_2.2.2.2"]
    assert {name: nb.scraps["ip_seen"].data for name, nb in book.items()} == {
        "run_1.1.1.1": "1.1.1.1",
        "run_2.2.2.2": "2.2.2.2",
    }


def test_secrets_reach_the_kernel_and_are_scrubbed(tmp_path, monkeypatch):
    secret = "py-Secret-Value-9z!Q"
    monkeypatch.setenv("HB_PY_SECRET", secret)
    src = write(tmp_path / "in.ipynb", "import os, base64\ns = os.environ['HB_PY_SECRET']\nprint(s, base64.b64encode(s.encode()).decode())")
    nb = huntbook.execute_notebook(src, tmp_path / "out.ipynb", secrets=["HB_PY_SECRET"])
    # The last base64 characters, which also depend on the padding, may stay: they
    # carry a few bits of the secret, never enough to read it.
    assert nb.cells[2].outputs[0]["text"].startswith("*** ***")
    on_disk = (tmp_path / "out.ipynb").read_text()
    assert secret not in on_disk and "***" in on_disk
    with pytest.raises(ValueError, match="holds a configured secret"):
        huntbook.execute_notebook(src, tmp_path / "bad.ipynb", parameters={"ip": secret}, secrets=["HB_PY_SECRET"])
    with pytest.raises(ValueError, match="looks like a credential"):
        huntbook.execute_notebook(src, tmp_path / "bad.ipynb", parameters={"api_key": "x"})
    assert not (tmp_path / "bad.ipynb").exists()
