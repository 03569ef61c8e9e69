"""Spreadsheet import and export screens and the jobs that run them (the monthly report: students.views.monthly).

Who may do what:
- import into a county: county officials for their own county, administrators for any county;
  a county outside the user's area does not exist for them (404), a read-only role or a principal
  inside it is refused (403);
- export: whatever the user may read (students.access), identifiers masked as their role requires;
- a job and its files: only the user who asked for it, and administrators. A problem report repeats the
  file's cells, full identifiers among them: each download is logged (students.disclosure).
"""

import io

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from counties.models import Level, Role

from .access import cases_visible_to, divisions_visible_to, scope_for
from .disclosure import describe_query, disclosure_for, log_disclosure
from .exporting import (
    DIRECT_EXPORT_LIMIT,
    export_cases,
    headers,
    ledger_rows,
    template_workbook,
)
from .filters import CaseFilter
from .forms_mapping import mapping_form_for
from .import_jobs import import_job_confirm, import_job_problems, import_ready
from .import_problems import PROBLEMS_LISTED
from .models import DisclosurePurpose, JobKind, JobStatus, LedgerJob
from .spreadsheets import csv_lines, write_csv, write_xlsx
from .tasks import enqueue_job, job_as_it_stands
from .views.paging import page_from, pager

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A page of a check's problems on its job page (of the first PROBLEMS_LISTED), and of the user's recent imports.
PROBLEMS_SHOWN = 200
RECENT_SHOWN = 10


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Ledger file"),
        help_text=gettext_lazy("An .xlsx or .csv file laid out like the template (UTF-8, GBK or GB18030)."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Upload an .xlsx or a .csv file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 100 MB; split it by school."))
        return upload


def _sheet_language(request) -> str:
    """The headers of a spreadsheet: Chinese (the county offices' own), or English with ?headers=en."""
    wanted = request.GET.get("headers") or request.POST.get("headers")
    return "en" if wanted == "en" else "zh"


def _county_for_import(user, code: str):
    """The county the user may import into: 404 outside their area, 403 for roles that cannot import."""
    county = get_object_or_404(divisions_visible_to(user).filter(level=Level.COUNTY), code=code)
    scope = scope_for(user)
    if not scope.can_write or scope.school is not None:
        raise PermissionDenied(_("Only the county's officials and administrators import ledgers."))
    return county


def _jobs_for_user(user):
    """The jobs the user asked for (administrators: every job); any other job does not exist for them."""
    jobs = LedgerJob.objects.select_related("county", "requested_by")
    if not (user.is_superuser or user.role == Role.ADMIN):
        jobs = jobs.filter(requested_by=user)
    return jobs


def _job_for_user(user, pk: int, *, jobs=None) -> LedgerJob:
    try:
        return job_as_it_stands((jobs if jobs is not None else _jobs_for_user(user)).get(pk=pk))
    except LedgerJob.DoesNotExist:
        raise Http404 from None


# Import -------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request, county_code: str):
    county = _county_for_import(request.user, county_code)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
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
        return redirect("students:job-detail", pk=job.pk)
    imports = LedgerJob.objects.filter(requested_by=request.user, county=county, kind=JobKind.IMPORT)
    page = page_from(request, imports.order_by("-created_at", "-pk"), per_page=RECENT_SHOWN, rows=imports)
    recent = [job_as_it_stands(job) for job in page.object_list]
    return render(
        request,
        "students/jobs/upload.html",
        {"county": county, "form": form, "recent": recent, "recent_pager": pager(request, page, anchor="recent")},
    )


@login_required
@require_POST
def import_confirm(request, pk: int):
    """Import for real a file whose dry run found no problems: once per check. A second confirmation (a second
    click, a second tab, the same form sent twice at once) shows the import the first one started."""
    checked = _job_for_user(request.user, pk)
    county = _county_for_import(request.user, checked.county.code)
    if not import_ready(checked):
        raise PermissionDenied(_("Only a file whose check found no problems can be imported."))
    job = import_job_confirm(checked=checked, user=request.user, county=county)
    return redirect("students:job-detail", pk=job.pk)


@login_required
@require_GET
def import_template(request):
    language = _sheet_language(request)
    name = "ledger-template-en.xlsx" if language == "en" else "控辍保学台账模板.xlsx"
    return FileResponse(io.BytesIO(template_workbook(language)), as_attachment=True, filename=name, content_type=XLSX)


# Jobs ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def job_detail(request, pk: int):
    job = _job_for_user(request.user, pk)
    disclosure = disclosure_for(request.user)
    report = job.report if isinstance(job.report, dict) else {}
    problems = import_job_problems(job, limit=PROBLEMS_LISTED)
    page = Paginator(problems, PROBLEMS_SHOWN).get_page(request.GET.get("page"))
    _log_problems_shown(request.user, disclosure, page.object_list, detail=f"job {job.pk}, page {page.number}")
    return render(
        request,
        "students/jobs/job_detail.html",
        {
            "job": job,
            "error": disclosure.text(job.error),
            "problems": _problems_as_seen(disclosure, page.object_list),
            "problems_pager": pager(request, page, anchor="problems"),
            "warnings": report.get("warnings", []),
            "groups": _groups_as_seen(disclosure, report.get("groups", [])),
            "listed": len(problems),
            "mapping_form": mapping_form_for(job) if job.status == JobStatus.SUCCEEDED else None,
            "can_confirm": import_ready(job),
            "confirmed": getattr(job, "confirmed_import", None) if job.params.get("dry_run") else None,
            "finished": job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED),
        },
    )


@login_required
@require_GET
def job_status(request, pk: int):
    # Polled every second while a job runs: read without its report.
    job = _job_for_user(request.user, pk, jobs=_jobs_for_user(request.user).defer("report"))
    return JsonResponse(
        {
            "id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "status_label": job.status_label,
            "progress": job.progress,
            "counts": job.counts,
            "finished": job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED),
            "error": disclosure_for(request.user).text(job.error),
            "download": reverse("students:job-download", args=[job.pk]) if job.output_file else "",
        }
    )


def _log_problems_shown(user, disclosure, problems: list[dict], *, detail: str) -> None:
    """A problem report shows the rows' values as uploaded, identifiers among them: shown whole, it is logged."""
    children = len({p.get("row") for p in problems if p.get("row") is not None and p.get("value")})
    if not disclosure.masked and children:
        log_disclosure(user, purpose=DisclosurePurpose.PROBLEM_REPORT, children=children, detail=detail)


@login_required
@require_GET
def job_problems(request, pk: int, fmt: str):
    """The problems a check found, one row per problem, as XLSX or CSV."""
    job = _job_for_user(request.user, pk)
    disclosure = disclosure_for(request.user)
    problems = _problems_as_seen(disclosure, import_job_problems(job))
    header = [_("Row"), _("Column"), _("Value"), _("Problem")]
    rows = [[p.get("row"), p.get("column"), p.get("value"), p.get("message")] for p in problems]
    _log_problems_shown(request.user, disclosure, problems, detail=f"job {job.pk}")
    name = f"{_('problems')}-{job.pk}.{fmt}"
    out = io.BytesIO()
    if fmt == "xlsx":
        write_xlsx(out, header, rows, title=_("Problems"), widths=[8, 16, 24, 80])
        content_type = XLSX
    else:
        write_csv(out, header, rows)
        content_type = "text/csv; charset=utf-8"
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=name, content_type=content_type)


def _groups_as_seen(disclosure, groups: list[dict]) -> list[dict]:
    """The problems' groups as the user may see them: an example message may quote a cell."""
    if not disclosure.masked:
        return groups
    return [{**group, "example": disclosure.text(group.get("example") or "")} for group in groups]


def _problems_as_seen(disclosure, problems: list[dict]) -> list[dict]:
    """A problem report's rows as the user may see them: the file's cells, and messages that may quote them."""
    if not disclosure.masked:
        return problems
    return [
        {**p, "value": disclosure.text(p.get("value") or ""), "message": disclosure.text(p.get("message") or "")}
        for p in problems
    ]


@login_required
@require_GET
def job_download(request, pk: int):
    job = _job_for_user(request.user, pk)
    if not job.output_file:
        raise Http404
    return FileResponse(
        job.output_file.open("rb"), as_attachment=True, filename=job.output_file.name.rsplit("/", 1)[-1]
    )


# Export --------------------------------------------------------------------------------------------


def _export_response(request, queryset, *, fmt: str, stem: str, params: dict, county=None):
    """Send a small export at once; for a large one, offer (GET) or start (POST) a background job."""
    language = _sheet_language(request)
    scope = scope_for(request.user)
    disclosure = disclosure_for(request.user)
    children = queryset.order_by()[: DIRECT_EXPORT_LIMIT + 1].count()
    if children > DIRECT_EXPORT_LIMIT:
        if request.method != "POST":
            return render(
                request,
                "students/jobs/export_confirm.html",
                {"fmt": fmt, "limit": DIRECT_EXPORT_LIMIT, "county": county, "headers": language, "scope": scope},
            )
        with transaction.atomic():
            job = LedgerJob.objects.create(
                kind=JobKind.EXPORT,
                requested_by=request.user,
                county=county,
                params={**params, "format": fmt, "sheet_language": language, "language": get_language()},
            )
            enqueue_job(job)
        return redirect("students:job-detail", pk=job.pk)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{stem}-{stamp}.{fmt}"
    if not disclosure.masked:
        detail = f"{filename} {describe_query(params.get('query', ''))}".strip()
        log_disclosure(request.user, purpose=DisclosurePurpose.EXPORT, children=children, detail=detail)
    if fmt == "csv":
        rows = ledger_rows(queryset, language=language, disclosure=disclosure)
        response = StreamingHttpResponse(csv_lines(headers(language), rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    out = io.BytesIO()
    export_cases(out, queryset, fmt="xlsx", language=language, disclosure=disclosure)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _format(request) -> str:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise Http404
    return fmt


@login_required
@require_http_methods(["GET", "POST"])
def export_cases_view(request):
    """The case list, with the list's own filters (the same querystring), as a spreadsheet."""
    case_filter = CaseFilter(request.GET, request=request)
    query = request.GET.copy()
    for key in ("format", "headers", "page"):
        query.pop(key, None)
    return _export_response(
        request, case_filter.qs, fmt=_format(request), stem="cases", params={"query": query.urlencode()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def export_ledger(request, county_code: str):
    """A county's whole ledger (as much of it as the user may read), ready to be imported again."""
    county = get_object_or_404(divisions_visible_to(request.user).filter(level=Level.COUNTY), code=county_code)
    queryset = cases_visible_to(request.user).filter(county=county).order_by("school__code", "dropout_date", "pk")
    return _export_response(
        request, queryset, fmt=_format(request), stem=f"ledger-{county.code}", params={"ledger": True}, county=county
    )
