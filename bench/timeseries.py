#!/usr/bin/env python3
"""Benchmark: STL time-series anomalies, huntbook.timeseries_anomalies against
MSTICPy's timeseries_anomalies_stl (statsmodels' STL) on the same series.

Run it from the repo root with the huntbook package and msticpy installed:

    python bench/timeseries.py [--points 100000] [--repeats 3]

The series is hourly bytes with a daily and a weekly cycle, a trend, seeded noise and
planted spikes; both tools get the same DataFrame (time column + value column) and
return the scored frame. The results are checked equal (scores to rounding) before the
times are printed. Figures are the best of --repeats runs.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def series(points: int) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    t = np.arange(points)
    values = (
        20_000
        + 8_000 * np.sin(2 * np.pi * t / 24)
        + 1_500 * np.sin(2 * np.pi * t / 168)
        + 0.05 * t
        + rng.normal(0, 600, points)
    )
    values[rng.choice(points, points // 500, replace=False)] += 40_000
    return pd.DataFrame(
        {
            "TimeGenerated": pd.date_range("2015-01-01", periods=points, freq="h"),
            "TotalBytesSent": values.round(),
        }
    )


def best(repeats, run):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from msticpy.analysis.timeseries import timeseries_anomalies_stl

    import huntbook

    data = series(args.points)
    kwargs = dict(time_column="TimeGenerated", period=24, seasonal=7, score_threshold=3.0)
    anchor, theirs = best(
        args.repeats, lambda: timeseries_anomalies_stl(data, data_column="TotalBytesSent", **kwargs)
    )
    ours_time, ours = best(
        args.repeats, lambda: huntbook.timeseries_anomalies(data, value_column="TotalBytesSent", **kwargs)
    )
    pd.testing.assert_frame_equal(ours.drop(columns="score"), theirs.drop(columns="score"))
    np.testing.assert_allclose(ours["score"], theirs["score"], rtol=1e-9)
    flagged = int((ours["anomalies"] != 0).sum())
    print(f"{args.points:,} hourly points, period 24, seasonal 7 ({flagged} anomalies, same in both)")
    print("| points | MSTICPy timeseries_anomalies_stl | huntbook.timeseries_anomalies | speed-up |")
    print("|---|---|---|---|")
    print(f"| {args.points:,} | {anchor * 1000:.1f} ms | {ours_time * 1000:.1f} ms | {anchor / ours_time:.1f}x |")


if __name__ == "__main__":
    main()
