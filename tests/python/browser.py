"""Headless Chromium for the chart tests.

A chart is one self-contained HTML file: it must load with no console error, no uncaught
exception and no request for anything but itself. `Chromium.open` loads a file (or
markup, written to a file first) in a fresh browser context and returns a `ChartPage`
that records all three, so a test can look at them or just call `assert_clean()`.

The browser is Debian's chromium (/usr/bin/chromium, installed by `scripts/setup
--test`); Playwright drives it and never fetches a browser of its own. Requests other
than file:// ones are aborted as well as recorded, so a faulty chart shows up as a
failure here without the test reaching out to the network.
"""

from __future__ import annotations

import os
import pathlib
import re
import time

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Playwright, Route
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = pathlib.Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

# Playwright adds --headless and a fresh temporary --user-data-dir itself, and passes
# several of these by default; they are listed so the harness does not rest on its
# defaults. No sandbox: the tests run as root, where Chromium refuses one. No GPU: the
# machines have none. The rest keep the browser from reaching the network on its own.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Resolves after two animation frames: by then a page that draws on
# requestAnimationFrame after load, or after a mouse move, has painted.
NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done())))"

# URLs that never leave the page, so they are not requests in the sense that matters.
LOCAL_SCHEMES = ("data:", "blob:", "about:")


class ChartPage:
    """One loaded page and what it did wrong: `errors` (console errors and warnings,
    uncaught exceptions, a crash) and `requests` (every URL it asked for beyond its own
    file). Close it with `close()` or a `with` block; the `chromium` fixture also closes
    the pages a test leaves open."""

    def __init__(self, context: BrowserContext, url: str, origin: str | None = None) -> None:
        self.context = context
        self.url = url
        # A served page's requests to its own server are its own, not outside requests.
        self.origin = origin
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.closed = False
        self.page: Page = context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught {error.name}: {error.message}"))
        self.page.on("crash", lambda _: self.errors.append("the page crashed"))
        self.page.on("request", lambda request: self._on_request(request.url))
        self.page.on("websocket", lambda ws: self._on_request(ws.url))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            where = message.location
            self.errors.append(
                f"console.{message.type}: {message.text} ({where.get('url')}:{where.get('lineNumber')})"
            )

    def _on_request(self, url: str) -> None:
        own = self.origin is not None and url.startswith(self.origin + "/")
        if url != self.url and not own and not url.startswith(LOCAL_SCHEMES):
            self.requests.append(url)

    def load(self) -> None:
        self.page.goto(self.url, wait_until="load")
        self.page.evaluate(NEXT_FRAME)

    def eval(self, js: str, arg=None):
        """The value of a JavaScript expression, or of a function called with `arg`
        (Playwright's rules: a string that looks like a function is called)."""
        return self.page.evaluate(js, arg)

    def hover(self, x: float, y: float) -> None:
        """Moves the mouse to (x, y) in CSS pixels of the viewport and waits until the
        page has painted what the move triggered (a tooltip, a highlight)."""
        self.page.mouse.move(x, y)
        self.page.evaluate(NEXT_FRAME)

    def screenshot(self, name: str) -> pathlib.Path:
        """Saves the viewport as artifacts/screenshots/NAME.png (kept by the test run
        for a person to look at) and returns its path."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise ValueError(f"screenshot name {name!r}: use letters, digits, '.', '_' or '-' (it becomes a file name)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def assert_clean(self) -> None:
        """Fails listing every error and request the page made."""
        problems = [f"error: {e}" for e in self.errors] + [f"request: {r}" for r in self.requests]
        assert not problems, f"{self.url} is not clean:\n  " + "\n  ".join(problems)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.context.close()

    def __enter__(self) -> ChartPage:
        return self

    def __exit__(self, *_) -> None:
        self.close()


class Chromium:
    """One browser for the test session; each `open` gets a fresh context (its own
    storage, viewport and routes) so pages cannot affect one another."""

    def __init__(self, pages_dir: pathlib.Path) -> None:
        if not os.access(CHROMIUM, os.X_OK):
            raise RuntimeError(f"{CHROMIUM} is missing: run scripts/setup --test, which installs Debian's chromium")
        self.pages_dir = pages_dir
        self._pages: list[ChartPage] = []
        self._written = 0
        started = time.perf_counter()
        self._playwright: Playwright = sync_playwright().start()
        try:
            self.browser: Browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=ARGS
            )
        except Error:
            self._playwright.stop()
            raise
        self.start_seconds = time.perf_counter() - started

    def open(self, page: pathlib.Path | str, width: int = 900, height: int = 700) -> ChartPage:
        """Loads `page` in a viewport of width x height CSS pixels: a `pathlib.Path` is
        a file to open, a `str` is HTML markup (written to a file, since a chart is
        always opened as a file). Returns once the page has loaded and painted."""
        if isinstance(page, str):
            if "<" not in page:
                raise TypeError("chromium.open: a str is HTML markup; pass a file as pathlib.Path")
            self._written += 1
            path = self.pages_dir / f"page-{self._written}.html"
            path.write_text(page, encoding="utf-8")
        else:
            path = pathlib.Path(page)
        if not path.is_file():
            raise FileNotFoundError(f"chromium.open: {path} is not a file")
        context = self.browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
        context.set_default_timeout(15_000)
        context.route("**/*", _only_files)
        chart = ChartPage(context, path.resolve().as_uri())
        self._pages.append(chart)
        chart.load()
        return chart

    def open_url(self, url: str, width: int = 1200, height: int = 800) -> ChartPage:
        """Loads a page served on loopback (the service's dashboard). Requests to its
        own origin are its own; any other is aborted and recorded, as for files."""
        origin = "/".join(url.split("/", 3)[:3])
        context = self.browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
        context.set_default_timeout(15_000)
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(origin + "/") else route.abort())
        page = ChartPage(context, url, origin=origin)
        self._pages.append(page)
        page.load()
        return page

    def close_pages(self) -> None:
        for chart in self._pages:
            chart.close()
        self._pages.clear()

    def close(self) -> None:
        self.close_pages()
        self.browser.close()
        self._playwright.stop()


def _only_files(route: Route) -> None:
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        route.abort()
