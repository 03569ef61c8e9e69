"""The on-commit recompute: a write's county figures published within one task run, under the publication lock.

Tasks run eagerly in the test settings; on-commit callbacks run only inside django_capture_on_commit_callbacks.
"""

import datetime

import pytest
import redis
from django.conf import settings
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone, translation

from reports import tasks
from reports.models import DailyTotal, RunStatus, StagedTotal, TotalsRun
from reports.services import runs, touched
from students.choices import OPEN_STATUSES, Placement, Reason, Status, VisitMethod, VisitorRole, VisitOutcome
from students.models import DropoutCase, LedgerCorrection
from students.services import case_mark_returned, case_reopen_on_relapse, student_update, visit_record
from tests.factories import open_case

from .totals_support import build_ledger

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def no_changes_margin(settings):
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 0


@pytest.fixture(autouse=True)
def no_task_scheduled():
    """No recompute is scheduled from an earlier test (the key lives in Redis, outside the test's transaction)."""
    redis.Redis.from_url(settings.REDIS_URL).delete(tasks.TOUCHED_KEY)


@pytest.fixture
def baseline(settings):
    day = timezone.localdate() - 20 * DAY
    settings.LEDGER_BASELINE_DATE = day.isoformat()
    return day


@pytest.fixture
def published(area, baseline):
    """A ledger of every kind of case, its totals published by a full run, no correction waiting."""
    ledger = build_ledger(area, baseline - 20 * DAY)
    runs.recompute()
    LedgerCorrection.objects.update(recomputed_at=timezone.now())
    return ledger


def every_row() -> list[tuple]:
    columns = [f.attname for f in DailyTotal._meta.fields if f.attname != "id"]
    return sorted(DailyTotal.objects.values_list(*columns), key=str)


def live_open(county) -> int:
    return DropoutCase.objects.filter(county=county, status__in=OPEN_STATUSES).count()


def test_a_return_recorded_by_the_county_moves_its_headline_to_the_live_count_in_one_task_run(
    client, users, area, published, django_capture_on_commit_callbacks
):
    county = area["county"]
    case = open_case(area["school"], dropout_date=timezone.localdate() - 40 * DAY)
    touched.touched_recompute()
    client.force_login(users["county"])
    page = reverse("reports:division", args=[county.code])
    assert client.get(page).context["figures"].open_count == live_open(county)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        today = timezone.localdate().isoformat()
        response = client.post(
            reverse("students:case-returned", args=[case.pk]),
            {"version": case.version, "returned_on": today, "placement": Placement.REGULAR_CLASS},
        )
    assert response.status_code == 302
    assert len(callbacks) == 1

    run = TotalsRun.objects.order_by("-pk").first()
    assert (run.trigger, run.status) == (runs.Trigger.WRITE, RunStatus.SUCCEEDED)
    figures = client.get(page).context["figures"]
    assert figures.open_count == live_open(county)
    assert figures.returned_count == 1
    assert not LedgerCorrection.objects.filter(recomputed_at__isnull=True).exists()


def test_the_recompute_publishes_what_a_full_run_publishes(area, published, baseline, users):
    """Writes of every kind, dated today and in the past, on several counties and the baseline day."""
    cases = published["cases"]
    today = timezone.localdate()
    case_mark_returned(case=cases["open_throughout"], returned_on=today - 6 * DAY, placement=Placement.REGULAR_CLASS)
    open_case(area["far_school"], dropout_date=today - 3 * DAY, reason=Reason.WORK)
    open_case(area["neighbour_school"], dropout_date=baseline, reason=Reason.DISTANCE)
    relapsed = open_case(area["school"], dropout_date=today - 15 * DAY)
    case_mark_returned(case=relapsed, returned_on=today - 10 * DAY, placement=Placement.REGULAR_CLASS)
    case_reopen_on_relapse(case=relapsed, dropout_date=today - 2 * DAY, reason=Reason.POVERTY)
    student_update(student=cases["closed"].student, changes={"registered_poor": True}, user=users["admin"])

    run = touched.touched_recompute()

    assert run.from_day == baseline and run.to_day == today
    assert not StagedTotal.objects.exists()
    quick = every_row()
    runs.recompute(baseline, today)
    assert every_row() == quick


def test_a_change_on_a_published_day_only_recomputes_from_that_day(area, published):
    today = timezone.localdate()
    open_case(area["far_school"], dropout_date=today - 2 * DAY)
    run = touched.touched_recompute()
    assert (run.from_day, run.to_day, run.days_written) == (today - 2 * DAY, today, 3)
    assert "1 counties" in run.message
    assert touched.touched_recompute() is None  # nothing waits any more


def test_writes_on_days_not_yet_published_are_left_to_the_nightly_run(area, baseline):
    open_case(area["school"], dropout_date=baseline + DAY)
    assert touched.touched_recompute() is None
    assert not TotalsRun.objects.exists()
    assert not LedgerCorrection.objects.filter(recomputed_at__isnull=True).exists()


def test_two_writes_within_the_window_schedule_one_task(area, monkeypatch, django_capture_on_commit_callbacks):
    scheduled = []
    monkeypatch.setattr(tasks.recompute_touched_totals, "apply_async", lambda **kw: scheduled.append(kw))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            open_case(area["school"], dropout_date=timezone.localdate())
    assert scheduled == [{"countdown": tasks.touched_delay()}]


def test_a_write_after_the_task_started_schedules_the_next_one(area, monkeypatch, django_capture_on_commit_callbacks):
    scheduled = []
    monkeypatch.setattr(tasks.recompute_touched_totals, "apply_async", lambda **kw: scheduled.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        open_case(area["school"], dropout_date=timezone.localdate())
    tasks.recompute_touched_totals.run()
    with django_capture_on_commit_callbacks(execute=True):
        open_case(area["school"], dropout_date=timezone.localdate())
    assert len(scheduled) == 2


def test_a_first_visit_changes_no_figure_and_schedules_nothing(area, django_capture_on_commit_callbacks):
    case = open_case(area["school"], dropout_date=timezone.localdate() - 5 * DAY)
    before = LedgerCorrection.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        visit_record(
            case=case,
            visit_date=timezone.localdate(),
            visitors=[{"role": VisitorRole.PRINCIPAL, "name": "王校长"}],
            method=VisitMethod.HOME_VISIT,
            outcome=VisitOutcome.REFUSED,
        )
    assert case.status == Status.PERSUADING
    assert LedgerCorrection.objects.count() == before
    assert callbacks == []


def test_the_recompute_waits_for_a_publication_in_progress(area, owner_connection, settings):
    """A run publishing holds the lock (on another connection here): the recompute waits, then gives up and
    leaves everything as it was, to be retried. (This test publishes nothing itself: a publication holds the
    lock until the test's transaction ends.)"""
    settings.TOTALS_TOUCHED_LOCK_WAIT = "200ms"
    open_case(area["far_school"], dropout_date=timezone.localdate())
    with owner_connection.cursor() as other:
        other.execute("BEGIN")
        other.execute("SELECT pg_advisory_xact_lock(hashtext('reports.totals.publish'))")  # totals.lock_publication
        with pytest.raises(OperationalError):
            touched.touched_recompute()
        other.execute("ROLLBACK")
    assert LedgerCorrection.objects.filter(recomputed_at__isnull=True).count() == 1
    assert not TotalsRun.objects.exists()


def test_the_nightly_run_still_reconciles_after_recomputes(area, published, baseline):
    today = timezone.localdate()
    case = open_case(area["school"], dropout_date=today - 4 * DAY)
    touched.touched_recompute()
    case_mark_returned(case=case, returned_on=today - DAY, placement=Placement.REGULAR_CLASS)
    touched.touched_recompute()
    quick = every_row()

    nightly = runs.recompute(trigger=runs.Trigger.NIGHTLY)

    assert nightly.status == RunStatus.SUCCEEDED and nightly.catch_up
    assert nightly.from_day <= today - 4 * DAY
    assert every_row() == quick


def test_the_nightly_run_hands_back_the_changes_recorded_while_it_ran(area, users, published, monkeypatch):
    """The nightly staged its past days before a correction; the recompute published the correction before the
    nightly published its older rows over it: the nightly asks for the recompute again, which puts it right."""
    today = timezone.localdate()
    child = open_case(area["far_school"], dropout_date=today - 9 * DAY).student
    touched.touched_recompute()
    run, steps = runs.run_begin(runs.run_request(trigger=runs.Trigger.NIGHTLY, from_day=today - 5 * DAY).pk)
    for step in steps:
        runs.run_stage(run.pk, step)
    student_update(student=child, changes={"registered_poor": not child.registered_poor}, user=users["admin"])
    touched.touched_recompute()
    scheduled = []
    monkeypatch.setattr(tasks, "recompute_touched_soon", lambda: scheduled.append(True))

    runs.run_publish(run.pk)

    assert LedgerCorrection.objects.filter(recomputed_at__isnull=True).count() == 1
    touched.touched_recompute()
    rows = every_row()
    runs.recompute(today - 5 * DAY, today)
    assert every_row() == rows


def test_the_headline_says_when_its_figures_were_computed_in_both_languages(client, users, area, published):
    open_case(area["school"], dropout_date=timezone.localdate())
    run = touched.touched_recompute()
    client.force_login(users["county"])
    page = reverse("reports:division", args=[area["county"].code])
    at = timezone.localtime(run.finished_at)

    html = client.get(page).content.decode()
    headline = html[html.index('class="card headline"') :]
    assert f'datetime="{at.isoformat()}"' in headline[: headline.index("</section>")]
    assert "Totals computed at" in headline[: headline.index("</section>")]
    with translation.override("zh-hans"):
        html = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    headline = html[html.index('class="card headline"') :]
    assert "汇总计算时间" in headline[: headline.index("</section>")]


def test_a_new_case_records_its_county_and_first_day(area):
    case = open_case(area["far_school"], dropout_date=timezone.localdate() - 7 * DAY)
    assert list(LedgerCorrection.objects.values_list("county", "first_day", "recomputed_at")) == [
        (area["far"].pk, case.dropout_date, None)
    ]


def test_the_runs_page_names_the_recompute(client, users, area, published):
    open_case(area["school"], dropout_date=timezone.localdate())
    touched.touched_recompute()
    client.force_login(users["admin"])
    assert "after ledger changes" in client.get(reverse("reports:runs")).content.decode()
