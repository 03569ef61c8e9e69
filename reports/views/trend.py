"""The trend of a dashboard: its range, its presets, and the areas drawn beside the page's own.

What may be drawn beside an area follows the dashboards' scope: the nation and the county groups for those who
see the whole country (as their pages do), and the provinces the user may open. Each line is a stored series
(reports.selectors.area_series): a group held fixed "as of" a day is summed from its members' county rows.
"""

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import F, Value
from django.http import QueryDict
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from counties.models import CountyGroup, Division, Level
from students.access import Scope

from .. import selectors
from ..forms import Preset, TrendForm, TrendView, preset_start
from ..models import TotalsRun
from ..selectors import Area, Series

NATION = "nation"
PROVINCE = "province:"
GROUP = "group:"


@dataclass(frozen=True)
class TrendLine:
    """One area's series on the trend, under the name its legend and CSV columns give it."""

    name: str
    series: Series

    def shares(self) -> list[float | None]:
        """Each day's open count as a percent of that day's baseline (None without a baseline)."""
        return [
            round(100.0 * value / baseline, 2) if baseline else None
            for value, baseline in zip(self.series.open_count, self.series.baseline_open, strict=True)
        ]


# The provinces and groups offered as lines are read at most once in this many seconds (they change with the
# lists of divisions and groups, not with the ledger).
OVERLAY_ROWS_SECONDS = 600


def _overlay_rows() -> list[tuple[str, str, str, str]]:
    """Provinces and groups in one query: (kind, code or slug, name, English name)."""
    provinces = (
        Division.objects.provinces()
        .annotate(line_kind=Value(PROVINCE), en=Value(""))
        .values_list("line_kind", "code", "name", "en")
    )
    groups = CountyGroup.objects.annotate(line_kind=Value(GROUP), en=F("name_en")).values_list(
        "line_kind", "slug", "name", "en"
    )
    return list(provinces.union(groups, all=True).order_by("line_kind", "code"))


def overlay_choices(scope: Scope) -> list[tuple[str, str]]:
    """What the user may draw beside a dashboard's own line: (value, label)."""
    if scope.everything:
        rows = cache.get_or_set("overlay-rows", _overlay_rows, OVERLAY_ROWS_SECONDS)
        choices = [(NATION, _("Nation"))]
        choices += [(f"{kind}{key}", name) for kind, key, name, _en in rows if kind == PROVINCE]
        choices += [
            (f"{kind}{key}", CountyGroup(name=name, name_en=en).display_name)
            for kind, key, name, en in rows
            if kind == GROUP
        ]
        return choices
    # Below the nation, the only province a user may open is their own.
    if scope.division is not None and scope.division.level == Level.PROVINCE:
        return [(f"{PROVINCE}{scope.division.code}", scope.division.name)]
    return []


def _value_of(area: Area) -> str:
    if area.division is not None:
        return f"{PROVINCE}{area.division.code}"
    if area.group is not None:
        return f"{GROUP}{area.group.slug}"
    return NATION


def trend_form(request, span: selectors.TotalsSpan, scope: Scope, area: Area) -> TrendForm:
    """The range and lines asked for; the page's own area is not offered again beside itself."""
    first = max(selectors.baseline_date(), span.first) if span.exists else selectors.baseline_date()
    own = _value_of(area)
    choices = [(value, label) for value, label in overlay_choices(scope) if value != own]
    return TrendForm(request.GET, span=span, first=first, overlay_choices=choices)


def area_label(area: Area) -> str:
    if area.is_fixed_group:
        return _("%(group)s (members on %(day)s)") % {"group": area.name, "day": area.as_of.isoformat()}
    return area.name


def area_slug(area: Area) -> str:
    """The area as it is written in a file name: national, a division's code, a group's short name."""
    if area.division is not None:
        return area.division.code
    if area.group is not None:
        return f"{area.group.slug}-{area.as_of.isoformat()}" if area.is_fixed_group else area.group.slug
    return "national"


def figures_csv_url(area: Area) -> str:
    """Where the CSV files of the area's charts are served (figures_csv), scoped as its page is."""
    if area.division is not None:
        return reverse("reports:division-csv", args=[area.division.code])
    if area.group is not None:
        return reverse("reports:group-csv", args=[area.group.slug])
    return reverse("reports:national-csv")


def overlay_areas(values: tuple[str, ...], as_of: datetime.date | None) -> list[Area]:
    """The areas the chosen values name, in the order chosen (values the form has checked against the scope)."""
    codes = [value.removeprefix(PROVINCE) for value in values if value.startswith(PROVINCE)]
    slugs = [value.removeprefix(GROUP) for value in values if value.startswith(GROUP)]
    provinces = {p.code: p for p in Division.objects.provinces().filter(code__in=codes)} if codes else {}
    groups = {g.slug: g for g in CountyGroup.objects.filter(slug__in=slugs)} if slugs else {}
    areas = []
    for value in values:
        if value == NATION:
            areas.append(Area.nation())
        elif value.startswith(PROVINCE) and value.removeprefix(PROVINCE) in provinces:
            areas.append(Area.of_division(provinces[value.removeprefix(PROVINCE)]))
        elif value.startswith(GROUP) and value.removeprefix(GROUP) in groups:
            areas.append(Area.of_group(groups[value.removeprefix(GROUP)], as_of))
    return areas


def overlay_lines(view: TrendView) -> list[TrendLine]:
    """The series of each area drawn beside the page's own: one query each."""
    return [
        TrendLine(area_label(area), selectors.area_series(area, view.since, view.day))
        for area in overlay_areas(view.overlays, view.as_of)
    ]


def preset_links(request, view: TrendView, first: datetime.date) -> list[dict]:
    """The range presets as links that keep everything else the page was asked for."""
    links = []
    for preset in Preset:
        since = preset_start(preset, view.day, first)
        query = request.GET.copy()
        query["from"] = since.isoformat()
        links.append(
            {
                "label": preset.label,
                "url": f"?{query.urlencode()}",
                "current": since == view.since,
            }
        )
    return links


def query_without(request, *names: str) -> str:
    query: QueryDict = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def source_line(run: TotalsRun | None) -> str:
    if run is None:
        return _("Source: national dropout ledger")
    at = formats.date_format(timezone.localtime(run.finished_at), "DATETIME_FORMAT")
    return _("Source: national dropout ledger, computed %(time)s") % {"time": at}


def export_meta(
    area: Area, title: str, name: str, since: datetime.date | None, day: datetime.date, run: TotalsRun | None
) -> dict:
    """What a chart's saved PNG carries: file name, title with the area, the range or day, and the source."""
    period = f"{since.isoformat()} – {day.isoformat()}" if since else day.isoformat()
    dates = f"{since.isoformat()}-{day.isoformat()}" if since else day.isoformat()
    stem = "-".join(part for part in ("dropouts", area_slug(area), name) if part)
    meta = {
        "filename": f"{stem}-{dates}",
        "title": f"{title} · {area_label(area)}",
        "subtitle": period,
        "source": source_line(run),
    }
    if since:
        # A trend zoomed in is saved with the days in view instead (dashboard.js).
        meta["stem"] = stem
    return meta


def overlay_options(form: TrendForm, view: TrendView) -> dict:
    """The choices of lines to draw, grouped as the page lays them out, each marked when chosen."""
    chosen = set(view.overlays)
    options = {"nation": [], "provinces": [], "groups": []}
    for value, label in form.fields["overlay"].choices:
        kind = "nation" if value == NATION else ("provinces" if value.startswith(PROVINCE) else "groups")
        options[kind].append({"value": value, "label": label, "chosen": value in chosen})
    return options
