"""The national, province, prefecture, county and county-group dashboards: one template, one shape.

Every figure comes from the stored daily totals (reports.selectors); only the county page adds lists
read from the live ledger, through the scoping rule.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from counties.models import CountyGroup, Division, Level
from students.access import Scope, divisions_visible_to, scope_for

from .. import charts, selectors
from ..models import DailyTotal
from ..selectors import Area
from .assets import plotly_js_url
from .county import county_ledger
from .formatting import change_sentence


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str | None


@dataclass(frozen=True)
class ChildRow:
    """One area one level down, with its figures and the address of its own dashboard."""

    name: str
    url: str | None
    figures: DailyTotal


@dataclass(frozen=True)
class MonthRow:
    """The trend's table view: one row per month, the open count at its last day with totals."""

    day: datetime.date
    open_count: int
    new_count: int
    returned_count: int
    open_poor: int


def can_open(scope: Scope, division: Division) -> bool:
    """Whether the user's dashboard scope includes `division` (the rule of divisions_visible_to, without a query)."""
    if scope.everything:
        return True
    if scope.school is not None:
        return division.pk == scope.school.county_id
    if scope.division is None:
        return False
    if scope.division.level == Level.PROVINCE:
        return division.province_id == scope.division.pk
    if scope.division.level == Level.PREFECTURE:
        return division.prefecture_id == scope.division.pk
    return division.pk == scope.division.pk


def _requested_day(request) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return None


def _with_day(url: str, day: datetime.date | None) -> str:
    return f"{url}?{urlencode({'day': day.isoformat()})}" if day else url


@login_required
@require_safe
def national(request):
    scope = scope_for(request.user)
    if not scope.everything:
        raise Http404
    return _dashboard(request, Area.nation(), scope)


@login_required
@require_safe
def division(request, code: str):
    # Outside the user's area the dashboard does not exist: 404, like a code that is not on the list.
    place = get_object_or_404(divisions_visible_to(request.user).select_related("province", "prefecture"), code=code)
    scope = scope_for(request.user)
    return _dashboard(request, Area.of_division(place), scope)


@login_required
@require_safe
def group(request, slug: str):
    # A group spans provinces: only those who see the whole country may open it.
    scope = scope_for(request.user)
    if not scope.everything:
        raise Http404
    county_group = get_object_or_404(CountyGroup, slug=slug)
    return _dashboard(request, Area.of_group(county_group), scope)


def _crumbs(area: Area, scope: Scope, day: datetime.date | None) -> list[Crumb]:
    """The way back up: the nation, then the province and prefecture above a division."""
    if area.level == "nation":
        return []
    crumbs = [Crumb(_("Nation"), _with_day(reverse("reports:national"), day) if scope.everything else None)]
    place = area.division
    if place is not None:
        for ancestor in (place.province, place.prefecture):
            if ancestor is not None and ancestor.pk != place.pk:
                url = reverse("reports:division", args=[ancestor.code]) if can_open(scope, ancestor) else None
                crumbs.append(Crumb(ancestor.name, _with_day(url, day) if url else None))
    return crumbs


def _children_heading(area: Area, rows: list[ChildRow]) -> str:
    if area.level == "nation":
        return _("Provinces")
    levels = {row.figures.division.level for row in rows}
    if levels == {Level.PREFECTURE}:
        return _("Prefectures")
    if levels == {Level.COUNTY} or area.level != Level.PROVINCE:
        return _("Counties")
    return _("Prefectures and counties")


def _month_rows(series: list[selectors.SeriesPoint]) -> list[MonthRow]:
    months: dict[tuple[int, int], MonthRow] = {}
    for point in series:
        key = (point.day.year, point.day.month)
        before = months.get(key)
        months[key] = MonthRow(
            day=point.day,
            open_count=point.open_count,
            new_count=point.new_count + (before.new_count if before else 0),
            returned_count=point.returned_count + (before.returned_count if before else 0),
            open_poor=point.open_poor,
        )
    return list(months.values())


def _dashboard(request, area: Area, scope: Scope):
    requested = _requested_day(request)
    span = selectors.totals_span()
    day = span.resolve(requested)
    # Links keep the chosen day only when the user chose one; otherwise they follow the latest totals.
    link_day = day if requested is not None else None
    context = {
        "area": area,
        "scope": scope,
        "crumbs": _crumbs(area, scope, link_day),
        "span": span,
        "day": day,
        "requested_day": requested,
        "run": selectors.freshness(),
        "baseline_date": selectors.baseline_date(),
        "plotly_url": plotly_js_url(),
    }
    if day is not None:
        since = max(selectors.baseline_date(), span.first)
        context.update(_figures_context(area, scope, since, day, link_day))
    if area.is_county:
        context["ledger"] = county_ledger(request.user, scope, area.division, timezone.localdate())
    return render(request, "reports/dashboard.html", context)


def _figures_context(
    area: Area, scope: Scope, since: datetime.date, day: datetime.date, link_day: datetime.date | None
) -> dict:
    series = selectors.area_series(area, since, day)
    figures = selectors.area_figures(area, day)
    rows = [
        ChildRow(
            name=row.division.name,
            url=_with_day(reverse("reports:division", args=[row.division.code]), link_day)
            if can_open(scope, row.division)
            else None,
            figures=row,
        )
        for row in selectors.children_ranked(area, day)
    ]
    open_label = _("Open dropouts")
    context = {
        "figures": figures,
        "headline": change_sentence(figures.open_count, figures.baseline_open),
        "series": series,
        "months": _month_rows(series),
        "children": rows,
        "children_heading": _children_heading(area, rows),
        "reasons": selectors.reasons(figures),
        "trend_chart": charts.trend(
            "chart-trend",
            _("Open dropouts each day since the ledger opened"),
            [point.day for point in series],
            [point.open_count for point in series],
            name=open_label,
        ),
    }
    if rows:
        context["children_chart"] = charts.ranked_bars(
            "chart-children",
            context["children_heading"],
            [(row.name, row.figures.open_count, row.url or "") for row in rows],
            name=open_label,
        )
    context["reasons_chart"] = charts.ranked_bars(
        "chart-reasons",
        _("Open dropouts by reason"),
        [(label, count, "") for _value, label, count in context["reasons"]],
        name=open_label,
    )
    poor_baseline = selectors.poor_baseline(series)
    context["poor"] = {
        "open": figures.open_poor,
        "baseline": poor_baseline,
        "headline": change_sentence(figures.open_poor, poor_baseline),
    }
    context["poor_chart"] = charts.trend(
        "chart-poor",
        _("Open dropouts from registered-poor households each day"),
        [point.day for point in series],
        [point.open_poor for point in series],
        name=_("Registered-poor"),
        color=charts.BLUE,
    )
    if area.level == "nation":
        comparisons = selectors.groups_against_rest(figures, day)
        context["groups"] = [
            {
                "comparison": comparison,
                "url": _with_day(reverse("reports:group", args=[comparison.group.slug]), link_day),
                "headline": change_sentence(comparison.inside.open_count, comparison.inside.baseline_open),
                "rest_headline": change_sentence(comparison.rest.open_count, comparison.rest.baseline_open),
            }
            for comparison in comparisons
        ]
        if comparisons:
            context["groups_chart"] = charts.group_comparison(
                "chart-groups",
                _("Still open, as a share of the open ledger when it was set up"),
                [(c.group.name, c.inside.remaining_percent, c.rest.remaining_percent) for c in comparisons],
            )
    return context
