"""A county's mapping of its own spreadsheets (students.import_mapping): confirmed from a check, seen and edited.

Who may do what: whoever may import into the county (its officials, administrators; students.views_jobs) confirms
a check's mapping, sees the county's saved mapping and changes it. Nothing here shows a child's data: headings
and the values of fixed lists (reasons, statuses, ...) only.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..forms_mapping import MappingForm, SavedMappingForm
from ..import_mapping import import_mapping_for, import_mapping_save
from ..models import ImportMapping, JobKind, JobStatus, LedgerJob
from ..tasks import enqueue_job
from ..views_jobs import _county_for_import, _job_for_user


@login_required
@require_POST
def import_mapping_confirm(request, pk: int):
    """Save the mapping a user confirmed on a check's page for the county, and check the same file again."""
    checked = _job_for_user(request.user, pk)
    county = _county_for_import(request.user, checked.county.code)
    offer = checked.report.get("unknown") if isinstance(checked.report, dict) else None
    if checked.kind != JobKind.IMPORT or not checked.params.get("dry_run") or checked.status != JobStatus.SUCCEEDED:
        return redirect("students:job-detail", pk=checked.pk)
    form = MappingForm(request.POST, offer=offer or {})
    if not form.is_valid():
        messages.error(request, _("Choose a field or a code from the lists."))
        return redirect("students:job-detail", pk=checked.pk)
    with transaction.atomic():
        import_mapping_save(county=county, user=request.user, mapping=form.mapping())
        job = LedgerJob(
            kind=JobKind.IMPORT,
            requested_by=request.user,
            county=county,
            input_file=checked.input_file.name,
            params={**checked.params, "dry_run": True},
        )
        job.save()
        enqueue_job(job)
    messages.success(request, _("The mapping is saved for %(county)s; the file is checked again.") % {"county": county})
    return redirect("students:job-detail", pk=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping_edit(request, county_code: str):
    """The county's saved mapping: every heading and value, changeable; as JSON for the import command."""
    county = _county_for_import(request.user, county_code)
    mapping = import_mapping_for(county)
    if request.GET.get("format") == "json":
        response = HttpResponse(
            json.dumps(mapping.as_json(), ensure_ascii=False, indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="mapping-{county.code}.json"'
        return response
    form = SavedMappingForm(request.POST or None, mapping=mapping)
    if request.method == "POST" and form.is_valid():
        import_mapping_save(county=county, user=request.user, mapping=form.mapping(), replace=True)
        messages.success(request, _("The mapping of %(county)s is saved.") % {"county": county})
        return redirect("students:import-mapping", county_code=county.code)
    saved = ImportMapping.objects.filter(county=county, purpose=ImportMapping.LEDGER).select_related("updated_by")
    return render(
        request,
        "students/jobs/mapping.html",
        {"county": county, "form": form, "saved": saved.first()},
    )
