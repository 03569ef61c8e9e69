"""verify_ledger's figure: the walk of every chain against a sequential scan reading every value of the same rows."""

import datetime

import pytest
from django.utils import timezone

from bench import verification, visits
from bench.__main__ import GROUP_ORDER
from bench.worker import GROUPS
from students.choices import VisitMethod, VisitorRole, VisitOutcome
from students.ledger_chain import chains_walk
from students.models import LedgerVerification, PersuasionVisit
from students.services import visit_record
from tests.factories import open_case

FIGURES = {
    "entries": 2_400_000,
    "broken": 0,
    "verify_seconds": 9.0,
    "values_seconds": 2.0,
    "text_seconds": 4.5,
    "count_seconds": 0.5,
    "copy_seconds": 6.0,
}


def test_verification_may_take_at_most_three_times_the_scan_reading_every_value_of_the_same_rows():
    scan, *_shown = verification.results(FIGURES, label="600k")

    assert scan.metric == "verify_ledger, every chain (600k)"
    assert scan.baseline == "sequential scan reading every value of the same rows"
    assert (scan.ratio, scan.meets, str(scan.target)) == (4.5, False, "at most 3")
    assert "2,400,000 entries, 0 broken links" in scan.note
    assert verification.results({**FIGURES, "verify_seconds": 5.0}, label="600k")[0].meets is True


def test_the_other_yardsticks_are_shown_with_their_ratios_and_no_target():
    _scan, text, count, copy = verification.results(FIGURES, label="600k")

    assert (text.baseline, text.ratio, text.meets) == ("sequential scan of the same rows as text", 2.0, None)
    assert (count.baseline, count.ratio, count.meets) == ("count(*) of the same rows", 18.0, None)
    assert (copy.baseline, copy.ratio, copy.meets) == ("COPY of the same rows to the client", 1.5, None)


def test_a_verification_stopped_at_the_time_limit_is_an_error():
    with pytest.raises(RuntimeError, match="stopped after 15 minutes"):
        verification.results({"values_seconds": 1.0, "copy_seconds": 2.0, "minutes": 15}, label="20k")


def test_the_figure_is_a_measurement_group_of_its_own():
    assert "verify" in GROUP_ORDER
    assert GROUPS["verify"] == "bench.verification"


def visit(case, day):
    return visit_record(
        case=case,
        visit_date=day,
        visitors=[{"role": VisitorRole.CLASS_TEACHER, "name": ""}],
        method=VisitMethod.PHONE,
        outcome=VisitOutcome.REFUSED,
        notes=visits.NOTE,
    )


@pytest.mark.django_db
def test_the_measurement_walks_every_entry_and_keeps_no_verification(area):
    case = open_case(area["school"])
    visit(case, datetime.date(2019, 6, 1))
    open_case(area["far_school"])

    figures = verification.collect({"repeat": 1, "warmup": 0})

    assert (figures["entries"], figures["broken"]) == (4, 0)
    seconds = ("verify_seconds", "values_seconds", "text_seconds", "count_seconds", "copy_seconds")
    assert all(figures[name] > 0 for name in seconds)
    assert not LedgerVerification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_visits_recorded_under_load_are_removed_and_every_chain_still_holds(database_owner, area):
    """As the benchmark does it: the visits are committed (by the server under load), the owner removes them."""
    case = open_case(area["school"])
    kept = visit(case, datetime.date(2019, 6, 1))
    started = timezone.now()
    for day in (2, 3):
        visit(case, datetime.date(2019, 6, day))

    assert visits._remove_load_visits([case], started) == 2

    assert list(PersuasionVisit.objects.filter(case=case)) == [kept]
    assert chains_walk().broken == []
