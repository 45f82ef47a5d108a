"""The browser harness itself (browser.py, the `chromium` fixture): it must catch what a
faulty chart does, or the chart tests built on it prove nothing."""

import pathlib

import pytest
from PIL import Image

from browser import SCREENSHOTS

CLEAN = """<!doctype html>
<html><head><meta charset="utf-8"><title>clean</title></head>
<body style="margin:0">
<canvas id="c" width="200" height="100"></canvas>
<img id="dot" alt="" src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">
<script>
  const ctx = document.getElementById("c").getContext("2d");
  ctx.fillStyle = "rgb(200, 30, 30)";
  ctx.fillRect(0, 0, 200, 100);
  console.log("drawn");  // a log is not an error
  window.marks = 1;
</script>
</body></html>
"""


def test_a_clean_page_passes(chromium):
    page = chromium.open(CLEAN)
    assert page.errors == [] and page.requests == []
    assert page.eval("window.marks") == 1
    page.assert_clean()


def test_a_script_error_is_reported(chromium):
    page = chromium.open("<script>const x = null; x.field = 1;</script><p>after</p>")
    assert len(page.errors) == 1 and page.errors[0].startswith("uncaught TypeError"), page.errors
    with pytest.raises(AssertionError, match="uncaught TypeError"):
        page.assert_clean()


def test_console_errors_and_warnings_are_reported_but_not_logs(chromium):
    page = chromium.open("<script>console.log('fine'); console.warn('careful'); console.error('broken');</script>")
    assert [e.split(" (")[0] for e in page.errors] == ["console.warning: careful", "console.error: broken"]


def test_a_network_request_is_reported(chromium):
    page = chromium.open('<img src="http://example.invalid/x.png" alt="">')
    assert page.requests == ["http://example.invalid/x.png"]
    with pytest.raises(AssertionError, match=r"request: http://example\.invalid/x\.png"):
        page.assert_clean()


def test_a_script_beside_the_page_counts_as_a_request(chromium, tmp_path):
    # A chart must carry its JavaScript inline; another file, even a local one, is a
    # request the harness reports (and lets through, so the page still runs).
    (tmp_path / "extra.js").write_text("window.loaded = true;")
    html = tmp_path / "chart.html"
    html.write_text('<script src="extra.js"></script>')
    page = chromium.open(html)
    assert page.requests == [(tmp_path / "extra.js").as_uri()]
    assert page.eval("window.loaded") is True


def test_the_viewport_has_the_size_asked_for(chromium):
    page = chromium.open("<p>size</p>", width=640, height=360)
    assert page.eval("[innerWidth, innerHeight]") == [640, 360]


def test_hover_moves_the_mouse_and_waits_for_the_redraw(chromium):
    # The handler records the position two animation frames after the move (a chart
    # that schedules its tooltip redraw from inside a frame callback); hover must wait
    # for that. Without the wait, the position is read before it is written.
    page = chromium.open(
        "<body style='margin:0;height:100vh'><script>"
        "addEventListener('mousemove', e => requestAnimationFrame(() => requestAnimationFrame(() => { window.at = [e.clientX, e.clientY]; })));"
        "</script></body>"
    )
    page.hover(120, 45)
    assert page.eval("window.at") == [120, 45]


def test_a_screenshot_is_a_png_of_what_was_drawn(chromium):
    page = chromium.open(
        CLEAN.replace('<img id="dot"', '<p style="font:40px sans-serif;margin:0">Text</p><img id="dot"'),
        width=400,
        height=300,
    )
    path = page.screenshot("harness-clean")
    assert path == SCREENSHOTS / "harness-clean.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.size == (400, 300)
        rgb = image.convert("RGB")
        assert rgb.getpixel((100, 50)) == (200, 30, 30)  # inside the canvas's rectangle
        # The paragraph below the canvas: glyphs drawn in black, so the fonts are there.
        dark = sum(1 for x in range(0, 200) for y in range(110, 150) if sum(rgb.getpixel((x, y))) < 150)
        assert dark > 100, dark


def test_a_screenshot_name_must_be_a_plain_file_name(chromium):
    page = chromium.open("<p>x</p>")
    with pytest.raises(ValueError, match="screenshot name"):
        page.screenshot("../outside")


def test_markup_must_be_markup_and_a_path_must_exist(chromium, tmp_path):
    with pytest.raises(TypeError, match="pathlib.Path"):
        chromium.open("chart.html")
    with pytest.raises(FileNotFoundError):
        chromium.open(pathlib.Path(tmp_path / "missing.html"))


def test_close_pages_closes_every_open_page(chromium):
    pages = [chromium.open("<p>one</p>"), chromium.open("<p>two</p>")]
    chromium.close_pages()
    assert all(p.closed and p.page.is_closed() for p in pages)
