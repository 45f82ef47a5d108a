"""huntbook.plot.map: the centre against MSTICPy's FoliumMap on the same points, and the
map in Chromium (no request by default, tiles only when asked, points in view, hover,
clusters that split on zoom)."""

import math
import pathlib

import numpy as np
import pandas as pd
import pytest
from msticpy.vis import foliummap

import huntbook

API = "document.querySelector('.hb-chart').hbChart"


@pytest.fixture(scope="module")
def signins(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder, anchor="2026-11-28T00:00:00Z")
    return pd.read_parquet(folder / "signins.parquet")


def scattered(rows: int, seed: int = 3) -> pd.DataFrame:
    """Points round a few cities, some far apart and some close together."""
    rng = np.random.default_rng(seed)
    cities = np.array([[47.6, -122.3], [51.5, -0.13], [53.5, -2.24], [-33.9, 151.2], [35.7, 139.7], [-23.5, -46.6]])
    pick = rng.integers(0, len(cities), rows)
    spread = rng.normal(0, 1.5, (rows, 2))
    return pd.DataFrame(
        {
            "Latitude": cities[pick, 0] + spread[:, 0],
            "Longitude": cities[pick, 1] + spread[:, 1],
            "Site": [f"site-{k}" for k in pick],
            "Host": [f"host-{i}" for i in range(rows)],
        }
    )


def mercator(lat: float, lon: float) -> tuple:
    phi = math.radians(max(-85.0511287798, min(85.0511287798, lat)))
    return (lon + 180) / 360, 0.5 - math.log(math.tan(phi) + 1 / math.cos(phi)) / (2 * math.pi)


@pytest.mark.parametrize("mode", ["median", "mean"])
def test_the_centre_is_msticpys(signins, mode):
    points = scattered(501)
    theirs = foliummap._get_center_coords(list(zip(points.Latitude, points.Longitude)), mode=mode)
    ours = huntbook.plot.map(points, center_mode=mode).spec["centre_latlon"]
    assert ours == pytest.approx(theirs, abs=1e-9)
    # The default is FoliumMap's own: plot_map centres with the median.
    fmap = foliummap.plot_map(signins.astype({"Latitude": float, "Longitude": float}), lat_column="Latitude", long_column="Longitude")
    assert huntbook.plot.map(signins).spec["centre_latlon"] == pytest.approx(fmap.folium_map.location, abs=1e-9)


def test_points_are_projected_to_web_mercator(signins):
    spec = huntbook.plot.map(signins).spec
    lat, lon = float(signins.Latitude[0]), float(signins.Longitude[0])
    x, y = mercator(lat, lon)
    assert spec["x"][0] / spec["scale"] == pytest.approx(x, abs=1e-7)
    assert spec["y"][0] / spec["scale"] == pytest.approx(y, abs=1e-7)
    assert len(spec["x"]) == len(signins) and spec["dropped"] == 0


def test_addresses_are_located_with_geoip_first(tmp_path):
    db = tmp_path / "sites.mmdb"
    huntbook.write_mmdb(
        db,
        {
            "81.2.69.0/24": {
                "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
                "city": {"names": {"en": "London"}},
                "location": {"latitude": 51.5142, "longitude": -0.0931},
            },
            "175.16.199.0/24": {
                "country": {"iso_code": "CN", "names": {"en": "China"}},
                "city": {"names": {"en": "Changchun"}},
                "location": {"latitude": 43.88, "longitude": 125.3228},
            },
        },
    )
    logons = pd.DataFrame({"IpAddress": ["81.2.69.160", "175.16.199.1", "10.0.0.5", "81.2.69.7"]})
    chart = huntbook.plot.map(logons, ip_column="IpAddress", databases=[db])
    spec = chart.spec
    # The private address has no place: it is left off and counted.
    assert len(spec["x"]) == 3 and spec["dropped"] == 1
    assert [c["name"] for c in spec["tips"]] == ["IpAddress", "CountryCode", "City"]
    assert spec["tips"][2]["dict"] == ["London", "Changchun"]
    assert spec["x"][0] / spec["scale"] == pytest.approx(mercator(51.5142, -0.0931)[0], abs=1e-7)


def test_bad_input_names_the_column(signins):
    with pytest.raises(ValueError, match="'Lat'"):
        huntbook.plot.map(signins, lat_column="Lat", long_column="Longitude")
    with pytest.raises(ValueError, match="right way round"):
        huntbook.plot.map(signins, lat_column="Longitude", long_column="Latitude")
    with pytest.raises(ValueError, match="ip_column"):
        huntbook.plot.map(signins.drop(columns=["Latitude"]))
    with pytest.raises(ValueError, match="center_mode"):
        huntbook.plot.map(signins, center_mode="middle")
    with pytest.raises(ValueError, match=r"\{z\}"):
        huntbook.plot.map(signins, tiles="https://tiles.example.org/tile.png")


def open_map(chromium, chart, tmp_path: pathlib.Path):
    path = tmp_path / "map.html"
    chart.save(path)
    return chromium.open(path, height=700)


def dataset(page, key):
    return page.eval(f"document.querySelector('.hb-chart').dataset.{key}")


def rows_in_view(spec, bounds) -> int:
    s = spec["scale"]
    return sum(
        bounds[0] <= x / s <= bounds[2] and bounds[1] <= y / s <= bounds[3] for x, y in zip(spec["x"], spec["y"])
    )


def test_without_clustering_every_point_in_view_is_a_mark(chromium, tmp_path):
    points = scattered(2000)
    chart = huntbook.plot.map(points, marker_cluster=False, tooltip_columns=["Host", "Site"])
    spec = chart.spec
    page = open_map(chromium, chart, tmp_path)
    page.assert_clean()
    view = page.eval(f"{API}.view()")
    assert int(dataset(page, "marks")) == rows_in_view(spec, view["bounds"]) == len(points)
    # Zoom in on Europe: only the points there are drawn.
    x, y = mercator(52.0, -1.0)
    page.eval(f"{API}.setView(5, {x}, {y})")
    view = page.eval(f"{API}.view()")
    inside = rows_in_view(spec, view["bounds"])
    assert 0 < inside < len(points) and int(dataset(page, "marks")) == inside
    # Hover the marker drawn last (on top of any it overlaps): the tooltip is its row's.
    i = page.eval(f"{API}.markers()")[-1]["rows"][0]
    mx, my = page.eval(f"{API}.markAt({i})")
    box = page.eval("(() => { const r = document.querySelector('.hb-chart canvas').getBoundingClientRect(); return [r.left, r.top]; })()")
    page.hover(box[0] + mx, box[1] + my)
    tip = page.eval("document.querySelector('.hb-tip').innerText")
    assert f"Host: {points.Host[i]}" in tip and f"Site: {points.Site[i]}" in tip
    # A click opens its popup: the coordinates, MSTICPy's default popup columns.
    page.page.mouse.click(box[0] + mx, box[1] + my)
    popup = page.eval("document.querySelectorAll('.hb-tip')[1].innerText")
    assert f"Latitude: {points.Latitude[i]}" in popup and f"Longitude: {points.Longitude[i]}" in popup
    page.assert_clean()


def test_clusters_hold_every_point_and_split_on_zoom(chromium, signins, tmp_path):
    chart = huntbook.plot.map(signins, layer_column="ResultType", tooltip_columns=["UserPrincipalName", "City"])
    page = open_map(chromium, chart, tmp_path)
    page.assert_clean()
    markers = page.eval(f"{API}.markers()")
    # Zoomed out, every sign-in is in a cluster in view, and clusters are fewer than rows.
    assert sum(m["count"] for m in markers) == int(dataset(page, "points")) == len(signins)
    assert int(dataset(page, "marks")) == len(markers) < len(signins)
    # London and Manchester share one cluster at the opening zoom ...
    city = signins.City.to_numpy()
    gb = [m for m in markers if {city[r] for r in m["rows"]} == {"London", "Manchester"}]
    assert gb, [sorted({city[r] for r in m["rows"]}) for m in markers]
    cluster = max(gb, key=lambda m: m["count"])
    members = set(cluster["rows"])
    page.screenshot("plot_map")
    # ... and a click on it zooms in until they part: its points now lie in more markers.
    box = page.eval("(() => { const r = document.querySelector('.hb-chart canvas').getBoundingClientRect(); return [r.left, r.top]; })()")
    zoom = page.eval(f"{API}.view()")["zoom"]
    for _ in range(8):
        page.page.mouse.click(box[0] + cluster["x"], box[1] + cluster["y"])
        page.hover(1, 1)
        after = page.eval(f"{API}.markers()")
        holding = [m for m in after if set(m["rows"]) & members]
        if len(holding) > 1:
            break
        cluster = holding[0]
    assert page.eval(f"{API}.view()")["zoom"] > zoom
    assert len(holding) > 1 and {frozenset(city[r] for r in m["rows"]) for m in holding} >= {
        frozenset(["London"]),
        frozenset(["Manchester"]),
    }
    # Cells of a zoom level split those of the level before: the markers part the rows.
    assert sorted(r for m in holding for r in m["rows"]) == sorted(members)
    page.screenshot("plot_map_zoomed")
    # Hover a cluster: its count, and its count of each layer, which add up.
    m = max(holding, key=lambda m: m["count"])
    page.hover(box[0] + m["x"], box[1] + m["y"])
    tip = page.eval("document.querySelector('.hb-tip').innerText")
    assert f"Points: {m['count']}" in tip
    result = signins.ResultType.to_numpy()
    for code, name in enumerate(chart.spec["layers"]):
        count = sum(result[r] == name for r in m["rows"])
        assert (f"ResultType {name}: {count}" in tip) == (count > 0), tip
    assert sum(m["layers"].values()) == m["count"]
    page.assert_clean()


def test_the_wheel_zooms_and_a_layer_can_be_hidden(chromium, signins, tmp_path):
    chart = huntbook.plot.map(signins, layer_column="ResultType")
    page = open_map(chromium, chart, tmp_path)
    box = page.eval("(() => { const r = document.querySelector('.hb-chart canvas').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")
    zoom = page.eval(f"{API}.view()")["zoom"]
    page.page.mouse.move(box[0] + box[2] / 2, box[1] + box[3] / 2)
    page.page.mouse.wheel(0, -100)
    page.hover(box[0] + box[2] / 2, box[1] + box[3] / 2)
    assert page.eval(f"{API}.view()")["zoom"] == zoom + 1
    page.eval(f"{API}.reset()")
    failed = int((signins.ResultType != "0").sum())
    page.page.click(".hb-legend span:nth-of-type(1)")  # layer "0": the successes
    assert int(dataset(page, "points")) == failed
    page.assert_clean()


def test_tiles_are_fetched_only_when_configured(chromium, signins, tmp_path):
    page = open_map(chromium, huntbook.plot.map(signins), tmp_path)
    page.assert_clean()
    assert page.requests == []
    chart = huntbook.plot.map(signins, tiles="https://tiles.example.invalid/{z}/{x}/{y}.png")
    page = open_map(chromium, chart, tmp_path)
    assert page.requests and all(r.startswith("https://tiles.example.invalid/") for r in page.requests)
    zoom = chart.spec["zoom"]
    assert any(r.startswith(f"https://tiles.example.invalid/{zoom}/") for r in page.requests)
