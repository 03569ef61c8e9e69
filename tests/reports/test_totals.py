"""The daily totals match a case-by-case count, roll up correctly, and publish idempotently."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from counties.models import CountyGroupMembership
from dropout_ledger.database_roles import MAINTAIN_SINCE
from reports.models import FIGURE_COLUMNS, AreaLevel, DailyTotal, RunStatus, StagedTotal, TotalsRun
from reports.services import sql
from reports.services.runs import recompute
from students.choices import Placement
from students.identifiers import id_gender
from students.models import Student
from students.services import case_mark_returned, student_update

from .totals_support import (
    all_rows_snapshot,
    build_ledger,
    county_parents,
    days_between,
    expected_county_rows,
    stored_rows,
    summed,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_changes_margin(settings):
    """Every event of these ledgers is recorded seconds before the runs: look back from the run's start."""
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 0


@pytest.fixture
def baseline(settings):
    day = timezone.localdate() - datetime.timedelta(days=40)
    settings.LEDGER_BASELINE_DATE = day.isoformat()
    return day


@pytest.fixture
def ledger(area, baseline):
    return build_ledger(area, baseline)


def test_county_figures_match_a_case_by_case_count_for_every_day(ledger, baseline):
    run = recompute()

    today = timezone.localdate()
    assert run.status == RunStatus.SUCCEEDED
    assert (run.from_day, run.to_day) == (baseline, today)
    assert stored_rows(AreaLevel.COUNTY) == expected_county_rows(baseline, today, baseline)


def test_staging_one_province_at_a_time_gives_the_same_rows_as_one_statement(ledger, baseline):
    recompute(by_province=True)
    by_province = stored_rows(AreaLevel.COUNTY)
    DailyTotal.objects.all().delete()
    TotalsRun.objects.all().delete()

    recompute(by_province=False)

    assert stored_rows(AreaLevel.COUNTY) == by_province


def test_prefecture_province_and_nation_sum_their_counties_every_day(ledger, baseline, area):
    recompute()
    today = timezone.localdate()
    counties = expected_county_rows(baseline, today, baseline)
    parents = county_parents()

    prefectures = summed(counties, lambda county, day: [parents[county].prefecture_id])
    provinces = summed(counties, lambda county, day: [parents[county].province_id])
    nation = summed(counties, lambda county, day: [None])

    def without_baseline(rows):
        return {key: {k: v for k, v in figures.items() if k != "baseline_open"} for key, figures in rows.items()}

    assert without_baseline(stored_rows(AreaLevel.PREFECTURE)) == without_baseline(prefectures)
    stored_provinces = stored_rows(AreaLevel.PROVINCE)
    # Every province has a row every day, zeros included.
    provinces_ids = (area["province"].pk, area["far"].province_id)
    assert set(stored_provinces) == {(pk, day) for pk in provinces_ids for day in days_between(baseline, today)}
    for key, figures in without_baseline(stored_provinces).items():
        assert figures == without_baseline(provinces).get(key, dict.fromkeys(figures, 0))
    stored_nation = stored_rows(AreaLevel.NATION)
    assert len(stored_nation) == (today - baseline).days + 1
    for key, figures in without_baseline(stored_nation).items():
        assert figures == without_baseline(nation).get(key, dict.fromkeys(figures, 0))


def test_baselines_are_the_open_counts_on_the_baseline_date_at_every_level(ledger, baseline, area):
    recompute()
    # Open at the end of the baseline day: open_throughout and returned (home), nothing in the
    # neighbour county (its case returned on the baseline day), nothing in the far county.
    home_rows = DailyTotal.objects.filter(division=area["county"])
    assert set(home_rows.values_list("baseline_open", flat=True)) == {2}
    assert set(DailyTotal.objects.filter(division=area["far"]).values_list("baseline_open", flat=True)) == {0}
    assert set(DailyTotal.objects.filter(level=AreaLevel.NATION).values_list("baseline_open", flat=True)) == {2}
    assert DailyTotal.objects.get(level=AreaLevel.NATION, day=baseline).open_count == 2
    assert set(DailyTotal.objects.filter(division=area["province"]).values_list("baseline_open", flat=True)) == {2}


def test_group_totals_follow_membership_as_of_each_day(ledger, baseline, area):
    recompute()
    today = timezone.localdate()
    counties = expected_county_rows(baseline, today, baseline)
    group = ledger["group"]

    def members(county, day):
        active = CountyGroupMembership.objects.active_on(day).filter(group=group, county_id=county).exists()
        return [group.pk] if active else []

    expected = summed(counties, members)
    stored = stored_rows(AreaLevel.GROUP)
    assert len(stored) == (today - baseline).days + 1
    for (group_id, day), figures in stored.items():
        want = expected.get((group_id, day), dict.fromkeys(FIGURE_COLUMNS, 0))
        assert {k: v for k, v in figures.items() if k != "baseline_open"} == {
            k: v for k, v in want.items() if k != "baseline_open"
        }, day
    # Home county (baseline 2) is a member until baseline + 8 days, the far county (baseline 0) after.
    assert stored[(group.pk, baseline)]["baseline_open"] == 2
    assert stored[(group.pk, baseline + datetime.timedelta(days=8))]["baseline_open"] == 0


def test_running_the_same_night_twice_leaves_identical_rows(ledger):
    recompute()
    first = all_rows_snapshot()
    second_run = recompute(timezone.localdate() - datetime.timedelta(days=60))

    assert all_rows_snapshot() == first
    assert second_run.rows_written == 0


def test_a_back_dated_return_changes_the_totals_of_its_effective_date_after_the_next_run(ledger, baseline, area):
    recompute()
    case = ledger["cases"]["open_throughout"]
    effective = baseline + datetime.timedelta(days=30)
    before = DailyTotal.objects.get(division=area["county"], day=effective)
    assert before.returned_count == 0

    case_mark_returned(case=case, returned_on=effective, placement=Placement.REGULAR_CLASS)
    run = recompute()

    assert run.from_day == effective
    after = DailyTotal.objects.get(division=area["county"], day=effective)
    assert after.returned_count == 1
    assert after.open_count == before.open_count - 1
    today = timezone.localdate()
    assert stored_rows(AreaLevel.COUNTY) == expected_county_rows(baseline, today, baseline)


def consistent_gender(case) -> None:
    """The ledger's children have made-up genders; a correction goes through the ID-number checks."""
    Student.objects.filter(pk=case.student_id).update(gender=id_gender(case.student.id_number))
    case.student.refresh_from_db()


def test_a_corrected_flag_recomputes_every_day_its_childs_case_was_open(ledger, baseline, area):
    case = ledger["cases"]["open_throughout"]  # on the ledger since before the baseline
    consistent_gender(case)
    recompute()
    day = baseline + datetime.timedelta(days=12)
    assert DailyTotal.objects.get(division=area["county"], day=day).open_poor == 1

    student_update(student=case.student, changes={"registered_poor": False})
    run = recompute()

    assert run.from_day == baseline
    assert DailyTotal.objects.get(division=area["county"], day=day).open_poor == 0
    today = timezone.localdate()
    assert stored_rows(AreaLevel.COUNTY) == expected_county_rows(baseline, today, baseline)


def test_a_corrected_name_leaves_past_figures_alone(ledger, baseline):
    case = ledger["cases"]["open_throughout"]
    consistent_gender(case)
    recompute()

    student_update(student=case.student, changes={"name": "Corrected Name"})
    run = recompute()

    assert run.from_day == timezone.localdate()


def test_a_membership_change_recomputes_group_totals_from_its_date(ledger, baseline, area):
    recompute()
    group = ledger["group"]
    joined = baseline + datetime.timedelta(days=4)
    day_after = joined + datetime.timedelta(days=1)
    # On that day the home county and the far county each have one open case.
    assert DailyTotal.objects.get(group=group, day=day_after).open_count == 2
    day_before = joined - datetime.timedelta(days=1)
    unchanged = DailyTotal.objects.filter(group=group, day=day_before).values_list("id", "open_count").get()

    CountyGroupMembership.objects.create(group=group, county=area["neighbour"], valid_from=joined)
    run = recompute()

    assert run.from_day == joined
    # The neighbour county's case that is closed later is open then.
    assert DailyTotal.objects.get(group=group, day=day_after).open_count == 3
    assert DailyTotal.objects.get(group=group, day=timezone.localdate()).open_count == 3
    assert DailyTotal.objects.filter(group=group, day=day_before).values_list("id", "open_count").get() == unchanged


def test_a_range_with_nothing_changed_writes_nothing_and_the_next_night_only_recomputes_today(ledger):
    recompute()
    run = recompute()

    assert run.from_day == run.to_day == timezone.localdate()
    assert run.rows_written == 0
    assert run.catch_up


def test_an_explicit_range_recomputes_only_those_days(ledger, baseline):
    recompute()
    first, last = baseline + datetime.timedelta(days=3), baseline + datetime.timedelta(days=7)

    run = recompute(first, last)

    assert (run.from_day, run.to_day, run.days_written) == (first, last, 5)
    assert not run.catch_up


def test_the_hand_written_reference_statement_gives_the_stored_county_rows(ledger, baseline):
    recompute()
    today = timezone.localdate()

    reference = {
        (county, day): dict(zip(FIGURE_COLUMNS, figures, strict=True))
        for county, day, *figures in sql.reference_county_rows(baseline, today, baseline)
    }

    assert reference == stored_rows(AreaLevel.COUNTY)


def test_events_recorded_shortly_before_the_last_run_are_looked_at_again(ledger, baseline, settings):
    recompute()
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 3600

    run = recompute()

    # The whole ledger was recorded within the hour before the first run started.
    assert run.from_day == baseline
    assert run.rows_written == 0


def test_ending_a_membership_recomputes_group_totals_from_the_day_it_ends(ledger, baseline, area):
    recompute()
    group = ledger["group"]
    ends = baseline + datetime.timedelta(days=20)
    membership = CountyGroupMembership.objects.get(group=group, county=area["far"])
    membership.valid_to = ends
    membership.save()

    run = recompute()

    assert run.from_day == ends
    assert DailyTotal.objects.get(group=group, day=ends - datetime.timedelta(days=1)).open_count == 1
    assert DailyTotal.objects.get(group=group, day=ends).open_count == 0


def test_moving_the_baseline_date_recomputes_everything_from_the_new_date(ledger, baseline, settings):
    recompute()
    later = baseline + datetime.timedelta(days=7)
    settings.LEDGER_BASELINE_DATE = later.isoformat()

    run = recompute()

    assert run.from_day == later
    assert not DailyTotal.objects.filter(day__lt=later).exists()
    nation_at_new_baseline = DailyTotal.objects.get(level=AreaLevel.NATION, day=later).open_count
    assert set(DailyTotal.objects.filter(level=AreaLevel.NATION).values_list("baseline_open", flat=True)) == {
        nation_at_new_baseline
    }
    assert stored_rows(AreaLevel.COUNTY) == expected_county_rows(later, timezone.localdate(), later)


@pytest.mark.django_db(transaction=True)
def test_a_long_run_drops_its_staged_rows_and_gives_their_space_back(area, baseline):
    build_ledger(area, baseline)

    run = recompute()

    assert run.status == RunStatus.SUCCEEDED and run.days_written > 31
    assert not StagedTotal.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size('reports_stagedtotal')")
        size = cursor.fetchone()[0]
    # The application's role may VACUUM only from PostgreSQL 17 (MAINTAIN); before, autovacuum does it later.
    # make test's embedded server is newer, so CI checks this.
    assert size == 0 or connection.pg_version < MAINTAIN_SINCE


def test_a_single_night_counted_directly_gives_the_same_rows_as_the_whole_range(ledger, baseline):
    recompute()
    before = all_rows_snapshot()

    written = [recompute(day, day).rows_written for day in days_between(baseline, timezone.localdate())]

    assert written == [0] * len(written)
    assert all_rows_snapshot() == before
