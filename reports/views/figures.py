"""The totals part of a dashboard: headline, trend, ranking, reasons, registered-poor, county groups.

Built from reports.selectors (stored totals only) into charts with their tables, and cached per
totals run: the figures change only when a run publishes new ones.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from counties.models import Level
from students.access import Scope

from .. import charts, selectors
from ..models import DailyTotal, TotalsRun
from ..selectors import Area
from .access import can_open
from .formatting import change_sentence, counter, percent_or_dash

# A run's figures stay cached for a day at most; the next run has a key of its own.
FIGURES_CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ChildRow:
    """One area one level down, with its figures and the address of its own dashboard."""

    name: str
    url: str | None
    figures: DailyTotal


def with_day(url: str, day: datetime.date | None) -> str:
    return f"{url}?{urlencode({'day': day.isoformat()})}" if day else url


def _children_heading(area: Area, rows: list[ChildRow]) -> str:
    if area.level == "nation":
        return _("Provinces")
    levels = {row.figures.division.level for row in rows}
    if levels == {Level.PREFECTURE}:
        return _("Prefectures")
    if levels == {Level.COUNTY} or area.level != Level.PROVINCE:
        return _("Counties")
    return _("Prefectures and counties")


def cached_figures(
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
            url=with_day(reverse("reports:division", args=[row.division.code]), link_day)
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
            "url": with_day(reverse("reports:group", args=[comparison.group.slug]), link_day),
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
