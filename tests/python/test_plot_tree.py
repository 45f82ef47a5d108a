"""The process tree chart (huntbook.plot.process_tree, tree.plot): its layout against
MSTICPy's, the dispatch of `tree.plot`, and in Chromium: what is drawn, tooltips,
collapsing, search, selection and a 10k-process tree."""

import math
import pathlib
import time

import matplotlib
import pandas as pd
import pytest
from msticpy.vis.process_tree import _pre_process_tree

import huntbook
from huntbook import _huntbook
from huntbook._tables import to_frame

matplotlib.use("Agg")

ROOT = "document.querySelector('.hb-chart')"
API = ROOT + ".hbChart"


@pytest.fixture(scope="module")
def procs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder)
    return pd.read_parquet(folder / "processes.parquet")


@pytest.fixture(scope="module")
def tree(procs):
    return huntbook.build_process_tree(procs)


@pytest.fixture(scope="module")
def positions(tree):
    """Position in the tree frame of each process, by its path (unique in a tree)."""
    return {p: i for i, p in enumerate(tree["path"])}


def rows_of(frame, positions):
    return [positions[p] for p in frame["path"]]


@pytest.fixture(scope="module")
def attack(tree, positions):
    """The planted chain: OUTLOOK -> WINWORD -> cmd -> powershell -> svc.exe -> ..."""
    leaf = tree.index[tree["NewProcessName"].str.endswith("whoami.exe")
                      & tree["CommandLine"].eq("whoami /all")]
    assert len(leaf) == 1
    chain = tree.hb_tree.ancestors(positions[tree.loc[leaf[0], "path"]])
    return rows_of(chain, positions)


@pytest.fixture
def page(tree, chromium, tmp_path):
    path = tmp_path / "tree.html"
    tree.plot(legend_col="SubjectUserName").save(path)
    return chromium.open(path, height=900)  # the whole chart in the viewport


def in_view(total, view):
    """How many rows of `total` intersect the canvas at the chart's scroll offset."""
    rh, pad, h, s = view["rowHeight"], view["pad"], view["height"], view["scroll"]
    return sum(1 for k in range(total) if pad + k * rh - s < h and pad + (k + 1) * rh - s > 0)


def page_point(page, xy):
    """Viewport pixels of a point given in canvas pixels."""
    box = page.eval(ROOT + ".querySelector('canvas').getBoundingClientRect().toJSON()")
    return box["left"] + xy[0], box["top"] + xy[1]


# --- layout and Python face ------------------------------------------------------


def test_layout_is_msticpys_rows_and_levels(tree):
    spec = tree.plot().spec
    theirs = _pre_process_tree(tree, pid_fmt="hex").proc_tree
    # MSTICPy's Row counts up from the bottom; ours are positions from the top.
    theirs = theirs.sort_values("Row", ascending=False)
    assert spec["row"] is None  # the frame is already in tree order
    assert list(theirs["path"]) == list(tree["path"])
    assert [lv + 1 for lv in spec["level"]] == list(theirs["Level"])


def test_a_tree_built_by_msticpy_draws_as_msticpy_lays_it_out():
    from msticpy.transform.proc_tree_builder import build_process_tree as mp_build

    theirs = mp_build(to_frame(_huntbook.generate_process_events(600, hosts=2, seed=5)))
    spec = huntbook.plot.process_tree(theirs, legend_col="SubjectUserName").spec
    laid_out = _pre_process_tree(theirs, pid_fmt="hex").proc_tree.sort_values("Row", ascending=False)
    order = spec["row"] or list(range(len(theirs)))
    assert [theirs["path"].iloc[r] for r in order] == list(laid_out["path"])
    assert [lv + 1 for lv in spec["level"]] == list(laid_out["Level"])
    tips = {t["name"] for t in spec["tips"]}
    assert {"NewProcessName", "NewProcessId", "CommandLine", "SubjectUserName", "SubjectLogonId",
            "TargetLogonId"} <= tips


def test_parents_and_subtree_ends_agree_with_the_navigation(tree, positions):
    spec = tree.plot().spec
    for p in range(0, len(tree), 7):
        parent = tree.hb_tree.parent(p)
        assert spec["parent"][p] == (-1 if parent is None else positions[parent["path"]])
        below = rows_of(tree.hb_tree.descendants(p, include_source=False), positions)
        assert below == list(range(p + 1, spec["end"][p]))


def test_tree_plot_draws_the_tree_and_pandas_plots_still_work(procs):
    small = procs.head(40).assign(Bytes=range(40))
    tree = huntbook.build_process_tree(small)
    chart = tree.plot(legend_col="SubjectUserName", title="Small")
    assert isinstance(chart, huntbook.plot.Chart) and chart.kind == "process_tree"
    assert chart.title == "Small" and tree.plot().kind == "process_tree"
    pid = tree["NewProcessId"].iloc[-1]
    assert str(int(pid, 16)) in tree.hb_tree.plot(pid_fmt="dec").spec["pid"]["dict"]
    # Any plot kind, positional argument or pandas keyword goes to pandas.
    from matplotlib.axes import Axes

    assert isinstance(tree.plot.bar(y="Bytes"), Axes)
    assert isinstance(tree.plot(kind="hist", y="Bytes"), Axes)
    assert isinstance(tree.plot(y="Bytes"), Axes)
    # A copy is a plain frame: pandas' accessor, not the tree's.
    assert type(tree.copy().plot) is pd.DataFrame.plot


def test_events_are_built_into_a_tree_first(procs, tree):
    from_events = huntbook.plot.process_tree(procs, legend_col="SubjectUserName").spec
    from_tree = tree.plot(legend_col="SubjectUserName").spec
    assert from_events == from_tree
    assert procs.hb.process_tree(schema="windows").spec["level"] == from_tree["level"]


def test_bad_input_is_named(tree, procs):
    with pytest.raises(ValueError, match="'Nope'"):
        tree.plot(legend_col="Nope")
    with pytest.raises(ValueError, match="pid_fmt 'oct'"):
        tree.plot(pid_fmt="oct")
    with pytest.raises(ValueError, match="no process schema"):
        huntbook.plot.process_tree(procs[["Computer", "Account"]])
    no_path = tree.reset_index().assign(path=None)
    with pytest.raises(ValueError, match="'path' row 0"):
        huntbook.plot.process_tree(no_path)


# --- in the browser ------------------------------------------------------------------


def test_loads_clean_and_draws_only_the_rows_in_view(page, tree):
    page.assert_clean()
    view = page.eval(API + ".view()")
    assert view["shown"] == len(tree)
    marks = int(page.eval(ROOT + ".dataset.marks"))
    assert marks == in_view(len(tree), view) and 0 < marks < 30
    # The wheel scrolls the view by its pixels; what is drawn follows.
    x, y = page_point(page, (300, 300))
    page.page.mouse.move(x, y)
    page.page.mouse.wheel(0, 4000)
    page.hover(x, y)
    view = page.eval(API + ".view()")
    assert view["scroll"] == 4000
    assert view["first"] == math.floor((4000 - view["pad"]) / view["rowHeight"])
    assert int(page.eval(ROOT + ".dataset.marks")) == in_view(len(tree), view)
    # A click on the scrollbar's track below its thumb pages down; dragging the thumb
    # to the bottom shows the last rows.
    width, height = view["width"], view["height"]
    page.page.mouse.click(*page_point(page, (width - 6, height - 3)))
    assert page.eval(API + ".view()")["scroll"] == 4000 + height - view["rowHeight"]
    thumb = page.eval(API + ".view()")["thumb"]
    page.page.mouse.move(*page_point(page, (width - 6, thumb[0] + thumb[1] / 2)))
    page.page.mouse.down()
    page.page.mouse.move(*page_point(page, (width - 6, height - 1)))
    page.page.mouse.up()
    view = page.eval(API + ".view()")
    assert view["end"] == len(tree) and int(page.eval(ROOT + ".dataset.marks")) == in_view(len(tree), view)
    legend = page.eval(ROOT + ".querySelector('.hb-legend').textContent")
    users = tree["SubjectUserName"].value_counts()
    assert legend.startswith("SubjectUserName:" + users.index[0]) and "(none)" in legend
    assert all(u in legend for u in users.index)
    page.screenshot("plot_tree")


def test_hovering_a_box_shows_its_command_line_and_user(page, tree, attack):
    row = attack[3]  # powershell with the encoded command
    xy = page_point(page, page.eval(f"{API}.markAt({row})"))
    page.hover(*xy)
    tip = page.eval(ROOT + ".querySelector('.hb-tip').textContent")
    assert tree["CommandLine"].iloc[row] in tip and "-enc" in tip
    assert f"SubjectUserName: {tree['SubjectUserName'].iloc[row]}" in tip
    assert f"NewProcessId: {tree['NewProcessId'].iloc[row]}" in tip
    assert "TimeGenerated: " + tree["TimeGenerated"].iloc[row].strftime("%Y-%m-%d %H:%M:%S") in tip
    page.screenshot("plot_tree_tooltip")


def test_collapsing_hides_exactly_the_descendants(page, tree, positions, attack):
    before = page.eval(API + ".visibleRows()")
    assert before == list(range(len(tree)))
    for row in (attack[0], attack[3]):
        after = page.eval(f"{API}.collapse({row})")
        hidden = sorted(set(before) - set(after))
        assert hidden == rows_of(tree.hb_tree.descendants(row, include_source=False), positions)
        assert page.eval(f"{API}.expand({row})") == before
    # The same by clicking the box's +/- toggle.
    xy = page_point(page, page.eval(f"{API}.toggleAt({attack[1]})"))
    page.page.mouse.click(*xy)
    hidden = sorted(set(before) - set(page.eval(API + ".visibleRows()")))
    assert hidden == rows_of(tree.hb_tree.descendants(attack[1], include_source=False), positions)
    page.screenshot("plot_tree_collapsed")
    page.page.mouse.click(*xy)
    assert page.eval(API + ".visibleRows()") == before
    # The buttons: only the roots, then everything again.
    page.page.click("text=Collapse all")
    assert page.eval(API + ".visibleRows()") == rows_of(tree.hb_tree.roots(), positions)
    page.page.click("text=Expand all")
    assert page.eval(API + ".visibleRows()") == before


def test_search_by_name_and_by_pid(page, tree, attack):
    names = tree["NewProcessName"].str.rsplit("\\", n=1).str[-1].str.lower()
    expected = [i for i, n in enumerate(names) if "certutil" in n]
    page.eval(f"{API}.collapse({attack[0]})")  # a match inside a collapsed subtree
    found = page.eval(API + ".search('CertUtil')")
    assert found == expected and attack[3] + 1 in found  # certutil, under powershell
    view = page.eval(API + ".view()")
    shown = page.eval(API + ".visibleRows()")
    assert set(found) <= set(shown)
    assert view["first"] <= shown.index(found[0]) < view["end"]  # scrolled into view
    pid = tree["NewProcessId"].iloc[attack[4]]
    by_pid = [i for i, p in enumerate(tree["NewProcessId"]) if isinstance(p, str) and int(p, 16) == int(pid, 16)]
    assert page.eval(f"{API}.search('{pid}')") == by_pid and attack[4] in by_pid
    assert page.eval(f"{API}.search('{int(pid, 16)}')") == by_pid
    # Typing in the box does the same.
    page.page.fill(".hb-bar input", "certutil")
    page.hover(0, 0)
    assert page.eval(ROOT + ".querySelector('.hb-note').textContent").startswith(f"{len(expected)} match")
    page.screenshot("plot_tree_search")
    assert page.eval(API + ".search('no-such-process.exe')") == []


def test_selecting_highlights_the_process_and_its_ancestors(page, tree, positions, attack):
    leaf = attack[-1]
    expected = rows_of(tree.hb_tree.ancestors(leaf), positions)
    assert page.eval(f"{API}.select({leaf})") == expected == attack
    assert page.eval(API + ".highlighted()") == expected
    # Clicking another box moves the highlight; clicking it again clears it.
    other = attack[-1] + 1  # net.exe, the next child of svc.exe
    xy = page_point(page, page.eval(f"{API}.markAt({other})"))
    page.page.mouse.click(*xy)
    assert page.eval(API + ".highlighted()") == rows_of(tree.hb_tree.ancestors(other), positions)
    page.screenshot("plot_tree_selected")
    page.page.mouse.click(*xy)
    assert page.eval(API + ".highlighted()") == []


def test_a_10k_process_tree_draws_and_scrolls(chromium, tmp_path, record_property):
    events = to_frame(_huntbook.generate_process_events(10_000, hosts=4, seed=42))
    tree = huntbook.build_process_tree(events)
    assert len(tree) >= 10_000
    path = tmp_path / "tree10k.html"
    started = time.perf_counter()
    tree.plot(legend_col="SubjectUserName").save(path)
    made = time.perf_counter() - started
    started = time.perf_counter()
    page = chromium.open(path, height=900)  # the whole chart, so the last box can be hovered
    painted = time.perf_counter() - started
    record_property("tree10k_make_s", round(made, 3))
    record_property("tree10k_first_paint_s", round(painted, 3))
    print(f"\n10k-process tree ({len(tree)} rows, {path.stat().st_size / 1e6:.1f} MB): "
          f"made in {made:.3f} s, loaded and painted in {painted:.3f} s")
    page.assert_clean()
    view = page.eval(API + ".view()")
    assert int(page.eval(ROOT + ".dataset.marks")) == in_view(len(tree), view)
    page.eval(API + ".scrollTo(1e9)")
    view = page.eval(API + ".view()")
    assert view["end"] == len(tree) and int(page.eval(ROOT + ".dataset.marks")) == in_view(len(tree), view)
    last = len(tree) - 1
    xy = page_point(page, page.eval(f"{API}.markAt({last})"))
    page.hover(*xy)
    assert tree["NewProcessId"].iloc[last] in page.eval(ROOT + ".querySelector('.hb-tip').textContent")
    # The tip of the last row opens above it, inside the chart.
    tip = page.eval(ROOT + ".querySelector('.hb-tip').getBoundingClientRect().toJSON()")
    chart = page.eval(ROOT + ".getBoundingClientRect().toJSON()")
    assert tip["bottom"] <= chart["bottom"]
    page.screenshot("plot_tree_10k")
