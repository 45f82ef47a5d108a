#!/usr/bin/env python3
"""Writes crates/huntbook-vis/assets/world.json, the world outline the map chart draws
offline (no tiles, no network), from Natural Earth's 1:110m land polygons.

Where the data comes from: Natural Earth (public domain) publishes the land polygons;
the npm package `world-atlas` (ISC licence) redistributes them as TopoJSON in the file
`land-110m.json`. To regenerate the asset, from the repository root:

    tmp=$(mktemp -d) && (cd "$tmp" && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz)
    python3 scripts/world-outline.py "$tmp/package/land-110m.json"

What it writes: one JSON object,

    {"source": "...", "scale": 100, "format": "...", "rings": [[x0, y0, dx1, dy1, ...], ...]}

Each ring is a list of integers: the first point in units of 1/scale degree (longitude
east, latitude north), then each next point as the difference from the one before. A
ring is closed implicitly (its first point is not repeated). Exterior rings run
counter-clockwise and holes (the Caspian Sea) clockwise, so a canvas filled with the
non-zero rule, or a winding-number test, gets land right with no further structure.

Why the geometry is reworked rather than copied: the TopoJSON is spherical. Rings that
cross the antimeridian jump from +180 to -180, and Antarctica's ring goes round the south
pole without ever reaching it. A flat (equirectangular) drawing needs plane polygons, so
each ring is unrolled to continuous longitudes, a ring that circles a pole is closed
along that pole's parallel, and the result is cut at +-180 into pieces that each lie
within [-180, 180].
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "crates" / "huntbook-vis" / "assets" / "world.json"
SCALE = 100  # points quantised to 0.01 degree: about 1 km, far below 1:110m's detail
SOURCE = "Natural Earth 1:110m land (public domain), via the world-atlas 2.0.2 TopoJSON"
FORMAT = (
    "rings: [x0, y0, dx1, dy1, ...] integers in 1/scale degree (longitude east, latitude "
    "north), each point after the first as a difference from the previous one; closed "
    "implicitly; exterior rings counter-clockwise, holes clockwise"
)

Point = tuple[float, float]


def decode_arcs(topology: dict) -> list[list[Point]]:
    """The topology's arcs as absolute (lon, lat) points: a quantised topology stores
    each arc as integer deltas to be scaled and translated by its transform."""
    transform = topology.get("transform")
    if transform is None:
        return [[(float(x), float(y)) for x, y, *_ in arc] for arc in topology["arcs"]]
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy, *_ in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def stitch(arcs: list[list[Point]], indexes: list[int]) -> list[Point]:
    """One ring from its arc indexes (a negative index ~i is arc i reversed). Each arc
    starts where the previous one ended, so that shared point is kept once."""
    ring: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(arc if not ring else arc[1:])
    return ring


def polygons(topology: dict, name: str) -> list[list[list[Point]]]:
    """The object's polygons, each a list of rings (the exterior first, then holes)."""
    if name not in topology.get("objects", {}):
        raise ValueError(f"the topology has no object {name!r}; it has {sorted(topology.get('objects', {}))}")
    arcs = decode_arcs(topology)
    obj = topology["objects"][name]
    geometries = obj["geometries"] if obj["type"] == "GeometryCollection" else [obj]
    out = []
    for geometry in geometries:
        if geometry["type"] == "Polygon":
            parts = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            parts = geometry["arcs"]
        else:
            raise ValueError(f"object {name!r} holds a {geometry['type']}: only polygons make an outline")
        out.extend([[stitch(arcs, ring) for ring in polygon] for polygon in parts])
    return out


def unroll(ring: list[Point]) -> list[Point]:
    """The ring with longitudes made continuous: a step of more than 180 degrees is the
    short way across the antimeridian, so it is taken as such (+-360)."""
    out = [ring[0]]
    for lon, lat in ring[1:]:
        prev = out[-1][0]
        lon += 360.0 * round((prev - lon) / 360.0)
        out.append((lon, lat))
    return out


def close_round_pole(ring: list[Point], exterior: bool) -> list[Point]:
    """A ring whose unrolled longitudes end a full turn from where they start circles a
    pole. Its inside is on the right of travel for an exterior ring (the topology's
    rings are clockwise on the sphere) and on the left for a hole; that side's pole
    closes it, along the pole's parallel."""
    turn = ring[-1][0] - ring[0][0]
    if abs(turn) < 180.0:
        return ring
    eastward = turn > 0
    pole = -90.0 if eastward == exterior else 90.0
    return ring + [(ring[-1][0], pole), (ring[0][0], pole)]


def clip(ring: list[Point], keep, cross) -> list[Point]:
    """Sutherland-Hodgman against one half-plane: `keep(p)` says a point is inside and
    `cross(a, b)` gives where segment a-b meets the boundary."""
    out: list[Point] = []
    for i, cur in enumerate(ring):
        prev = ring[i - 1]
        if keep(cur):
            if not keep(prev):
                out.append(cross(prev, cur))
            out.append(cur)
        elif keep(prev):
            out.append(cross(prev, cur))
    return out


def at_lon(lon: float):
    """The crossing of a segment with the meridian `lon` (never called on a segment
    parallel to it: clip only asks when the two ends are on opposite sides)."""

    def cross(a: Point, b: Point) -> Point:
        t = (lon - a[0]) / (b[0] - a[0])
        return (lon, a[1] + t * (b[1] - a[1]))

    return cross


def split_at_antimeridian(ring: list[Point]) -> list[list[Point]]:
    """The pieces of an unrolled ring in each 360-degree band, shifted into [-180, 180]."""
    lons = [p[0] for p in ring]
    first = math.floor((min(lons) + 180.0) / 360.0)
    last = math.floor((max(lons) + 180.0) / 360.0)
    pieces = []
    for band in range(first, last + 1):
        lo, hi = band * 360.0 - 180.0, band * 360.0 + 180.0
        piece = clip(ring, lambda p: p[0] >= lo, at_lon(lo))
        piece = clip(piece, lambda p: p[0] <= hi, at_lon(hi))
        if piece:
            pieces.append([(lon - band * 360.0, lat) for lon, lat in piece])
    return pieces


def signed_area(points: list[tuple[int, int]]) -> int:
    """Twice the shoelace area: positive for a counter-clockwise ring."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]))


def quantise(ring: list[Point], exterior: bool) -> list[tuple[int, int]] | None:
    """The ring on the 1/SCALE-degree grid, repeated points dropped, turned to the
    output's orientation; None when nothing with an area is left."""
    points: list[tuple[int, int]] = []
    for lon, lat in ring:
        p = (round(lon * SCALE), round(lat * SCALE))
        if not points or p != points[-1]:
            points.append(p)
    while len(points) > 1 and points[-1] == points[0]:
        points.pop()
    area = signed_area(points) if len(points) >= 3 else 0
    if area == 0:
        return None
    return points if (area > 0) == exterior else points[::-1]


def delta_encode(points: list[tuple[int, int]]) -> list[int]:
    out = [points[0][0], points[0][1]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        out += [x1 - x0, y1 - y0]
    return out


def outline(topology: dict, name: str = "land") -> dict:
    """The asset's JSON object for the topology's polygon object `name`."""
    rings = []
    for polygon in polygons(topology, name):
        for position, ring in enumerate(polygon):
            exterior = position == 0
            plane = close_round_pole(unroll(ring), exterior)
            for piece in split_at_antimeridian(plane):
                points = quantise(piece, exterior)
                if points is not None:
                    rings.append(delta_encode(points))
    return {"source": SOURCE, "scale": SCALE, "format": FORMAT, "rings": rings}


def dump(asset: dict) -> str:
    """Compact JSON with one ring a line, so a regenerated file diffs readably."""
    head = {k: v for k, v in asset.items() if k != "rings"}
    lines = [json.dumps(ring, separators=(",", ":")) for ring in asset["rings"]]
    return json.dumps(head, separators=(",", ":"))[:-1] + ',"rings":[\n' + ",\n".join(lines) + "\n]}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("topojson", type=pathlib.Path, help="land-110m.json from the world-atlas npm package")
    parser.add_argument("-o", "--output", type=pathlib.Path, default=DEFAULT_OUT, help="where to write (default: %(default)s)")
    parser.add_argument("--object", default="land", help="the topology object to convert (default: %(default)s)")
    args = parser.parse_args()
    try:
        asset = outline(json.loads(args.topojson.read_text()), args.object)
    except ValueError as error:
        raise SystemExit(f"{args.topojson}: {error}") from None
    text = dump(asset)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    points = sum(len(r) // 2 for r in asset["rings"])
    print(f"{args.output}: {len(asset['rings'])} rings, {points} points, {len(text)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
