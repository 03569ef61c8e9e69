"""Background ledger jobs: imports and large exports. Each task takes a LedgerJob id and calls a service.

Jobs are created by students.views_jobs (or the services below) and enqueued with
transaction.on_commit, so a worker never looks for a job that is not committed yet.
"""

import datetime
import logging
import time
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import JobKind, JobStatus, LedgerJob

logger = logging.getLogger(__name__)

# Progress is written at most this often (seconds), so a big import does not spend its time on it.
PROGRESS_INTERVAL = 0.5
# A job is stopped after this long (seconds). One still "running" well after it was abandoned: its
# worker died, and the job's transaction died with it, so it changed nothing.
JOB_TIME_LIMIT = 2 * 60 * 60
JOB_STALE_AFTER = datetime.timedelta(seconds=JOB_TIME_LIMIT + 15 * 60)


def enqueue_job(job: LedgerJob) -> None:
    """Run the job in a worker once the transaction that created it commits."""
    transaction.on_commit(lambda: run_ledger_job.delay(job.pk))


class _ProgressWriter:
    """Writes a job's progress (percent) as rows are read; the reading is most of an import's work."""

    def __init__(self, job: LedgerJob, share: int = 90):
        self.job_id = job.pk
        self.share = share
        self.last = 0.0
        self.written = -1

    def __call__(self, done: int, total: int) -> None:
        percent = min(self.share, int(self.share * done / max(total, 1)))
        now = time.monotonic()
        if percent != self.written and (now - self.last >= PROGRESS_INTERVAL or done >= total):
            LedgerJob.objects.filter(pk=self.job_id).update(progress=percent)
            self.written, self.last = percent, now


def job_as_it_stands(job: LedgerJob) -> LedgerJob:
    """The job, marked failed if its worker died mid-run (it would otherwise show as running for ever)."""
    if job.status == JobStatus.RUNNING and job.started_at and job.started_at < timezone.now() - JOB_STALE_AFTER:
        LedgerJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED,
            error=_("The job stopped before finishing (its worker was stopped or lost). Start it again."),
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
    return job


@shared_task(acks_late=True, soft_time_limit=JOB_TIME_LIMIT - 60, time_limit=JOB_TIME_LIMIT)
def run_ledger_job(job_id: int) -> None:
    """Run one import or export job, recording its result (or its error) on the job."""
    job = LedgerJob.objects.select_related("county", "requested_by").get(pk=job_id)
    if job.status != JobStatus.QUEUED:
        return  # already run, or running (a redelivered message)
    LedgerJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress=0, started_at=timezone.now())
    language = job.params.get("language") or "zh-hans"
    try:
        with translation.override(language):
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
    job.save(update_fields=["status", "progress", "counts", "report", "output_file", "finished_at"])


def _run_import(job: LedgerJob) -> None:
    from .importing import import_ledger

    result = import_ledger(
        job.input_file.path,
        county=job.county,
        user=job.requested_by,
        dry_run=bool(job.params.get("dry_run")),
        filename=job.params.get("filename") or Path(job.input_file.name).name,
        progress=_ProgressWriter(job),
        job_id=job.pk,
    )
    job.counts = {**result.counts(), "dry_run": result.dry_run, "encoding": result.encoding}
    job.report = {"problems": [p.as_dict() for p in result.problems], "warnings": result.warnings}


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
