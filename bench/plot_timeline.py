#!/usr/bin/env python3
"""Benchmark: a 100k-event timeline, huntbook.plot.timeline against MSTICPy's
display_timeline (Bokeh) on the same DataFrame, then huntbook's page painted in
headless Chromium.

Run it from the repo root with the huntbook package, msticpy and playwright installed
and Debian's chromium at /usr/bin/chromium (scripts/setup --test installs them):

    python bench/plot_timeline.py [--events 100000] [--repeats 3]

Generation is the call that makes the chart plus the HTML page written to disk: for
huntbook, `timeline(...).save(path)`; for MSTICPy, `display_timeline(..., hide=True)`
and Bokeh's `file_html` with inline resources (a page that, like huntbook's, opens
offline) and, for size only, with CDN resources (a page that needs the network).
First paint is the time from asking Chromium for the page until the chart has drawn
(the page's load event plus two frames), with a fresh browser context each time.
Figures are the best of --repeats runs.
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile
import time
import warnings

import numpy as np
import pandas as pd


def events(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    start = pd.Timestamp("2024-03-01T00:00:00Z")
    return pd.DataFrame(
        {
            "TimeGenerated": start + pd.to_timedelta(np.sort(rng.uniform(0, 7 * 86400, n)), unit="s"),
            "Operation": rng.choice(
                ["FileAccessed", "FileDownloaded", "UserLoggedIn", "MailItemsAccessed", "FileModified", "SharingSet"], n
            ),
            "UserId": rng.choice([f"user{i:03d}@contoso.com" for i in range(300)], n),
            "ClientIP": rng.choice([f"203.0.113.{i}" for i in range(200)], n),
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
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import huntbook

    data = events(args.events)
    options = dict(group_by="Operation", source_columns=["UserId", "ClientIP"], time_column="TimeGenerated")
    out = pathlib.Path(tempfile.mkdtemp())
    page = out / "huntbook.html"
    hb_time, _ = best(args.repeats, lambda: huntbook.plot.timeline(data, **options).save(page))
    hb_size = page.stat().st_size
    print(f"events: {len(data)}")
    print(f"huntbook  generate+save: {hb_time:.3f} s   file {hb_size / 1e6:.2f} MB")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from bokeh.embed import file_html
        from bokeh.resources import CDN, INLINE
        from msticpy.vis.timeline import display_timeline

        def bokeh_page(resources):
            figure = display_timeline(data, hide=True, **options)
            return file_html(figure, resources, "timeline")

        mp_time, html = best(args.repeats, lambda: (out / "msticpy.html").write_text(bokeh_page(INLINE)))
        mp_size = (out / "msticpy.html").stat().st_size
        cdn_size = len(bokeh_page(CDN).encode())
    print(f"msticpy   generate+save: {mp_time:.3f} s   file {mp_size / 1e6:.2f} MB inline ({cdn_size / 1e6:.2f} MB with CDN scripts)")
    print(f"ratio     generation {mp_time / hb_time:.1f}x faster, file {mp_size / hb_size:.1f}x smaller (inline)")

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )

        def paint(path):
            context = browser.new_context(viewport={"width": 1000, "height": 800})
            tab = context.new_page()
            start = time.perf_counter()
            tab.goto(path.as_uri(), wait_until="load")
            tab.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            took = time.perf_counter() - start
            marks = tab.evaluate("() => document.querySelector('.hb-chart') ? +document.querySelector('.hb-chart').dataset.marks : -1")
            context.close()
            return took, marks

        hb_paint, marks = min(paint(page) for _ in range(args.repeats))
        browser.close()
    assert marks == len(data), f"the page drew {marks} marks for {len(data)} events"
    print(f"huntbook  first paint in Chromium: {hb_paint:.3f} s ({marks} marks)")
    print(f"huntbook  generated + painted:     {hb_time + hb_paint:.3f} s")


if __name__ == "__main__":
    main()
