"""Reads for the dashboards.

Figures come from the stored daily totals only: each read is one or two indexed queries on
DailyTotal, whatever the size of the ledger, and never sums counties on a page view. The lists of
cases on the county and school pages read the ledger through the scoping rule (students.access).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from counties.models import CountyGroup, CountyGroupMembership, Division, Level
from students import worklist
from students.access import cases_visible_to
from students.choices import OPEN_STATUSES, Reason
from students.models import DropoutCase, PersuasionVisit

from .models import FIGURE_COLUMNS, REASON_COLUMNS, AreaLevel, DailyTotal, RunStatus, TotalsRun

# The figures a series carries for each day, in this order.
SERIES_FIELDS = ("day", "open_count", "new_count", "returned_count", "open_poor", "baseline_open")

# A case with no persuasion visit for this many days is overdue for a follow-up.
FOLLOW_UP_DAYS = 30


def baseline_date() -> datetime.date:
    """The day the ledger opened: decreases are measured from the open count on this day."""
    value = settings.LEDGER_BASELINE_DATE
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


@dataclass(frozen=True)
class Area:
    """What a dashboard is about: the nation, one division, or one county group.

    A group with `as_of` is held fixed: the counties that were its members on that day, over every day
    shown, summed from their stored county rows (the stored group rows follow the membership day by day).
    """

    level: str
    division: Division | None = None
    group: CountyGroup | None = None
    as_of: datetime.date | None = None

    @classmethod
    def nation(cls) -> "Area":
        return cls(level=AreaLevel.NATION)

    @classmethod
    def of_division(cls, division: Division) -> "Area":
        return cls(level=division.level, division=division)

    @classmethod
    def of_group(cls, group: CountyGroup, as_of: datetime.date | None = None) -> "Area":
        return cls(level=AreaLevel.GROUP, group=group, as_of=as_of)

    @property
    def is_fixed_group(self) -> bool:
        return self.group is not None and self.as_of is not None

    def member_ids(self, day: datetime.date) -> QuerySet:
        """The ids of the group's member counties: those of `as_of` when held fixed, else those of `day`."""
        memberships = CountyGroupMembership.objects.filter(group=self.group).active_on(self.as_of or day)
        return memberships.values("county_id")

    @property
    def name(self) -> str:
        if self.division is not None:
            return self.division.name
        if self.group is not None:
            return self.group.display_name
        return str(_("Nation"))

    @property
    def is_county(self) -> bool:
        return self.level == Level.COUNTY

    @property
    def key(self) -> str:
        """The area in a cache key: a division's id, a group's (with the day it is held at), or the nation."""
        if self.division is not None:
            return str(self.division.pk)
        if self.group is not None:
            return f"g{self.group.pk}:{self.as_of or ''}"
        return "n"

    def totals(self) -> QuerySet[DailyTotal]:
        """This area's rows, through the index that matches it."""
        if self.division is not None:
            return DailyTotal.objects.filter(division=self.division)
        if self.group is not None:
            return DailyTotal.objects.filter(group=self.group)
        return DailyTotal.objects.filter(level=AreaLevel.NATION)


# --- The days that have totals -------------------------------------------------------------------


@dataclass(frozen=True)
class TotalsSpan:
    first: datetime.date | None
    last: datetime.date | None

    @property
    def exists(self) -> bool:
        return self.last is not None

    def resolve(self, requested: datetime.date | None) -> datetime.date | None:
        """The day to show: the requested one kept inside the days that have totals (default: the last)."""
        if self.last is None:
            return None
        if requested is None or requested > self.last:
            return self.last
        return max(requested, self.first)


def totals_span() -> TotalsSpan:
    """The first and last day with national totals (every area is computed for the same days)."""
    span = DailyTotal.objects.filter(level=AreaLevel.NATION).aggregate(first=Min("day"), last=Max("day"))
    return TotalsSpan(first=span["first"], last=span["last"])


def freshness() -> TotalsRun | None:
    """The latest successful totals run, for the 'totals computed at ...' stamp."""
    return (
        TotalsRun.objects.filter(status=RunStatus.SUCCEEDED, finished_at__isnull=False)
        .only("finished_at", "to_day")
        .order_by("-finished_at")
        .first()
    )


# --- One area --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRow:
    """One month of a series: the figures at its last day, and the month's new dropouts and returns."""

    day: datetime.date
    open_count: int
    new_count: int
    returned_count: int
    open_poor: int


@dataclass(frozen=True)
class Series:
    """An area's daily figures as columns, one entry per day, oldest first."""

    days: list[datetime.date]
    open_count: list[int]
    new_count: list[int]
    returned_count: list[int]
    open_poor: list[int]
    baseline_open: list[int]

    def __len__(self) -> int:
        return len(self.days)

    def months(self) -> list[MonthRow]:
        rows, start = [], 0
        days = self.days
        for i, day in enumerate(days):
            if i + 1 == len(days) or days[i + 1].month != day.month:
                rows.append(
                    MonthRow(
                        day=day,
                        open_count=self.open_count[i],
                        new_count=sum(self.new_count[start : i + 1]),
                        returned_count=sum(self.returned_count[start : i + 1]),
                        open_poor=self.open_poor[i],
                    )
                )
                start = i + 1
        return rows


def area_series(area: Area, since: datetime.date, until: datetime.date) -> Series:
    """The area's daily figures from `since` to `until`, one entry for every day.

    County and prefecture rows are stored only for days with something open or moving: a day
    without a row is a day of zeros (against the area's baseline).
    """
    if area.is_fixed_group:
        rows = _fixed_group_series_rows(area, since, until)
    else:
        rows = list(area.totals().filter(day__gte=since, day__lte=until).order_by("day").values_list(*SERIES_FIELDS))
    expected = (until - since).days + 1
    if len(rows) != expected:
        by_day = {row[0]: row for row in rows}
        zeros = (0,) * (len(SERIES_FIELDS) - 2)
        baseline = rows[0][-1] if rows else 0
        days = [since + datetime.timedelta(days=n) for n in range(max(expected, 0))]
        rows = [by_day.get(day) or (day, *zeros, baseline) for day in days]
    if not rows:
        return Series([], [], [], [], [], [])
    return Series(*(list(column) for column in zip(*rows, strict=True)))


def _fixed_group_sums(area: Area, days: Q, columns: tuple[str, ...]) -> dict[datetime.date, dict[str, int]]:
    """The member counties' stored rows summed per day, for the days `days` selects: one query.

    A member without a row on a day had nothing open or moving that day, so the sum over the rows that
    exist is the group's figure.
    """
    rows = (
        DailyTotal.objects.filter(days, level=AreaLevel.COUNTY, division_id__in=area.member_ids(area.as_of))
        .values("day")
        .annotate(**{f"sum_{column}": Sum(column) for column in columns})
        .order_by("day")
    )
    return {row["day"]: {column: row[f"sum_{column}"] or 0 for column in columns} for row in rows}


def _fixed_group_series_rows(area: Area, since: datetime.date, until: datetime.date) -> list[tuple]:
    """SERIES_FIELDS rows of a group held fixed; its baseline is its members' open count on the baseline date."""
    baseline = baseline_date()
    columns = SERIES_FIELDS[1:]
    sums = _fixed_group_sums(area, Q(day__gte=since, day__lte=until) | Q(day=baseline), columns)
    at_baseline = sums.get(baseline, {}).get("baseline_open", 0)
    return [
        (day, *(sums[day][column] for column in columns[:-1]), at_baseline)
        for day in sorted(sums)
        if since <= day <= until
    ]


def _zero_row(area: Area, day: datetime.date, baseline_row: DailyTotal | None) -> DailyTotal:
    """The all-zero figures of a day without a stored row, keeping the area's baseline."""
    return DailyTotal(
        day=day,
        level=area.level,
        division=area.division,
        group=area.group,
        baseline_open=baseline_row.baseline_open if baseline_row else 0,
    )


def area_figures(area: Area, day: datetime.date) -> DailyTotal:
    """The area's figures on `day` (all zeros, with the area's baseline, when no row is stored)."""
    baseline = baseline_date()
    if area.is_fixed_group:
        sums = _fixed_group_sums(area, Q(day__in={day, baseline}), FIGURE_COLUMNS)
        figures = _zero_row(area, day, None)
        for column, value in sums.get(day, {}).items():
            setattr(figures, column, value)
        figures.baseline_open = sums.get(baseline, {}).get("baseline_open", 0)
        return figures
    rows = {row.day: row for row in area.totals().filter(day__in={day, baseline})}
    return rows.get(day) or _zero_row(area, day, rows.get(baseline))


def children_ranked(area: Area, day: datetime.date) -> list[DailyTotal]:
    """The areas one level down with their figures on `day`, most open cases first.

    Provinces for the nation; prefectures (and the counties a province or municipality runs
    directly) for a province; counties for a prefecture; the member counties (as of `day`, or
    of the day it is held fixed on) for a group. Every child is listed, those without a stored row
    with zeros. Two queries: the children, and their rows for `day` and the baseline date.
    """
    if area.level == AreaLevel.NATION:
        children = Division.objects.provinces()
        rows = DailyTotal.objects.filter(level=AreaLevel.PROVINCE)
    elif area.level == AreaLevel.GROUP:
        members = area.member_ids(day)
        children = Division.objects.filter(pk__in=members)
        rows = DailyTotal.objects.filter(level=AreaLevel.COUNTY, division_id__in=members)
    elif area.division is not None and area.level != Level.COUNTY:
        children = Division.objects.filter(parent=area.division)
        rows = DailyTotal.objects.filter(division__parent=area.division)
    else:
        return []
    baseline = baseline_date()
    by_key = {(row.division_id, row.day): row for row in rows.filter(day__in={day, baseline})}
    ranked = []
    for child in children:
        row = by_key.get((child.pk, day)) or _zero_row(Area.of_division(child), day, by_key.get((child.pk, baseline)))
        row.division = child
        ranked.append(row)
    return sorted(ranked, key=lambda row: (-row.open_count, -row.baseline_open, row.division.code))


def counties_within(division: Division, day: datetime.date) -> list[DailyTotal]:
    """Every county of a province or prefecture with its open count on `day` and its baseline, in code order.

    For its map: one query, whatever the number of counties. A county without a row for `day` has nothing
    open, and keeps the baseline of its row for the baseline date.
    """
    rows = DailyTotal.objects.filter(level=AreaLevel.COUNTY, division=OuterRef("pk"))
    today = rows.filter(day=day)
    counties = (
        Division.objects.within(division)
        .counties()
        .annotate(
            open_today=Coalesce(Subquery(today.values("open_count")[:1]), 0),
            baseline_today=Coalesce(
                Subquery(today.values("baseline_open")[:1]),
                Subquery(rows.filter(day=baseline_date()).values("baseline_open")[:1]),
                0,
            ),
        )
        .order_by("code")
    )
    return [
        DailyTotal(
            day=day,
            level=AreaLevel.COUNTY,
            division=county,
            open_count=county.open_today,
            baseline_open=county.baseline_today,
        )
        for county in counties
    ]


# --- County groups against the rest ------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Open now and at the baseline, for a group or for the rest of the country."""

    open_count: int
    baseline_open: int
    open_poor: int = 0

    @property
    def decrease(self) -> int:
        return self.baseline_open - self.open_count

    @property
    def decrease_percent(self) -> float | None:
        if not self.baseline_open:
            return None
        return 100.0 * self.decrease / self.baseline_open

    @property
    def remaining_percent(self) -> float | None:
        """The share of the baseline still open."""
        if not self.baseline_open:
            return None
        return 100.0 * self.open_count / self.baseline_open


@dataclass(frozen=True)
class GroupComparison:
    group: CountyGroup
    inside: Figures
    rest: Figures


def groups_against_rest(nation: DailyTotal, day: datetime.date) -> list[GroupComparison]:
    """Each county group's figures on `day` beside the rest of the country (the nation minus the group)."""
    rows = DailyTotal.objects.filter(level=AreaLevel.GROUP, day=day).select_related("group").order_by("group__slug")
    comparisons = []
    for row in rows:
        comparisons.append(
            GroupComparison(
                group=row.group,
                inside=Figures(row.open_count, row.baseline_open, row.open_poor),
                rest=Figures(
                    nation.open_count - row.open_count,
                    nation.baseline_open - row.baseline_open,
                    nation.open_poor - row.open_poor,
                ),
            )
        )
    return comparisons


def reasons(figures: DailyTotal) -> list[tuple[str, str, int]]:
    """(reason, label, open cases) for the area's row, largest first; read from the row itself."""
    counts = [(reason.value, str(reason.label), getattr(figures, REASON_COLUMNS[reason.value])) for reason in Reason]
    return sorted(counts, key=lambda item: -item[2])


def poor_baseline(series: Series) -> int | None:
    """Registered-poor open cases on the day the ledger opened (the first day of the series)."""
    if not series or series.days[0] != baseline_date():
        return None
    return series.open_poor[0]


# --- The ledger, for the county and school pages -------------------------------------------------


def _latest_visit(field_name: str):
    return Subquery(
        PersuasionVisit.objects.filter(case=OuterRef("pk")).order_by("-visit_date", "-pk").values(field_name)[:1]
    )


def county_open_cases(user, county: Division) -> QuerySet[DropoutCase]:
    """The county's open cases that the user may see (served by the partial index on open cases)."""
    return cases_visible_to(user).filter(county=county, status__in=OPEN_STATUSES)


def open_by_school(user, county: Division) -> list[dict]:
    """Open cases per school, most first: [{"school_id", "school__name", "school__code", "count"}]."""
    return list(
        county_open_cases(user, county)
        .values("school_id", "school__name", "school__code")
        .annotate(count=Count("pk"))
        .order_by("-count", "school__code")
    )


def open_by_reason(user, county: Division) -> list[tuple[str, str, int]]:
    """Open cases per reason, largest first, live from the ledger."""
    counts = dict(county_open_cases(user, county).values_list("reason").annotate(count=Count("pk")))
    rows = [(reason.value, str(reason.label), counts.get(reason.value, 0)) for reason in Reason]
    return sorted(rows, key=lambda item: -item[2])


def overdue_follow_up(user, county: Division, today: datetime.date) -> QuerySet[DropoutCase]:
    """Open cases on the ledger for more than 30 days with no persuasion visit in the last 30 days,
    longest waiting first."""
    since = today - datetime.timedelta(FOLLOW_UP_DAYS)
    recent = PersuasionVisit.objects.filter(case=OuterRef("pk"), visit_date__gt=since)
    return (
        county_open_cases(user, county)
        .filter(~Exists(recent), dropout_date__lte=since)
        .annotate(last_visit=_latest_visit("visit_date"))
        .select_related("student", "school")
        .order_by(F("last_visit").asc(nulls_first=True), "dropout_date", "pk")
    )


def returned_between(user, county: Division, start: datetime.date, end: datetime.date) -> QuerySet[DropoutCase]:
    """Cases in the county whose child returned to school between `start` and `end` (inclusive)."""
    return (
        cases_visible_to(user)
        .filter(county=county, returned_on__gte=start, returned_on__lte=end)
        .select_related("student", "school")
        .order_by("-returned_on", "-pk")
    )


def retention_checks_due(cases: QuerySet[DropoutCase], today: datetime.date) -> QuerySet[DropoutCase]:
    """Returned children due a retention check, as the work lists count them (students.worklist: 30 and 90 days
    after the return, listed for a while after the due date, not for a return long ago); `retention_check` is
    the days of the latest check due."""
    return worklist.retention_checks_due(cases, today).select_related("student", "school")


def school_counts(user, school, today: datetime.date) -> dict:
    """The school's open cases, those never visited, and those overdue a visit (a follow-up date passed, or none
    set and no visit in FOLLOW_UP_DAYS days), as reports.views.school.next_step tells them: one query."""
    since = today - datetime.timedelta(FOLLOW_UP_DAYS)
    return (
        school_cases(user, school)
        .order_by()
        .aggregate(
            open=Count("pk"),
            first_visit=Count("pk", filter=Q(last_visit__isnull=True)),
            overdue=Count(
                "pk",
                filter=Q(next_follow_up__lt=today) | Q(next_follow_up__isnull=True, last_visit__lte=since),
            ),
        )
    )


def school_cases(user, school) -> QuerySet[DropoutCase]:
    """The school's open cases with what the page needs to say what each needs next."""
    return (
        cases_visible_to(user)
        .filter(school=school, status__in=OPEN_STATUSES)
        .annotate(last_visit=_latest_visit("visit_date"), next_follow_up=_latest_visit("next_follow_up"))
        .select_related("student")
        .order_by("dropout_date", "pk")
    )


# --- The monthly report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodFigures:
    """An area's figures at the end of a period's last day, and what moved during the period."""

    area: Area
    open_count: int
    new_count: int
    returned_count: int
    closed_count: int
    open_poor: int
    reasons: dict[str, int]


def _row_key(division_id: int | None, group_id: int | None) -> tuple:
    if division_id is not None:
        return ("division", division_id)
    if group_id is not None:
        return ("group", group_id)
    return ("nation", None)


def _area_key(area: Area) -> tuple:
    return _row_key(area.division.pk if area.division else None, area.group.pk if area.group else None)


def totals_cover(area: Area, start: datetime.date, end: datetime.date) -> bool:
    """Whether the totals have been computed for every day from `start` to `end`.

    The nation, provinces and groups have a row for every computed day (see DailyTotal); a prefecture or a
    county is read from its province's rows, since its own are missing on days without anything open.
    """
    if area.division is not None:
        rows = DailyTotal.objects.filter(division_id=area.division.province_id or area.division.pk)
    else:
        rows = area.totals()
    return rows.filter(day__gte=start, day__lte=end).count() == (end - start).days + 1


def period_figures(areas: list[Area], start: datetime.date, end: datetime.date) -> list[PeriodFigures]:
    """Each area's figures at the end of `end`, with its new dropouts, returns and other closures from `start`
    to `end` (inclusive), in the order given. Two queries, whatever the number of areas; an area without a
    row on a day had nothing open or moving that day (zeros)."""
    which = Q(pk__in=[])
    divisions = [area.division.pk for area in areas if area.division is not None]
    groups = [area.group.pk for area in areas if area.group is not None]
    if divisions:
        which |= Q(division_id__in=divisions)
    if groups:
        which |= Q(group_id__in=groups)
    if any(area.level == AreaLevel.NATION for area in areas):
        which |= Q(level=AreaLevel.NATION)
    rows = DailyTotal.objects.filter(which)
    on_day = {_row_key(row.division_id, row.group_id): row for row in rows.filter(day=end)}
    flows = {
        _row_key(flow["division_id"], flow["group_id"]): flow
        for flow in rows.filter(day__gte=start, day__lte=end)
        .values("division_id", "group_id")
        .annotate(new=Sum("new_count"), returned=Sum("returned_count"), closed=Sum("closed_count"))
        .order_by()
    }
    figures = []
    for area in areas:
        key = _area_key(area)
        total = on_day.get(key)
        flow = flows.get(key, {})
        figures.append(
            PeriodFigures(
                area=area,
                open_count=total.open_count if total else 0,
                new_count=flow.get("new") or 0,
                returned_count=flow.get("returned") or 0,
                closed_count=flow.get("closed") or 0,
                open_poor=total.open_poor if total else 0,
                reasons={reason: getattr(total, column) if total else 0 for reason, column in REASON_COLUMNS.items()},
            )
        )
    return figures
