"""The totals runs page: administrators only, starts a run, reports its progress."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from counties.models import Role
from reports.models import DailyTotal, RunStatus, TotalsRun
from reports.services import runs
from tests.factories import UserFactory

from .totals_support import build_ledger

pytestmark = pytest.mark.django_db


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


def test_starting_a_run_from_the_page_runs_it_after_the_request_commits(
    client, staff, ledger, django_capture_on_commit_callbacks
):
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("reports:run-start"))

    assert response.status_code == 302
    assert len(callbacks) == 1
    run = TotalsRun.objects.get()
    assert (run.status, run.trigger, run.requested_by) == (RunStatus.SUCCEEDED, runs.Trigger.WEB, staff)
    assert DailyTotal.objects.filter(day=timezone.localdate(), level="nation").exists()


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
