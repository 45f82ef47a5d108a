#!/usr/bin/env python3
"""Benchmark: the process tree chart, huntbook.plot.process_tree against MSTICPy's
plot_process_tree (Bokeh) on the same process events.

Run it from the repo root with the huntbook package, msticpy and the browser test
harness (playwright, /usr/bin/chromium) installed:

    python bench/plot_tree.py [--events 10000] [--repeats 3]

The events are huntbook's seeded Windows 4688 generator (4 hosts, ~10k processes in
trees up to 14 levels deep). Each tool builds its own tree from them (timed apart),
then the chart is made from that tree and written as one HTML file: huntbook's page
carries its script; Bokeh's is written with INLINE resources so that it opens offline
too (its size with the CDN script, which needs the network, is shown as well). Both
pages are then opened in headless Chromium and timed to the first paint of the
chart: huntbook's after its render call and two animation frames, Bokeh's once its
document has built its views, then two frames. Times are the best of --repeats runs.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "python"))

from browser import Chromium, NEXT_FRAME  # noqa: E402

import huntbook  # noqa: E402
from huntbook import _huntbook  # noqa: E402
from huntbook._tables import to_frame  # noqa: E402

LEGEND = "SubjectUserName"
BOKEH_DRAWN = "() => window.Bokeh && Bokeh.documents.length > 0 && Object.keys(Bokeh.index).length > 0"


def best(repeats, run):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def msticpy_tools():
    """MSTICPy's tree builder and plot, its notebook output turned off so that it
    returns the Bokeh layout instead of showing it."""
    import msticpy.vis.process_tree as mp_tree
    from msticpy.transform.proc_tree_builder import build_process_tree

    for name in ("show", "output_notebook", "reset_output"):
        setattr(mp_tree, name, lambda *args, **kwargs: None)
    return build_process_tree, mp_tree.plot_process_tree


def first_paint(browser: Chromium, path: pathlib.Path, ready: str) -> float:
    """Seconds from navigation to the chart drawn, in a fresh browser context."""
    context = browser.browser.new_context(viewport={"width": 1000, "height": 900})
    try:
        page = context.new_page()
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function(ready, timeout=120_000)
        page.evaluate(NEXT_FRAME)
        return time.perf_counter() - start
    finally:
        context.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from bokeh.embed import file_html
    from bokeh.resources import CDN, INLINE

    mp_build, mp_plot = msticpy_tools()
    events = to_frame(_huntbook.generate_process_events(args.events, hosts=4, seed=42))
    out = pathlib.Path(tempfile.mkdtemp(prefix="plot_tree_"))

    hb_build_s, hb_tree = best(args.repeats, lambda: huntbook.build_process_tree(events))
    mp_build_s, mp_tree = best(args.repeats, lambda: mp_build(events))
    hb_path, mp_path = out / "huntbook.html", out / "msticpy.html"

    def hb_chart():
        huntbook.plot.process_tree(hb_tree, legend_col=LEGEND).save(hb_path)

    def mp_chart():
        _, layout = mp_plot(mp_tree, legend_col=LEGEND)
        mp_path.write_text(file_html(layout, INLINE, "ProcessTree"), encoding="utf-8")
        return layout

    hb_chart_s, _ = best(args.repeats, hb_chart)
    mp_chart_s, layout = best(args.repeats, mp_chart)
    cdn_size = len(file_html(layout, CDN, "ProcessTree").encode())

    browser = Chromium(out)
    try:
        hb_paint = min(first_paint(browser, hb_path, "() => !!document.querySelector('.hb-chart').hbChart")
                       for _ in range(args.repeats))
        mp_paint = min(first_paint(browser, mp_path, BOKEH_DRAWN) for _ in range(args.repeats))
    finally:
        browser.close()

    hb_size, mp_size = hb_path.stat().st_size, mp_path.stat().st_size
    print(f"{args.events:,} events -> {len(hb_tree):,} processes (MSTICPy: {len(mp_tree):,}), "
          f"best of {args.repeats}")
    rows = [
        ("build the tree", hb_build_s, mp_build_s),
        ("tree -> HTML file", hb_chart_s, mp_chart_s),
        ("events -> HTML file", hb_build_s + hb_chart_s, mp_build_s + mp_chart_s),
        ("first paint in Chromium", hb_paint, mp_paint),
    ]
    print(f"{'':28}{'huntbook':>12}{'MSTICPy':>12}{'ratio':>9}")
    for name, ours, theirs in rows:
        print(f"{name:28}{ours:>11.3f}s{theirs:>11.3f}s{theirs / ours:>8.1f}x")
    print(f"{'HTML file':28}{hb_size / 1e6:>10.2f}MB{mp_size / 1e6:>10.2f}MB{mp_size / hb_size:>8.1f}x"
          f"   (Bokeh with the CDN script: {cdn_size / 1e6:.2f} MB, needs the network)")


if __name__ == "__main__":
    main()
