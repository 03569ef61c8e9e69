"""Each dashboard chart's figures as a CSV file: the same area, range and lines as the page that links to it.

The file is opened through the page's own scoping (dashboards.national_area, division_area, group_area), so a
user gets it only where they get the page: out of scope is the same 404. It holds the stored totals the chart
draws, aggregates of areas and days only: no child's data reaches it, so the disclosure rule
(students.disclosure) has nothing to mask here. Cells go through students.spreadsheets, like every file the
product writes, so that no area or group name runs as a formula.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from students.spreadsheets import csv_lines

from ..selectors import Area
from .dashboards import dashboard_figures, division_area, group_area, national_area


@login_required
@require_safe
def national_csv(request):
    return _chart_csv(request, *national_area(request))


@login_required
@require_safe
def division_csv(request, code: str):
    return _chart_csv(request, *division_area(request, code))


@login_required
@require_safe
def group_csv(request, slug: str):
    return _chart_csv(request, *group_area(request, slug))


def _percent(value: float | None) -> float | str:
    return "" if value is None else value


def _trend(context: dict) -> tuple[list[str], list[list]]:
    own, *others = context["trend_lines"]
    series = own.series
    header = [
        _("Day"),
        _("%(area)s: open") % {"area": own.name},
        _("%(area)s: open at baseline") % {"area": own.name},
        _("%(area)s: percent of the baseline still open") % {"area": own.name},
        _("%(area)s: new dropouts") % {"area": own.name},
        _("%(area)s: returned to school") % {"area": own.name},
        _("%(area)s: registered-poor open") % {"area": own.name},
    ]
    columns = [
        series.open_count,
        series.baseline_open,
        [_percent(v) for v in own.shares()],
        series.new_count,
        series.returned_count,
        series.open_poor,
    ]
    for line in others:
        header += [
            _("%(area)s: open") % {"area": line.name},
            _("%(area)s: open at baseline") % {"area": line.name},
            _("%(area)s: percent of the baseline still open") % {"area": line.name},
        ]
        # Every line covers the same days, one entry each (selectors.area_series).
        columns += [line.series.open_count, line.series.baseline_open, [_percent(v) for v in line.shares()]]
    rows = [[day, *(column[i] for column in columns)] for i, day in enumerate(series.days)]
    return header, rows


def _poor(context: dict) -> tuple[list[str], list[list]]:
    series = context["series"]
    return [_("Day"), _("Registered-poor open")], [list(row) for row in zip(series.days, series.open_poor, strict=True)]


def _reasons(context: dict) -> tuple[list[str], list[list]]:
    day = context["day"]
    return [_("Day"), _("Reason"), _("Open")], [[day, label, n] for _value, label, n in context["reasons"]]


def _children(context: dict) -> tuple[list[str], list[list]]:
    day = context["day"]
    header = [_("Day"), _("Code"), _("Area"), _("Open"), _("At baseline"), _("Decrease (%)"), _("Registered-poor")]
    rows = []
    for row in context["children"]:
        figures = row.figures
        decrease = figures.decrease_percent
        rows.append(
            [
                day,
                row.figures.division.code,
                row.name,
                figures.open_count,
                figures.baseline_open,
                "" if decrease is None else round(decrease, 2),
                figures.open_poor,
            ]
        )
    return header, rows


def _groups(context: dict) -> tuple[list[str], list[list]]:
    day = context["day"]
    header = [
        _("Day"),
        _("Group"),
        _("Open in the group"),
        _("Open in the group at baseline"),
        _("Open in the rest"),
        _("Open in the rest at baseline"),
    ]
    rows = [
        [
            day,
            item["comparison"].group.display_name,
            item["comparison"].inside.open_count,
            item["comparison"].inside.baseline_open,
            item["comparison"].rest.open_count,
            item["comparison"].rest.baseline_open,
        ]
        for item in context["groups"]
    ]
    return header, rows


# Each chart's id, the context key of its chart, and how its figures are written.
CHARTS = {
    "chart-trend": ("trend_chart", _trend),
    "chart-poor": ("poor_chart", _poor),
    "chart-reasons": ("reasons_chart", _reasons),
    "chart-children": ("children_chart", _children),
    "chart-groups": ("groups_chart", _groups),
}


def _chart_csv(request, area: Area, scope):
    chart_id = request.GET.get("chart", "chart-trend")
    if chart_id not in CHARTS:
        raise Http404
    context = dashboard_figures(request, area, scope)
    key, write = CHARTS[chart_id]
    chart = context.get(key)
    if chart is None:
        raise Http404  # the page draws no such chart (no totals yet, or none of its kind here)
    header, rows = write(context)
    filename = chart.export["filename"]
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response
