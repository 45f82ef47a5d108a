#!/usr/bin/env python3
"""Benchmark: interaction matrix and map charts, huntbook.plot against MSTICPy 3.0.2.

Run it from the repo root with the huntbook package (dev build) and msticpy installed:

    python bench/plot_matrix_map.py [--flows 100000] [--points 10000] [--repeats 3]

On the same deterministic data, each tool goes from a DataFrame to the HTML of the
chart, written to a file:

- matrix (100,000 flows, 500 sources x 40 destination ports): MSTICPy's `plot_matrix`
  (Bokeh, hide=True) then `bokeh.embed.file_html` with Bokeh's JavaScript inline (a
  self-contained file, like huntbook's; the size with the CDN is shown too), against
  `huntbook.plot.matrix(...).save(...)`; sized by count, by the sum of a column and by
  a distinct count;
- map (10,000 points round 30 cities, 4 layers): MSTICPy's `plot_map` (folium,
  Leaflet from a CDN, one marker per point in a marker cluster per layer) then the
  folium page rendered, against `huntbook.plot.map(...).save(...)` (world outline
  inside, clustering done by the page).

Figures are the best of --repeats runs: generation time, file size, and the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import pathlib
import tempfile
import time

import numpy as np
import pandas as pd


def flows(rows: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sources = np.array([f"10.{i // 250}.{i % 250}.{1 + i % 7}" for i in range(500)])
    ports = np.array([str(p) for p in (22, 25, 53, 80, 88, 123, 135, 139, 389, 443, 445, 636, 993, 1433, 3389, 5985)]
                     + [str(8000 + k) for k in range(24)])
    weights = 1 / np.arange(1, len(ports) + 1)
    return pd.DataFrame(
        {
            "SourceIP": sources[rng.zipf(1.3, rows) % len(sources)],
            "DestinationPort": ports[rng.choice(len(ports), rows, p=weights / weights.sum())],
            "DestinationIP": [f"52.{a}.{b}.1" for a, b in rng.integers(0, 60, (rows, 2))],
            "SentBytes": rng.integers(40, 2_000_000, rows),
        }
    )


def points(rows: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cities = np.column_stack([rng.uniform(-45, 65, 30), rng.uniform(-150, 160, 30)])
    pick = rng.integers(0, len(cities), rows)
    return pd.DataFrame(
        {
            "Latitude": np.clip(cities[pick, 0] + rng.normal(0, 2, rows), -85, 85),
            "Longitude": np.clip(cities[pick, 1] + rng.normal(0, 2, rows), -180, 180),
            "Result": np.array(["success", "failure", "mfa", "blocked"])[rng.integers(0, 4, rows)],
            "User": [f"user{i % 300}@contoso.com" for i in range(rows)],
        }
    )


def best(repeats, run):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def quiet(run):
    """MSTICPy's chart functions print notebook set-up output; keep the table clean."""
    def wrapped():
        with contextlib.redirect_stdout(io.StringIO()):
            return run()
    return wrapped


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from bokeh.embed import file_html
    from bokeh.resources import CDN, INLINE
    from msticpy.vis.foliummap import plot_map
    from msticpy.vis.matrix_plot import plot_matrix

    import huntbook

    out = pathlib.Path(tempfile.mkdtemp(prefix="bench-charts-"))
    size = lambda p: os.path.getsize(p) / 1e6  # noqa: E731

    data = flows(args.flows)
    print(f"Matrix of {len(data):,} flows")
    print("| sized by | cells | MSTICPy (Bokeh) | huntbook | speed-up | file: Bokeh inline (CDN) | file: huntbook |")
    print("|---|---|---|---|---|---|---|")
    for label, kwargs in [
        ("count", {}),
        ("sum of SentBytes", {"value_col": "SentBytes"}),
        ("distinct DestinationIP", {"value_col": "DestinationIP", "dist_count": True}),
    ]:
        def anchor():
            plot = plot_matrix(data, x="SourceIP", y="DestinationPort", hide=True, **kwargs)
            html = file_html(plot, INLINE, "matrix")
            (out / "bokeh.html").write_text(html, encoding="utf-8")
            return plot

        theirs_t, plot = best(args.repeats, quiet(anchor))
        (out / "bokeh-cdn.html").write_text(file_html(plot, CDN, "matrix"), encoding="utf-8")

        def ours():
            chart = huntbook.plot.matrix(data, x="SourceIP", y="DestinationPort", **kwargs)
            chart.save(out / "huntbook-matrix.html")
            return chart

        ours_t, chart = best(args.repeats, ours)
        cells = len(chart.spec["x"])
        assert cells == len(plot.renderers[0].data_source.data["size"])
        print(
            f"| {label} | {cells:,} | {theirs_t:.3f} s | {ours_t:.3f} s | {theirs_t / ours_t:.0f}x "
            f"| {size(out / 'bokeh.html'):.2f} MB ({size(out / 'bokeh-cdn.html'):.2f} MB) "
            f"| {size(out / 'huntbook-matrix.html'):.2f} MB |"
        )

    located = points(args.points)
    print(f"\nMap of {len(located):,} points in 4 layers")
    print("| | MSTICPy (folium) | huntbook | speed-up | file: folium (CDN scripts) | file: huntbook (offline) |")
    print("|---|---|---|---|---|---|")

    def folium_map():
        fmap = plot_map(located, lat_column="Latitude", long_column="Longitude", layer_column="Result",
                        tooltip_columns=["User"], popup_columns=["User", "Result"])
        fmap.folium_map.save(str(out / "folium.html"))
        return fmap

    theirs_t, _ = best(args.repeats, quiet(folium_map))

    def ours_map():
        chart = huntbook.plot.map(located, layer_column="Result", tooltip_columns=["User"],
                                  popup_columns=["User", "Result"])
        chart.save(out / "huntbook-map.html")
        return chart

    ours_t, chart = best(args.repeats, ours_map)
    assert len(chart.spec["x"]) == len(located)
    print(
        f"| generation | {theirs_t:.3f} s | {ours_t:.3f} s | {theirs_t / ours_t:.0f}x "
        f"| {size(out / 'folium.html'):.2f} MB | {size(out / 'huntbook-map.html'):.2f} MB |"
    )
    print(f"\nfiles in {out}")


if __name__ == "__main__":
    main()
