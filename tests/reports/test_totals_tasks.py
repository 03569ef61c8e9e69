"""The Celery side of the totals: the nightly fan-out, retries, failures, the beat schedule.

Tasks run eagerly in the test settings (CELERY_TASK_ALWAYS_EAGER), chords included.
"""

import datetime

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from dropout_ledger.celery import app
from reports import tasks
from reports.models import AreaLevel, DailyTotal, RunStatus, StagedTotal, TotalsRun
from reports.services import runs

from .totals_support import build_ledger, expected_county_rows, stored_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_changes_margin(settings):
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 0


@pytest.fixture
def baseline(settings):
    day = timezone.localdate() - datetime.timedelta(days=20)
    settings.LEDGER_BASELINE_DATE = day.isoformat()
    return day


@pytest.fixture
def ledger(area, baseline):
    return build_ledger(area, baseline - datetime.timedelta(days=20))


def test_the_nightly_task_stages_each_province_then_publishes_everything(ledger, baseline):
    run_id = tasks.nightly_totals.delay().get()

    run = TotalsRun.objects.get(pk=run_id)
    today = timezone.localdate()
    assert run.status == RunStatus.SUCCEEDED
    assert run.trigger == runs.Trigger.NIGHTLY
    assert run.steps_total == 3  # two provinces, then publication
    assert run.steps_done == 3 and run.progress == 100
    assert stored_rows(AreaLevel.COUNTY) == expected_county_rows(baseline, today, baseline)
    assert not StagedTotal.objects.exists()


def test_a_transient_database_error_in_a_province_step_is_retried(ledger, monkeypatch):
    real_stage = runs.run_stage
    calls = []

    def flaky_stage(run_id, step):
        calls.append(step.province_id)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_stage(run_id, step)

    monkeypatch.setattr(runs, "run_stage", flaky_stage)
    run, steps = runs.run_begin(runs.run_request(trigger=runs.Trigger.NIGHTLY).pk)
    step = steps[0]

    # Eager tasks that propagate errors do not retry: apply this one as a worker would.
    result = tasks.stage_totals_province.apply(
        args=(run.pk, step.province_id, step.from_day.isoformat(), step.to_day.isoformat()), throw=False
    )

    assert result.successful()
    assert calls == [step.province_id, step.province_id]
    assert StagedTotal.objects.filter(run_id=run.pk).exists()
    assert TotalsRun.objects.get(pk=run.pk).steps_done == 1


def test_a_province_step_that_fails_for_good_marks_the_run_failed_and_publishes_nothing(ledger, monkeypatch):
    def broken_stage(run_id, step):
        raise ValueError("disk full")

    monkeypatch.setattr(runs, "run_stage", broken_stage)
    # As on a worker: the failure is handled by the task (recorded), not raised into the caller.
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)

    tasks.nightly_totals.delay()

    run = TotalsRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "disk full" in run.error
    assert not DailyTotal.objects.exists()


def test_the_recompute_task_takes_iso_dates(ledger, baseline):
    first = baseline + datetime.timedelta(days=2)
    last = baseline + datetime.timedelta(days=4)

    run_id = tasks.recompute_totals.delay(first.isoformat(), last.isoformat()).get()

    run = TotalsRun.objects.get(pk=run_id)
    assert (run.status, run.from_day, run.to_day) == (RunStatus.SUCCEEDED, first, last)
    assert set(DailyTotal.objects.filter(level=AreaLevel.NATION).values_list("day", flat=True)) == {
        first,
        first + datetime.timedelta(days=1),
        last,
    }


def test_the_nightly_run_is_scheduled_at_one_in_the_morning_shanghai_time():
    task = PeriodicTask.objects.get(task="reports.tasks.nightly_totals")

    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("0", "1")
    assert (task.crontab.day_of_week, task.crontab.day_of_month, task.crontab.month_of_year) == ("*", "*", "*")
    assert str(task.crontab.timezone) == "Asia/Shanghai"
    assert task.task in app.tasks
