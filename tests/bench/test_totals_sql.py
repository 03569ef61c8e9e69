import datetime

import pytest
from django.db import connection

from bench import totals_sql
from counties.models import CountyGroup, CountyGroupMembership
from reports.models import FIGURE_COLUMNS, AreaLevel, DailyTotal
from students.choices import Placement
from students.services import case_mark_returned
from tests.factories import open_case

BASELINE = datetime.date(2019, 5, 31)
LAST = datetime.date(2019, 6, 12)
pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(area):
    """Before the baseline: one case at home (returned on 10 June) and one far away; a new one at home on 5 June."""
    returned = open_case(area["school"], dropout_date=datetime.date(2019, 4, 1))
    case_mark_returned(case=returned, returned_on=datetime.date(2019, 6, 10), placement=Placement.REGULAR_CLASS)
    open_case(area["far_school"], dropout_date=datetime.date(2019, 4, 1))
    open_case(area["school"], dropout_date=datetime.date(2019, 6, 5))
    group = CountyGroup.objects.create(slug="home-group", name="Home group")
    CountyGroupMembership.objects.create(group=group, county=area["county"], valid_from=datetime.date(2019, 1, 1))
    return {**area, "group": group}


def backfill():
    with connection.cursor() as cursor:
        return totals_sql.run(
            cursor,
            totals_sql.full_history(),
            {"baseline": BASELINE, "last": LAST},
            first_day=BASELINE,
            last_day=LAST,
        )


def figures(day, **area):
    row = DailyTotal.objects.get(day=day, **area)
    return {"open": row.open_count, "new": row.new_count, "returned": row.returned_count, "base": row.baseline_open}


def test_full_history_statement_counts_open_cases_at_the_end_of_each_day(ledger):
    assert backfill() > 0
    nation = {"level": AreaLevel.NATION}
    assert figures(BASELINE, **nation) == {"open": 2, "new": 0, "returned": 0, "base": 2}
    assert figures(datetime.date(2019, 6, 4), **nation)["open"] == 2
    assert figures(datetime.date(2019, 6, 5), **nation) == {"open": 3, "new": 1, "returned": 0, "base": 2}
    assert figures(datetime.date(2019, 6, 10), **nation) == {"open": 2, "new": 0, "returned": 1, "base": 2}
    assert figures(LAST, **nation)["open"] == 2


def test_full_history_statement_rolls_counties_up_to_every_level_and_group(ledger):
    backfill()
    day = datetime.date(2019, 6, 10)
    assert figures(day, division=ledger["county"]) == {"open": 1, "new": 0, "returned": 1, "base": 1}
    assert figures(day, division=ledger["prefecture"])["open"] == 1
    assert figures(day, division=ledger["province"])["open"] == 1
    assert figures(day, division=ledger["far"].province)["open"] == 1
    assert figures(day, group=ledger["group"]) == {"open": 1, "new": 0, "returned": 1, "base": 1}
    row = DailyTotal.objects.get(day=day, division=ledger["county"])
    assert row.open_female == row.open_reason_poverty == row.open_junior == 1
    assert row.open_male == row.open_primary == 0


def test_full_history_statement_writes_no_county_row_on_days_without_open_cases_or_activity(ledger):
    backfill()
    assert not DailyTotal.objects.filter(division=ledger["neighbour"]).exists()
    assert DailyTotal.objects.filter(division=ledger["far"]).count() == (LAST - BASELINE).days + 1


def test_one_night_statement_gives_the_same_rows_as_the_full_history(ledger):
    backfill()
    day = datetime.date(2019, 6, 10)
    columns = ["level", "division_id", "group_id", "open_count", "new_count", "returned_count", "baseline_open"]
    before = sorted(DailyTotal.objects.filter(day=day).values_list(*columns), key=str)
    with connection.cursor() as cursor:
        written = totals_sql.run(
            cursor, totals_sql.one_night(), {"day": day, "baseline": BASELINE}, first_day=day, last_day=day
        )
    assert written == len(before)
    assert sorted(DailyTotal.objects.filter(day=day).values_list(*columns), key=str) == before


def test_statements_compute_the_figures_a_totals_run_stores(ledger, settings):
    from reports.services.runs import recompute

    settings.LEDGER_BASELINE_DATE = BASELINE.isoformat()
    recompute(BASELINE, LAST)
    columns = ["day", "level", "division_id", "group_id", *FIGURE_COLUMNS]

    def stored():
        # Rows of all zeros (areas with nothing open that day) are stored by a run but not by the statement.
        rows = DailyTotal.objects.values_list(*columns)
        return sorted((row for row in rows if any(row[4:])), key=str)

    by_run = stored()
    backfill()
    assert stored() == by_run
