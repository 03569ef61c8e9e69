"""The totals part of a dashboard: headline, trend, ranking, reasons, registered-poor, county groups.

Built from reports.selectors (stored totals only) into charts with their tables, and cached per
totals run: the figures change only when a run publishes new ones.
"""

import dataclasses
import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.cache import cache
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from counties.models import Level
from students.access import Scope

from .. import charts, selectors
from ..forms import TrendView
from ..models import DailyTotal, TotalsRun
from ..selectors import Area
from .access import can_open
from .formatting import change_sentence, counter, percent_or_dash
from .maps import area_map
from .trend import TrendLine, area_label, export_meta, overlay_lines

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


def figures_key(
    area: Area,
    scope: Scope,
    span: selectors.TotalsSpan,
    day: datetime.date,
    link_day,
    run: TotalsRun | None,
    view: TrendView | None = None,
) -> str | None:
    """The cache key of an area's figures as `scope` sees them, or None where they must not be cached.

    Totals change only when a run publishes new ones, and each run has its own key, so nothing is ever served
    from an older night. Rows written without a recorded run have no key.
    """
    if run is None:
        return None
    since = _since(span, view)
    area_key = area.division.pk if area.division else (f"g{area.group.pk}" if area.group else "n")
    scope_key = (
        "all"
        if scope.everything
        else f"{scope.division.pk if scope.division else ''}-{scope.school.pk if scope.school else ''}"
    )
    return ":".join(
        str(part)
        for part in (
            "dashboard",
            _run_stamp(run),
            span.first,
            span.last,
            area_key,
            day,
            link_day,
            get_language(),
            scope_key,
            since,
            area.as_of,
            "|".join(view.overlays) if view else "",
            view.measure if view else "",
        )
    )


def cached_span(run: TotalsRun | None) -> selectors.TotalsSpan:
    """The days with totals, read once per totals run: only a run's publication changes them (as `figures_key`)."""
    if run is None:
        return selectors.totals_span()
    return cache.get_or_set(f"totals-span:{_run_stamp(run)}", selectors.totals_span, FIGURES_CACHE_SECONDS)


def _run_stamp(run: TotalsRun) -> str:
    """What tells one totals run's publication from any other, in a cache key."""
    return f"{run.pk}:{run.finished_at.timestamp()}"


def _since(span: selectors.TotalsSpan, view: TrendView | None) -> datetime.date:
    return view.since if view else max(selectors.baseline_date(), span.first)


def cached_figures(
    area: Area,
    scope: Scope,
    span: selectors.TotalsSpan,
    day: datetime.date,
    link_day,
    run: TotalsRun | None,
    view: TrendView | None = None,
) -> dict:
    """The totals part of the page, computed once per totals run (`figures_key`).

    `view` is the trend's range and the lines drawn beside it (reports.forms); without one, the trend starts
    at the baseline.
    """
    key = figures_key(area, scope, span, day, link_day, run, view)
    figures = cache.get(key) if key else None
    if figures is None:
        figures = _figures_context(area, scope, _since(span, view), day, link_day, view, run)
        if key:
            cache.set(key, figures, FIGURES_CACHE_SECONDS)
    return figures


def _figures_context(
    area: Area,
    scope: Scope,
    since: datetime.date,
    day: datetime.date,
    link_day: datetime.date | None,
    view: TrendView | None = None,
    run: TotalsRun | None = None,
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
    if poor_baseline is None and since > selectors.baseline_date():
        # A range that starts later still measures the registered-poor against the day the ledger opened.
        poor_baseline = selectors.area_figures(area, selectors.baseline_date()).open_poor or None
    own = TrendLine(area_label(area), series)
    lines = overlay_lines(view) if view and view.overlays else []
    share = bool(view and view.share)
    context = {
        "figures": figures,
        "headline": change_sentence(figures.open_count, figures.baseline_open),
        "series": series,
        "children": rows,
        "children_heading": _children_heading(area, rows),
        "poor_headline": change_sentence(figures.open_poor, poor_baseline),
        "reasons": reasons,
        "trend_lines": [own, *lines],
        "trend_chart": charts.trend(
            "chart-trend",
            _trend_title(since, day, share),
            series.days,
            own.shares() if share else series.open_count,
            name=own.name if lines else open_label,
            overlays=[
                charts.Line(line.name, line.series.days, line.shares() if share else line.series.open_count)
                for line in lines
            ],
            percent=share,
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
    context["area_map"] = area_map(area, scope, day, link_day, rows)
    _add_exports(context, area, since, day, run, share)
    return context


def _trend_title(since: datetime.date, day: datetime.date, share: bool) -> str:
    if share:
        return _("Open dropouts each day as a percent of the baseline, from %(start)s to %(end)s") % {
            "start": date_format(since, "DATE_FORMAT"),
            "end": date_format(day, "DATE_FORMAT"),
        }
    if since <= selectors.baseline_date():
        return _("Open dropouts each day since the ledger opened")
    return _("Open dropouts each day from %(start)s to %(end)s") % {
        "start": date_format(since, "DATE_FORMAT"),
        "end": date_format(day, "DATE_FORMAT"),
    }


# Each chart's name in the file names of its PNG and CSV; the trends carry the range, the others their day.
CHART_FILE_NAMES = {
    "trend_chart": ("", True),
    "poor_chart": ("registered-poor", True),
    "reasons_chart": ("reasons", False),
    "children_chart": ("areas", False),
    "groups_chart": ("groups", False),
}


def _add_exports(
    context: dict, area: Area, since: datetime.date, day: datetime.date, run: TotalsRun | None, share: bool
) -> None:
    # The trend's title on the page names its range; in a saved image the range under the title says it, and
    # says it right when the chart was zoomed in.
    trend = _("Open dropouts each day as a percent of the baseline") if share else _("Open dropouts each day")
    titles = {"trend_chart": trend}
    for key, (name, ranged) in CHART_FILE_NAMES.items():
        chart = context.get(key)
        if chart is not None:
            title = titles.get(key, chart.title)
            meta = export_meta(area, title, name, since if ranged else None, day, run)
            context[key] = dataclasses.replace(chart, export=meta)


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
                item["comparison"].group.display_name,
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
        [(c.group.display_name, c.inside.remaining_percent, c.rest.remaining_percent) for c in comparisons],
        table=table,
    )
    return {"groups": groups, "groups_chart": chart}
