"""The monthly report: the figures as of the 15th of a month, as a spreadsheet, read from the nightly totals.

One report for each dashboard: the nation (with its provinces), a province or prefecture (with its counties), a
county, and a county group (with its member counties on the 15th). Each is scoped as its dashboard is: a division
outside the user's area does not exist for them (404); the nation and the groups span provinces, so only those
who see the whole country (the ministry, administrators) may have them.
"""

import datetime
import io

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from counties.models import CountyGroup
from reports.selectors import Area

from ..access import divisions_visible_to, scope_for
from ..exporting import ReportNotReady, ReportPeriod, monthly_report_workbook
from ..views_jobs import XLSX, _sheet_language

# The months offered, the latest first.
MONTHS_OFFERED = 24


def _last_report_month(today: datetime.date) -> ReportPeriod:
    if today.day > 15:
        return ReportPeriod(today.year, today.month)
    previous = today.replace(day=1) - datetime.timedelta(days=1)
    return ReportPeriod(previous.year, previous.month)


def _months(latest: ReportPeriod) -> list[str]:
    months, period = [], latest
    for _step in range(MONTHS_OFFERED):
        months.append(str(period))
        first = datetime.date(period.year, period.month, 1) - datetime.timedelta(days=1)
        period = ReportPeriod(first.year, first.month)
    return months


def _requested_period(month: str) -> ReportPeriod:
    try:
        year, number = (int(part) for part in month.split("-"))
        period = ReportPeriod(year, number)
        period.day  # noqa: B018 - validates the month
    except ValueError:
        raise Http404 from None
    return period


def _report(request, area: Area, stem: str):
    """The form to choose a month (GET without one), or the month's spreadsheet."""
    latest = _last_report_month(timezone.localdate())
    month = request.GET.get("month", "")
    error = ""
    if month:
        period = _requested_period(month)
        try:
            content = monthly_report_workbook(area, period, language=_sheet_language(request))
        except ReportNotReady as not_ready:
            error = str(not_ready)
        else:
            name = f"monthly-{stem}-{period}.xlsx"
            return FileResponse(io.BytesIO(content), as_attachment=True, filename=name, content_type=XLSX)
    return render(
        request,
        "students/jobs/monthly_report.html",
        {"area": area, "months": _months(latest), "month": month or str(latest), "error": error},
    )


def _whole_country_only(user) -> None:
    # The nation and the county groups span provinces: like their dashboards, they exist only for national users.
    if not scope_for(user).everything:
        raise Http404


@login_required
@require_GET
def monthly_report(request, division_code: str):
    """A county, prefecture or province (with its counties)."""
    division = get_object_or_404(divisions_visible_to(request.user), code=division_code)
    return _report(request, Area.of_division(division), division.code)


@login_required
@require_GET
def monthly_report_national(request):
    """The nation, with its provinces."""
    _whole_country_only(request.user)
    return _report(request, Area.nation(), "national")


@login_required
@require_GET
def monthly_report_group(request, slug: str):
    """A county group, with its member counties on the report's day."""
    _whole_country_only(request.user)
    group = get_object_or_404(CountyGroup, slug=slug)
    return _report(request, Area.of_group(group), group.slug)
