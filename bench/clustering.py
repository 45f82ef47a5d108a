#!/usr/bin/env python3
"""Benchmark: process features, DBSCAN event clustering and isolation-forest outliers,
huntbook against MSTICPy (and scikit-learn under it) on the same 100,000 process events.

Run it from the repo root with the huntbook package and msticpy installed in the venv:

    python bench/clustering.py [--rows 100000] [--repeats 3]

The events are `bench/transform_data.py`'s deterministic Windows 4688/4689 table. For
each step both tools take the same DataFrame and return a DataFrame:

- features: `add_process_features(events)`;
- cluster: `dbcluster_events(features, cluster_columns=COLUMNS, ...)` against
  `huntbook.cluster_events(features, COLUMNS, ...)`, MSTICPy's defaults (eps 0.01,
  min_samples 2) on the features MSTICPy computed; the labels are checked equal;
- outliers: MSTICPy's `identify_outliers(x, x)` against `huntbook.identify_outliers`,
  and scikit-learn's `IsolationForest(contamination=0.05).fit(x).predict(x)` against
  `huntbook.outliers(frame, ...)`, on three feature columns.

Figures are the best of --repeats runs (MSTICPy's slow steps run once).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import transform_data  # noqa: E402

CLUSTER_COLUMNS = ["commandlineTokensFull", "commandlineLogLen", "pathLogScore", "isSystemSession"]
OUTLIER_COLUMNS = ["commandlineLen", "commandlineTokensFull", "pathScore"]


def best(repeats, run):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def report(step, ours, theirs, rows):
    print(f"{step:<28} huntbook {ours:8.3f} s   msticpy {theirs:8.3f} s   ratio {theirs / ours:7.1f}x   ({rows} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    import huntbook
    from msticpy.analysis.eventcluster import add_process_features, dbcluster_events
    from msticpy.analysis.outliers import identify_outliers
    from sklearn.ensemble import IsolationForest

    events = transform_data.process_events(args.rows)
    huntbook.add_process_features(events.head(100))  # the first call sets up the thread pool

    ours, features = best(args.repeats, lambda: huntbook.add_process_features(events))
    theirs, msticpy_features = best(1, lambda: add_process_features(events))
    report("add_process_features", ours, theirs, len(events))

    cluster = dict(max_distance=0.01, min_samples=2, time_column="TimeGenerated")
    ours, summary = best(args.repeats, lambda: huntbook.cluster_events(msticpy_features, CLUSTER_COLUMNS, **cluster))
    theirs, (their_summary, model, _) = best(
        1,
        lambda: dbcluster_events(
            msticpy_features, cluster_columns=CLUSTER_COLUMNS, time_column="TimeGenerated",
            max_cluster_distance=0.01, min_cluster_samples=2,
        ),
    )
    labels = huntbook.cluster_labels(msticpy_features, CLUSTER_COLUMNS)
    assert np.array_equal(labels.to_numpy(), model.labels_), "labels differ from scikit-learn's"
    assert len(summary) == len(their_summary)
    report("cluster_events", ours, theirs, len(events))
    print(f"{'':<28} {model.labels_.max() + 1} clusters, {(model.labels_ == -1).sum()} noise rows")

    x = msticpy_features[OUTLIER_COLUMNS].to_numpy(dtype=float)
    ours, _ = best(args.repeats, lambda: huntbook.identify_outliers(x, x))
    theirs, _ = best(1, lambda: identify_outliers(x, x))
    report("identify_outliers", ours, theirs, len(x))
    frame = msticpy_features[OUTLIER_COLUMNS]
    ours, flagged = best(args.repeats, lambda: huntbook.outliers(frame, OUTLIER_COLUMNS, seed=0))
    theirs, predicted = best(
        1, lambda: IsolationForest(contamination=0.05, random_state=0).fit(x).predict(x)
    )
    report("outliers vs IsolationForest", ours, theirs, len(x))
    both = (flagged["IsOutlier"].to_numpy() & (predicted == -1)).sum()
    print(f"{'':<28} outliers: huntbook {flagged['IsOutlier'].sum()}, sklearn {(predicted == -1).sum()}, both {both}")


if __name__ == "__main__":
    main()
