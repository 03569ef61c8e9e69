"""Import and export jobs when the task queue is down, when a message is delivered twice, and when a worker is
killed: the job is kept and sent later, run once, and failed within minutes rather than left running."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from students import tasks
from students.models import JobKind, JobStatus, LedgerJob
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def unreachable(*args, **kwargs):
    raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def export_job(area, users):
    open_case(area["school"])
    return LedgerJob.objects.create(
        kind=JobKind.EXPORT,
        requested_by=users["county"],
        county=area["county"],
        params={"ledger": True, "format": "csv", "sheet_language": "en", "language": "en"},
    )


def test_a_job_made_while_the_queue_is_down_waits_says_so_and_the_sweep_sends_it_once_the_queue_is_back(
    client, users, export_job, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(users["county"])
    with monkeypatch.context() as down:
        down.setattr(tasks.run_ledger_job, "apply_async", unreachable)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.enqueue_job(export_job)
        export_job.refresh_from_db()
        assert (export_job.status, export_job.sent_at) == (JobStatus.QUEUED, None)
        status = client.get(reverse("students:job-status", args=[export_job.pk]), HTTP_ACCEPT_LANGUAGE="en").json()
        assert status["status_label"].startswith("Waiting for the task queue, which cannot be reached")
        tasks.sweep_ledger_jobs()  # still down: the job stays waiting
        assert LedgerJob.objects.get(pk=export_job.pk).status == JobStatus.QUEUED

    tasks.sweep_ledger_jobs()

    export_job.refresh_from_db()
    assert export_job.status == JobStatus.SUCCEEDED and export_job.sent_at is not None


def test_a_job_delivered_twice_runs_once(export_job, monkeypatch):
    runs = []
    monkeypatch.setattr(tasks, "_run_export", lambda job: runs.append(job.pk))
    tasks.run_ledger_job(export_job.pk)
    tasks.run_ledger_job(export_job.pk)
    assert runs == [export_job.pk]


def test_the_sweep_fails_a_running_job_whose_worker_stopped_beating_within_minutes(export_job):
    LedgerJob.objects.filter(pk=export_job.pk).update(
        status=JobStatus.RUNNING,
        progress=90,
        started_at=timezone.now() - datetime.timedelta(minutes=20),
        heartbeat_at=timezone.now() - tasks.stopped_after() - datetime.timedelta(seconds=1),
    )
    assert tasks.sweep_ledger_jobs() == 1
    export_job.refresh_from_db()
    assert export_job.status == JobStatus.FAILED
    assert export_job.error == "Stopped before finishing: its worker was stopped or lost. Start it again."


def test_the_job_sweep_runs_every_minute_on_the_live_queue(settings):
    from django_celery_beat.models import PeriodicTask

    sweep = PeriodicTask.objects.get(task="students.tasks.sweep_ledger_jobs")
    assert (sweep.enabled, sweep.interval.every, sweep.interval.period) == (True, 1, "minutes")
    assert settings.CELERY_TASK_ROUTES["students.tasks.sweep_ledger_jobs"] == {"queue": "live"}
