"""The operators' commands: recompute_totals, check_totals, show_totals."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from reports.models import AreaLevel, DailyTotal, RunStatus, TotalsRun
from students.choices import Placement
from students.services import case_mark_returned

from .totals_support import build_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_changes_margin(settings):
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 0


@pytest.fixture
def baseline(settings):
    day = timezone.localdate() - datetime.timedelta(days=40)
    settings.LEDGER_BASELINE_DATE = day.isoformat()
    return day


@pytest.fixture
def ledger(area, baseline):
    return build_ledger(area, baseline)


def run_command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_recompute_totals_without_dates_does_the_nightly_run_and_shows_progress(ledger, baseline):
    output = run_command("recompute_totals")

    run = TotalsRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED and run.catch_up
    assert (run.from_day, run.to_day) == (baseline, timezone.localdate())
    assert "step 1/3" in output and "step 2/3" in output and "[100%]" in output
    assert f"Run {run.pk}:" in output


def test_recompute_totals_backfills_a_range(ledger, baseline):
    first = baseline + datetime.timedelta(days=1)
    last = baseline + datetime.timedelta(days=3)

    run_command("recompute_totals", "--from", first.isoformat(), "--to", last.isoformat(), "--single-statement")

    days = set(DailyTotal.objects.filter(level=AreaLevel.NATION).values_list("day", flat=True))
    assert days == {first, first + datetime.timedelta(days=1), last}


def test_recompute_totals_refuses_a_range_that_ends_before_it_starts(ledger):
    with pytest.raises(CommandError, match="after"):
        run_command("recompute_totals", "--from", "2020-02-01", "--to", "2020-01-01")


def test_check_totals_passes_on_fresh_totals(ledger, baseline):
    run_command("recompute_totals")

    for day in (baseline, baseline + datetime.timedelta(days=5), timezone.localdate()):
        assert "match the events" in run_command("check_totals", "--date", day.isoformat())


def test_check_totals_reports_every_difference_and_exits_non_zero(ledger, baseline, area):
    run_command("recompute_totals")
    day = baseline + datetime.timedelta(days=5)
    DailyTotal.objects.filter(division=area["county"], day=day).update(open_count=40, open_poor=7)
    out = StringIO()

    with pytest.raises(CommandError, match="2 difference"):
        call_command("check_totals", "--date", day.isoformat(), stdout=out)

    assert "Home county: open_count stored 40, derived 1" in out.getvalue()
    assert "open_poor stored 7, derived 1" in out.getvalue()


def test_check_totals_notices_a_missing_national_row(ledger, baseline):
    run_command("recompute_totals")
    day = baseline + datetime.timedelta(days=2)
    DailyTotal.objects.filter(level=AreaLevel.NATION, day=day).delete()

    with pytest.raises(CommandError):
        call_command("check_totals", "--date", day.isoformat(), stdout=StringIO())


def test_check_totals_notices_a_back_dated_change_not_yet_recomputed(ledger, baseline):
    run_command("recompute_totals")
    effective = baseline + datetime.timedelta(days=30)
    case_mark_returned(case=ledger["cases"]["open_throughout"], returned_on=effective, placement=Placement.VOCATIONAL)

    with pytest.raises(CommandError):
        call_command("check_totals", "--date", effective.isoformat(), stdout=StringIO())
    run_command("recompute_totals")
    assert "match the events" in run_command("check_totals", "--date", effective.isoformat())


def test_show_totals_prints_one_name_and_value_per_line_for_the_nation_by_default(ledger, baseline):
    run_command("recompute_totals")
    today = timezone.localdate()
    row = DailyTotal.objects.get(level=AreaLevel.NATION, day=today)

    lines = run_command("show_totals").splitlines()

    assert lines[0] == "area: nation"
    assert lines[1] == f"date: {today}"
    assert f"open: {row.open_count}" in lines
    assert f"baseline: {row.baseline_open}" in lines
    assert f"decrease: {row.baseline_open - row.open_count}" in lines
    assert "open_poor: 1" in lines
    assert all(": " in line for line in lines)


def test_show_totals_for_a_region_and_a_group_on_a_date(ledger, baseline, area):
    run_command("recompute_totals")
    day = baseline + datetime.timedelta(days=2)

    county = run_command("show_totals", "--region", area["county"].code, "--date", day.isoformat()).splitlines()
    group = run_command("show_totals", "--group", "watched", "--date", day.isoformat()).splitlines()

    assert "open: 2" in county and "baseline: 2" in county and "decrease_percent: 0.0" in county
    assert "open: 2" in group


def test_show_totals_gives_zeros_and_the_baseline_for_a_county_with_nothing_that_day(ledger, area):
    run_command("recompute_totals")

    lines = run_command("show_totals", "--region", area["neighbour"].code).splitlines()
    assert "open: 1" in lines  # the case opened today
    day = timezone.localdate() - datetime.timedelta(days=3)
    lines = run_command("show_totals", "--region", area["neighbour"].code, "--date", day.isoformat()).splitlines()
    assert "open: 0" in lines and "baseline: 0" in lines


def test_show_totals_refuses_an_unknown_region(ledger):
    run_command("recompute_totals")

    with pytest.raises(CommandError, match="999999"):
        run_command("show_totals", "--region", "999999")
