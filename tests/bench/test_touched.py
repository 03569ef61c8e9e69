"""The on-commit recompute's yardstick: one hand-written statement for one county-day, as the product publishes."""

import datetime

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bench import totals_sql, touched
from reports.models import DailyTotal
from reports.services import runs
from reports.services.touched import touched_recompute
from students.choices import Placement
from students.models import LedgerCorrection
from students.services import case_mark_returned
from tests.factories import open_case
from tests.reports.totals_support import build_ledger

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


class Undo(Exception):
    pass


def todays_rows() -> list[tuple]:
    columns = [f.attname for f in DailyTotal._meta.fields if f.attname != "id"]
    return sorted(DailyTotal.objects.filter(day=timezone.localdate()).values_list(*columns), key=str)


@pytest.fixture
def changed_today(area, settings):
    """Published totals, then a return today in the home county that they do not count yet."""
    today = timezone.localdate()
    settings.LEDGER_BASELINE_DATE = (today - 20 * DAY).isoformat()
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 0
    build_ledger(area, today - 40 * DAY)
    case = open_case(area["school"], dropout_date=today - 30 * DAY)
    runs.recompute()
    case_mark_returned(case=case, returned_on=today, placement=Placement.REGULAR_CLASS)
    LedgerCorrection.objects.all().delete()
    return area["county"]


def test_the_hand_written_statement_publishes_what_the_recompute_publishes(changed_today):
    today = timezone.localdate()
    before = todays_rows()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(totals_sql.one_county_day(), {"county": changed_today.pk, "day": today})
            by_hand = todays_rows()
            raise Undo
    except Undo:
        pass
    assert by_hand != before

    LedgerCorrection.objects.create(county=changed_today, first_day=today)
    touched_recompute()
    assert todays_rows() == by_hand


def test_the_measurement_leaves_no_run_or_correction_behind(changed_today):
    # The busiest county as the measurement finds it, before its recomputes move the figures.
    last_day = DailyTotal.objects.filter(level="nation").order_by("-day").values_list("day", flat=True).first()
    busiest = DailyTotal.objects.filter(level="county", day=last_day).order_by("-open_count", "division_id").first()
    figures = touched.collect(repeat=2, warmup=1)
    assert (figures["touched_county"], figures["touched_day"]) == (busiest.division_id, last_day.isoformat())
    assert figures["touched_seconds"] > 0 and figures["touched_sql_seconds"] > 0
    assert not LedgerCorrection.objects.exists()
    assert runs.TotalsRun.objects.filter(trigger=runs.Trigger.WRITE).count() == 0


def test_the_recompute_may_take_at_most_twice_the_hand_written_statement():
    figures = {
        "touched_seconds": 0.030,
        "touched_sql_seconds": 0.010,
        "touched_county": 7,
        "touched_day": "2026-12-01",
        "touched_rows_written": 0,
    }
    (result,) = touched.results(figures, label="600k")
    assert (result.ratio, result.meets, str(result.target)) == (3.0, False, "at most 2")
    assert touched.results({}, label="600k") == []
