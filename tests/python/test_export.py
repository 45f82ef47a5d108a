"""`huntbook export` on a notebook shaped like a papermill run.

The notebook is built with the real nbformat package (outputs as ipykernel and
papermill write them: a pandas HTML table, a PNG figure, a tqdm-style progress bar on
stderr, a scrapbook scrap, an ANSI traceback and papermill's error markers). The page
must parse as HTML, reference nothing outside itself, stay small, and show for each
output the MIME type nbconvert would pick (minus the script-driven ones it keeps and a
self-contained page cannot run).
"""

import html.parser
import struct
import subprocess
import zlib

import nbformat
import pandas as pd
import pytest
from nbformat import v4

# nbconvert's HTMLExporter.display_data_priority (nbconvert is not a test dependency;
# when it is installed, its own list is used instead).
NBCONVERT_PRIORITY = [
    "application/vnd.jupyter.widget-view+json",
    "application/javascript",
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "text/latex",
    "image/png",
    "image/jpeg",
    "text/plain",
]
# Shown by nbconvert through scripts; a page without JavaScript skips them.
SCRIPTED = {"application/vnd.jupyter.widget-view+json", "application/javascript"}

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def nbconvert_priority():
    try:
        from nbconvert import HTMLExporter
    except ImportError:
        return NBCONVERT_PRIORITY
    return list(HTMLExporter().display_data_priority)


def tiny_png() -> bytes:
    """A valid 2×2 red PNG, built by hand so no imaging library is needed."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


TRACEBACK = [
    "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
    "\x1b[0;31mZeroDivisionError\x1b[0m                         Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[5], line 1\x1b[0m\n\x1b[0;32m----> 1\x1b[0m \x1b[38;5;241m1\x1b[39m\x1b[38;5;241m/\x1b[39m\x1b[38;5;241m0\x1b[39m",
    "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero",
]
MARKER_STYLE = "color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;"


def build_notebook():
    import base64

    df = pd.DataFrame({"user": ["alice", "bob<script>"], "failures": [3, 17]})
    nb = v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.language_info = {"name": "python"}
    nb.metadata.papermill = {
        "default_parameters": {},
        "duration": 4.5,
        "end_time": "2026-11-28T01:00:45.500000+00:00",
        "environment_variables": {},
        "exception": True,
        "input_path": "hunt.ipynb",
        "output_path": "hunt-out.ipynb",
        "parameters": {"days": 7, "tenant": "contoso<x>"},
        "start_time": "2026-11-28T01:00:41.000000+00:00",
        "version": "2.7.0",
    }

    def code(source, outputs=(), count=None, **metadata):
        cell = v4.new_code_cell(source, execution_count=count, outputs=list(outputs))
        cell.metadata.update(metadata)
        return cell

    header = v4.new_markdown_cell(
        f'<span style="{MARKER_STYLE}">An Exception was encountered at '
        "'<a href=\"#papermill-error-cell\">In [8]</a>'.</span>"
    )
    header.metadata.tags = ["papermill-error-cell-tag"]
    marker = v4.new_markdown_cell(
        f'<span id="papermill-error-cell" style="{MARKER_STYLE}">'
        "Execution using papermill encountered an exception here and stopped:</span>"
    )
    marker.metadata.tags = ["papermill-error-cell-tag"]
    progress = "".join(f"\r{p:3d}%|{'#' * (p // 10):10s}|" for p in range(0, 101, 25)) + "\n"
    nb.cells = [
        header,
        v4.new_markdown_cell(
            "# Sign-in hunt\n\nFailures per *user*:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
            "![map](attachment:map.png) ![beacon](https://attacker.example/pixel.gif)",
            attachments={"map.png": {"image/png": base64.b64encode(tiny_png()).decode()}},
        ),
        code("days = 30", count=1, tags=["parameters"]),
        code("# Parameters\ndays = 7\ntenant = \"contoso<x>\"\n", count=2, tags=["injected-parameters"]),
        code(
            "for chunk in tqdm(chunks):\n    load(chunk)\nprint('loaded <all>')",
            [
                v4.new_output("stream", name="stderr", text=progress[:30]),
                v4.new_output("stream", name="stderr", text=progress[30:]),
                v4.new_output("stream", name="stdout", text="loaded <all>\n"),
            ],
            count=3,
        ),
        code(
            "failures",
            [v4.new_output("execute_result", {"text/html": df.to_html(), "text/plain": repr(df)}, execution_count=4)],
            count=4,
        ),
        code(
            "plot(failures)",
            [
                v4.new_output(
                    "display_data",
                    {"image/png": base64.b64encode(tiny_png()).decode(), "text/plain": "<Figure size 640x480 with 1 Axes>"},
                    metadata={"image/png": {"width": 320}},
                ),
                v4.new_output(
                    "display_data",
                    {"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
                     "text/plain": "IntSlider(value=3)"},
                ),
                v4.new_output("display_data", {"application/javascript": "alert('no')"}),
                v4.new_output(
                    "display_data",
                    {"application/scrapbook.scrap.json+json": {"name": "n", "data": 12, "encoder": "json", "version": 1}},
                    metadata={"scrapbook": {"name": "n", "data": True, "display": False}},
                ),
                v4.new_output(
                    "display_data",
                    {"text/markdown": "**top user**: `bob`", "text/plain": "<IPython.core.display.Markdown object>"},
                    metadata={"scrapbook": {"name": "top", "data": False, "display": True}},
                ),
            ],
            count=5,
        ),
        code("secret_helper()  # HIDDEN-SOURCE", [v4.new_output("stream", name="stdout", text="visible output\n")],
             count=6, jupyter={"source_hidden": True}),
        code("# REMOVED-CELL", [v4.new_output("stream", name="stdout", text="REMOVED-OUTPUT\n")], count=7,
             tags=["remove-cell"]),
        marker,
        code("1/0  # FAILING", [v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                              traceback=TRACEBACK)],
             count=8, papermill={"status": "failed", "exception": True}),
        code("never_run()  # NOT-RUN"),
    ]
    nbformat.validate(nb)
    return nb


class PageParser(html.parser.HTMLParser):
    """Collects what the checks need and fails on unbalanced elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems = [], []
        self.refs, self.ids, self.mimes, self.classes = [], set(), [], []
        self.in_style, self.style_text, self.text = False, "", []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name in ("src", "href", "xlink:href", "action", "poster", "srcset"):
                self.refs.append(value or "")
            if name == "style" and "url(" in (value or ""):
                self.refs.append(value)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if "data-mime" in attrs:
            self.mimes.append(attrs["data-mime"])
        self.classes.extend((attrs.get("class") or "").split())
        self.in_style = tag == "style"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]} at {self.getpos()}")
        else:
            self.stack.pop()
        self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.style_text += data
        else:
            self.text.append(data)


def parse_page(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.stack == [], f"unclosed elements: {parser.stack}"
    return parser


def expected_mimes(nb):
    """The MIME type nbconvert shows for each display/result output, in order."""
    priority = [m for m in nbconvert_priority() if m not in SCRIPTED]
    chosen = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "remove-cell" in cell.metadata.get("tags", []):
            continue
        for output in cell.outputs:
            if output.output_type in ("display_data", "execute_result"):
                mime = next((m for m in priority if m in output.data), None)
                if mime:
                    chosen.append(mime)
    return chosen


@pytest.fixture
def notebook(tmp_path):
    path = tmp_path / "hunt-out.ipynb"
    nbformat.write(build_notebook(), path)
    return path


def run(huntbook_bin, *args):
    return subprocess.run([str(huntbook_bin), "export", *map(str, args)], capture_output=True, text=True, timeout=60)


def test_page_is_valid_self_contained_and_small(huntbook_bin, notebook):
    result = run(huntbook_bin, notebook)
    assert result.returncode == 0, result.stderr
    page_path = notebook.with_suffix(".html")
    page = page_path.read_text(encoding="utf-8")
    parsed = parse_page(page)

    external = [r for r in parsed.refs if not (r.startswith("data:") or r.startswith("#"))]
    assert external == []
    # A remote image in markdown is named, never fetched.
    assert "[image: beacon]" in page and "attacker.example" in page
    assert '<img src="data:image/png;base64,' in page and 'alt="map"' in page
    assert "url(" not in parsed.style_text and "@import" not in parsed.style_text
    assert "<script" not in page.lower()
    assert len(page.encode()) < 100_000
    assert all(r[1:] in parsed.ids for r in parsed.refs if r.startswith("#")), "an in-page link has no target"
    assert "<title>Sign-in hunt</title>" in page


def test_outputs_match_nbconvert_choice(huntbook_bin, notebook):
    assert run(huntbook_bin, notebook).returncode == 0
    parsed = parse_page(notebook.with_suffix(".html").read_text(encoding="utf-8"))
    nb = nbformat.read(notebook, as_version=4)
    assert parsed.mimes == expected_mimes(nb)
    assert parsed.mimes == ["text/html", "image/png", "text/plain", "text/markdown"]


def test_content_and_visibility(huntbook_bin, notebook):
    assert run(huntbook_bin, notebook).returncode == 0
    page = notebook.with_suffix(".html").read_text(encoding="utf-8")
    parsed = parse_page(page)
    text = "".join(parsed.text)

    # The pandas table as is, its cells' text escaped by pandas itself.
    assert 'class="dataframe"' in page and "bob&lt;script&gt;" in page
    assert 'src="data:image/png;base64,' in page and 'width="320"' in page
    # Progress bar: only its final state; stderr styled apart from stdout.
    assert "100%|##########|" in text and "50%" not in text
    assert "hb-stderr" in parsed.classes and "loaded <all>" in text
    # Traceback text with its colours.
    assert "ZeroDivisionError: division by zero" in text
    assert '<span class="ansi-red">ZeroDivisionError</span>' in page
    assert "color:#626262" in page  # a 256-colour traceback number
    # Visibility rules.
    assert "HIDDEN-SOURCE" not in page and "visible output" in text
    assert "REMOVED-CELL" not in page and "REMOVED-OUTPUT" not in page
    assert "n\": 12" not in text and "scrapbook" not in page
    assert "IntSlider(value=3)" in text and "alert" not in page
    assert "NOT-RUN" in text and "In\xa0[\xa0]:" in text
    # The papermill header: run summary, parameters, the failure and the markers.
    assert "Run by papermill 2.7.0" in text and "took 4.5 s" in text
    assert '"contoso<x>"' in text and "days" in text
    assert "failed at cell 9 (In [8])" in text
    assert "papermill-error-cell" in parsed.ids
    assert "Execution using papermill encountered an exception here and stopped:" in text
    assert "hb-failed" in parsed.classes


def test_no_input_and_no_prompt_to_stdout(huntbook_bin, notebook):
    result = run(huntbook_bin, notebook, "--no-input", "-o", "-")
    assert result.returncode == 0, result.stderr
    parsed = parse_page(result.stdout)
    text = "".join(parsed.text)
    assert "hb-source" not in parsed.classes and "FAILING" not in text
    assert "In\xa0[" not in text and "Out[" not in text
    assert "ZeroDivisionError: division by zero" in text and "visible output" in text
    assert not notebook.with_suffix(".html").exists(), "-o - must not write a file"

    result = run(huntbook_bin, notebook, "--no-prompt", "-o", notebook.parent / "report.html")
    assert result.returncode == 0, result.stderr
    parsed = parse_page((notebook.parent / "report.html").read_text(encoding="utf-8"))
    assert "hb-source" in parsed.classes and "hb-prompt" not in parsed.classes


def test_bad_notebooks_exit_2(huntbook_bin, tmp_path):
    result = run(huntbook_bin, tmp_path / "missing.ipynb")
    assert result.returncode == 2
    assert "missing.ipynb" in result.stderr
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    result = run(huntbook_bin, broken)
    assert result.returncode == 2
    assert "broken.ipynb" in result.stderr and "not valid notebook JSON" in result.stderr
    assert not (tmp_path / "broken.html").exists()
