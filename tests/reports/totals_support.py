"""A small ledger built through the services, and its totals computed case by case in Python."""

import datetime
from collections import defaultdict

from django.utils import timezone

from counties.models import CountyGroup, CountyGroupMembership, Division
from reports.models import FIGURE_COLUMNS, AreaLevel, DailyTotal
from students.choices import Placement, Reason, Status, VisitMethod, VisitOutcome
from students.models import ClosureReason, DropoutCase
from students.services import case_change_status, case_mark_returned, case_reopen_on_relapse, visit_record
from tests.factories import StudentFactory, open_case

DAY = datetime.timedelta(days=1)
ACTIVITY = ("new_count", "returned_count", "closed_count")


def days_between(first: datetime.date, last: datetime.date):
    day = first
    while day <= last:
        yield day
        day += DAY


def build_ledger(area: dict, baseline: datetime.date) -> dict:
    """Cases of every kind around the baseline date: open throughout, returned, closed, relapsed,
    struck off on the day they opened, returned on the baseline day, opened today; and a county group
    whose membership changes."""
    today = timezone.localdate()
    b = baseline
    school, other, neighbour, far = area["school"], area["other_school"], area["neighbour_school"], area["far_school"]
    cases = {}
    cases["open_throughout"] = open_case(
        school,
        student=StudentFactory(gender="M", registered_poor=True),
        dropout_date=b - 10 * DAY,
        grade=3,
        reason=Reason.POVERTY,
    )
    cases["returned"] = open_case(
        school, student=StudentFactory(left_behind="one"), dropout_date=b - 5 * DAY, grade=8, reason=Reason.WORK
    )
    case_mark_returned(case=cases["returned"], returned_on=b + 3 * DAY, placement=Placement.REGULAR_CLASS)
    case_change_status(case=cases["returned"], to_status=Status.RETAINED, effective_date=b + 20 * DAY)

    cases["closed"] = open_case(
        neighbour, student=StudentFactory(disability="visual"), dropout_date=b + 2 * DAY, reason=Reason.ILLNESS
    )
    visit_record(
        case=cases["closed"],
        visit_date=b + 4 * DAY,
        visitors=[{"role": "principal", "name": "Wang"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
    )
    case_change_status(
        case=cases["closed"],
        to_status=Status.CLOSED,
        effective_date=b + 10 * DAY,
        closure_reason=ClosureReason.objects.get_or_create(code="moved_away", defaults={"name": "迁出本县"})[0],
    )

    cases["relapsed"] = open_case(
        far, student=StudentFactory(gender="M", left_behind="both"), dropout_date=b + DAY, grade=5
    )
    case_mark_returned(case=cases["relapsed"], returned_on=b + 6 * DAY, placement=Placement.SEPARATE_CLASS)
    cases["relapse"] = case_reopen_on_relapse(
        case=cases["relapsed"], dropout_date=b + 12 * DAY, reason=Reason.MARRIAGE, grade=9
    )

    cases["same_day"] = open_case(other, dropout_date=b + 5 * DAY, reason=Reason.LEARNING)
    case_mark_returned(case=cases["same_day"], returned_on=b + 5 * DAY, placement=Placement.REGULAR_CLASS)

    cases["before_baseline"] = open_case(other, dropout_date=b - 20 * DAY, reason=Reason.DISTANCE)
    case_mark_returned(case=cases["before_baseline"], returned_on=b - 15 * DAY, placement=Placement.VOCATIONAL)

    cases["returned_on_baseline"] = open_case(neighbour, dropout_date=b - 3 * DAY, reason=Reason.RELIGION, grade=1)
    case_mark_returned(case=cases["returned_on_baseline"], returned_on=b, placement=Placement.HOME_DELIVERED)

    cases["opened_today"] = open_case(
        neighbour, student=StudentFactory(gender="M"), dropout_date=today, reason=Reason.OTHER, grade=7
    )
    cases["recent"] = open_case(far, dropout_date=today - 2 * DAY, reason=Reason.DISTANCE, grade=2)

    group = CountyGroup.objects.create(slug="watched", name="Watched counties")
    CountyGroupMembership.objects.create(
        group=group, county=area["county"], valid_from=b - 100 * DAY, valid_to=b + 8 * DAY
    )
    CountyGroupMembership.objects.create(group=group, county=area["far"], valid_from=b + 5 * DAY)
    return {"cases": cases, "group": group}


def expected_county_rows(first: datetime.date, last: datetime.date, baseline: datetime.date, county_of=None) -> dict:
    """(county_id, day) -> figures, from every case, day by day; only county-days with something.

    `county_of(case, day)` names the county holding a case on a day (a handed-over case moves); by default
    the case's own county.
    """
    county_of = county_of or (lambda case, day: case.county_id)
    rows: dict = {}
    cases = list(DropoutCase.objects.select_related("student"))

    def is_open(case, day):
        return case.dropout_date <= day and (case.struck_off_on is None or case.struck_off_on > day)

    baselines: dict[int, int] = defaultdict(int)
    for case in cases:
        if is_open(case, baseline):
            baselines[county_of(case, baseline)] += 1
    for day in days_between(first, last):
        per_county: dict[int, dict] = defaultdict(lambda: dict.fromkeys(FIGURE_COLUMNS, 0))
        for case in cases:
            figures = per_county[county_of(case, day)]
            if case.dropout_date == day:
                figures["new_count"] += 1
            if case.struck_off_on == day:
                if case.returned_on is not None:
                    figures["returned_count"] += 1
                else:
                    figures["closed_count"] += 1
            if is_open(case, day):
                student = case.student
                figures["open_count"] += 1
                figures["open_male"] += student.gender == "M"
                figures["open_female"] += student.gender == "F"
                figures["open_primary"] += case.grade <= 6
                figures["open_junior"] += case.grade >= 7
                figures["open_poor"] += student.registered_poor
                figures["open_left_behind"] += bool(student.left_behind)
                figures["open_disabled"] += bool(student.disability)
                figures[f"open_reason_{case.reason}"] += 1
        for county_id, figures in per_county.items():
            if figures["open_count"] or any(figures[name] for name in ACTIVITY):
                figures["baseline_open"] = baselines[county_id]
                rows[(county_id, day)] = figures
    return rows


def stored_rows(level: str, first=None, last=None) -> dict:
    """(division or group id, day) -> figures, as published."""
    rows = DailyTotal.objects.filter(level=level)
    if first:
        rows = rows.filter(day__gte=first)
    if last:
        rows = rows.filter(day__lte=last)
    return {
        (row["division_id"] or row["group_id"], row["day"]): {name: row[name] for name in FIGURE_COLUMNS}
        for row in rows.values("division_id", "group_id", "day", *FIGURE_COLUMNS)
    }


def summed(county_rows: dict, area_of, baselines_of=None) -> dict:
    """Sum county rows into areas: area_of(county_id, day) -> iterable of area ids."""
    out: dict = defaultdict(lambda: dict.fromkeys(FIGURE_COLUMNS, 0))
    for (county_id, day), figures in county_rows.items():
        for area_id in area_of(county_id, day):
            target = out[(area_id, day)]
            for name in FIGURE_COLUMNS:
                if name != "baseline_open":
                    target[name] += figures[name]
    return out


def county_parents() -> dict[int, Division]:
    return {d.pk: d for d in Division.objects.filter(level="county")}


def all_rows_snapshot() -> list[tuple]:
    """Every published row with its id, for comparing two runs."""
    return list(
        DailyTotal.objects.order_by("level", "division_id", "group_id", "day").values_list(
            "id", "level", "division_id", "group_id", "day", *FIGURE_COLUMNS
        )
    )


def nation_open(day: datetime.date) -> int | None:
    row = DailyTotal.objects.filter(level=AreaLevel.NATION, day=day).first()
    return row.open_count if row else None
