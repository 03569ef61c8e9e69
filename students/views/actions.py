"""What users do to a case: each action is a POST from the case's page, checked by a form and done
by one service function, then back to the case's page with a message.

Every action reads the case once, through the write scope (a case outside it is 404), and holds its row lock
while the form is checked and the service acts (services.case_held). Forms carry the
version of the case the user saw; when a colleague changed the case in between, the service refuses
(StaleCaseError) and the page comes back with the case as it is now and the user's entries kept.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..access import get_case_for_user
from ..choices import Status
from ..forms import (
    CaseActionForm,
    CaseResponsiblePersonsForm,
    ChangeStatusForm,
    CloseForm,
    MarkReturnedForm,
    RelapseForm,
    RetentionCheckForm,
    VisitForm,
)
from ..models import DropoutCase
from .cases import render_case

# The forms of the actions on a case: each carries the version of the case the user saw.
ActionForm = CaseActionForm | CaseResponsiblePersonsForm


def _act(
    request,
    pk: int,
    form_class: type[ActionForm],
    form_name: str,
    act: Callable[[DropoutCase, dict], DropoutCase | None],
    done: str,
):
    """Check the form and act on the case, both on the case as it is now, read once and locked (a service that
    refuses rolls the action back whole); a refused or invalid form shows the case's page again with it."""
    try:
        with services.case_held(request.user, pk) as case:
            form = form_class(request.POST, case=case)
            if form.is_valid():
                result = act(case, form.cleaned_data)
                messages.success(request, done)
                return redirect(result or case)
    except services.StaleCaseError as error:
        return _refuse_stale(request, pk, form_class, form_name, error)
    except ValidationError as error:
        form.add_service_errors(error)
        case = get_case_for_user(request.user, pk, for_update=True)
    return render_case(request, case, bound={form_name: form}, open_form=form_name)


def _refuse_stale(request, pk: int, form_class: type[ActionForm], form_name: str, error: ValidationError):
    """Show the case as it is now, with the user's entries kept on a form built on the current version."""
    case = get_case_for_user(request.user, pk, for_update=True)
    data = request.POST.copy()
    data["version"] = str(case.version)
    form = form_class(data, case=case)
    form.is_valid()
    form.add_error(None, error)
    form.add_error(
        None,
        _(
            "Nothing was saved. The case is shown below as it is now; your entries are kept in the form. "
            "Check them against the change and submit again if they still apply."
        ),
    )
    return render_case(request, case, bound={form_name: form}, open_form=form_name, status=409)


@login_required
@require_POST
def case_visit(request, pk: int):
    # Visits are added, never overwritten, so a stale page cannot undo anyone's work; the service
    # still refuses a visit on a case that was closed in the meantime.
    def act(case, data):
        services.visit_record(
            case=case,
            visit_date=data["visit_date"],
            visitors=data["visitors"],
            method=data["method"],
            outcome=data["outcome"],
            notes=data["notes"],
            next_follow_up=data["next_follow_up"],
            user=request.user,
        )

    return _act(request, pk, VisitForm, "visit_form", act, _("The visit was recorded."))


@login_required
@require_POST
def case_status(request, pk: int):
    def act(case, data):
        services.case_change_status(
            case=case,
            to_status=data["to_status"],
            effective_date=data["effective_date"],
            note=data["note"],
            user=request.user,
            expected_version=data["version"],
        )

    return _act(request, pk, ChangeStatusForm, "status_form", act, _("The status was changed."))


@login_required
@require_POST
def case_mark_returned(request, pk: int):
    def act(case, data):
        services.case_mark_returned(
            case=case,
            returned_on=data["returned_on"],
            placement=data["placement"],
            note=data["note"],
            user=request.user,
            expected_version=data["version"],
        )

    return _act(
        request, pk, MarkReturnedForm, "return_form", act, _("The child is back in school; the case is struck off.")
    )


@login_required
@require_POST
def case_retention_check(request, pk: int):
    def act(case, data):
        services.case_record_retention_check(
            case=case,
            checked_on=data["checked_on"],
            note=data["note"],
            user=request.user,
            expected_version=data["version"],
        )

    return _act(request, pk, RetentionCheckForm, "retention_form", act, _("The retention check was recorded."))


@login_required
@require_POST
def case_close(request, pk: int):
    def act(case, data):
        services.case_change_status(
            case=case,
            to_status=Status.CLOSED,
            effective_date=data["effective_date"],
            closure_reason=data["closure_reason"],
            note=data["note"],
            user=request.user,
            expected_version=data["version"],
        )

    return _act(request, pk, CloseForm, "close_form", act, _("The case was closed."))


@login_required
@require_POST
def case_relapse(request, pk: int):
    def act(case, data):
        return services.case_reopen_on_relapse(
            case=case,
            dropout_date=data["dropout_date"],
            reason=data["reason"],
            grade=data["grade"],
            note=data["note"],
            user=request.user,
            expected_version=data["version"],
        )

    return _act(request, pk, RelapseForm, "relapse_form", act, _("The child dropped out again: a new case was opened."))


@login_required
@require_POST
def case_responsible(request, pk: int):
    def act(case, data):
        services.case_set_responsible_persons(
            case=case, persons=data["persons"], user=request.user, expected_version=data["version"]
        )

    return _act(
        request, pk, CaseResponsiblePersonsForm, "responsible_form", act, _("The responsible persons were saved.")
    )
