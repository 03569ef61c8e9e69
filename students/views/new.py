"""Putting a child on the ledger."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from counties.models import Level

from .. import services
from ..access import cases_visible_to, scope_for
from ..choices import OPEN_STATUSES
from ..forms import ID_MESSAGES, CaseOpenForm, add_service_errors
from ..identifiers import normalize_id_number


@login_required
def case_new(request):
    # Read-only roles have no new-case screen at all.
    if not scope_for(request.user).can_write:
        raise Http404
    form = CaseOpenForm(request.POST or None, user=request.user)
    existing = None
    ask_for_handover = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_open(
                student=form.student_data(),
                school=data["school"],
                grade=data["grade"],
                dropout_date=data["dropout_date"],
                reason=data["reason"],
                reason_detail=data["reason_detail"],
                user=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
            code = getattr(error, "code", None)
            if code == "already_open":
                existing = _open_case_of(request.user, data["id_number"], data["registry_number"])
            # Another county holds the child: its officials may ask for the case (students.handover).
            ask_for_handover = code == "held_elsewhere" and _asks_for_cases(request.user)
        else:
            messages.success(request, _("%(name)s is on the ledger.") % {"name": case.student.name})
            return redirect(case)
    return render(
        request,
        "students/case_new.html",
        {
            "form": form,
            "existing": existing,
            "ask_for_handover": ask_for_handover,
            "id_messages": {k: str(v) for k, v in ID_MESSAGES.items()},
        },
    )


def _asks_for_cases(user) -> bool:
    """County officials ask other counties for a child's case; a principal asks their county's officials."""
    scope = scope_for(user)
    return scope.can_write and scope.division is not None and scope.division.level == Level.COUNTY


def _open_case_of(user, id_number: str, registry_number: str):
    """The child's open case, when the user may see it, so the error can link to it."""
    id_number = normalize_id_number(id_number)
    registry_number = (registry_number or "").strip().upper()
    cases = cases_visible_to(user).filter(status__in=OPEN_STATUSES).select_related("school")
    if id_number:
        return cases.filter(student__id_number=id_number).first()
    if registry_number:
        return cases.filter(student__registry_number=registry_number).first()
    return None
