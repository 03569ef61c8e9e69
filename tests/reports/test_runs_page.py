"""The totals runs page: administrators only, starts a run, reports its progress."""

import datetime

import pytest
from celery.signals import worker_ready
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from counties.models import Role
from reports import tasks
from reports.models import DailyTotal, RunStatus, TotalsRun
from reports.services import runs
from tests.factories import UserFactory

from .totals_support import build_ledger

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


def unreachable(*args, **kwargs):
    raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def staff():
    """An administrator by role: the staff flag alone opens nothing (tests/test_url_roles.py)."""
    return UserFactory(role=Role.ADMIN)


@pytest.fixture
def ledger(area, settings):
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 0
    baseline = timezone.localdate() - datetime.timedelta(days=40)
    settings.LEDGER_BASELINE_DATE = baseline.isoformat()
    return build_ledger(area, baseline)


@pytest.mark.parametrize("persona", ["ministry", "county", "principal", "province"])
@pytest.mark.parametrize("is_staff", [False, True])
def test_the_runs_page_does_not_exist_for_anyone_but_administrators(client, users, persona, is_staff):
    run = TotalsRun.objects.create()
    users[persona].is_staff = is_staff
    users[persona].save(update_fields=["is_staff"])
    client.force_login(users[persona])

    assert client.get(reverse("reports:runs")).status_code == 404
    assert client.post(reverse("reports:run-start")).status_code == 404
    assert client.get(reverse("reports:run-status", args=[run.pk])).status_code == 404
    assert not TotalsRun.objects.exclude(pk=run.pk).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("reports:runs"))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_administrators_see_every_run_with_its_outcome(client, users, staff):
    TotalsRun.objects.create(status=RunStatus.FAILED, error="2026-01-01: the national open count is 5")
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED, days_written=3, rows_written=120)
    for user in (staff, users["admin"]):
        client.force_login(user)

        response = client.get(reverse("reports:runs"))

        assert response.status_code == 200
        assert b"3 days recomputed, 120 rows changed." in response.content
        assert b"the national open count is 5" in response.content
        assert b"Recompute the totals now" in response.content


def test_a_failed_last_run_is_shown_as_an_alert(client, staff):
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED)
    failed = TotalsRun.objects.create(status=RunStatus.FAILED, error="does not add up")
    client.force_login(staff)

    response = client.get(reverse("reports:runs"))

    assert f"The last run (#{failed.pk}) failed".encode() in response.content


def test_starting_a_run_from_the_page_records_it_then_sends_it(client, staff, ledger):
    client.force_login(staff)

    response = client.post(reverse("reports:run-start"), follow=True)

    run = TotalsRun.objects.get()
    assert (run.status, run.trigger, run.requested_by) == (RunStatus.SUCCEEDED, runs.Trigger.WEB, staff)
    assert run.sent_at is not None
    assert f"Run {run.pk} requested." in response.content.decode()
    assert DailyTotal.objects.filter(day=timezone.localdate(), level="nation").exists()


def test_a_run_started_while_the_queue_is_down_is_kept_and_sent_by_the_sweep_once_it_is_back(
    client, staff, ledger, monkeypatch
):
    client.force_login(staff)
    with monkeypatch.context() as down:
        down.setattr(tasks.start_totals_run, "apply_async", unreachable)
        response = client.post(reverse("reports:run-start"), follow=True, HTTP_ACCEPT_LANGUAGE="en")
        run = TotalsRun.objects.get()
        assert "cannot be reached: it will start when the queue is back" in response.content.decode()
        assert (run.status, run.sent_at) == (RunStatus.QUEUED, None)
        tasks.sweep_totals_runs()  # beat, while the queue is still down: nothing is lost
        assert TotalsRun.objects.get().status == RunStatus.QUEUED

    tasks.sweep_totals_runs()  # the queue is back

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.sent_at is not None


def test_a_worker_starting_sends_the_runs_that_waited_for_it(ledger):
    waiting = runs.run_request(trigger=runs.Trigger.NIGHTLY)
    worker_ready.send(sender=None)
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.SUCCEEDED


def test_a_queued_run_whose_message_was_lost_is_sent_again_and_a_second_delivery_does_nothing(ledger, settings):
    lost = runs.run_request(trigger=runs.Trigger.NIGHTLY)
    TotalsRun.objects.filter(pk=lost.pk).update(sent_at=timezone.now() - tasks.resend_after() - SECOND)
    tasks.sweep_totals_runs()
    lost.refresh_from_db()
    assert lost.status == RunStatus.SUCCEEDED

    running = runs.run_request(trigger=runs.Trigger.NIGHTLY, from_day=timezone.localdate() - DAY * 3)
    runs.run_begin(running.pk)
    tasks.start_totals_run(running.pk)  # delivered again while its worker works on it
    running.refresh_from_db()
    assert (running.status, running.steps_done) == (RunStatus.RUNNING, 0)


def test_a_second_run_cannot_be_started_while_one_is_in_progress(client, staff):
    TotalsRun.objects.create(status=RunStatus.RUNNING, started_at=timezone.now())
    client.force_login(staff)

    response = client.post(reverse("reports:run-start"), follow=True)

    assert TotalsRun.objects.count() == 1
    assert b"A run is already in progress" in response.content


def test_the_page_shows_a_progress_bar_that_polls_the_run_status(client, staff):
    run = TotalsRun.objects.create(
        status=RunStatus.RUNNING, started_at=timezone.now(), steps_total=4, steps_done=1, progress=25
    )
    client.force_login(staff)

    page = client.get(reverse("reports:runs"))
    status = client.get(reverse("reports:run-status", args=[run.pk])).json()

    assert b"<progress" in page.content
    assert reverse("reports:run-status", args=[run.pk]).encode() in page.content
    assert status["progress"] == 25 and status["steps_done"] == 1 and status["steps_total"] == 4
    assert status["status"] == RunStatus.RUNNING and status["finished"] is False


def test_starting_a_run_is_post_only(client, staff):
    client.force_login(staff)

    assert client.get(reverse("reports:run-start")).status_code == 405


def test_the_admin_lists_runs_read_only(client, staff):
    run = TotalsRun.objects.create(status=RunStatus.FAILED, error="boom")
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)

    changelist = client.get(reverse("admin:reports_totalsrun_changelist"))
    detail = client.get(reverse("admin:reports_totalsrun_change", args=[run.pk]))

    assert changelist.status_code == 200 and b"boom" in changelist.content
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.get(reverse("admin:reports_totalsrun_add")).status_code == 403
