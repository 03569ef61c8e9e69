"""Deciding a comparison's candidates: opening cases in bulk, dismissing one with a reason, setting the flag.

Each view binds a form and calls one service (rosters.services); a refusal shows the comparison's page again with
what the user sent and every problem, next to the candidate it concerns.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from .. import services
from ..forms import DismissForm, OpenCasesForm
from ..models import Candidate, CandidateStatus
from ..selectors import comparison_for_user, comparisons_visible_to, may_compare
from .comparisons import render_comparison


def _back(comparison, group: str) -> str:
    return f"{reverse('rosters:comparison-detail', args=[comparison.pk])}?group={group}#candidates"


def _require_acting(user, comparison) -> None:
    if not may_compare(user, comparison.county):
        raise PermissionDenied(_("Only the county's officials and administrators decide its candidates."))


@login_required
@require_POST
def candidates_open(request, pk: int):
    comparison = comparison_for_user(request.user, pk)
    _require_acting(request.user, comparison)
    open_candidates = comparison.candidates.filter(status=CandidateStatus.OPEN, group__in=services.OPENS_CASES)
    form = OpenCasesForm(
        request.POST,
        choices=[(pk, pk) for pk in open_candidates.values_list("pk", flat=True)],
        schools=comparison.county.schools.order_by("name"),
    )
    errors = {}
    if form.is_valid():
        data = form.cleaned_data
        chosen = list(open_candidates.filter(pk__in=data["candidates"]))
        try:
            cases = services.candidates_open_cases(
                comparison=comparison,
                candidates=chosen,
                dropout_date=data["dropout_date"],
                reason=data["reason"],
                reason_detail=data["reason_detail"],
                school=data["school"],
                grade=data["grade"],
                user=request.user,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                errors = {int(key.split("-")[1]): problems for key, problems in error.message_dict.items()}
                form.add_error(None, _("No case was opened: put right what is said beside each candidate."))
            else:
                form.add_error(None, error)
        else:
            text = ngettext("%(count)d case opened.", "%(count)d cases opened.", len(cases)) % {"count": len(cases)}
            messages.success(request, text)
            return redirect(_back(comparison, chosen[0].group))
    request.GET = request.GET.copy()
    request.GET.setdefault("group", request.POST.get("group", ""))
    return render_comparison(request, comparison, open_form=form, errors=errors)


def _candidate_for_user(user, pk: int) -> Candidate:
    try:
        return Candidate.objects.select_related("comparison__county", "student").get(
            pk=pk, comparison__in=comparisons_visible_to(user)
        )
    except (Candidate.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@login_required
@require_POST
def candidate_dismiss(request, pk: int):
    candidate = _candidate_for_user(request.user, pk)
    _require_acting(request.user, candidate.comparison)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            services.candidate_dismiss(
                candidate=candidate,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The candidate is dismissed."))
    else:
        messages.error(request, _("Say why the candidate is dismissed."))
    return redirect(_back(candidate.comparison, candidate.group))


@login_required
@require_POST
def candidate_set_flag(request, pk: int):
    candidate = _candidate_for_user(request.user, pk)
    _require_acting(request.user, candidate.comparison)
    try:
        services.candidate_set_flag(candidate=candidate, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The registered-poor flag is set as the roster says."))
    return redirect(_back(candidate.comparison, candidate.group))
