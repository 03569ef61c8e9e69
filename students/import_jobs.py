"""The import jobs' own services, for every screen and endpoint that shows or confirms a check (students.views_jobs,
and any other front end): where a job's problems are read from, and the one import a check may start."""

from django.db import IntegrityError, transaction
from django.utils.translation import get_language

from .import_problems import report_problems
from .models import JobKind, JobStatus, LedgerJob
from .tasks import enqueue_job


def import_job_problems(job: LedgerJob, *, limit: int | None = None) -> list[dict]:
    """The problems a job found, in their order (the first `limit` only): from its report file, or from its row for
    a job of before the report files."""
    if job.report_file:
        return list(report_problems(job.report_file, limit=limit))
    report = job.report if isinstance(job.report, dict) else {"problems": job.report or []}
    return report.get("problems", [])[:limit]


def import_ready(checked: LedgerJob) -> bool:
    """Whether a job is a check whose file may be imported: finished, and with no problem found."""
    return (
        checked.kind == JobKind.IMPORT
        and bool(checked.params.get("dry_run"))
        and checked.status == JobStatus.SUCCEEDED
        and not checked.counts.get("problems")
    )


def import_job_confirm(*, checked: LedgerJob, user, county) -> LedgerJob:
    """The import of a checked file (import_ready): started once per check. A second confirmation (a second click, a
    second tab, two at once) gets the import the first one started.

    The check's row lock makes confirmations of one check wait for each other; the one-to-one checked_by refuses a
    second import even without it.
    """
    try:
        with transaction.atomic():
            LedgerJob.objects.select_for_update().filter(pk=checked.pk).first()
            job = LedgerJob.objects.filter(checked_by=checked).first()
            if job is None:
                job = LedgerJob.objects.create(
                    kind=JobKind.IMPORT,
                    requested_by=user,
                    county=county,
                    input_file=checked.input_file.name,
                    checked_by=checked,
                    params={**checked.params, "dry_run": False, "language": get_language()},
                )
                enqueue_job(job)
    except IntegrityError:
        job = LedgerJob.objects.get(checked_by=checked)
    return job
