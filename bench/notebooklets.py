#!/usr/bin/env python3
"""Benchmark: the notebooklets on the sample SOC dataset, and what the first one costs
after ``import huntbook``.

Run it from the repo root with the huntbook package in the venv:

    python bench/notebooklets.py [--rows 2000] [--repeats 3]

The data is the seeded sample dataset (``huntbook.write_sample_data``, seed 1, anchor
2024-06-01 12:00 UTC, --rows background rows per table plus the planted intrusion),
written to a temporary folder. The calls, each over the sample's seven days:

- ``ip_address_summary("203.0.113.66")`` (the C2 address: flows, TI, alerts);
- ``host_summary("WORKSTATION-07.contoso.local")`` (processes, process tree, rules,
  logons, flows, IoCs, TI, alerts);
- ``account_summary("carol@contoso.com")`` (sign-ins, map, Office, logons, alerts, TI);
- ``alert_triage(<the LSASS-dump alert>)`` (related alerts, TI, a host summary).

Warm figures are the best of --repeats calls in this process. The cold figures run in
a fresh process: ``import huntbook``, then the first ``ip_address_summary`` (which loads
pandas, pyarrow and the extension).

The anchor, msticnb (MSTICPy's notebooklets), is timed for its import only: its
notebooklets query Microsoft Sentinel (KQL through ``exec_query`` and Sentinel queries
such as ``SecurityAlert.list_alerts_for_ip``) and MSTICPy's LocalData has none of them,
so it cannot run on local data; the script shows the error it stops with.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

import huntbook

ANCHOR = "2024-06-01T12:00:00Z"
SPAN = {"start": "2024-05-25T12:00:00Z", "end": ANCHOR}

COLD = """
import json, sys, time
t0 = time.perf_counter()
import huntbook
t1 = time.perf_counter()
s = huntbook.notebooklets.ip_address_summary("203.0.113.66", data_paths=sys.argv[1], start=sys.argv[2], end=sys.argv[3])
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_call": t2 - t1, "findings": len(s.findings)}))
"""

MSTICNB = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import msticnb
t1 = time.perf_counter()
from msticpy.common.timespan import TimeSpan
error = ""
try:
    msticnb.init(query_provider="LocalData", providers=["tilookup", "geolitelookup"], data_paths=[sys.argv[1]])
    nb = msticnb.nblts.azsent.network.IpAddressSummary()
    nb.run(value="203.0.113.66", timespan=TimeSpan(start=sys.argv[2], end=sys.argv[3]), silent=True)
except Exception as err:
    error = f"{type(err).__name__}: {err}"
print(json.dumps({"import": t1 - t0, "error": error[:300]}))
"""


def best(repeats: int, call) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def fresh(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    nb = huntbook.notebooklets
    with tempfile.TemporaryDirectory() as folder:
        huntbook.write_sample_data(folder, rows=args.rows, seed=1, anchor=ANCHOR)
        qp = huntbook.QueryProvider("LocalData", data_paths=[folder])
        alerts = qp.SecurityAlert.list_alerts(**SPAN)
        dump = alerts[alerts["AlertName"] == "Credential dumping via comsvcs.dll MiniDump"].iloc[0]

        cold = [fresh(COLD, folder, SPAN["start"], SPAN["end"]) for _ in range(args.cold_runs)]
        print(f"rows per table: {args.rows}; cold runs: {args.cold_runs}; warm: best of {args.repeats}\n")
        print("| measure | seconds |\n|---|---|")
        for key, label in (("import", "`import huntbook`"), ("first_call", "first `ip_address_summary` after it")):
            values = sorted(c[key] for c in cold)
            print(f"| {label} | {values[len(values) // 2]:.3f} (min {values[0]:.3f}, max {values[-1]:.3f}) |")

        calls = {
            "ip_address_summary (203.0.113.66)": lambda: nb.ip_address_summary("203.0.113.66", provider=qp, **SPAN),
            "host_summary (WORKSTATION-07)": lambda: nb.host_summary("WORKSTATION-07.contoso.local", provider=qp, **SPAN),
            "account_summary (carol)": lambda: nb.account_summary("carol@contoso.com", provider=qp, **SPAN),
            "alert_triage (LSASS dump alert)": lambda: nb.alert_triage(dump, provider=qp),
        }
        print("\n| notebooklet | warm seconds | findings | highest |\n|---|---|---|---|")
        for name, call in calls.items():
            seconds, result = best(args.repeats, call)
            print(f"| {name} | {seconds:.3f} | {len(result.findings)} | {result.severity} |")

        theirs = fresh(MSTICNB, folder, SPAN["start"], SPAN["end"])
        print(f"\nmsticnb: import {theirs.get('import', float('nan')):.3f} s; "
              f"IpAddressSummary on LocalData: {theirs.get('error') or 'ran'}")


if __name__ == "__main__":
    main()
