"""The comparison's Celery task: it takes a comparison's id and calls rosters.services.comparison_run.

It follows the ledger jobs (students.tasks): written first, sent once its transaction commits, claimed in one
statement (a comparison delivered twice runs once), a heartbeat while it runs (dropout_ledger.heartbeat); beat's
sweep every minute, and every worker as it starts, fail the comparisons whose worker was lost and send the ones the
queue never got, and a comparison's page fails it at once when its worker was lost (`comparison_as_it_stands`).
"""

import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dropout_ledger.heartbeat import keep_alive
from dropout_ledger.queue import send
from students.models import JobStatus
from students.tasks import JOB_TIME_LIMIT, PROGRESS_INTERVAL, heartbeat_every, resend_after, stopped_after

from .models import RosterComparison

logger = logging.getLogger(__name__)


def comparison_send(comparison_id: int) -> bool:
    """Hand the comparison to the queue; False, left queued and unsent, when the queue cannot be reached."""
    if not send(run_comparison, comparison_id):
        return False
    RosterComparison.objects.filter(pk=comparison_id).update(sent_at=timezone.now())
    return True


def enqueue_comparison(comparison: RosterComparison) -> None:
    transaction.on_commit(lambda: comparison_send(comparison.pk))


def _lost():
    return (
        RosterComparison.objects.filter(status=JobStatus.RUNNING)
        .annotate(last_sign=Coalesce("heartbeat_at", "started_at"))
        .filter(last_sign__lt=timezone.now() - stopped_after())
    )


def fail_lost_comparisons(*, pk: int | None = None) -> int:
    """Fail the running comparisons whose worker was lost (no heartbeat for students.tasks.stopped_after()): every
    one, or only comparison `pk`; how many."""
    lost = _lost() if pk is None else _lost().filter(pk=pk)
    return RosterComparison.objects.filter(pk__in=lost.values("pk"), status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED,
        error=_("Stopped before finishing: its worker was stopped or lost. Start it again."),
        finished_at=timezone.now(),
    )


def send_waiting_comparisons() -> int:
    """Send the queued comparisons the queue never got, or seems to have lost; how many were sent."""
    waiting = RosterComparison.objects.filter(status=JobStatus.QUEUED).filter(
        Q(sent_at__isnull=True) | Q(sent_at__lt=timezone.now() - resend_after())
    )
    return sum(comparison_send(pk) for pk in waiting.order_by("created_at").values_list("pk", flat=True))


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_comparisons() -> int:
    """Every minute (beat): fail the comparisons whose worker was lost and send the ones the queue never got."""
    failed = fail_lost_comparisons()
    send_waiting_comparisons()
    return failed


@worker_ready.connect
def send_waiting_comparisons_at_start(**_kwargs) -> None:
    try:
        send_waiting_comparisons()
    except Exception:
        logger.exception("Could not send the waiting roster comparisons at start-up.")


def comparison_as_it_stands(comparison: RosterComparison) -> RosterComparison:
    """The comparison, failed if its worker was lost mid-run (no heartbeat for students.tasks.stopped_after())."""
    if comparison.status == JobStatus.RUNNING and fail_lost_comparisons(pk=comparison.pk):
        comparison.refresh_from_db()
    return comparison


class _Progress:
    """Writes the comparison's progress (percent) at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, comparison_id: int):
        self.comparison_id, self.last, self.written = comparison_id, 0.0, -1

    def __call__(self, percent: int) -> None:
        now = time.monotonic()
        if percent != self.written and now - self.last >= PROGRESS_INTERVAL:
            RosterComparison.objects.filter(pk=self.comparison_id).update(progress=percent)
            self.written, self.last = percent, now


@shared_task(acks_late=True, soft_time_limit=JOB_TIME_LIMIT - 60, time_limit=JOB_TIME_LIMIT)
def run_comparison(comparison_id: int) -> None:
    """Run one roster comparison, recording its counts (or its error) on it."""
    from .services import comparison_run

    now = timezone.now()
    claimed = RosterComparison.objects.filter(pk=comparison_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, progress=0, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return
    comparison = RosterComparison.objects.select_related("county").get(pk=comparison_id)
    language = comparison.params.get("language") or "zh-hans"
    try:
        beating = keep_alive(RosterComparison._meta.db_table, comparison.pk, heartbeat_every())
        with beating, translation.override(language):
            comparison_run(comparison, _Progress(comparison.pk))
    except SoftTimeLimitExceeded:
        logger.error("roster comparison %s stopped at its time limit", comparison.pk)
        _fail(
            comparison.pk,
            _("The job took longer than %(hours)s hours and was stopped.") % {"hours": JOB_TIME_LIMIT // 3600},
        )
        return
    except Exception as error:
        logger.exception("roster comparison %s failed", comparison.pk)
        _fail(comparison.pk, str(error) or error.__class__.__name__)
        return
    comparison.status = JobStatus.SUCCEEDED
    comparison.progress = 100
    comparison.finished_at = timezone.now()
    comparison.save(update_fields=["status", "progress", "counts", "finished_at"])


def _fail(pk: int, error: str) -> None:
    RosterComparison.objects.filter(pk=pk).update(status=JobStatus.FAILED, error=error, finished_at=timezone.now())
