"""Totals runs: which days a run recomputes, its steps, publication in one transaction, its record.

A run goes: requested (queued) -> begun (range settled, running) -> county rows staged, one step per
province (Celery tasks in parallel, or in this process one after another) -> published. Publication
is one transaction: roll-ups, writing the differences into DailyTotal, today's figures, the
reconciliation and the run's own success record commit together or not at all, so readers see the
previous totals until the new ones are complete, and a failed or killed run leaves them untouched.

Which days a run recomputes when it is not given a range (the nightly run, a run started from the
web, `recompute_totals` without dates): from the earliest of
- the effective date of every case event recorded since the last successful such run started
  (less a margin for transactions that were still open then): a return recorded today for last
  week changes last week's totals;
- the first day a county-group membership change affects (memberships have no timestamps: they are
  compared with the copy the last run published);
- the day after the last day with totals (days never computed, e.g. after failed nights);
to today. Everything, from the baseline date, when nothing was published yet or the baseline date
changed. Not tracked (no change history is kept for them): corrections of a child's flags or of a
case's county, school, grade or reason without a status change, and changes to the divisions;
today's figures always reflect them, and `recompute_totals --from DATE` repairs past days.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from counties.models import Division
from dropout_ledger import heartbeat
from students.models import CaseEvent, LedgerCorrection

from ..models import AreaLevel, DailyTotal, RunStatus, TotalsRun
from . import sql
from .totals import (
    Applied,
    ReconciliationError,
    analyze,
    apply_staged,
    baseline_date,
    delete_before,
    live_open_count,
    lock_ledger_writes,
    lock_publication,
    reconcile,
    stage_counties,
    stage_rollups,
    today,
    tune_session,
    vacuum_staging,
)


def changes_margin() -> datetime.timedelta:
    """Events recorded up to this long before the last run started are looked at again.

    A transaction that was still open when that run read the ledger (a long import, say) commits
    its events with timestamps from before that run started. settings.TOTALS_CHANGES_MARGIN_SECONDS
    (default one hour) sets it.
    """
    return datetime.timedelta(seconds=getattr(settings, "TOTALS_CHANGES_MARGIN_SECONDS", 3600))


# A run still queued after this long was never picked up: longer than any task's hard time limit.
STALE_AFTER = datetime.timedelta(hours=3)


def heartbeat_every() -> float:
    """Seconds between two signs of life of a worker on a run (settings.TOTALS_HEARTBEAT_SECONDS, default 20)."""
    return float(getattr(settings, "TOTALS_HEARTBEAT_SECONDS", 20))


def stopped_after() -> datetime.timedelta:
    """A running run with no sign of its worker for this long was lost with it (TOTALS_STOPPED_AFTER_SECONDS,
    default 300). Its steps wait in the queue behind each other, each beating while it works, so the wait is
    only between two tasks."""
    return datetime.timedelta(seconds=getattr(settings, "TOTALS_STOPPED_AFTER_SECONDS", 300))


def keep_alive(run_id: int):
    """Beats for the run every heartbeat_every() seconds while the block runs: a statement of many minutes (a
    province's history, the publication) does not look like a lost worker."""
    return heartbeat.keep_alive(TotalsRun._meta.db_table, run_id, heartbeat_every())


# After writing more rows than this, a run refreshes the published table's statistics itself.
BIG_CHANGE = 100_000
# A run of more days than this refreshes the statistics of its staged rows before rolling them up,
# and vacuums the staging table once it has dropped them.
ANALYZE_AFTER_DAYS = 31
# Advisory lock class of the staging steps (the second key is the province).
STAGE_LOCK = 7_310_001


class Trigger:
    NIGHTLY = "nightly"
    WEB = "web"
    COMMAND = "command"
    # The on-commit recompute of the counties a write touched (reports.services.touched).
    WRITE = "write"


@dataclass(frozen=True)
class Step:
    """Stage the county rows of [from_day, to_day] for one province (None: every county at once)."""

    province_id: int | None
    from_day: datetime.date
    to_day: datetime.date


# --- Which days ------------------------------------------------------------------------------------


def last_catch_up() -> TotalsRun | None:
    return (
        TotalsRun.objects.filter(status=RunStatus.SUCCEEDED, catch_up=True, started_at__isnull=False)
        .order_by("-started_at")
        .first()
    )


def earliest_event_change(since: datetime.datetime) -> datetime.date | None:
    """The earliest effective date among case events recorded after `since`."""
    return CaseEvent.objects.filter(recorded_at__gt=since).aggregate(day=Min("effective_date"))["day"]


def earliest_correction(since: datetime.datetime) -> datetime.date | None:
    """The first day whose figures a correction of a child's or a case's details recorded after `since` changes."""
    return LedgerCorrection.objects.filter(recorded_at__gt=since).aggregate(day=Min("first_day"))["day"]


MEMBERSHIP_CHANGES = """
    SELECT min(CASE WHEN pub.id IS NULL THEN cur.valid_from
                    WHEN cur.id IS NULL THEN pub.valid_from
                    ELSE LEAST(cur.valid_to, pub.valid_to) END)
    FROM counties_countygroupmembership cur
    FULL OUTER JOIN reports_publishedmembership pub
      ON pub.group_id = cur.group_id AND pub.county_id = cur.county_id AND pub.valid_from = cur.valid_from
    WHERE cur.id IS NULL OR pub.id IS NULL OR cur.valid_to IS DISTINCT FROM pub.valid_to
"""

PUBLISH_MEMBERSHIPS = """
    DELETE FROM reports_publishedmembership;
    INSERT INTO reports_publishedmembership (group_id, county_id, valid_from, valid_to)
    SELECT group_id, county_id, valid_from, valid_to FROM counties_countygroupmembership;
"""


def earliest_membership_change() -> datetime.date | None:
    """The first day whose group totals a membership change since the last publication affects."""
    with connection.cursor() as cursor:
        cursor.execute(MEMBERSHIP_CHANGES)
        return cursor.fetchone()[0]


def changed_range() -> tuple[datetime.date, datetime.date]:
    """The days a catch-up run must recompute: (first, last), first > last when there are none."""
    first_day, last_day = baseline_date(), today()
    previous = last_catch_up()
    span = DailyTotal.objects.filter(level=AreaLevel.NATION).aggregate(first=Min("day"), last=Max("day"))
    if previous is None or previous.baseline_date != first_day or span["first"] != first_day or span["last"] is None:
        return first_day, last_day
    candidates = [last_day, span["last"] + datetime.timedelta(days=1)]
    since = previous.started_at - changes_margin()
    candidates.append(earliest_event_change(since))
    candidates.append(earliest_correction(since))
    candidates.append(earliest_membership_change())
    return max(first_day, min(day for day in candidates if day is not None)), last_day


# --- The run's record ------------------------------------------------------------------------------


def run_request(
    *,
    trigger: str,
    user=None,
    from_day: datetime.date | None = None,
    to_day: datetime.date | None = None,
) -> TotalsRun:
    """Record a run to be started. Without dates it recomputes every day changed since the last one."""
    return TotalsRun.objects.create(
        trigger=trigger, requested_by=user, from_day=from_day, to_day=to_day, status=RunStatus.QUEUED
    )


def _lost() -> Q:
    """Running with no sign of its worker for stopped_after(), or queued and never picked up."""
    now = timezone.now()
    return Q(status=RunStatus.RUNNING, last_sign__lt=now - stopped_after()) | Q(
        status=RunStatus.QUEUED, created_at__lt=now - STALE_AFTER
    )


def _with_last_sign():
    return TotalsRun.objects.annotate(last_sign=Coalesce("heartbeat_at", "started_at", "created_at"))


def abandon_stale_runs() -> int:
    """Mark runs whose worker was lost (no heartbeat for a few minutes) as failed, and drop their staged rows.

    Called by every run as it begins and every minute by beat (reports.tasks.sweep_totals_runs).
    """
    stale = list(_with_last_sign().filter(_lost()).values_list("pk", flat=True))
    for run_id in stale:
        run_fail(run_id, _("Stopped before finishing: its worker was stopped or lost. Start it again."))
    return len(stale)


def active_run() -> TotalsRun | None:
    """The run in progress, if any (not counting lost ones)."""
    return (
        _with_last_sign()
        .filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        .exclude(_lost())
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def run_begin(run_id: int, *, by_province: bool = True) -> tuple[TotalsRun, list[Step] | None]:
    """Settle the run's days, mark it running and return its staging steps.

    A run given dates recomputes those days (clamped to the baseline date .. today); it counts as a
    catch-up run only if they include every changed day. A run begun again (its first task redelivered)
    keeps the publication number it first saw: it stages from the ledger as it is now, but what it read
    before may be in its staging too, so a newer publication of its days still fences it off.

    Begun under the run's row lock: of two deliveries of its first task (a run sent again by the sweep while
    the first message waited in the queue), the second finds it running, its worker beating, and gets None:
    nothing to do.
    """
    abandon_stale_runs()
    run = TotalsRun.objects.select_for_update().get(pk=run_id)
    if not run.is_active:  # finished or abandoned already (a redelivered task)
        return run, []
    last_sign = run.heartbeat_at or run.started_at
    if run.status == RunStatus.RUNNING and last_sign and last_sign > timezone.now() - stopped_after():
        return run, None
    if run.status == RunStatus.QUEUED:
        run.seen_generation = last_generation()
    else:
        _clear_staging(run_id)  # begun before: its steps are staged again from the start
    started_at = timezone.now()
    first_day, last_day = baseline_date(), today()
    if run.from_day is None and run.to_day is None:
        from_day, to_day = changed_range()
        catch_up = True
    else:
        from_day = max(run.from_day or first_day, first_day)
        to_day = min(run.to_day or last_day, last_day)
        # Only a range that reaches today can include every changed day.
        catch_up = to_day == last_day and from_day <= changed_range()[0]
    steps = plan_steps(from_day, to_day, by_province=by_province)
    run.status = RunStatus.RUNNING
    run.started_at = run.heartbeat_at = started_at
    run.from_day, run.to_day, run.catch_up = from_day, to_day, catch_up
    run.baseline_date = first_day
    run.steps_total, run.steps_done, run.progress, run.staged_steps = len(steps) + 1, 0, 0, []
    run.error = ""
    run.save(
        update_fields=[
            "status",
            "started_at",
            "from_day",
            "to_day",
            "catch_up",
            "baseline_date",
            "steps_total",
            "steps_done",
            "progress",
            "staged_steps",
            "error",
            "seen_generation",
            "heartbeat_at",
        ]
    )
    return run, steps


def plan_steps(from_day: datetime.date, to_day: datetime.date, *, by_province: bool) -> list[Step]:
    """The staging steps of a run: every day but the last (publication computes that one itself)."""
    history_to = to_day - datetime.timedelta(days=1)
    if from_day > history_to:
        return []
    if not by_province:
        return [Step(None, from_day, history_to)]
    provinces = Division.objects.provinces().order_by("code").values_list("pk", flat=True)
    return [Step(pk, from_day, history_to) for pk in provinces]


STAGE_DONE = """
    UPDATE reports_totalsrun
    SET staged_steps = staged_steps || to_jsonb(%(step)s::int),
        steps_done = steps_done + 1,
        heartbeat_at = now(),
        progress = LEAST(99, (steps_done + 1) * 100 / GREATEST(steps_total, 1))
    WHERE id = %(run)s
"""


def run_stage(run_id: int, step: Step) -> int:
    """Stage one step's county rows and count the step done, in one transaction.

    A step delivered twice (a worker that died after committing it) is staged once: duplicates of
    the same step wait for each other, and the second finds it recorded.
    """
    key = step.province_id or 0
    with keep_alive(run_id), transaction.atomic():
        tune_session()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [STAGE_LOCK, key])
        done = TotalsRun.objects.filter(pk=run_id).values_list("staged_steps", flat=True).first()
        if done is None or key in done:
            return 0
        rows = stage_counties(run_id=run_id, from_day=step.from_day, to_day=step.to_day, province_id=step.province_id)
        with connection.cursor() as cursor:
            cursor.execute(STAGE_DONE, {"step": key, "run": run_id})
    return rows


def last_generation() -> int:
    """The number of the latest publication (0 before the first)."""
    return TotalsRun.objects.aggregate(last=Max("generation"))["last"] or 0


def superseding_run(run: TotalsRun) -> TotalsRun | None:
    """A run that published some of `run`'s days after `run` began, if any: `run`'s figures are older than its.

    Runs of the on-commit recompute (Trigger.WRITE) do not count: they recompute a few counties from the ledger
    as it is, and a run that publishes after them hands their corrections back to the next one
    (_hand_back_corrections), which puts those counties right again.
    """
    return (
        TotalsRun.objects.filter(
            status=RunStatus.SUCCEEDED,
            generation__gt=run.seen_generation,
            from_day__lte=run.to_day,
            to_day__gte=run.from_day,
        )
        .exclude(trigger=Trigger.WRITE)
        .order_by("generation")
        .first()
    )


class Superseded(Exception):
    """The run's days were published by a newer run since it began: it stops without publishing."""


def run_publish(run_id: int) -> TotalsRun:
    """Roll up, publish, reconcile and record success, in one transaction. Raises ReconciliationError.

    Under the publication lock, a run first checks that no newer run has published its days since it began
    (a worker killed mid-run whose messages are delivered again later, say): such a run is recorded as failed,
    saying why, and publishes nothing.
    """
    run = TotalsRun.objects.get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return run
    from_day, to_day = run.from_day, run.to_day
    try:
        with keep_alive(run_id), transaction.atomic():
            tune_session()
            lock_publication()
            newer = superseding_run(run)
            if newer is not None:
                raise Superseded(
                    _(
                        "Stopped without publishing: run %(newer)s published these days after this run began, "
                        "so its figures are newer. Start a run again if one is still needed."
                    )
                    % {"newer": newer.pk}
                )
            if (run.to_day - run.from_day).days > ANALYZE_AFTER_DAYS:
                analyze("reports_stagedtotal")
            applied = Applied()
            if from_day <= to_day:
                history_to = to_day - datetime.timedelta(days=1)
                stage_rollups(run_id=run_id, from_day=from_day, to_day=history_to, range_start=from_day)
                applied += apply_staged(run_id=run_id, from_day=from_day, to_day=history_to)
                is_today = to_day == today()
                if is_today:
                    lock_ledger_writes()
                stage_counties(run_id=run_id, from_day=to_day, to_day=to_day)
                stage_rollups(run_id=run_id, from_day=to_day, to_day=to_day, range_start=from_day)
                applied += apply_staged(run_id=run_id, from_day=to_day, to_day=to_day)
                if from_day == baseline_date():
                    applied.deleted += delete_before(from_day)
                if applied.changed > BIG_CHANGE:
                    analyze("reports_dailytotal")
                live_open = live_open_count() if is_today else None
                problems = reconcile(from_day=from_day, to_day=to_day, live_open=live_open)
                if problems:
                    raise ReconciliationError(problems)
            if run.catch_up:
                with connection.cursor() as cursor:
                    cursor.execute(PUBLISH_MEMBERSHIPS)
            _hand_back_corrections(run)
            days = max((to_day - from_day).days + 1, 0)
            TotalsRun.objects.filter(pk=run_id).update(
                status=RunStatus.SUCCEEDED,
                finished_at=timezone.now(),
                progress=100,
                steps_done=F("steps_total"),
                days_written=days,
                rows_written=applied.changed,
                generation=last_generation() + 1,
                message=_("%(days)s days recomputed: %(written)s rows added or changed, %(deleted)s removed.")
                % {"days": days, "written": applied.written, "deleted": applied.deleted},
            )
            _clear_staging(run_id)
    except ReconciliationError as error:
        run_fail(run_id, _("The totals do not add up; the previous totals stay published.") + "\n" + str(error))
        raise
    except Superseded as superseded:
        run_fail(run_id, str(superseded))
    finally:
        if (to_day - from_day).days > ANALYZE_AFTER_DAYS:
            vacuum_staging()
    run.refresh_from_db()
    return run


def _hand_back_corrections(run: TotalsRun) -> None:
    """Ask the on-commit recompute to redo the counties written to while this run went on.

    The run staged its past days before it took the publication lock: a change committed meanwhile,
    which the on-commit recompute may already have published, is not in them.
    """
    if run.started_at is None or run.from_day >= run.to_day:
        return
    handed_back = LedgerCorrection.objects.filter(
        county__isnull=False, recorded_at__gte=run.started_at - changes_margin(), first_day__lt=run.to_day
    ).update(recomputed_at=None)
    if handed_back:
        from ..tasks import recompute_touched_soon  # reports.tasks imports this module

        transaction.on_commit(recompute_touched_soon)


def _clear_staging(run_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.CLEAR_STAGED_RUN, {"run": run_id})


def run_fail(run_id: int, error: str) -> None:
    """Record that a run failed (if it has not finished already) and drop its staged rows."""
    TotalsRun.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error=error[:10000]
    )
    _clear_staging(run_id)


def run_execute(
    run_id: int,
    *,
    by_province: bool = True,
    progress: Callable[[TotalsRun], None] | None = None,
) -> TotalsRun:
    """Do a requested run here, step after step (what the Celery tasks do in parallel)."""
    try:
        run, steps = run_begin(run_id, by_province=by_province)
        if steps is None:  # another process is doing it
            return run
        for step in steps:
            run_stage(run_id, step)
            if progress:
                progress(TotalsRun.objects.get(pk=run_id))
        run = run_publish(run_id)
    except ReconciliationError:
        raise
    except BaseException as error:
        # Also on SystemExit and KeyboardInterrupt: the record must not stay "running".
        run_fail(run_id, f"{type(error).__name__}: {error}")
        raise
    if progress:
        progress(run)
    return run


def recompute(
    from_day: datetime.date | None = None,
    to_day: datetime.date | None = None,
    *,
    by_province: bool = False,
    trigger: str = Trigger.COMMAND,
    user=None,
    progress: Callable[[TotalsRun], None] | None = None,
) -> TotalsRun:
    """Recompute and publish the totals of [from_day, to_day] in this process (no dates: every changed day).

    With `by_province=False` the county rows come from one statement over the whole country.
    """
    run = run_request(trigger=trigger, user=user, from_day=from_day, to_day=to_day)
    return run_execute(run.pk, by_province=by_province, progress=progress)
