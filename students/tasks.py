"""Background ledger jobs: imports and large exports. Each task takes a LedgerJob id and calls a service.

Jobs are created by students.views_jobs (or the services below) and sent to the queue once their
transaction commits (enqueue_job), so a worker never looks for a job that is not committed yet. A queue that
cannot be reached leaves the job queued and unsent, which its page says; the sweep (every minute) and every
worker as it starts send it once the queue is back. A job keeps a heartbeat while it runs; one whose worker
was lost is failed by the sweep within minutes, "start it again".
"""

import datetime
import logging
import time
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dropout_ledger.heartbeat import keep_alive
from dropout_ledger.queue import send

from .models import JobKind, JobStatus, LedgerJob

logger = logging.getLogger(__name__)

# Progress is written at most this often (seconds), so a big import does not spend its time on it.
PROGRESS_INTERVAL = 0.5
# A job is stopped after this long (seconds).
JOB_TIME_LIMIT = 2 * 60 * 60


def heartbeat_every() -> float:
    """Seconds between two signs of life of a running job (settings.JOB_HEARTBEAT_SECONDS, default 20)."""
    return float(getattr(settings, "JOB_HEARTBEAT_SECONDS", 20))


def stopped_after() -> datetime.timedelta:
    """A running job with no sign of its worker for this long was lost with it (JOB_STOPPED_AFTER_SECONDS, 300)."""
    return datetime.timedelta(seconds=getattr(settings, "JOB_STOPPED_AFTER_SECONDS", 300))


def resend_after() -> datetime.timedelta:
    """A job sent this long ago and still queued is sent again (JOB_RESEND_AFTER_SECONDS, default 600): its
    message was lost. A second delivery does nothing: the first to claim the job runs it."""
    return datetime.timedelta(seconds=getattr(settings, "JOB_RESEND_AFTER_SECONDS", 600))


def job_send(job_id: int) -> bool:
    """Hand the job to the queue; False, the job left queued and unsent, when the queue cannot be reached."""
    if not send(run_ledger_job, job_id):
        return False
    LedgerJob.objects.filter(pk=job_id).update(sent_at=timezone.now())
    return True


def enqueue_job(job: LedgerJob) -> None:
    """Send the job to a worker once the transaction that created it commits."""
    transaction.on_commit(lambda: job_send(job.pk))


def _lost_jobs():
    last_sign = Coalesce("heartbeat_at", "started_at")
    return (
        LedgerJob.objects.filter(status=JobStatus.RUNNING)
        .annotate(last_sign=last_sign)
        .filter(last_sign__lt=timezone.now() - stopped_after())
    )


def fail_lost_jobs(*, pk: int | None = None) -> int:
    """Mark the running jobs whose worker was lost (no heartbeat for stopped_after()) as failed: every one, or
    only job `pk`; how many."""
    lost = _lost_jobs() if pk is None else _lost_jobs().filter(pk=pk)
    return LedgerJob.objects.filter(pk__in=list(lost.values_list("pk", flat=True)), status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED,
        error=_("Stopped before finishing: its worker was stopped or lost. Start it again."),
        finished_at=timezone.now(),
    )


def send_waiting_jobs() -> int:
    """Send the queued jobs the queue never got, or seems to have lost; how many were sent."""
    waiting = LedgerJob.objects.filter(status=JobStatus.QUEUED).filter(
        Q(sent_at__isnull=True) | Q(sent_at__lt=timezone.now() - resend_after())
    )
    return sum(job_send(pk) for pk in waiting.order_by("created_at").values_list("pk", flat=True))


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_ledger_jobs() -> int:
    """Every minute (beat): fail the jobs whose worker was lost and send the ones the queue never got."""
    failed = fail_lost_jobs()
    send_waiting_jobs()
    return failed


@worker_ready.connect
def send_waiting_jobs_at_start(**_kwargs) -> None:
    try:
        send_waiting_jobs()
    except Exception:
        logger.exception("Could not send the waiting ledger jobs at start-up.")


class _ProgressWriter:
    """Writes a job's progress (percent) as rows are read and written; 100 is written when the job is done.

    It writes through a connection of its own: an import writes its rows in one transaction, into which the job's
    page could not see (and a COPY under way leaves its connection no room for another statement).
    """

    def __init__(self, job: LedgerJob, share: int = 99):
        self.job_id = job.pk
        self.share = share
        self.last = 0.0
        self.written = -1
        self.connection = None

    def __call__(self, done: int, total: int) -> None:
        percent = min(self.share, int(self.share * done / max(total, 1)))
        now = time.monotonic()
        if percent != self.written and (now - self.last >= PROGRESS_INTERVAL or done >= total):
            self.write(percent)
            self.written, self.last = percent, now

    def write(self, percent: int) -> None:
        if self.connection is None:
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.connection.cursor() as cursor:
            cursor.execute(f"UPDATE {LedgerJob._meta.db_table} SET progress = %s WHERE id = %s", [percent, self.job_id])

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def job_as_it_stands(job: LedgerJob) -> LedgerJob:
    """The job, marked failed if its worker was lost mid-run (it would otherwise show as running until the sweep)."""
    if job.status == JobStatus.RUNNING and fail_lost_jobs(pk=job.pk):
        job.refresh_from_db()
    return job


@shared_task(acks_late=True, soft_time_limit=JOB_TIME_LIMIT - 60, time_limit=JOB_TIME_LIMIT)
def run_ledger_job(job_id: int) -> None:
    """Run one import or export job, recording its result (or its error) on the job."""
    now = timezone.now()
    # Claimed in one statement: of two deliveries of one job, one runs it.
    claimed = LedgerJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, progress=0, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return  # already run, or running (a message delivered again)
    job = LedgerJob.objects.select_related("county", "requested_by").get(pk=job_id)
    language = job.params.get("language") or "zh-hans"
    try:
        with keep_alive(LedgerJob._meta.db_table, job.pk, heartbeat_every()), translation.override(language):
            if job.kind == JobKind.IMPORT:
                _run_import(job)
            elif job.kind == JobKind.EXPORT:
                _run_export(job)
            else:
                raise ValueError(f"unknown job kind {job.kind}")
    except SoftTimeLimitExceeded:
        logger.error("ledger job %s stopped at its time limit", job.pk)
        hours = JOB_TIME_LIMIT // 3600
        LedgerJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED,
            error=_("The job took longer than %(hours)s hours and was stopped.") % {"hours": hours},
            finished_at=timezone.now(),
        )
        return
    except Exception as error:
        logger.exception("ledger job %s failed", job.pk)
        LedgerJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=str(error) or error.__class__.__name__, finished_at=timezone.now()
        )
        return
    job.status = JobStatus.SUCCEEDED
    job.progress = 100
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "progress", "counts", "report", "output_file", "report_file", "finished_at"])


def _run_import(job: LedgerJob) -> None:
    from .import_problems import PROBLEMS_LISTED, report_save
    from .import_rows import mapping_offer
    from .importing import import_ledger

    progress = _ProgressWriter(job)
    try:
        result = import_ledger(
            job.input_file.path,
            county=job.county,
            user=job.requested_by,
            dry_run=bool(job.params.get("dry_run")),
            filename=job.params.get("filename") or Path(job.input_file.name).name,
            progress=progress,
            job_id=job.pk,
        )
    finally:
        progress.close()
    job.counts = {**result.counts(), "dry_run": result.dry_run, "encoding": result.encoding}
    # The job's row keeps the summary; the problems themselves go to the report file.
    job.report = {
        "groups": result.groups(),
        "warnings": result.warnings,
        "listed": min(len(result.problems), PROBLEMS_LISTED),
        "unknown": mapping_offer(result.unknown_headings, result.unknown_values),
    }
    if result.problems:
        report_save(job.report_file, result.problems, f"problems-{job.pk}.jsonl")


def _run_export(job: LedgerJob) -> None:
    import tempfile

    from .disclosure import describe_query, disclosure_for, log_disclosure
    from .exporting import export_cases
    from .models import DisclosurePurpose

    queryset = export_queryset(job)
    fmt = job.params.get("format", "xlsx")
    disclosure = disclosure_for(job.requested_by)
    with tempfile.TemporaryFile() as out:
        export_cases(out, queryset, fmt=fmt, language=job.params.get("sheet_language", "zh"), disclosure=disclosure)
        out.seek(0)
        job.output_file.save(export_filename(job), File(out), save=False)
    job.counts = {"rows": queryset.count()}
    if not disclosure.masked:
        detail = f"{export_filename(job)} {describe_query(job.params.get('query', ''))}".strip()
        log_disclosure(
            job.requested_by, purpose=DisclosurePurpose.BACKGROUND_EXPORT, children=job.counts["rows"], detail=detail
        )


def export_queryset(job: LedgerJob):
    """The cases an export job covers, read through the requesting user's scope."""
    from types import SimpleNamespace

    from .access import cases_visible_to
    from .filters import CaseFilter

    user = job.requested_by
    if job.params.get("ledger"):
        return cases_visible_to(user).filter(county=job.county).order_by("school__code", "dropout_date", "pk")
    request = SimpleNamespace(user=user, GET=QueryDict(job.params.get("query", "")))
    return CaseFilter(request.GET, request=request).qs


def export_filename(job: LedgerJob) -> str:
    stem = _("ledger") if job.params.get("ledger") else _("cases")
    area = job.county.code if job.county else ""
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M")
    return f"{stem}-{area}-{stamp}.{job.params.get('format', 'xlsx')}".replace("--", "-")


def save_upload(job: LedgerJob, name: str, content: bytes) -> None:
    job.input_file.save(name, ContentFile(content), save=False)


@shared_task(soft_time_limit=30 * 60, time_limit=35 * 60)
def find_duplicates() -> int:
    """The nightly search for records that are probably one child (students.duplicates); returns how many new."""
    from .duplicates import duplicates_find

    found = duplicates_find()
    logger.info("duplicate search: %d new candidates", found)
    return found
