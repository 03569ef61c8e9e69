"""The daily totals as series, from the stored totals (reports.selectors), for the areas the user may open on the
dashboards (reports.views.access): never summed from the live ledger on a request."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from counties.models import CountyGroup, Division, Level
from reports.models import AreaLevel, DailyTotal
from reports.selectors import Area, area_series, counties_within, freshness, totals_span
from reports.views.access import can_open
from students.access import scope_for

from ..serializers import CountyTotalsSerializer, TotalsSeriesSerializer, place
from .base import LedgerView
from .places import date_param

# A series covers at most this many days in one request (ten years of days).
MAX_DAYS = 3700
DEFAULT_DAYS = 30
SERIES_FIGURES = ("open_count", "new_count", "returned_count", "open_poor", "baseline_open")


def _area(request, scope) -> Area:
    code = request.query_params.get("area", "").strip()
    slug = request.query_params.get("group", "").strip()
    if code and slug:
        raise exceptions.ValidationError({"group": [_("Ask for an area or a group, not both.")]})
    if slug:
        if not scope.everything:
            raise exceptions.NotFound(_("Not found: it does not exist, or it is outside your area."))
        group = get_object_or_404(CountyGroup, slug=slug)
        return Area.of_group(group, date_param(request, "as_of"))
    if code:
        division = get_object_or_404(Division.objects.select_related("province", "prefecture"), code=code)
        if not can_open(scope, division):
            raise exceptions.NotFound(_("Not found: it does not exist, or it is outside your area."))
        return Area.of_division(division)
    if scope.everything:
        return Area.nation()
    own = scope.school.county if scope.school is not None else scope.division
    if own is None:
        raise exceptions.NotFound(_("Not found: it does not exist, or it is outside your area."))
    return Area.of_division(own)


def _computed_at():
    run = freshness()
    return run.finished_at.isoformat() if run else None


def _range(request) -> tuple[datetime.date, datetime.date]:
    span = totals_span()
    last = span.last or timezone.localdate()
    until = date_param(request, "until", last)
    since = date_param(request, "since", until - datetime.timedelta(days=DEFAULT_DAYS))
    if since > until:
        raise exceptions.ValidationError(
            {"since": [_("The first date is after the second one: put the earlier date first.")]}
        )
    if (until - since).days >= MAX_DAYS:
        raise exceptions.ValidationError({"since": [_("A series covers at most %(days)d days.") % {"days": MAX_DAYS}]})
    return since, until


SERIES_EXAMPLE = OpenApiExample(
    "Rangtang County, two days · 壤塘县，两天",
    value={
        "area": {"kind": "division", "code": "513230", "name": "壤塘县", "as_of": None},
        "since": "2026-11-29",
        "until": "2026-11-30",
        "computed_at": "2026-12-01T01:12:40+08:00",
        "days": [
            {
                "day": "2026-11-29",
                "open_count": 4,
                "new_count": 0,
                "returned_count": 1,
                "open_poor": 1,
                "baseline_open": 37,
            },
            {
                "day": "2026-11-30",
                "open_count": 4,
                "new_count": 0,
                "returned_count": 0,
                "open_poor": 1,
                "baseline_open": 37,
            },
        ],
    },
    response_only=True,
)


class TotalsSeries(LedgerView):
    @extend_schema(
        summary="Daily totals · 每日统计",
        description=(
            "An area's (or a county group's) figures for every day of a range, from the totals computed each "
            "night, with when they were computed. Default: your own area, the last 30 days.\n\n"
            "某地区（或县组）在日期范围内每天的数字，来自每晚计算的统计，并注明计算时间。默认：您的地区、最近 30 天。"
        ),
        parameters=[
            OpenApiParameter("area", OpenApiTypes.STR, description="A division's code · 行政区划代码"),
            OpenApiParameter("group", OpenApiTypes.STR, description="A county group's short name · 县组简称"),
            OpenApiParameter(
                "as_of", OpenApiTypes.DATE, description="Hold a group's members of this day · 固定某日成员"
            ),
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE),
        ],
        examples=[SERIES_EXAMPLE],
        responses=TotalsSeriesSerializer,
    )
    def get(self, request):
        area = _area(request, scope_for(request.user))
        since, until = _range(request)
        series = area_series(area, since, until)
        days = [
            {"day": day.isoformat(), **{name: getattr(series, name)[n] for name in SERIES_FIGURES}}
            for n, day in enumerate(series.days)
        ]
        if area.group is not None:
            shown = {"kind": "group", "code": area.group.slug, "name": area.name}
        elif area.division is not None:
            shown = {"kind": "division", "code": area.division.code, "name": area.name}
        else:
            shown = {"kind": "nation", "code": None, "name": area.name}
        shown["as_of"] = area.as_of.isoformat() if area.as_of else None
        return Response(
            {
                "area": shown,
                "since": since.isoformat(),
                "until": until.isoformat(),
                "computed_at": _computed_at(),
                "days": days,
            }
        )


class CountyTotals(LedgerView):
    @extend_schema(
        summary="Each county's totals on a day · 各县某日统计",
        description=(
            "Every county of a province or prefecture (default: your own area) on one day (default: the last "
            "computed day).\n\n某省或某市（默认：您的地区）每个县在某一天（默认：最近计算日）的数字。"
        ),
        parameters=[
            OpenApiParameter("within", OpenApiTypes.STR, description="A province's or prefecture's code · 省市代码"),
            OpenApiParameter("day", OpenApiTypes.DATE),
        ],
        responses=CountyTotalsSerializer,
    )
    def get(self, request):
        scope = scope_for(request.user)
        code = request.query_params.get("within", "").strip()
        if code:
            within = get_object_or_404(Division.objects.exclude(level=Level.COUNTY), code=code)
            if not can_open(scope, within):
                raise exceptions.NotFound(_("Not found: it does not exist, or it is outside your area."))
        elif scope.division is not None and scope.division.level != Level.COUNTY:
            within = scope.division
        else:
            raise exceptions.ValidationError({"within": [_("Name the province or prefecture.")]})
        day = date_param(request, "day", totals_span().last or timezone.localdate())
        counties = counties_within(within, day)
        stored = {
            row.division_id: row
            for row in DailyTotal.objects.filter(
                level=AreaLevel.COUNTY, day=day, division_id__in=[c.division_id for c in counties]
            ).only("division_id", "new_count", "returned_count", "open_poor")
        }
        rows = []
        for county in counties:
            row = stored.get(county.division_id)
            rows.append(
                {
                    "county": place(county.division),
                    "day": day.isoformat(),
                    "open_count": county.open_count,
                    "new_count": row.new_count if row else 0,
                    "returned_count": row.returned_count if row else 0,
                    "open_poor": row.open_poor if row else 0,
                    "baseline_open": county.baseline_open,
                }
            )
        return Response(
            {"within": place(within), "day": day.isoformat(), "computed_at": _computed_at(), "counties": rows}
        )
