"""A verifier's spot checks: the list of those assigned to them, each check's page, and its photo or scan.

The cases come through the scoping rule (a verifier's scope holds only the cases assigned to them) and the
child's details through the disclosure rule; a check's page shows the child's full identifiers, so each view is
logged, as a case page's is.
"""

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from students.access import cases_visible_to
from students.disclosure import disclosure_for, log_disclosure
from students.models import DisclosurePurpose
from students.views.paging import page_from, pager

from ..forms import OutcomeForm
from ..models import SpotCheck
from ..services import checks_assigned_to, spot_check_record

PER_PAGE = 25


@require_safe
def my_checks(request):
    disclosure = disclosure_for(request.user)
    checks = checks_assigned_to(request.user).select_related("case__student", "case__school", "county")
    checks = checks.order_by("-outcome", "round__drawn_at", "pk")
    page = page_from(request, checks, per_page=PER_PAGE, param="page", rows=checks)
    rows = [{"check": check, "name": disclosure.spot_check_name(check)} for check in page.object_list]
    return render(
        request,
        "verification/my_checks.html",
        {"rows": rows, "pager": pager(request, page, param="page", anchor="checks"), "count": page.paginator.count},
    )


def _assigned(request, pk: int) -> SpotCheck:
    try:
        return (
            checks_assigned_to(request.user)
            .select_related("case__student", "case__school", "case__county", "round", "reopened_case")
            .get(pk=pk)
        )
    except (SpotCheck.DoesNotExist, ValueError):
        raise Http404 from None


def _render_check(request, check: SpotCheck, form: OutcomeForm, status: int = 200):
    disclosure = disclosure_for(request.user)
    if disclosure.sees_spot_check(check):
        log_disclosure(request.user, purpose=DisclosurePurpose.CASE_PAGE, case=check.case, detail=_("Spot check"))
    return render(
        request,
        "verification/check_detail.html",
        {"check": check, "case": check.case, "child": disclosure.spot_check_child(check), "form": form},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def check_detail(request, pk: int):
    check = _assigned(request, pk)
    if request.method != "POST":
        return _render_check(request, check, OutcomeForm())
    form = OutcomeForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            spot_check_record(
                check=check,
                outcome=data["outcome"],
                checked_on=data["checked_on"],
                note=data["note"],
                evidence=data["evidence"],
                user=request.user,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("The spot check was recorded."))
            return redirect("verification:check-detail", pk=pk)
    if request.FILES:
        form.add_error("evidence", _("Nothing was saved; choose the file again when you send the form."))
    return _render_check(request, _assigned(request, pk), form, status=400)


@login_required
@require_safe
def check_evidence(request, pk: int):
    """A check's photo or scan, to those who see its child unmasked: its verifier, the case's county and school."""
    check = SpotCheck.objects.filter(pk=pk, case__in=cases_visible_to(request.user)).exclude(evidence="").first()
    if check is None or not disclosure_for(request.user).sees_spot_check(check):
        raise Http404
    log_disclosure(request.user, purpose=DisclosurePurpose.CASE_PAGE, case=check.case, detail=_("Spot check photo"))
    content_type = mimetypes.guess_type(check.evidence.name)[0] or "application/octet-stream"
    return FileResponse(check.evidence.open("rb"), content_type=content_type)
