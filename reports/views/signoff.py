"""A county's month to sign: its figures as signed and as published now, the corrections since, and the signature
chain; the printable monthly report of the sign-off. The county's official signs it here, and the prefecture's and
the province's staff accept it or send it back with a note (reports.services.signoff).

The county is read through the scoping rule: a county outside the user's area does not exist for them (404), nor
does the page for principals, who take no part. The children named by corrections are named as the disclosure
rule lets the user see them (reports.signoff.corrections).
"""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from counties.models import Division, Role
from students.access import divisions_visible_to, scope_for
from students.forms import add_service_errors

from .. import signoff
from ..models import MonthSignOff
from ..selectors import Area, period_figures, totals_cover
from ..services import signoff as services


class SendBackForm(forms.Form):
    # The service checks the note (reports.services.signoff.month_send_back), after it checks the step is the user's.
    note = forms.CharField(
        label=gettext_lazy("Why the figures go back to the county"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        strip=False,
    )


def _county_and_month(request, code: str, month: str) -> tuple[Division, datetime.date]:
    if scope_for(request.user).school is not None:
        raise Http404  # principals take no part in the sign-off
    county = get_object_or_404(
        divisions_visible_to(request.user).counties().select_related("province", "prefecture"), code=code
    )
    first_day = signoff.parse_month(month)
    if first_day is None:
        raise Http404
    return county, first_day


@login_required
@require_safe
def month_page(request, code: str, month: str):
    county, first_day = _county_and_month(request, code, month)
    return _render(request, county, first_day)


def _render(request, county: Division, month: datetime.date, *, send_back_form=None, sign_errors=(), status=200):
    user = request.user
    today = timezone.localdate()
    sign_off = MonthSignOff.objects.filter(county=county, month=month).select_related("signed_by").first()
    status_value = sign_off.status if sign_off else None
    role = signoff.next_role(status_value, county)
    mine = signoff.acts_for(user, role, county)
    end = signoff.month_end(month)
    area = Area.of_division(county)
    published = (
        signoff.figures_as_stored(period_figures([area], month, end)[0])
        if end < today and totals_cover(area, month, end)
        else None
    )
    signed = sign_off.figures if sign_off else None
    state = signoff.state_of(status_value, month, today)
    context = {
        "county": county,
        "month": month,
        "month_label": month.strftime("%Y-%m"),
        "sign_off": sign_off,
        "steps": list(sign_off.steps.select_related("by")) if sign_off else [],
        "stage": signoff.stage_label(status_value, county),
        "state": state,
        "state_label": signoff.STATE_LABELS[state],
        "due": signoff.due_date(month),
        "rows": signoff.figure_rows(signed, published),
        "has_published": published is not None,
        "corrections": signoff.corrections(user, sign_off) if sign_off else [],
        "can_sign": mine and role == Role.COUNTY,
        "sign_problems": services.signable_problems(county, month, today) if mine and role == Role.COUNTY else [],
        "sign_errors": list(sign_errors),
        "can_accept": mine and role in (Role.PREFECTURE, Role.PROVINCE),
        "send_back_form": send_back_form or SendBackForm(),
        "printed_at": timezone.now(),
        "months": _neighbours(month, today),
    }
    return render(request, "reports/signoff_month.html", context, status=status)


def _neighbours(month: datetime.date, today: datetime.date) -> dict:
    """The month before and after, to page through (none after the last month that has ended)."""
    following = signoff.next_month(month)
    return {
        "previous": signoff.previous_month(month).strftime("%Y-%m"),
        "next": following.strftime("%Y-%m") if signoff.month_end(following) < today else None,
    }


def _act(request, code: str, month: str, act, done: str, *, form=None):
    county, first_day = _county_and_month(request, code, month)
    try:
        act(county, first_day)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        if form is not None:
            add_service_errors(form, error)
            return _render(request, county, first_day, send_back_form=form, status=400)
        return _render(request, county, first_day, sign_errors=error.messages, status=400)
    messages.success(request, done)
    return redirect("reports:sign-off", code=county.code, month=first_day.strftime("%Y-%m"))


@login_required
@require_POST
def month_sign(request, code: str, month: str):
    def act(county, first_day):
        services.month_sign(county=county, month=first_day, user=request.user)

    return _act(request, code, month, act, _("The month's figures are signed."))


@login_required
@require_POST
def month_accept(request, code: str, month: str):
    def act(county, first_day):
        services.month_accept(county=county, month=first_day, user=request.user)

    return _act(request, code, month, act, _("The month's figures are accepted."))


@login_required
@require_POST
def month_send_back(request, code: str, month: str):
    form = SendBackForm(request.POST)
    form.is_valid()

    def act(county, first_day):
        services.month_send_back(county=county, month=first_day, user=request.user, note=form.cleaned_data["note"])

    return _act(request, code, month, act, _("The figures are sent back to the county."), form=form)
