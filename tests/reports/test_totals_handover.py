"""Cases handed over between counties count in the county that held them on each day, and only there.

The old county holds a case up to the day before the handover, the new one from the handover date on; the
nation counts the child once every day. Every statement that computes totals (the range, the single night,
the plain reference statement, the check against the events) is compared with a count made case by case.
"""

import datetime
from collections import defaultdict

import pytest
from django.db import connection
from django.utils import timezone

from bench import totals_sql
from reports.models import FIGURE_COLUMNS, AreaLevel, DailyTotal
from reports.services import sql
from reports.services.checks import compare_day
from reports.services.runs import recompute
from students.choices import HandoverReason, Placement, Reason, Status
from students.handover import handover_accept, handover_request
from students.models import ClosureReason, DropoutCase, Handover
from students.services import case_change_status, case_mark_returned
from tests.factories import StudentFactory, open_case

from .totals_support import DAY, county_parents, days_between, stored_rows, summed
from .totals_support import expected_county_rows as support_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_changes_margin(settings):
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 0


@pytest.fixture
def baseline(settings):
    day = timezone.localdate() - datetime.timedelta(days=40)
    settings.LEDGER_BASELINE_DATE = day.isoformat()
    return day


def hand_over(case: DropoutCase, school, day: datetime.date) -> Handover:
    """The holding county asks, the receiving county accepts with `school`, effective `day`."""
    case.refresh_from_db()
    handover = handover_request(case=case, to_county=school.county, reason=HandoverReason.MOVED_WITH_PARENTS)
    return handover_accept(handover=handover, to_school=school, handed_over_on=day)


@pytest.fixture
def ledger(area, baseline):
    """Handovers of every shape, across provinces (the far county is in another province) and within one."""
    b = baseline
    school, neighbour, far = area["school"], area["neighbour_school"], area["far_school"]
    cases = {}
    # Far county -> home county, across provinces; then back in school in the home county.
    cases["across"] = open_case(far, student=StudentFactory(gender="M"), dropout_date=b - 30 * DAY, grade=4)
    hand_over(cases["across"], school, b + 10 * DAY)
    case_mark_returned(case=cases["across"], returned_on=b + 20 * DAY, placement=Placement.REGULAR_CLASS)
    # Home county -> far county, still open; handed over before the baseline.
    cases["before_baseline"] = open_case(school, dropout_date=b - 20 * DAY, reason=Reason.WORK, grade=8)
    hand_over(cases["before_baseline"], far, b - 5 * DAY)
    # Handed over on the day it dropped out: a new dropout of the receiving county.
    cases["same_day"] = open_case(neighbour, dropout_date=b + 7 * DAY, reason=Reason.DISTANCE)
    hand_over(cases["same_day"], far, b + 7 * DAY)
    # Handed on twice: far -> neighbour -> home, and struck off on the second handover's day.
    cases["twice"] = open_case(far, student=StudentFactory(left_behind="both"), dropout_date=b + 2 * DAY)
    hand_over(cases["twice"], neighbour, b + 12 * DAY)
    hand_over(cases["twice"], school, b + 15 * DAY)
    case_mark_returned(case=cases["twice"], returned_on=b + 15 * DAY, placement=Placement.SEPARATE_CLASS)
    # Handed over on the baseline date, and twice in one day (home -> neighbour -> far).
    cases["on_baseline"] = open_case(school, dropout_date=b - 3 * DAY, reason=Reason.ILLNESS)
    hand_over(cases["on_baseline"], neighbour, b)
    cases["one_day_stop"] = open_case(school, dropout_date=b + 1 * DAY, reason=Reason.POVERTY)
    hand_over(cases["one_day_stop"], neighbour, b + 25 * DAY)
    hand_over(cases["one_day_stop"], far, b + 25 * DAY)
    # Handed over today, and a case that never moves.
    cases["today"] = open_case(far, dropout_date=b + 30 * DAY)
    hand_over(cases["today"], school, timezone.localdate())
    cases["stays"] = open_case(school, dropout_date=b - 10 * DAY)
    return cases


def holder_on(case: DropoutCase, handovers: list[Handover], day: datetime.date) -> int:
    """The county holding the case at the end of `day`, read from its accepted handovers one by one."""
    county = handovers[0].from_county_id if handovers else case.county_id
    for handover in handovers:
        if handover.handed_over_on <= day:
            county = handover.to_county_id
    return county


def expected_county_rows(first: datetime.date, last: datetime.date, baseline: datetime.date) -> dict:
    """(county_id, day) -> figures, case by case and day by day, each case in the county holding it that day."""
    handovers = defaultdict(list)
    for handover in Handover.objects.filter(status="accepted").order_by("handed_over_on", "pk"):
        handovers[handover.case_id].append(handover)
    return support_rows(first, last, baseline, county_of=lambda case, day: holder_on(case, handovers[case.pk], day))


def without_baseline(rows: dict) -> dict:
    return {key: {k: v for k, v in figures.items() if k != "baseline_open"} for key, figures in rows.items()}


def test_both_counties_both_provinces_and_the_nation_count_a_handed_over_child_once_each_day(ledger, baseline, area):
    run = recompute()

    today = timezone.localdate()
    assert run.status == "succeeded", run.error
    counties = expected_county_rows(baseline, today, baseline)
    assert stored_rows(AreaLevel.COUNTY) == counties
    parents = county_parents()
    provinces = summed(counties, lambda county, day: [parents[county].province_id])
    nation = summed(counties, lambda county, day: [None])
    nothing = {name: 0 for name in FIGURE_COLUMNS if name != "baseline_open"}
    stored_provinces = without_baseline(stored_rows(AreaLevel.PROVINCE))
    assert {province for province, _day in stored_provinces} == {area["province"].pk, area["far"].province_id}
    for key, figures in stored_provinces.items():
        assert figures == without_baseline(provinces).get(key, nothing), key
    for key, figures in without_baseline(stored_rows(AreaLevel.NATION)).items():
        assert figures == without_baseline(nation).get(key, nothing), key


def test_before_on_and_after_the_handover_date_the_child_counts_in_the_old_county_then_the_new(ledger, baseline, area):
    recompute()
    handed = baseline + 10 * DAY  # the "across" case: far county (another province) -> home county
    far, home = area["far"], area["county"]
    stored = stored_rows(AreaLevel.COUNTY)
    nation = stored_rows(AreaLevel.NATION)
    expected = expected_county_rows(baseline, timezone.localdate(), baseline)

    def open_in(county, day):
        return stored.get((county.pk, day), {}).get("open_count", 0)

    for day in (handed - DAY, handed, handed + DAY):
        for county in (far, home):
            assert open_in(county, day) == expected.get((county.pk, day), {}).get("open_count", 0), (county, day)
        assert (
            nation[(None, day)]["open_count"]
            == DropoutCase.objects.filter(dropout_date__lte=day).exclude(struck_off_on__lte=day).count()
        )
    # The move is neither a new dropout in the receiving county nor a closure in the old one.
    assert stored[(home.pk, handed)]["new_count"] == 0
    assert stored[(far.pk, handed)]["closed_count"] == stored[(far.pk, handed)]["returned_count"] == 0
    assert open_in(far, handed - DAY) - open_in(far, handed) == 1
    assert open_in(home, handed) - open_in(home, handed - DAY) == 1
    assert nation[(None, handed)]["open_count"] == nation[(None, handed - DAY)]["open_count"]
    # Its return counts in the county that held it then.
    returned = baseline + 20 * DAY
    assert stored[(home.pk, returned)]["returned_count"] == 1
    assert stored.get((far.pk, returned), {}).get("returned_count", 0) == 0


def test_the_reference_statement_gives_the_same_county_rows(ledger, baseline):
    recompute()
    today = timezone.localdate()

    reference = {
        (county, day): dict(zip(FIGURE_COLUMNS, figures, strict=True))
        for county, day, *figures in sql.reference_county_rows(baseline, today, baseline)
    }

    assert reference == expected_county_rows(baseline, today, baseline)
    assert reference == stored_rows(AreaLevel.COUNTY)


def test_one_province_at_a_time_and_one_night_at_a_time_give_the_same_rows(ledger, baseline):
    recompute(by_province=True)
    today = timezone.localdate()
    assert stored_rows(AreaLevel.COUNTY) == expected_county_rows(baseline, today, baseline)

    written = [recompute(day, day).rows_written for day in days_between(baseline, today)]

    assert written == [0] * len(written)


def test_the_check_against_the_events_finds_no_difference_on_any_day(ledger, baseline):
    recompute()

    for day in days_between(baseline, timezone.localdate()):
        assert compare_day(day) == [], day


def test_a_back_dated_handover_recomputes_the_days_since_it(area, baseline):
    case = open_case(area["far_school"], dropout_date=baseline - 10 * DAY)
    recompute()
    handed = baseline + 5 * DAY

    hand_over(case, area["school"], handed)
    run = recompute()

    assert run.from_day == handed
    today = timezone.localdate()
    assert stored_rows(AreaLevel.COUNTY) == expected_county_rows(baseline, today, baseline)
    assert stored_rows(AreaLevel.COUNTY)[(area["county"].pk, handed)]["open_count"] == 1
    assert (area["far"].pk, handed) not in stored_rows(AreaLevel.COUNTY)


def test_the_benchmarks_hand_written_statements_compute_the_same_figures(ledger, baseline):
    today = timezone.localdate()
    recompute()
    columns = ["day", "level", "division_id", "group_id", *FIGURE_COLUMNS]

    def stored():
        # A run stores rows of all zeros (provinces, the nation) that the statements leave out.
        rows = DailyTotal.objects.values_list(*columns)
        return sorted((row for row in rows if any(row[4:])), key=str)

    by_run = stored()
    with connection.cursor() as cursor:
        params = {"baseline": baseline, "last": today}
        totals_sql.run(cursor, totals_sql.full_history(), params, first_day=baseline, last_day=today)
    assert stored() == by_run

    # (Not the baseline date: a night reads its baselines from the stored rows of that day, which it replaces.)
    for day in (
        baseline + DAY,
        baseline + 7 * DAY,
        baseline + 10 * DAY,
        baseline + 15 * DAY,
        baseline + 25 * DAY,
        today,
    ):
        with connection.cursor() as cursor:
            params = {"day": day, "baseline": baseline}
            totals_sql.run(cursor, totals_sql.one_night(), params, first_day=day, last_day=day)
        assert stored() == by_run, day


def every_row() -> dict:
    """Every published row, keyed by level, area and day (without the row ids a recompute may renumber)."""
    columns = ["level", "division_id", "group_id", "day", *FIGURE_COLUMNS]
    return {row[:4]: row[4:] for row in DailyTotal.objects.values_list(*columns)}


def reference_rows(baseline: datetime.date) -> dict:
    return {
        (county, day): dict(zip(FIGURE_COLUMNS, figures, strict=True))
        for county, day, *figures in sql.reference_county_rows(baseline, timezone.localdate(), baseline)
    }


def test_handing_over_a_struck_off_case_changes_no_days_totals_anywhere(ledger, baseline, area):
    """A child no longer open anywhere moves with their latest (struck-off) case: no county, province or the
    nation counts anything different on any day, whether the handover is dated after the strike-off or on
    its day, before or after the baseline, on a case handed over once already while it was open."""
    b, today = baseline, timezone.localdate()
    school, neighbour, far = area["school"], area["neighbour_school"], area["far_school"]
    moved_away = ClosureReason.objects.get_or_create(code="moved_away", defaults={"name": "迁出本县"})[0]
    struck = {}
    # Returned in the far county (another province), handed to the home county a week later.
    struck["later"] = open_case(far, student=StudentFactory(gender="M"), dropout_date=b - 12 * DAY, grade=3)
    case_mark_returned(case=struck["later"], returned_on=b + 8 * DAY, placement=Placement.REGULAR_CLASS)
    # Closed in the neighbour county, handed over on the day it was closed.
    struck["closed_same_day"] = open_case(neighbour, dropout_date=b + 3 * DAY, reason=Reason.WORK, grade=8)
    case_change_status(
        case=struck["closed_same_day"], to_status=Status.CLOSED, effective_date=b + 9 * DAY, closure_reason=moved_away
    )
    # Struck off on the day it opened, and handed over that day too.
    struck["one_day"] = open_case(school, student=StudentFactory(registered_poor=True), dropout_date=b + 22 * DAY)
    case_mark_returned(case=struck["one_day"], returned_on=b + 22 * DAY, placement=Placement.VOCATIONAL)
    # Returned before the baseline, retained, handed over after it.
    struck["before_baseline"] = open_case(far, dropout_date=b - 20 * DAY, reason=Reason.ILLNESS)
    case_mark_returned(case=struck["before_baseline"], returned_on=b - 15 * DAY, placement=Placement.REGULAR_CLASS)
    case_change_status(case=struck["before_baseline"], to_status=Status.RETAINED, effective_date=b - 2 * DAY)
    # Handed over while open (that move counts), returned in the receiving county, then handed on.
    struck["twice"] = open_case(far, student=StudentFactory(left_behind="both"), dropout_date=b + DAY)
    hand_over(struck["twice"], neighbour, b + 5 * DAY)
    case_mark_returned(case=struck["twice"], returned_on=b + 11 * DAY, placement=Placement.SEPARATE_CLASS)
    # Returned today, handed over today.
    struck["today"] = open_case(school, dropout_date=b + 30 * DAY, reason=Reason.DISTANCE)
    case_mark_returned(case=struck["today"], returned_on=today, placement=Placement.REGULAR_CLASS)

    first = recompute(b, today)
    assert first.status == "succeeded", first.error
    before = every_row()
    reference_before = reference_rows(b)
    assert reference_before == stored_rows(AreaLevel.COUNTY)
    counties_before = {county for county, _day in reference_before}

    hand_over(struck["later"], school, b + 15 * DAY)
    hand_over(struck["closed_same_day"], far, b + 9 * DAY)
    hand_over(struck["one_day"], far, b + 22 * DAY)
    hand_over(struck["before_baseline"], neighbour, b + 2 * DAY)
    hand_over(struck["twice"], school, b + 18 * DAY)
    hand_over(struck["today"], neighbour, today)
    for case in struck.values():
        case.refresh_from_db()
        assert case.struck_off_on is not None
    assert struck["later"].county == area["county"] and struck["today"].county == area["neighbour"]

    # The reference statement, a full run, a run province by province and every night give the same figures.
    assert reference_rows(b) == reference_before
    run = recompute(b, today)
    assert run.status == "succeeded", run.error
    assert every_row() == before
    assert stored_rows(AreaLevel.COUNTY) == reference_before
    assert {county for county, _day in stored_rows(AreaLevel.COUNTY)} == counties_before
    recompute(b, today, by_province=True)
    assert every_row() == before
    written = [recompute(day, day).rows_written for day in days_between(b, today)]
    assert written == [0] * len(written)
    assert every_row() == before
    with connection.cursor() as cursor:
        totals_sql.run(cursor, totals_sql.full_history(), {"baseline": b, "last": today}, first_day=b, last_day=today)
    assert {key: figures for key, figures in every_row().items() if any(figures)} == {
        key: figures for key, figures in before.items() if any(figures)
    }
    for day in (b + 2 * DAY, b + 8 * DAY, b + 9 * DAY, b + 15 * DAY, b + 18 * DAY, b + 22 * DAY, today):
        with connection.cursor() as cursor:
            totals_sql.run(cursor, totals_sql.one_night(), {"day": day, "baseline": b}, first_day=day, last_day=day)
        assert {key: figures for key, figures in every_row().items() if any(figures)} == {
            key: figures for key, figures in before.items() if any(figures)
        }, day


def test_the_check_finds_no_difference_when_a_returned_childs_case_is_handed_over(ledger, baseline, area):
    """The handover's event keeps the status (returned -> returned): the check must not count it as a return."""
    returned = open_case(area["far_school"], dropout_date=baseline + 3 * DAY)
    case_mark_returned(case=returned, returned_on=baseline + 8 * DAY, placement=Placement.REGULAR_CLASS)
    hand_over(returned, area["school"], baseline + 14 * DAY)
    recompute()

    for day in days_between(baseline, timezone.localdate()):
        assert compare_day(day) == [], day
