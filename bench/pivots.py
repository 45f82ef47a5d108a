#!/usr/bin/env python3
"""Benchmark: huntbook's entities and pivot functions against MSTICPy's on the same data.

Run it from the repo root, with huntbook built into the venv and MSTICPy installed:

    .venv/bin/python bench/pivots.py [--rows 5000] [--alerts 2000]

1. A pivot with a join: ``IpAddress.util.ip_type`` on a DataFrame of distinct
   addresses, results joined back on the input (``join="left"``); MSTICPy's pivot
   after ``Pivot()`` has loaded its functions.
2. Entities from alerts: the ``Entities`` JSON of the sample dataset's alerts
   (repeated to ``--alerts`` rows) into entity objects, ``$ref`` links resolved
   (``huntbook.entities.from_alerts``, and ``from_json`` alert by alert); MSTICPy's
   ``Entity.instantiate_entity`` on each entity ``json.loads`` gives (it does not
   resolve references).
3. Entity HTML: the same entities as HTML (huntbook's cards, MSTICPy's ``to_html``).

Best of three runs each; the results are checked equal (same types per row for the
entities, same ``result`` column for the pivot) before timing is reported.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings


def best(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=2000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import pandas as pd

    import huntbook
    from msticpy.datamodel import entities as mp_entities
    from msticpy.init.pivot import Pivot

    Pivot().reload_pivots()

    # 1. ip_type with a join, distinct addresses (private and public mixed).
    ips = [f"{10 if i % 2 else 81}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" for i in range(args.rows)]
    frame = pd.DataFrame({"IP": ips, "n": range(args.rows)})
    ours_t, ours = best(lambda: huntbook.IpAddress.util.ip_type(frame, column="IP", join="left"))
    theirs_t, theirs = best(lambda: mp_entities.IpAddress.util.ip_type(data=frame, column="IP", join="left"))
    assert ours["result"].tolist() == theirs.sort_values("n")["result"].tolist()
    print(f"ip_type pivot, join left, {args.rows} rows: MSTICPy {theirs_t:.3f} s, "
          f"huntbook {ours_t:.3f} s, {theirs_t / ours_t:.0f}x")

    # 2. Entities of alerts.
    with tempfile.TemporaryDirectory() as folder:
        huntbook.write_sample_data(folder, rows=2000, seed=1, anchor="2024-06-01T12:00:00Z")
        qp = huntbook.QueryProvider("LocalData", data_paths=[folder])
        alerts = qp.SecurityAlert.list_alerts(start="2024-05-20T00:00:00Z", end="2024-06-01T12:00:00Z")
    texts = (alerts["Entities"].tolist() * (args.alerts // len(alerts) + 1))[: args.alerts]
    column = pd.DataFrame({"Entities": texts})
    ours_t, ours = best(lambda: huntbook.entities.from_alerts(column))
    one_t, _ = best(lambda: [huntbook.entities.from_json(t) for t in texts])
    theirs_t, theirs = best(lambda: [[mp_entities.Entity.instantiate_entity(e) for e in json.loads(t)] for t in texts])
    assert [[type(e).__name__ for e in row] for row in ours] == [[type(e).__name__ for e in row] for row in theirs]
    count = sum(len(row) for row in ours)
    print(f"entities of {args.alerts} alerts ({count} entities): MSTICPy {theirs_t:.3f} s, "
          f"huntbook {ours_t:.3f} s, {theirs_t / ours_t:.1f}x (one alert at a time: {one_t:.3f} s)")

    # 3. Their HTML.
    flat_ours = [e for row in ours for e in row]
    flat_theirs = [e for row in theirs for e in row]
    ours_t, _ = best(lambda: [e._repr_html_() for e in flat_ours])
    theirs_t, _ = best(lambda: [e.to_html() for e in flat_theirs])
    print(f"HTML of {count} entities: MSTICPy {theirs_t:.3f} s, huntbook {ours_t:.3f} s, "
          f"{theirs_t / ours_t:.1f}x")


if __name__ == "__main__":
    main()
