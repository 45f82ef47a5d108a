#!/usr/bin/env python3
"""Benchmark: a time-filtered LocalData query, huntbook against MSTICPy's provider.

Run it from the repo root, with MSTICPy installed in the venv and huntbook-data's
examples built (`cargo build -p huntbook-data --examples`):

    .venv/bin/python bench/local_query.py [--rows 1000000] [--repeats 3] [--markdown]

The data is the sample dataset with N rows per table (`examples/sample_data.rs`,
seeded, fixed anchor), so both tools read the same 4688 process events. The query is
`WindowsSecurity.list_host_processes` for one host over the last day of the seven the
data covers:

- huntbook: `examples/local_query.rs` in a fresh process, end to end (process start,
  indexing the data folder, loading the query library, reading processes.parquet with
  the time range and host pushed into the Parquet reader, writing the result);
- MSTICPy: its LocalData driver reads only CSV and pickle files and ignores the
  parameters, so processes.parquet is first converted (not timed) to a pickle, the
  fastest format it reads; a query file maps the same query name to it; the timed
  part is `qp.WindowsSecurity.list_host_processes(start=, end=, host_name=)` plus the
  pandas filter that applies the time range and host, plus writing the result to
  Parquet. Both the whole fresh Python process (imports included) and the in-process
  part alone are reported.

Each figure is the median of --repeats runs. The target (issue 4) is huntbook at least
10x faster end to end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache/huntbook/target"))
ANCHOR = "2024-06-01T12:00:00Z"
HOST = "WORKSTATION-07.contoso.local"
START = "2024-05-31T12:00:00Z"
END = ANCHOR

QUERY_FILE = """
metadata:
  version: 1
  description: The benchmark's query, on a pickle of the same table
  data_environments: [LocalData]
  data_families: [WindowsSecurity]
sources:
  list_host_processes:
    description: Processes created on a host
    args:
      query: processes.pkl
    parameters:
      host_name: {description: Host, type: str}
      start: {description: Start, type: datetime}
      end: {description: End, type: datetime}
"""

MSTICPY_RUN = r"""
import sys, time, json
t0 = time.perf_counter()
import pandas as pd
from msticpy.data import QueryProvider
data, queries, out, start, end, host = sys.argv[1:7]
t1 = time.perf_counter()
qp = QueryProvider("LocalData", data_paths=[data], query_paths=[queries])
qp.connect()
start, end = pd.Timestamp(start), pd.Timestamp(end)
df = qp.WindowsSecurity.list_host_processes(start=start, end=end, host_name=host)
df = df[(df["TimeGenerated"] >= start) & (df["TimeGenerated"] <= end)
        & (df["Computer"].str.lower() == host.lower())]
df.to_parquet(out)
t2 = time.perf_counter()
print(json.dumps({"rows": len(df), "in_process": t2 - t1, "imports": t1 - t0}))
"""


def example(name: str) -> pathlib.Path:
    for profile in ("release", "debug"):
        path = TARGET / profile / "examples" / name
        if path.exists():
            return path
    sys.exit(f"no {name} example under {TARGET}; run `cargo build -p huntbook-data --examples`")


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    huntbook = example("local_query")
    sample_data = example("sample_data")
    import pandas as pd
    import pyarrow.parquet as pq

    results = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="huntbook-bench-") as tmp:
            tmp = pathlib.Path(tmp)
            data = tmp / "data"
            timed([str(sample_data), str(data), str(rows), ANCHOR])
            pickles = tmp / "pickles"
            pickles.mkdir()
            pq.read_table(data / "processes.parquet").to_pandas().to_pickle(pickles / "processes.pkl")
            queries = tmp / "queries"
            queries.mkdir()
            (queries / "bench.yaml").write_text(QUERY_FILE)
            table_rows = pq.ParquetFile(data / "processes.parquet").metadata.num_rows

            hb_times, hb_rows = [], None
            for i in range(args.repeats):
                out = tmp / f"hb{i}.parquet"
                elapsed, _ = timed([str(huntbook), str(data), START, END, HOST, str(out)])
                hb_times.append(elapsed)
                hb_rows = pq.ParquetFile(out).metadata.num_rows

            mp_total, mp_inner, mp_rows = [], [], None
            for i in range(args.repeats):
                out = tmp / f"mp{i}.parquet"
                elapsed, stdout = timed([
                    sys.executable, "-c", MSTICPY_RUN, str(pickles), str(queries), str(out), START, END, HOST,
                ])
                report = json.loads(stdout.strip().splitlines()[-1])
                mp_total.append(elapsed)
                mp_inner.append(report["in_process"])
                mp_rows = report["rows"]

            if hb_rows != mp_rows:
                sys.exit(f"row counts differ: huntbook {hb_rows}, MSTICPy {mp_rows}")
            results.append({
                "table_rows": table_rows,
                "result_rows": hb_rows,
                "huntbook": statistics.median(hb_times),
                "msticpy_total": statistics.median(mp_total),
                "msticpy_in_process": statistics.median(mp_inner),
            })

    for r in results:
        r["ratio_total"] = r["msticpy_total"] / r["huntbook"]
        r["ratio_in_process"] = r["msticpy_in_process"] / r["huntbook"]
    if args.markdown:
        print(f"Measured {dt.date.today().isoformat()}, {huntbook.parent.parent.name} profile, "
              f"median of {args.repeats}.\n")
        print("| table rows | result rows | huntbook | MSTICPy process | MSTICPy in-process | ratio (process) | ratio (in-process) |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r['table_rows']:,} | {r['result_rows']:,} | {r['huntbook']:.3f} s | "
                  f"{r['msticpy_total']:.3f} s | {r['msticpy_in_process']:.3f} s | "
                  f"{r['ratio_total']:.1f}x | {r['ratio_in_process']:.1f}x |")
    else:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
