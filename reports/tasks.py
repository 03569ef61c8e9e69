"""Celery tasks for the daily totals. They take ids and ISO dates, and call reports.services.runs.

The nightly run (beat: the "Nightly totals" periodic task, 01:00 Asia/Shanghai, editable in the
admin) requests a run and starts it: a chord of one staging task per province, then one task that
rolls up, publishes and reconciles in a single transaction. Transient database errors are retried
with exponential backoff; every task has soft and hard time limits, and a run whose task fails for
good is recorded as failed.

A write that moves the figures asks, once it commits, for the on-commit recompute of the counties it
touched (`recompute_touched_soon`, reports.services.touched): the first write of a burst schedules one
task a few seconds later (settings.TOTALS_TOUCHED_DELAY_SECONDS, default 5), marked by a Redis key that
the writes after it find set; the task clears the key as it starts, so a write it may miss schedules the
next one.

The nightly verification of the ledger's hash chains (beat: the "Nightly ledger verification" periodic task,
00:45) walks the chains that gained entries since the last verification and keeps the result for the runs page.
"""

import contextlib
import datetime
import logging

import redis
from celery import Task, chord, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone

from dropout_ledger.queue import send
from students.ledger_chain import ledger_verify_nightly

from .models import RunStatus, TotalsRun
from .services import runs, touched
from .services.totals import ReconciliationError

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


class TotalsTask(Task):
    """Retries transient database errors with exponential backoff."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 30
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5


class RunTask(TotalsTask):
    """A step of one run (its first argument is the run's id): the run is recorded as failed once the
    step gives up, so that it does not stay "running" (reconciliation failures record their own error)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        run_id = kwargs.get("run_id", args[0] if args else None)
        if run_id is not None and not isinstance(exc, ReconciliationError):
            runs.run_fail(run_id, f"{type(exc).__name__}: {exc}")


def _day(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


@shared_task(base=TotalsTask, soft_time_limit=300, time_limit=360)
def nightly_totals() -> int:
    """Request a run of every day changed since the last one, and start it."""
    run = runs.run_request(trigger=runs.Trigger.NIGHTLY)
    run_send(run.pk)
    return run.pk


def run_send(run_id: int) -> bool:
    """Hand a requested run to the queue. False when the broker is unreachable: the run stays queued, unsent, and
    the sweep (or a worker starting) sends it once the queue is back."""
    if not send(start_totals_run, run_id):
        return False
    TotalsRun.objects.filter(pk=run_id).update(sent_at=timezone.now())
    return True


def resend_after() -> datetime.timedelta:
    """A queued run sent this long ago and not begun is sent again (TOTALS_RESEND_AFTER_SECONDS, default 120):
    its message was lost (a broker restarted without saving it). A second delivery does nothing (runs.run_begin)."""
    return datetime.timedelta(seconds=getattr(settings, "TOTALS_RESEND_AFTER_SECONDS", 120))


def send_waiting_runs() -> int:
    """Send the queued runs the queue never got, or seems to have lost; how many were sent."""
    waiting = TotalsRun.objects.filter(status=RunStatus.QUEUED).filter(
        Q(sent_at__isnull=True) | Q(sent_at__lt=timezone.now() - resend_after())
    )
    return sum(run_send(run_id) for run_id in waiting.order_by("created_at").values_list("pk", flat=True))


@shared_task(base=TotalsTask, soft_time_limit=60, time_limit=90)
def sweep_totals_runs() -> int:
    """Every minute (beat): mark runs whose worker was lost as failed, so the next one can start, and send the
    runs the queue never got; how many runs were failed."""
    abandoned = runs.abandon_stale_runs()
    send_waiting_runs()
    return abandoned


@worker_ready.connect
def send_waiting_at_start(**_kwargs) -> None:
    """A worker starting (after the broker or the workers were down) sends what waited for it."""
    try:
        send_waiting_runs()
    except Exception:
        logger.exception("Could not send the waiting totals runs at start-up.")


@shared_task(base=TotalsTask, soft_time_limit=1800, time_limit=1900)
def verify_ledger_nightly() -> int:
    """Verify the chains that gained entries since the last verification; the result is kept."""
    return ledger_verify_nightly().pk


@shared_task(base=TotalsTask, soft_time_limit=300, time_limit=360)
def recompute_totals(from_day: str | None = None, to_day: str | None = None, user_id: int | None = None) -> int:
    """Request and start a run of [from_day, to_day] (ISO dates; none: every changed day)."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run = runs.run_request(
        trigger=runs.Trigger.WEB if user else runs.Trigger.COMMAND,
        user=user,
        from_day=_day(from_day),
        to_day=_day(to_day),
    )
    run_send(run.pk)
    return run.pk


@shared_task(base=RunTask, soft_time_limit=600, time_limit=660)
def start_totals_run(run_id: int) -> None:
    """Settle the run's days, then fan out one staging task per province and publish when all are done."""
    run, steps = runs.run_begin(run_id)
    if steps is None:  # a second delivery of a run another worker is doing
        return
    if not steps:
        publish_totals_run.delay(run_id)
        return
    header = [
        stage_totals_province.si(run_id, step.province_id, step.from_day.isoformat(), step.to_day.isoformat())
        for step in steps
    ]
    chord(header)(publish_totals_run.si(run_id))


# Its result is kept: the chord that publishes a run counts its staging steps' results in the result store.
@shared_task(base=RunTask, soft_time_limit=1800, time_limit=1900, ignore_result=False)
def stage_totals_province(run_id: int, province_id: int | None, from_day: str, to_day: str) -> int:
    """Compute one province's county rows of [from_day, to_day] into the run's staging."""
    step = runs.Step(province_id, _day(from_day), _day(to_day))
    return runs.run_stage(run_id, step)


@shared_task(base=RunTask, soft_time_limit=3000, time_limit=3300)
def publish_totals_run(run_id: int) -> int:
    """Roll up, publish, reconcile: the new totals become visible together, or not at all."""
    try:
        run = runs.run_publish(run_id)
    except ReconciliationError:
        logger.error("Totals run %s failed reconciliation; the previous totals stay published.", run_id)
        raise
    return run.rows_written


# Set while an on-commit recompute is scheduled and has not started.
TOUCHED_KEY = "reports:totals:touched-scheduled"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def touched_delay() -> int:
    """Seconds from the first write of a burst to its recompute (settings.TOTALS_TOUCHED_DELAY_SECONDS)."""
    return int(getattr(settings, "TOTALS_TOUCHED_DELAY_SECONDS", 5))


def recompute_touched_soon() -> None:
    """Schedule the recompute of the counties writes touched, unless one is scheduled already.

    Call on commit (students.services.correction_record does). The key expires a minute after the
    task was due, so a task lost with its worker does not hold back the next ones. Without Redis the
    task is scheduled anyway: a recompute too many is harmless.
    """
    delay = touched_delay()
    try:
        first = _redis().set(TOUCHED_KEY, "1", nx=True, ex=delay + 60)
    except redis.RedisError:
        logger.warning("Redis unavailable: scheduling the on-commit totals recompute without debouncing.")
        first = True
    if first:
        try:
            recompute_touched_totals.apply_async(countdown=delay)
        except Exception:
            # The write has committed: a broker that is down must not turn it into an error page. The
            # nightly run recomputes these days; the next write that reaches the broker does sooner.
            logger.exception("Could not schedule the on-commit totals recompute.")
            with contextlib.suppress(redis.RedisError):
                _redis().delete(TOUCHED_KEY)


@shared_task(base=TotalsTask, soft_time_limit=600, time_limit=660)
def recompute_touched_totals() -> int | None:
    """Recompute the days of the counties writes touched; the id of the run, if there was one."""
    try:
        _redis().delete(TOUCHED_KEY)
    except redis.RedisError:
        logger.warning("Redis unavailable: the on-commit recompute's key stays until it expires.")
    try:
        run = touched.touched_recompute()
    except ReconciliationError:
        logger.error("The on-commit totals recompute failed reconciliation; the previous totals stay published.")
        raise
    return run.pk if run else None
