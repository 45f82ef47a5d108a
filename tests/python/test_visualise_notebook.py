"""The example notebook examples/visualise.ipynb, run unattended by `huntbook run` on a
real kernel, exported by `huntbook export`, and its report opened in Chromium: every
chart in the report draws, with no error and no request."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "visualise.ipynb"


def chart_cells(notebook: dict) -> int:
    return sum(
        1
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if 'class="hb-chart"' in "".join(output.get("data", {}).get("text/html", ""))
    )


def test_the_example_runs_exports_and_every_chart_draws(huntbook_bin, chromium, tmp_path):
    out = tmp_path / "visualise.ipynb"
    report = tmp_path / "visualise.html"
    run = subprocess.run(
        [str(huntbook_bin), "run", str(NOTEBOOK), str(out), "-p", "data_dir", str(tmp_path / "data"),
         "--cwd", str(tmp_path), "--python", os.environ.get("HUNTBOOK_TEST_PYTHON", sys.executable), "--no-progress-bar"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    executed = json.loads(out.read_text())
    charts = chart_cells(executed)
    drawing = (".hb.", "huntbook.plot.", "tree.plot(")
    source_charts = sum(
        1 for c in executed["cells"] if c["cell_type"] == "code" and any(d in "".join(c["source"]) for d in drawing)
    )
    assert charts == source_charts and charts >= 9, (charts, source_charts)

    export = subprocess.run([str(huntbook_bin), "export", str(out), "--no-input", "-o", str(report)], capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    page = chromium.open(report, width=1000, height=900)
    page.assert_clean()
    marks = page.eval("() => Array.from(document.querySelectorAll('.hb-chart')).map(c => +c.dataset.marks)")
    assert len(marks) == charts and all(m > 0 for m in marks), marks
    page.screenshot("visualise_report")
