#!/usr/bin/env python3
"""Benchmark: network graph charts, huntbook.plot.network against MSTICPy's
df_to_networkx + plot_nx_graph (networkx spring layout, drawn by Bokeh).

Run it from the repo root with the huntbook package, MSTICPy and Playwright (with
Debian's chromium, as for the browser tests) in the venv:

    python bench/plot_network.py [--nodes 2000] [--repeats 3]

The data is built here, deterministically: flows from internal hosts to external
addresses whose popularity falls off like Zipf's law, plus some host-to-host
traffic, about 2.5 distinct pairs per node and several rows per pair. Both tools
draw the same frame with the same tooltip columns:

- MSTICPy: `df_to_networkx` (attributes aggregated per node), `plot_nx_graph(...,
  hide=True)` (spring layout, Bokeh figure), and the figure saved as a standalone
  file with Bokeh's scripts inline, so that it opens offline like huntbook's;
- huntbook: `huntbook.plot.network(...)` (aggregation and layout in Rust) and
  `chart.save(...)`.

Build figures are the best of --repeats runs. First paint is the time to open each
file in headless Chromium until the graph is drawn (huntbook: the chart has
reported its marks; Bokeh: its document is rendered with a canvas), best of 3.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import pathlib
import sys
import tempfile
import time

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[1]


def flows(nodes: int) -> pd.DataFrame:
    rng = np.random.default_rng(20261128)
    inside = int(nodes * 0.7)
    outside = nodes - inside
    hosts = [f"10.{i // 250}.{i % 250}.{1 + i % 7}" for i in range(inside)]
    remote = [f"203.{i // 250}.{i % 250}.9" for i in range(outside)]
    weights = 1.0 / np.arange(1, outside + 1)
    weights /= weights.sum()
    rows = []
    for h, host in enumerate(hosts):
        # Every host talks to a few popular and a few rare addresses, and to a peer.
        for target in rng.choice(outside, size=3, p=weights):
            rows.extend([(host, remote[target], 443, "TCP")] * int(rng.integers(1, 6)))
        if h % 2 == 0:
            rows.append((host, hosts[int(rng.integers(0, inside))], 445, "TCP"))
    for r, address in enumerate(remote):
        # Rare addresses are reached at least once, so every node has an edge.
        rows.append((hosts[r % inside], address, 53, "UDP"))
    frame = pd.DataFrame(rows, columns=["SourceIP", "DestinationIP", "DestinationPort", "Protocol"])
    frame["Device"] = frame.SourceIP.str.replace(".", "-", regex=False).radd("ws-")
    return frame


def best(repeats, run):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def msticpy_chart(data: pd.DataFrame, path: pathlib.Path) -> None:
    from bokeh.embed import file_html
    from bokeh.resources import INLINE
    from msticpy.transform.network import df_to_networkx
    from msticpy.vis.network_plot import plot_nx_graph

    graph = df_to_networkx(data, "SourceIP", "DestinationIP", source_attrs=["Device"],
                           edge_attrs=["DestinationPort", "Protocol"])
    with contextlib.redirect_stdout(io.StringIO()):
        figure = plot_nx_graph(graph, source_attrs=["Device"], edge_attrs=["DestinationPort", "Protocol"],
                               hide=True, width=900, height=700)
    path.write_text(file_html(figure, INLINE, "network"), encoding="utf-8")


def huntbook_chart(data: pd.DataFrame, path: pathlib.Path) -> None:
    import huntbook

    chart = huntbook.plot.network(data, "SourceIP", "DestinationIP", source_attrs=["Device"],
                                  edge_attrs=["DestinationPort", "Protocol"])
    chart.save(path)


def first_paint(browser, path: pathlib.Path, ready: str) -> float:
    times = []
    for _ in range(3):
        context = browser.new_context(viewport={"width": 950, "height": 900})
        page = context.new_page()
        start = time.perf_counter()
        page.goto(path.resolve().as_uri())
        page.wait_for_function(ready, timeout=120_000)
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done())))")
        times.append(time.perf_counter() - start)
        context.close()
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests" / "python"))
    from browser import ARGS, CHROMIUM

    import huntbook

    data = flows(args.nodes)
    nodes = len(set(data.SourceIP) | set(data.DestinationIP))
    pairs = len({frozenset(p) for p in zip(data.SourceIP, data.DestinationIP)})
    print(f"{len(data):,} rows, {nodes:,} nodes, {pairs:,} edges")

    with tempfile.TemporaryDirectory() as folder:
        ours_file, theirs_file = pathlib.Path(folder, "huntbook.html"), pathlib.Path(folder, "msticpy.html")
        layout, chart = best(args.repeats, lambda: huntbook.plot.network(
            data, "SourceIP", "DestinationIP", source_attrs=["Device"], edge_attrs=["DestinationPort", "Protocol"]))
        assert len(chart.spec["nodes"]["label"]) == nodes and len(chart.spec["edges"]["s"]) == pairs
        ours, _ = best(args.repeats, lambda: huntbook_chart(data, ours_file))
        theirs, _ = best(args.repeats, lambda: msticpy_chart(data, theirs_file))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            ours_paint = first_paint(browser, ours_file, "() => document.querySelector('.hb-chart').dataset.marks")
            theirs_paint = first_paint(
                browser, theirs_file,
                "() => window.Bokeh && Bokeh.documents.length > 0 && document.querySelector('div') && "
                "Bokeh.index && Object.keys(Bokeh.index).length > 0")
            browser.close()
        ours_size, theirs_size = ours_file.stat().st_size, theirs_file.stat().st_size

    print("| step | MSTICPy (networkx + Bokeh) | huntbook | ratio |")
    print("|---|---|---|---|")
    print(f"| graph + layout + HTML file | {theirs:.2f} s | {ours:.3f} s (layout and spec {layout:.3f} s) | {theirs / ours:.0f}x |")
    print(f"| first paint in Chromium | {theirs_paint:.2f} s | {ours_paint:.2f} s | {theirs_paint / ours_paint:.1f}x |")
    print(f"| file size | {theirs_size / 1e6:.2f} MB | {ours_size / 1e6:.2f} MB | {theirs_size / ours_size:.1f}x |")


if __name__ == "__main__":
    main()
