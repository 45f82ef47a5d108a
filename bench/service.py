#!/usr/bin/env python3
"""Benchmark: `huntbook serve` — trigger-to-first-cell latency, throughput against
papermill in a loop, the latency of status calls under load, and the larger sizes
(a burst of runs, a folder of dropped files) that are too slow for CI.

Run it from the repo root after `scripts/setup --test` (papermill lives in the test venv):

    .venv/bin/python bench/service.py [--latency-runs 20] [--jobs 40] [--rate 1000] [--seconds 5]
                                      [--runs 1000] [--drops 500]

It starts `huntbook serve` on a temporary configuration (SQLite store, two workers, a
trivial notebook, a watched folder) and measures:
- trigger to first cell: from sending `POST /api/v1/runs` to the start time the engine
  records on the notebook's first cell, one run at a time with the spare kernel warm
  (median, p90, max);
- throughput: --jobs runs submitted at once, wall time until all succeeded, against
  papermill executing the same notebook --jobs times in a loop in one process;
- status calls: `GET /api/v1/runs/{id}` sent at --rate per second for --seconds over
  keep-alive connections by a Rust load generator (the `status_load` example of
  huntbook-runner, built here), open loop (a request waiting for a free connection
  counts its wait): p50, p99 and max latency, and the rate reached;
- --runs runs submitted in one burst, and --drops parameter files dropped at once into
  the watched folder: wall time until every one succeeded, and the check that each ran
  exactly once (0 skips either).
It prints a Markdown table ready for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import pathlib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV = pathlib.Path(sys.executable).parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache/huntbook/target"))
HUNTBOOK = TARGET / "debug" / "huntbook"


def make_notebook(folder: pathlib.Path) -> pathlib.Path:
    nb = new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell("n = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell("x = n + 1\nprint(x)")]
    path = folder / "trivial.ipynb"
    nbformat.write(nb, path)
    return path


class Service:
    """`huntbook serve` on a fresh configuration in `folder`, and a token for it."""

    def __init__(self, folder: pathlib.Path) -> None:
        make_notebook(folder)
        self.config = folder / "huntbook.yaml"
        self.config.write_text(
            "Service:\n  store: sqlite:jobs.db\n  listen: 127.0.0.1:0\n  workers: 2\n  queue_capacity: 10000\n"
            "  outputs:\n    location: outputs\n    html: never\n"
            "Notebooks:\n  trivial:\n    path: trivial.ipynb\n    watch: inbox\n"
        )
        self.process = subprocess.Popen(
            [str(HUNTBOOK), "serve", "--config", str(self.config), "--python", str(VENV)],
            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("listening on http://"):
            self.process.kill()
            sys.exit(f"huntbook serve did not start: {line!r}")
        self.host, port = line.strip().removeprefix("listening on http://").rsplit(":", 1)
        self.port = int(port)
        made = subprocess.run(
            [str(HUNTBOOK), "token", "create", "--scope", "run", "--config", str(self.config)],
            cwd=folder, capture_output=True, text=True, check=True,
        )
        self.token = made.stdout.strip()
        self.connection = http.client.HTTPConnection(self.host, self.port)

    def call(self, method: str, path: str, body: dict | None = None):
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None if body is None else json.dumps(body)
        if data is not None:
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=data, headers=headers)
        answer = self.connection.getresponse()
        payload = answer.read()
        if answer.status >= 400:
            sys.exit(f"{method} {path}: {answer.status} {payload[:300]!r}")
        return json.loads(payload) if answer.getheader("Content-Type", "").startswith("application/json") else payload

    def submit(self, n: int) -> str:
        return self.call("POST", "/api/v1/runs", {"notebook": "trivial", "parameters": {"n": n}})["id"]

    def wait(self, job: str) -> dict:
        while True:
            detail = self.call("GET", f"/api/v1/runs/{job}")
            if detail["job"]["state"] not in ("queued", "running"):
                if detail["job"]["state"] != "succeeded":
                    sys.exit(f"job {job} ended {detail['job']['state']}: {detail['job']['reason']}")
                return detail
            time.sleep(0.01)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def first_cell_start(notebook: bytes) -> dt.datetime:
    cells = json.loads(notebook)["cells"]
    starts = [c["metadata"]["papermill"]["start_time"] for c in cells if c["metadata"].get("papermill", {}).get("start_time")]
    return min(dt.datetime.fromisoformat(s.replace("Z", "+00:00")) for s in starts)


def latency(service: Service, runs: int) -> list[float]:
    took = []
    for n in range(runs):
        time.sleep(2.0)  # the pool's replacement kernel is up again
        sent = dt.datetime.now(dt.timezone.utc)
        job = service.submit(n)
        detail = service.wait(job)
        notebook = service.call("GET", f"/api/v1/runs/{detail['runs'][-1]['id']}/output.ipynb")
        took.append((first_cell_start(notebook) - sent).total_seconds())
    return took


def throughput(service: Service, jobs: int) -> float:
    started = time.perf_counter()
    ids = [service.submit(1000 + n) for n in range(jobs)]
    for job in ids:
        service.wait(job)
    return time.perf_counter() - started


def papermill_loop(folder: pathlib.Path, jobs: int) -> float:
    code = (
        "import papermill, sys, time\n"
        "src, out, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
        "started = time.perf_counter()\n"
        "for n in range(jobs):\n"
        "    papermill.execute_notebook(src, f'{out}/pm_{n}.ipynb', parameters={'n': n}, kernel_name='python3', progress_bar=False)\n"
        "print(time.perf_counter() - started)\n"
    )
    out = folder / "papermill"
    out.mkdir()
    done = subprocess.run([sys.executable, "-c", code, str(folder / "trivial.ipynb"), str(out), str(jobs)],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def status_load(service: Service, job: str, rate: int, seconds: float) -> tuple[list[float], float]:
    """Latencies (s) of GET /api/v1/runs/{job} at `rate`/s, and the rate reached."""
    built = subprocess.run(
        ["cargo", "build", "-q", "-p", "huntbook-runner", "--example", "status_load"],
        cwd=ROOT, env={**os.environ, "CARGO_TARGET_DIR": str(TARGET)},
    )
    if built.returncode != 0:
        sys.exit("cannot build the status_load example")
    done = subprocess.run(
        [str(TARGET / "debug" / "examples" / "status_load"), f"{service.host}:{service.port}",
         f"/api/v1/runs/{job}", service.token, str(rate), str(seconds)],
        capture_output=True, text=True, check=True,
    )
    answer = json.loads(done.stdout)
    return [ms / 1000 for ms in answer["latencies_ms"]], answer["sent"] / answer["seconds"]


def succeeded_once(folder: pathlib.Path, first_n: int, count: int) -> None:
    """Checks that the `count` jobs with n >= first_n each ran exactly once and succeeded."""
    with sqlite3.connect(folder / "jobs.db") as db:
        rows = db.execute(
            "SELECT json_extract(j.parameters, '$.n'), j.state, COUNT(r.id) FROM jobs j "
            "LEFT JOIN runs r ON r.job_id = j.id WHERE json_extract(j.parameters, '$.n') >= ? "
            "GROUP BY j.id", (first_n,),
        ).fetchall()
    ns = sorted(n for n, _, _ in rows)
    if ns != list(range(first_n, first_n + count)):
        sys.exit(f"expected one job per n in {first_n}..{first_n + count}, got {len(ns)}")
    bad = [(n, state, runs) for n, state, runs in rows if state != "succeeded" or runs != 1]
    if bad:
        sys.exit(f"{len(bad)} jobs did not succeed in exactly one run, e.g. {bad[:3]}")


def burst(service: Service, folder: pathlib.Path, first_n: int, count: int) -> float:
    started = time.perf_counter()
    ids = [service.submit(first_n + n) for n in range(count)]
    for job in ids:
        service.wait(job)
    wall = time.perf_counter() - started
    succeeded_once(folder, first_n, count)
    return wall


def drops(service: Service, folder: pathlib.Path, first_n: int, count: int) -> float:
    inbox = folder / "inbox"
    staging = folder / "staging"
    staging.mkdir()
    for n in range(count):
        (staging / f"drop_{n:04}.json").write_text(json.dumps({"n": first_n + n}))
    started = time.perf_counter()
    for path in sorted(staging.iterdir()):
        path.rename(inbox / path.name)  # whole files appear at once, as a mover would
    while len(list((inbox / "done").glob("*.json"))) < count:
        if any((inbox / "failed").glob("*")):
            sys.exit(f"a dropped file failed: {sorted((inbox / 'failed').iterdir())[:3]}")
        time.sleep(0.05)
    while True:  # every dropped file is a job; wait until they all ended
        with sqlite3.connect(folder / "jobs.db") as db:
            left = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running') "
                "AND json_extract(parameters, '$.n') >= ?", (first_n,),
            ).fetchone()[0]
        if left == 0:
            break
        time.sleep(0.05)
    wall = time.perf_counter() - started
    succeeded_once(folder, first_n, count)
    return wall


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-runs", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--runs", type=int, default=1000, help="a burst of this many runs (0: skip)")
    parser.add_argument("--drops", type=int, default=500, help="this many dropped files (0: skip)")
    args = parser.parse_args()
    if not HUNTBOOK.exists():
        sys.exit(f"{HUNTBOOK} is missing: run scripts/setup first")
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        service = Service(folder)
        try:
            first = latency(service, args.latency_runs)
            wall = throughput(service, args.jobs)
            job = service.submit(0)
            service.wait(job)
            latencies, reached = status_load(service, job, args.rate, args.seconds)
            big = burst(service, folder, 100_000, args.runs) if args.runs else None
            dropped = drops(service, folder, 200_000, args.drops) if args.drops else None
        finally:
            service.stop()
        papermill = papermill_loop(folder, args.jobs)
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    print(f"| measure | huntbook serve | papermill | ratio |")
    print(f"|---|---|---|---|")
    print(f"| trigger to first cell, warm pool ({args.latency_runs} runs): median / p90 / max | "
          f"{ms(statistics.median(first))} / {ms(percentile(first, 90))} / {ms(max(first))} | | |")
    print(f"| {args.jobs} trivial notebooks, wall time | {wall:.1f} s ({args.jobs / wall:.2f}/s) | "
          f"{papermill:.1f} s ({args.jobs / papermill:.2f}/s) | {papermill / wall:.1f}x |")
    print(f"| status calls at {args.rate}/s for {args.seconds:g} s (reached {reached:.0f}/s): p50 / p99 / max | "
          f"{ms(percentile(latencies, 50))} / {ms(percentile(latencies, 99))} / {ms(max(latencies))} | | |")
    if big is not None:
        print(f"| {args.runs} runs in one burst, each once | {big:.1f} s ({args.runs / big:.2f}/s) | | |")
    if dropped is not None:
        print(f"| {args.drops} dropped files, each once | {dropped:.1f} s ({args.drops / dropped:.2f}/s) | | |")


if __name__ == "__main__":
    main()
