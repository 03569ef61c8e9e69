"""Runs that fail reconciliation or die half-way publish nothing, and the next run repairs everything."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from reports import tasks
from reports.models import AreaLevel, DailyTotal, RunStatus, StagedTotal, TotalsRun
from reports.services import runs
from reports.services.totals import ReconciliationError, reconcile
from students.choices import Placement
from students.models import DropoutCase
from students.services import case_mark_returned
from tests.factories import open_case

from .totals_support import all_rows_snapshot, build_ledger, expected_county_rows, nation_open, stored_rows

pytestmark = pytest.mark.django_db
SECOND = datetime.timedelta(seconds=1)


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
    ledger = build_ledger(area, baseline)
    runs.recompute()
    return ledger


def return_today(ledger):
    case = ledger["cases"]["open_throughout"]
    case_mark_returned(case=case, returned_on=timezone.localdate(), placement=Placement.REGULAR_CLASS)


def assert_correct_and_unique(baseline):
    today = timezone.localdate()
    assert stored_rows(AreaLevel.COUNTY) == expected_county_rows(baseline, today, baseline)
    duplicates = (
        DailyTotal.objects.values("level", "division_id", "group_id", "day").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert reconcile(from_day=baseline, to_day=today) == []


def test_a_tampered_published_count_fails_the_next_run_and_the_previous_totals_stay_visible(ledger):
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    DailyTotal.objects.filter(level=AreaLevel.NATION, day=yesterday).update(open_count=999)
    before = all_rows_snapshot()
    open_before = nation_open(today)
    return_today(ledger)

    with pytest.raises(ReconciliationError) as raised:
        runs.recompute()

    run = TotalsRun.objects.order_by("-pk").first()
    assert run.status == RunStatus.FAILED
    assert "999" in run.error and str(today) in run.error
    assert "999" in str(raised.value)
    assert all_rows_snapshot() == before
    assert nation_open(today) == open_before  # the return recorded today is not published
    assert not StagedTotal.objects.exists()


def test_a_tampered_province_sum_fails_reconciliation(ledger, monkeypatch):
    real_rollups = runs.stage_rollups

    def tampered_rollups(**kwargs):
        rows = real_rollups(**kwargs)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE reports_stagedtotal SET new_count = new_count + 1 WHERE level = 'province'")
        return rows

    monkeypatch.setattr(runs, "stage_rollups", tampered_rollups)
    before = all_rows_snapshot()

    with pytest.raises(ReconciliationError, match="summed over provinces"):
        runs.recompute(timezone.localdate() - datetime.timedelta(days=5))

    assert TotalsRun.objects.order_by("-pk").first().status == RunStatus.FAILED
    assert all_rows_snapshot() == before


def test_todays_national_count_must_equal_the_live_count_of_open_cases(ledger):
    # A case whose status says open though its dates say struck off: the ledger disagrees with itself.
    returned = ledger["cases"]["returned"]
    DropoutCase.objects.filter(pk=returned.pk).update(status="persuading")

    with pytest.raises(ReconciliationError, match="cases are open in the ledger"):
        runs.recompute()

    assert TotalsRun.objects.order_by("-pk").first().status == RunStatus.FAILED


def test_a_run_stopped_between_provinces_publishes_nothing_and_the_next_run_repairs_everything(
    ledger, baseline, monkeypatch
):
    effective = baseline + datetime.timedelta(days=25)
    case_mark_returned(case=ledger["cases"]["open_throughout"], returned_on=effective, placement=Placement.VOCATIONAL)
    before = all_rows_snapshot()
    real_stage = runs.run_stage
    calls = []

    def dying_stage(run_id, step):
        calls.append(step)
        if len(calls) == 2:
            raise SystemExit("worker stopped")
        return real_stage(run_id, step)

    monkeypatch.setattr(runs, "run_stage", dying_stage)
    with pytest.raises(SystemExit):
        runs.recompute(by_province=True)

    stopped = TotalsRun.objects.order_by("-pk").first()
    assert stopped.status == RunStatus.FAILED and "worker stopped" in stopped.error
    assert all_rows_snapshot() == before
    monkeypatch.setattr(runs, "run_stage", real_stage)

    run = runs.recompute(by_province=True)

    assert run.from_day == effective  # the failed run did not count as covering the change
    assert_correct_and_unique(baseline)


def test_a_worker_killed_mid_run_leaves_a_stale_run_that_the_next_runs_clean_up(ledger, baseline):
    case_mark_returned(
        case=ledger["cases"]["open_throughout"],
        returned_on=baseline + datetime.timedelta(days=25),
        placement=Placement.VOCATIONAL,
    )
    killed, steps = runs.run_begin(runs.run_request(trigger=runs.Trigger.NIGHTLY).pk)
    runs.run_stage(killed.pk, steps[0])  # then the process is killed: nothing else runs
    assert StagedTotal.objects.filter(run_id=killed.pk).exists()

    runs.recompute(by_province=True)

    assert_correct_and_unique(baseline)
    assert TotalsRun.objects.get(pk=killed.pk).status == RunStatus.RUNNING  # it might still be working
    TotalsRun.objects.filter(pk=killed.pk).update(heartbeat_at=timezone.now() - runs.stopped_after() - SECOND)

    runs.recompute()

    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED and "Stopped before finishing" in killed.error
    assert not StagedTotal.objects.exists()
    assert_correct_and_unique(baseline)


def test_a_system_exit_inside_the_publishing_transaction_rolls_it_all_back(ledger, baseline, monkeypatch):
    return_today(ledger)
    before = all_rows_snapshot()

    def dying_reconcile(**kwargs):
        raise SystemExit("killed while publishing")

    monkeypatch.setattr(runs, "reconcile", dying_reconcile)
    with pytest.raises(SystemExit):
        runs.recompute(timezone.localdate() - datetime.timedelta(days=10))
    monkeypatch.undo()

    assert TotalsRun.objects.order_by("-pk").first().status == RunStatus.FAILED
    assert all_rows_snapshot() == before
    runs.recompute()
    assert_correct_and_unique(baseline)


def test_an_abandoned_run_delivered_again_after_a_newer_publication_stops_without_publishing(ledger, baseline, area):
    """A full-range run stages, its worker is killed; a back-dated case is recorded and the next run publishes it;
    then the broker delivers the old run's messages again. The figures stay as the newer run left them."""
    old = runs.run_request(trigger=runs.Trigger.COMMAND, from_day=baseline)
    _run, steps = runs.run_begin(old.pk, by_province=True)
    for step in steps:
        runs.run_stage(old.pk, step)  # the worker is killed here, before publishing

    open_case(area["school"], dropout_date=baseline + datetime.timedelta(days=3))
    newer = runs.recompute()
    assert newer.status == RunStatus.SUCCEEDED
    published = all_rows_snapshot()

    # Every message of the old run again: its start (which stages afresh), its steps, its publication.
    tasks.start_totals_run(old.pk)
    for step in steps:
        tasks.stage_totals_province(old.pk, step.province_id, step.from_day.isoformat(), step.to_day.isoformat())
    tasks.publish_totals_run(old.pk)

    old.refresh_from_db()
    assert old.status == RunStatus.FAILED
    assert f"Stopped without publishing: run {newer.pk} published these days after this run began" in old.error
    assert old.generation is None
    assert all_rows_snapshot() == published
    assert_correct_and_unique(baseline)
    assert not StagedTotal.objects.filter(run_id=old.pk).exists()


def test_runs_that_do_not_overlap_a_newer_publication_still_publish(ledger, baseline):
    today = timezone.localdate()
    older = runs.run_request(
        trigger=runs.Trigger.COMMAND, from_day=baseline, to_day=baseline + datetime.timedelta(days=5)
    )
    _run, steps = runs.run_begin(older.pk, by_province=False)
    for step in steps:
        runs.run_stage(older.pk, step)
    newer = runs.recompute(today - datetime.timedelta(days=2), today)
    assert newer.status == RunStatus.SUCCEEDED

    older = runs.run_publish(older.pk)

    assert older.status == RunStatus.SUCCEEDED
    assert older.generation == newer.generation + 1


def test_a_run_whose_worker_stops_beating_is_failed_by_the_sweep_within_minutes_and_unblocks_the_next(ledger, baseline):
    killed, steps = runs.run_begin(runs.run_request(trigger=runs.Trigger.WEB, from_day=baseline).pk)
    runs.run_stage(killed.pk, steps[0])  # then the worker is killed with SIGKILL
    assert runs.active_run() == killed
    assert tasks.sweep_totals_runs() == 0  # a run that beat a moment ago is still working

    TotalsRun.objects.filter(pk=killed.pk).update(heartbeat_at=timezone.now() - runs.stopped_after() - SECOND)
    assert tasks.sweep_totals_runs() == 1

    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED
    assert killed.error == "Stopped before finishing: its worker was stopped or lost. Start it again."
    assert not StagedTotal.objects.filter(run_id=killed.pk).exists()
    assert runs.active_run() is None


def test_the_sweep_runs_every_minute_from_the_beat_schedule():
    from django_celery_beat.models import PeriodicTask

    sweep = PeriodicTask.objects.get(task="reports.tasks.sweep_totals_runs")
    assert (sweep.enabled, sweep.interval.every, sweep.interval.period) == (True, 1, "minutes")


@pytest.mark.django_db(transaction=True)
def test_a_worker_busy_with_one_long_statement_keeps_beating(settings):
    settings.TOTALS_HEARTBEAT_SECONDS = 0.1
    run = runs.run_request(trigger=runs.Trigger.COMMAND)
    TotalsRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, heartbeat_at=timezone.now())
    first = TotalsRun.objects.get(pk=run.pk).heartbeat_at
    with runs.keep_alive(run.pk), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.6)")
        beats = TotalsRun.objects.get(pk=run.pk).heartbeat_at
    assert beats > first
