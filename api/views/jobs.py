"""Jobs (imports, exports, reports) with their progress and problem reports, and the import: upload a file to be
checked, then confirm the check to import it. Built on what the import screens use (students.tasks,
students.import_jobs, LedgerJob): the same check, the same job, the same problems read from the check's report, the
same one import per check, the same rules for who may import into which county.
"""

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

import students.views  # noqa: F401  (before students.views_jobs, which it imports: the two import each other)
from counties.models import Level
from students.access import divisions_visible_to, scope_for
from students.disclosure import log_disclosure
from students.import_jobs import import_job_confirm, import_ready
from students.models import DisclosurePurpose, JobKind, LedgerJob
from students.tasks import enqueue_job, job_as_it_stands
from students.views_jobs import ImportForm

from ..errors import form_problems, invalid
from ..idempotency import PARAMETER as IDEMPOTENCY_KEY
from ..idempotency import idempotent
from ..serializers import ErrorSerializer, ImportInSerializer, JobSerializer, numbered_page
from ..tokens import is_administrator
from .base import LedgerView, Pages


def jobs_of(user):
    """The jobs a user asked for (administrators: every job), as on the job pages."""
    jobs = LedgerJob.objects.select_related("county").order_by("-created_at", "-pk")
    return jobs if is_administrator(user) else jobs.filter(requested_by=user)


def job_for(user, pk: int) -> LedgerJob:
    try:
        return job_as_it_stands(jobs_of(user).get(pk=pk))
    except LedgerJob.DoesNotExist:
        raise Http404 from None


def county_for_import(user, code: str):
    """404 outside the user's area, 403 for roles that cannot import (as on the import screen)."""
    county = get_object_or_404(divisions_visible_to(user).filter(level=Level.COUNTY), code=code)
    scope = scope_for(user)
    if not scope.can_write or scope.school is not None:
        raise exceptions.PermissionDenied(_("Only the county's officials and administrators import ledgers."))
    return county


def job_answer(view, job: LedgerJob) -> dict:
    data = JobSerializer(job, context=view.context()).data
    shown = [p for p in data["problems"] if p["row"] is not None and p["value"]]
    if shown and not view.context()["disclosure"].masked:
        log_disclosure(
            view.request.user,
            purpose=DisclosurePurpose.PROBLEM_REPORT,
            children=len({p["row"] for p in shown}),
            detail=f"job {job.pk}, API",
        )
    return data


class JobList(LedgerView):
    @extend_schema(
        operation_id="jobs_list",
        summary="Your jobs · 我的任务",
        description="Imports, exports and reports you asked for, newest first · 您发起的导入、导出和报表任务。",
        responses=numbered_page(JobSerializer),
    )
    def get(self, request):
        page = self.paginate(jobs_of(request.user), Pages)
        rows = [job_as_it_stands(job) for job in page]
        data = JobSerializer(rows, many=True, context={**self.context(), "problems": False}).data
        return self.paginator.get_paginated_response(data)


class JobDetail(LedgerView):
    @extend_schema(
        summary="A job · 一个任务",
        description=(
            "Its progress and, once finished, the problems it found (as the job's page shows them to your role).\n\n"
            "任务进度；完成后列出发现的问题（按您的角色显示）。"
        ),
        responses=JobSerializer,
    )
    def get(self, request, pk: int):
        return Response(job_answer(self, job_for(request.user, pk)))


class ImportUpload(LedgerView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Upload a ledger file · 上传台账文件",
        description=(
            "Start a check of the file against the county's ledger (nothing is imported yet); follow the job, then "
            "confirm it when it found no problems.\n\n"
            "先检查文件（尚不导入）；跟踪任务进度，未发现问题时再确认导入。"
        ),
        request={"multipart/form-data": ImportInSerializer},
        parameters=[IDEMPOTENCY_KEY],
        responses={202: JobSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    @idempotent
    def post(self, request):
        code = str(request.data.get("county") or "").strip()
        if not code:
            return invalid([("county", "required", _("Name the county by its code."))])
        county = county_for_import(request.user, code)
        form = ImportForm(request.data, request.FILES)
        if not form.is_valid():
            return invalid(list(form_problems(form)))
        upload = form.cleaned_data["file"]
        with transaction.atomic():
            job = LedgerJob(
                kind=JobKind.IMPORT,
                requested_by=request.user,
                county=county,
                params={"dry_run": True, "language": get_language(), "filename": upload.name},
            )
            job.input_file.save(upload.name, upload, save=False)
            job.save()
            enqueue_job(job)
        return Response(job_answer(self, job_for(request.user, job.pk)), status=status.HTTP_202_ACCEPTED)


class ImportConfirm(LedgerView):
    @extend_schema(
        summary="Import a checked file · 确认导入",
        description=(
            "Import for real a file whose check found no problems: a new job (202). A check is imported once: "
            "confirming it again (a retry, a second client) starts nothing and answers with the import its first "
            "confirmation started (200); two confirmations sent at the same moment get the same import, both "
            "possibly as 202.\n\n"
            "导入检查无误的文件（新任务，202）。每次检查只导入一次：再次确认（重试、另一客户端）不会再次导入，"
            "返回首次确认所启动的导入任务（200）；同时发出的两次确认得到同一导入任务，可能均为 202。"
        ),
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: OpenApiResponse(JobSerializer, description="Confirmed before: its import · 已确认过：返回其导入任务"),
            202: OpenApiResponse(JobSerializer, description="The import, started · 导入任务已启动"),
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    @idempotent
    def post(self, request, pk: int):
        checked = job_for(request.user, pk)
        if checked.county is None:
            raise Http404
        county = county_for_import(request.user, checked.county.code)
        if not import_ready(checked):
            raise exceptions.PermissionDenied(_("Only a file whose check found no problems can be imported."))
        # As on the import screen (students.views_jobs.import_confirm): one import per check, the service's rule.
        confirmed_before = LedgerJob.objects.filter(checked_by=checked).exists()
        job = import_job_confirm(checked=checked, user=request.user, county=county)
        answer = status.HTTP_200_OK if confirmed_before else status.HTTP_202_ACCEPTED
        return Response(job_answer(self, job_for(request.user, job.pk)), status=answer)
