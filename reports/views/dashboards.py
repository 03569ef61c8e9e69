"""The national, province, prefecture, county and county-group dashboards: one template, one shape.

Every figure comes from the stored daily totals (reports.selectors); only the county page adds lists
read from the live ledger, through the scoping rule.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from counties.models import CountyGroup, Division, Level
from students.access import Scope, divisions_visible_to, scope_for

from .. import charts, selectors
from ..models import DailyTotal, TotalsRun
from ..selectors import Area
from ..views_runs import can_manage_totals
from .assets import plotly_js_url
from .county import county_ledger
from .formatting import change_sentence, counter, percent_or_dash

# A run's figures stay cached for a day at most; the next run has a key of its own.
FIGURES_CACHE_SECONDS = 24 * 3600


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
        "runs_url": reverse("reports:runs") if can_manage_totals(request.user) else None,
    }
    if day is not None:
        context.update(_cached_figures(area, scope, span, day, link_day, context["run"]))
    if area.is_county:
        context["ledger"] = county_ledger(request.user, scope, area.division, timezone.localdate())
    return render(request, "reports/dashboard.html", context)


def _cached_figures(
    area: Area, scope: Scope, span: selectors.TotalsSpan, day: datetime.date, link_day, run: TotalsRun | None
) -> dict:
    """The totals part of the page, computed once per totals run.

    Totals change only when a run publishes new ones, and each run has its own key, so a page is never
    served from an older night. Rows written without a recorded run are never cached.
    """
    since = max(selectors.baseline_date(), span.first)
    if run is None:
        return _figures_context(area, scope, since, day, link_day)
    area_key = area.division.pk if area.division else (f"g{area.group.pk}" if area.group else "n")
    scope_key = (
        "all"
        if scope.everything
        else f"{scope.division.pk if scope.division else ''}-{scope.school.pk if scope.school else ''}"
    )
    key = ":".join(
        str(part)
        for part in (
            "dashboard",
            run.pk,
            run.finished_at.timestamp(),
            span.first,
            span.last,
            area_key,
            day,
            link_day,
            get_language(),
            scope_key,
        )
    )
    figures = cache.get(key)
    if figures is None:
        figures = _figures_context(area, scope, since, day, link_day)
        cache.set(key, figures, FIGURES_CACHE_SECONDS)
    return figures


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
    count = counter()
    months = series.months()
    reasons = selectors.reasons(figures)
    open_label = _("Open dropouts")
    poor_label = _("Registered-poor open")
    poor_baseline = selectors.poor_baseline(series)
    context = {
        "figures": figures,
        "headline": change_sentence(figures.open_count, figures.baseline_open),
        "series": series,
        "children": rows,
        "children_heading": _children_heading(area, rows),
        "poor_headline": change_sentence(figures.open_poor, poor_baseline),
        "trend_chart": charts.trend(
            "chart-trend",
            _("Open dropouts each day since the ledger opened"),
            series.days,
            series.open_count,
            name=open_label,
            table=charts.table(
                [_("Day"), _("Open"), _("New dropouts in the month"), _("Returned in the month"), poor_label],
                [
                    (
                        m.day.isoformat(),
                        "",
                        [count(m.open_count), count(m.new_count), count(m.returned_count), count(m.open_poor)],
                    )
                    for m in months
                ],
                caption=_("Open dropouts at the end of each month (the last month up to the chosen day)"),
            ),
        ),
        "reasons_chart": charts.ranked_bars(
            "chart-reasons",
            _("Open dropouts by reason"),
            [(label, n, "") for _value, label, n in reasons],
            name=open_label,
            table=charts.table([_("Reason"), _("Open")], [(label, "", [count(n)]) for _value, label, n in reasons]),
        ),
        "poor_chart": charts.trend(
            "chart-poor",
            _("Open dropouts from registered-poor households each day"),
            series.days,
            series.open_poor,
            name=_("Registered-poor"),
            color=charts.BLUE,
            table=charts.table([_("Day"), poor_label], [(m.day.isoformat(), "", [count(m.open_poor)]) for m in months]),
        ),
    }
    if rows:
        context["children_chart"] = charts.ranked_bars(
            "chart-children",
            context["children_heading"],
            [(row.name, row.figures.open_count, row.url or "") for row in rows],
            name=open_label,
            table=charts.table(
                [_("Area"), _("Open"), _("At baseline"), _("Decrease"), _("Registered-poor")],
                [
                    (
                        row.name,
                        row.url or "",
                        [
                            count(row.figures.open_count),
                            count(row.figures.baseline_open),
                            percent_or_dash(row.figures.decrease_percent),
                            count(row.figures.open_poor),
                        ],
                    )
                    for row in rows
                ],
                css="ranked",
            ),
        )
    if area.level == "nation":
        context.update(_groups_context(figures, day, link_day, count))
    return context


def _groups_context(nation: DailyTotal, day: datetime.date, link_day: datetime.date | None, count) -> dict:
    comparisons = selectors.groups_against_rest(nation, day)
    if not comparisons:
        return {}
    groups = [
        {
            "comparison": comparison,
            "url": _with_day(reverse("reports:group", args=[comparison.group.slug]), link_day),
            "headline": change_sentence(comparison.inside.open_count, comparison.inside.baseline_open),
            "rest_headline": change_sentence(comparison.rest.open_count, comparison.rest.baseline_open),
        }
        for comparison in comparisons
    ]
    at_baseline = _("At baseline")
    table = charts.table(
        [
            _("Group"),
            _("Open in the group"),
            at_baseline,
            _("Decrease"),
            _("Open in the rest"),
            at_baseline,
            _("Decrease"),
        ],
        [
            (
                item["comparison"].group.name,
                item["url"],
                [
                    count(item["comparison"].inside.open_count),
                    count(item["comparison"].inside.baseline_open),
                    percent_or_dash(item["comparison"].inside.decrease_percent),
                    count(item["comparison"].rest.open_count),
                    count(item["comparison"].rest.baseline_open),
                    percent_or_dash(item["comparison"].rest.decrease_percent),
                ],
            )
            for item in groups
        ],
    )
    chart = charts.group_comparison(
        "chart-groups",
        _("Still open, as a share of the open ledger when it was set up"),
        [(c.group.name, c.inside.remaining_percent, c.rest.remaining_percent) for c in comparisons],
        table=table,
    )
    return {"groups": groups, "groups_chart": chart}
