#!/usr/bin/env python3
"""Benchmark: `huntbook run` against `papermill` on the same 3-cell parameterised notebook.

Run it from the repo root after `scripts/setup --test` (papermill lives in the test venv):

    .venv/bin/python bench/run_notebooks.py [--runs 10] [--batch 20] [--parallel 4]

It measures, for each tool, in the same venv and on the same ipykernel:
- cold runs: each run a fresh process and a fresh kernel (median, min, max of --runs);
- --batch runs one after another, and the same batch --parallel at a time (wall time);
- huntbook's own overhead: wall time minus the kernel's start, execution and stop, as
  huntbook reports them with --log-level DEBUG (median).
It prints a Markdown table with the ratios, ready for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV_BIN = pathlib.Path(sys.executable).parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache/huntbook/target"))
HUNTBOOK = TARGET / "debug" / "huntbook"


def make_notebook(folder: pathlib.Path) -> pathlib.Path:
    nb = new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('ip_address = "10.0.0.1"\nlimit = 10')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        new_code_cell("import ipaddress\nip = ipaddress.ip_address(ip_address)\nscore = sum(range(limit))"),
        new_code_cell("print(ip, ip.is_private, score)"),
    ]
    path = folder / "bench.ipynb"
    nbformat.write(nb, path)
    return path


def huntbook_cmd(src: pathlib.Path, out: pathlib.Path, debug: bool = False) -> list[str]:
    cmd = [str(HUNTBOOK), "run", str(src), str(out), "-p", "ip_address", "192.0.2.7", "-p", "limit", "1000",
           "--python", sys.executable, "--no-progress-bar"]
    return cmd + (["--log-level", "DEBUG"] if debug else ["--log-level", "WARNING"])


def papermill_cmd(src: pathlib.Path, out: pathlib.Path) -> list[str]:
    return [str(VENV_BIN / "papermill"), str(src), str(out), "-p", "ip_address", "192.0.2.7", "-p", "limit", "1000",
            "-k", "python3", "--no-progress-bar", "--log-level", "WARNING"]


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark run failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return took, proc.stderr


def cold(make_cmd, folder: pathlib.Path, runs: int) -> list[float]:
    return [timed(make_cmd(folder / f"cold_{i}.ipynb"))[0] for i in range(runs)]


def batch(make_cmd, folder: pathlib.Path, count: int, parallel: int) -> float:
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        list(pool.map(lambda i: timed(make_cmd(folder / f"batch_{parallel}_{i}.ipynb")), range(count)))
    return time.perf_counter() - start


def overhead(src: pathlib.Path, folder: pathlib.Path, runs: int) -> list[float]:
    """Wall time minus kernel start, execution and stop, as huntbook reports them."""
    result = []
    for i in range(runs):
        wall, stderr = timed(huntbook_cmd(src, folder / f"overhead_{i}.ipynb", debug=True))
        phases = {m[0]: float(m[1]) / 1000 for m in re.findall(r"(\w+) took ([\d.]+) ms", stderr)}
        missing = {"kernel_start", "execute", "kernel_stop"} - phases.keys()
        if missing:
            sys.exit(f"huntbook did not report {missing}; stderr was:\n{stderr}")
        result.append(wall - phases["kernel_start"] - phases["execute"] - phases["kernel_stop"])
    return result


def fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} s (min {min(xs):.3f}, max {max(xs):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="cold runs per tool (default 10)")
    parser.add_argument("--batch", type=int, default=20, help="runs in the sequential and parallel batches (default 20)")
    parser.add_argument("--parallel", type=int, default=4, help="runs at a time in the parallel batch (default 4)")
    args = parser.parse_args()
    if not HUNTBOOK.exists():
        sys.exit(f"{HUNTBOOK} is missing: run scripts/setup first")
    if not (VENV_BIN / "papermill").exists():
        sys.exit("papermill is not installed in this venv: run scripts/setup --test first")

    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        src = make_notebook(folder)
        hb = lambda out: huntbook_cmd(src, out)
        pm = lambda out: papermill_cmd(src, out)
        timed(hb(folder / "warm_hb.ipynb"))  # page caches warm for both tools alike
        timed(pm(folder / "warm_pm.ipynb"))
        rows = []
        hb_cold, pm_cold = cold(hb, folder, args.runs), cold(pm, folder, args.runs)
        rows.append((f"cold run, median of {args.runs}", hb_cold, pm_cold))
        hb_seq, pm_seq = batch(hb, folder, args.batch, 1), batch(pm, folder, args.batch, 1)
        rows.append((f"{args.batch} runs sequentially", [hb_seq], [pm_seq]))
        hb_par, pm_par = batch(hb, folder, args.batch, args.parallel), batch(pm, folder, args.batch, args.parallel)
        rows.append((f"{args.batch} runs, {args.parallel} at a time", [hb_par], [pm_par]))
        own = overhead(src, folder, args.runs)

    print(f"3-cell parameterised notebook, ipykernel, {os.cpu_count()} cores\n")
    print("| measure | huntbook run | papermill | huntbook / papermill |")
    print("|---|---|---|---|")
    for name, h, p in rows:
        h_text = fmt(h) if len(h) > 1 else f"{h[0]:.2f} s"
        p_text = fmt(p) if len(p) > 1 else f"{p[0]:.2f} s"
        print(f"| {name} | {h_text} | {p_text} | {statistics.median(h) / statistics.median(p):.2f}x |")
    print(f"\nhuntbook's own overhead (wall - kernel start - execution - kernel stop): "
          f"median {statistics.median(own) * 1000:.1f} ms (min {min(own) * 1000:.1f}, max {max(own) * 1000:.1f})")


if __name__ == "__main__":
    main()
