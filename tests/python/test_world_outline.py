"""The world outline the map chart draws offline (crates/huntbook-vis/assets/world.json)
and the script that writes it from Natural Earth's TopoJSON (scripts/world-outline.py).

Areas are measured in Lambert's cylindrical equal-area projection (x = longitude in
radians, y = sine of latitude): it maps the unit sphere's area exactly onto the plane
(the area element cos(lat) dlat dlon is d(sin lat) dlon), so a ring's shoelace area there
is its area on the sphere, up to the difference between straight edges in that plane and
the true edges, which is negligible for edges a degree or two long. The whole sphere is
then 2 pi x 2 = 4 pi.
"""

import importlib.util
import json
import math
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ASSET = ROOT / "crates" / "huntbook-vis" / "assets" / "world.json"


def load_script():
    spec = importlib.util.spec_from_file_location("world_outline", ROOT / "scripts" / "world-outline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def decode(asset: dict) -> list[list[tuple[float, float]]]:
    """The rings as (lon, lat) degrees, undoing the delta encoding."""
    scale = asset["scale"]
    rings = []
    for ring in asset["rings"]:
        assert len(ring) % 2 == 0 and all(isinstance(v, int) for v in ring)
        x = y = 0
        points = []
        for dx, dy in zip(ring[0::2], ring[1::2]):
            x += dx
            y += dy
            points.append((x / scale, y / scale))
        rings.append(points)
    return rings


def sphere_fraction(ring: list[tuple[float, float]]) -> float:
    """The ring's signed share of the sphere's surface (positive when counter-clockwise)."""
    xy = [(math.radians(lon), math.sin(math.radians(lat))) for lon, lat in ring]
    twice = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(xy, xy[1:] + xy[:1]))
    return twice / 2 / (4 * math.pi)


def winding(rings, lons: np.ndarray, lat: float) -> np.ndarray:
    """Winding numbers of the points (lons, lat) around all rings together: with
    exteriors counter-clockwise and holes clockwise, 1 on land and 0 at sea."""
    total = np.zeros(len(lons), dtype=int)
    for ring in rings:
        a = np.array(ring)
        b = np.roll(a, -1, axis=0)
        up = (a[:, 1] <= lat) & (b[:, 1] > lat)
        down = (b[:, 1] <= lat) & (a[:, 1] > lat)
        # Which side of each edge a point is on: > 0 means left of a->b.
        side = (b[:, 0] - a[:, 0])[None, :] * (lat - a[:, 1])[None, :] - (lons[:, None] - a[:, 0][None, :]) * (
            b[:, 1] - a[:, 1]
        )[None, :]
        total += ((up[None, :] & (side > 0)).sum(axis=1) - (down[None, :] & (side < 0)).sum(axis=1)).astype(int)
    return total


@pytest.fixture(scope="module")
def asset() -> dict:
    return json.loads(ASSET.read_text())


@pytest.fixture(scope="module")
def rings(asset) -> list[list[tuple[float, float]]]:
    return decode(asset)


def test_the_file_is_small_and_says_where_it_comes_from(asset):
    assert ASSET.stat().st_size < 60_000
    assert "Natural Earth" in asset["source"] and "public domain" in asset["source"]
    assert asset["scale"] == 100


def test_every_point_is_a_longitude_and_latitude(rings):
    assert len(rings) > 100  # 1:110m land has 127 polygons
    for ring in rings:
        assert len(ring) >= 3
        assert ring[0] != ring[-1], "rings are closed implicitly"
        for lon, lat in ring:
            assert -180 <= lon <= 180 and -90 <= lat <= 90, (lon, lat)


def test_land_covers_about_29_percent_of_the_globe(rings):
    # Land is 148.9 of Earth's 510.1 million km2: 29.2%. 1:110m drops the small islands
    # and smooths coasts, and the data is drawn on a sphere rather than the ellipsoid;
    # both move the figure by well under a point. Losing Antarctica (2.7%) or Australia
    # (1.5%), or closing Antarctica round the wrong pole (~90%), falls outside.
    land = sum(sphere_fraction(ring) for ring in rings)
    assert 0.280 <= land <= 0.300, land


def test_the_only_hole_is_the_caspian_sea(rings):
    holes = [ring for ring in rings if sphere_fraction(ring) < 0]
    assert len(holes) == 1
    lons = [p[0] for p in holes[0]]
    lats = [p[1] for p in holes[0]]
    assert 46 < min(lons) < max(lons) < 56 and 36 < min(lats) < max(lats) < 48
    # 371,000 km2 of 510.1 million, give or take the generalisation.
    assert 0.0006 < -sphere_fraction(holes[0]) < 0.0009


@pytest.mark.parametrize(
    ("lon", "lat", "land"),
    [
        (2.35, 48.86, True),  # Paris
        (10.0, 23.0, True),  # Sahara
        (146.0, -33.0, True),  # New South Wales
        (-50.0, -10.0, True),  # Brazil
        (-40.0, 72.0, True),  # Greenland
        (0.0, -89.5, True),  # the South Pole: Antarctica closed along -90
        (179.95, -89.0, True),  # ... to both edges of the map
        (-179.95, -89.0, True),
        (-172.0, 66.5, True),  # Chukotka, east of the antimeridian
        (179.5, 67.5, True),  # Chukotka, west of it
        (178.0, -17.8, True),  # Viti Levu, Fiji
        (-30.0, 30.0, False),  # North Atlantic
        (-150.0, 0.0, False),  # Pacific
        (80.0, -20.0, False),  # Indian Ocean
        (18.0, 35.0, False),  # Mediterranean
        (51.0, 42.0, False),  # the Caspian Sea, inside Eurasia
        (0.0, 89.5, False),  # the North Pole
    ],
)
def test_known_places_are_land_or_sea(rings, lon, lat, land):
    assert winding(rings, np.array([lon]), lat)[0] == int(land)


def test_rings_neither_overlap_nor_turn_the_wrong_way(rings):
    # On a 3-degree grid every point is inside at most one ring; a ring left clockwise,
    # a duplicated ring or a stray piece from the antimeridian cut would show as -1 or 2.
    # The grid's cos-weighted land share also checks the shoelace figure independently.
    lons = np.arange(-178.5, 180, 3.0)
    inside = weight = 0.0
    for lat in np.arange(-88.5, 90, 3.0):
        w = winding(rings, lons, lat)
        assert set(np.unique(w)) <= {0, 1}, (lat, np.unique(w))
        inside += w.sum() * math.cos(math.radians(lat))
        weight += len(lons) * math.cos(math.radians(lat))
    shoelace = sum(sphere_fraction(ring) for ring in rings)
    assert abs(inside / weight - shoelace) < 0.01


def square_topology(coords: list[tuple[float, float]]) -> dict:
    """A one-polygon TopoJSON with absolute coordinates (no transform)."""
    return {
        "type": "Topology",
        "arcs": [[list(p) for p in coords]],
        "objects": {"land": {"type": "GeometryCollection", "geometries": [{"type": "Polygon", "arcs": [[0]]}]}},
    }


def test_the_script_cuts_a_ring_crossing_the_antimeridian():
    script = load_script()
    # Clockwise (the topology's convention for exteriors), from 170E across 180 to 170W.
    square = [(170, 10), (170, 20), (-170, 20), (-170, 10), (170, 10)]
    rings = decode(script.outline(square_topology(square)))
    assert len(rings) == 2
    boxes = sorted((min(p[0] for p in r), max(p[0] for p in r), min(p[1] for p in r), max(p[1] for p in r)) for r in rings)
    assert boxes == [(-180, -170, 10, 20), (170, 180, 10, 20)]
    assert all(sphere_fraction(r) > 0 for r in rings), "exteriors come out counter-clockwise"


def test_the_script_closes_a_ring_round_the_south_pole_and_decodes_quantised_arcs():
    script = load_script()
    # Eastward along 80S every 30 degrees: clockwise round the south pole seen from
    # outside, so the land is south of it. Stored quantised, as world-atlas does: one
    # unit is 1 degree of longitude and 0.5 of latitude, translated by (-180, -90).
    lons = list(range(-180, 181, 30))
    quantised = [(lon + 180, 20) for lon in lons]
    deltas = [quantised[0]] + [(b[0] - a[0], b[1] - a[1]) for a, b in zip(quantised, quantised[1:])]
    topology = square_topology(deltas)
    topology["transform"] = {"scale": [1, 0.5], "translate": [-180, -90]}
    (ring,) = decode(script.outline(topology))
    assert min(p[1] for p in ring) == -90 and max(p[1] for p in ring) == -80
    assert {p[0] for p in ring} >= {-180, 180}
    # The cap below 80S is 2 pi (1 - sin 80) of the sphere's 4 pi; edges along a
    # parallel are straight in the equal-area plane, so the figure is exact.
    assert sphere_fraction(ring) == pytest.approx((1 - math.sin(math.radians(80))) / 2, rel=1e-9)

