"""Handovers of cases between counties: asking, the lists, deciding (students.handover holds the rules).

Every handover is fetched through students.access.handovers_visible_to, so a county that neither holds nor
receives it gets a 404. What a page shows of the child comes from students.handover.handover_child: in full
where the case is in the user's scope, masked otherwise (the county asked to take a case, before it accepts).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from counties.models import Division, Level, School

from .. import handover as rules
from ..access import divisions_visible_to, get_case_for_user, handovers_visible_to, scope_for
from ..choices import OPEN_STATUSES, HandoverReason, HandoverStatus
from ..disclosure import Disclosure, disclosure_for
from ..forms import DateInput, ResponsiblePersonsForm, add_service_errors, today
from ..models import DropoutCase, Handover

PAGE_SIZE = 50


# --- Forms -----------------------------------------------------------------------------------------------


class CountyField(forms.CharField):
    """A county typed as its six-digit code or its name; there are too many for a drop-down."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off", "placeholder": "513230"}))
        super().__init__(**kwargs)


class HandoverRequestForm(forms.Form):
    """The holding county asks another county, in this province or any other, to take the case."""

    province = forms.ModelChoiceField(
        label=gettext_lazy("Province"),
        queryset=Division.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=gettext_lazy("Any province"),
        help_text=gettext_lazy("Needed only when the county's name is not enough to find it."),
    )
    county = CountyField(
        label=gettext_lazy("Receiving county"),
        help_text=gettext_lazy("Its six-digit code, or its name."),
    )
    reason = forms.ChoiceField(label=gettext_lazy("Why the case moves"), choices=HandoverReason.choices)
    note = forms.CharField(
        label=gettext_lazy("Note for the receiving county"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Where the family lives now, the school the child may go to."),
    )

    def __init__(self, *args, case: DropoutCase, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = Division.objects.provinces().order_by("code")

    def clean(self):
        cleaned = super().clean()
        text = (cleaned.get("county") or "").strip()
        if not text:
            return cleaned
        counties = Division.objects.counties().select_related("province")
        if text.isdigit():
            found = list(counties.filter(code=text))
        else:
            found = counties.filter(name=text)
            if cleaned.get("province") is not None:
                found = found.filter(province=cleaned["province"])
            found = list(found[:10])
        if not found:
            self.add_error("county", _("No county has this code or name."))
        elif len(found) > 1:
            self.add_error(
                "county",
                _("Several counties have this name (%(codes)s): give its code or choose the province.")
                % {"codes": ", ".join(f"{c.province.name if c.province else ''}{c.name} {c.code}" for c in found)},
            )
        else:
            cleaned["to_county"] = found[0]
        return cleaned


class HandoverClaimForm(forms.Form):
    """A county asks for the case of a child it has found, by the child's number typed in full."""

    identifier = forms.CharField(
        label=gettext_lazy("The child's resident ID or registry number"),
        max_length=19,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy("Typed in full: 18 characters for an ID number, 19 for a registry number."),
    )
    to_school = forms.ModelChoiceField(
        label=gettext_lazy("School the child is placed in"), queryset=School.objects.none(), to_field_name="code"
    )
    reason = forms.ChoiceField(label=gettext_lazy("Why the case moves"), choices=HandoverReason.choices)
    note = forms.CharField(
        label=gettext_lazy("Note for the holding county"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, county: Division, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_school"].queryset = School.objects.filter(county=county).order_by("name")


class HandoverAcceptForm(forms.Form):
    """Accepting: from which day, in which school of the receiving county; `version` is the case as shown."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    handed_over_on = forms.DateField(
        label=gettext_lazy("Handed over on"),
        widget=DateInput(),
        initial=today,
        help_text=gettext_lazy("The child counts in the receiving county from this day on."),
    )
    to_school = forms.ModelChoiceField(
        label=gettext_lazy("School the child is placed in"), queryset=School.objects.none(), to_field_name="code"
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, handover: Handover, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("version", handover.case.version)
        super().__init__(*args, **kwargs)
        if handover.case.status not in OPEN_STATUSES:
            # A child back in school (or whose case was closed) counts nowhere: the day changes no figures.
            self.fields["handed_over_on"].help_text = _(
                "The case is struck off: it counts in no county's figures, before or after this day."
            )
        field = self.fields["to_school"]
        field.queryset = School.objects.filter(county_id=handover.to_county_id).order_by("name")
        if handover.to_school_id is not None:
            # The receiving county named the school when it asked: the holding county does not choose it.
            field.required = False
            field.widget = forms.HiddenInput()


class HandoverNoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


# --- Helpers ------------------------------------------------------------------------------------------------


def _own_county(user) -> Division | None:
    scope = scope_for(user)
    if scope.division is not None and scope.division.level == Level.COUNTY:
        return scope.division
    return None


def _related(queryset):
    return queryset.select_related(
        "case__student", "case__school", "from_county", "to_county", "to_school", "requested_by", "decided_by"
    )


def _get_handover(user, pk: int) -> Handover:
    """The handover, or 404 when it touches none of the user's counties."""
    return get_object_or_404(_related(handovers_visible_to(user)), pk=pk)


def case_handover_context(user, case: DropoutCase, disclosure: Disclosure) -> dict:
    """The case page's handover section: its handovers the user may see, and the form to ask for one."""
    handovers = list(_related(handovers_visible_to(user).filter(case=case)).order_by("-requested_at", "-pk"))
    pending = next((h for h in handovers if h.status == HandoverStatus.PENDING), None)
    context = {
        "handover_rows": rules.handover_rows(user, handovers, disclosure=disclosure) if handovers else [],
        "pending_handover": pending,
    }
    if pending is None and rules.acts_for_county(user, case.county_id) and rules.holds_the_child(case):
        # The child's open case or, with none open, their latest: the case a handover moves.
        context["handover_form"] = HandoverRequestForm(case=case)
    return context


# --- Views --------------------------------------------------------------------------------------------------


@login_required
@require_POST
def case_handover(request, pk: int):
    """The holding county asks another county to take the case (from the case's page)."""
    case = get_case_for_user(request.user, pk, for_update=True)
    form = HandoverRequestForm(request.POST, case=case)
    if form.is_valid():
        try:
            handover = rules.handover_request(
                case=case,
                to_county=form.cleaned_data["to_county"],
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(county)s is asked to take the case. It stays in your county until they accept.")
                % {"county": handover.to_county.name},
            )
            return redirect(case)
    return render(
        request,
        "students/handover_request.html",
        {"case": case, "identity": disclosure_for(request.user).child(case.student), "form": form},
    )


@login_required
def handover_claim(request):
    """A county asks for the case of a child it found, which another county holds: the child's open case or,
    with none open, their latest (a child back in school elsewhere who dropped out again here)."""
    county = _own_county(request.user)
    if county is None or not scope_for(request.user).can_write:
        raise Http404
    form = HandoverClaimForm(request.POST or None, county=county)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            handover = rules.handover_claim_by_identifier(
                identifier=data["identifier"],
                reason=data["reason"],
                note=data["note"],
                to_school=data["to_school"],
                user=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(county)s holds this child's case and is asked to hand it over.")
                % {"county": handover.from_county.name},
            )
            return redirect("students:handover-detail", handover.pk)
    return render(request, "students/handover_claim.html", {"form": form, "county": county})


@login_required
def handover_list(request):
    """The handovers into and out of the user's county (or area), pending first, with how long they wait."""
    scope = scope_for(request.user)
    if scope.school is not None:
        raise Http404
    county = _own_county(request.user)
    handovers = rules.pending_first(_related(handovers_visible_to(request.user)))
    status = request.GET.get("status", "")
    if status in HandoverStatus.values:
        handovers = handovers.filter(status=status)
    else:
        status = ""
    page = Paginator(handovers, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = rules.handover_rows(request.user, list(page.object_list), county.pk if county else None)
    return render(
        request,
        "students/handover_list.html",
        {
            "page": page,
            "rows": rows,
            "county": county,
            "status": status,
            "statuses": HandoverStatus.choices,
            "can_claim": county is not None and scope.can_write,
            "stuck_after": rules.STUCK_AFTER_DAYS,
        },
    )


@login_required
def handover_stuck(request):
    """Handovers waiting for more than 30 days in the user's area (or `?area=` within it), oldest first."""
    scope = scope_for(request.user)
    if scope.school is not None:
        raise Http404
    area = None
    if request.GET.get("area"):
        area = get_object_or_404(divisions_visible_to(request.user), code=request.GET["area"])
    handovers = _related(rules.stuck_handovers(request.user, area)).order_by("requested_at", "pk")
    page = Paginator(handovers, PAGE_SIZE).get_page(request.GET.get("page"))
    county = _own_county(request.user)
    rows = rules.handover_rows(request.user, list(page.object_list), county.pk if county else None)
    return render(
        request,
        "students/handover_stuck.html",
        {"page": page, "rows": rows, "area": area, "stuck_after": rules.STUCK_AFTER_DAYS},
    )


@login_required
def handover_detail(request, pk: int):
    handover = _get_handover(request.user, pk)
    return _render_detail(request, handover)


def _render_detail(request, handover: Handover, *, bound: dict | None = None, status: int = 200):
    user = request.user
    county = _own_county(user)
    row = rules.handover_rows(user, [handover], county.pk if county else None)[0]
    context = {"row": row, "handover": handover, "stuck_after": rules.STUCK_AFTER_DAYS}
    if rules.may_decide(user, handover):
        context["accept_form"] = HandoverAcceptForm(handover=handover)
        context["decline_form"] = HandoverNoteForm(prefix="decline")
        if rules.acts_for_county(user, handover.to_county_id):
            # The receiving county names the case's new responsible persons as it accepts.
            context["persons_form"] = ResponsiblePersonsForm(case=handover.case, prefix="persons")
    if rules.may_cancel(user, handover):
        context["cancel_form"] = HandoverNoteForm(prefix="cancel")
    context.update(bound or {})
    return render(request, "students/handover_detail.html", context, status=status)


def _decided(request, handover: Handover, act, done: str, form_name: str, form):
    try:
        act()
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_detail(request, handover, bound={form_name: form})
    messages.success(request, done)
    return redirect("students:handover-detail", handover.pk)


@login_required
@require_POST
def handover_accept(request, pk: int):
    handover = _get_handover(request.user, pk)
    form = HandoverAcceptForm(request.POST, handover=handover)
    persons = ResponsiblePersonsForm(request.POST, case=handover.case, prefix="persons")
    if not (form.is_valid() and persons.is_valid()):
        return _render_detail(request, handover, bound={"accept_form": form, "persons_form": persons})

    receiving = rules.acts_for_county(request.user, handover.to_county_id)

    def act():
        rules.handover_accept(
            handover=handover,
            to_school=form.cleaned_data["to_school"],
            handed_over_on=form.cleaned_data["handed_over_on"],
            persons=persons.persons() if receiving else None,
            note=form.cleaned_data["note"],
            user=request.user,
            expected_version=form.cleaned_data["version"],
        )

    done = _("The handover is accepted: the case is now in %(county)s.") % {"county": handover.to_county.name}
    response = _decided(request, handover, act, done, "accept_form", form)
    if receiving and response.status_code == 302:
        # The case is the receiving county's now: go on working on it.
        return redirect(handover.case)
    return response


@login_required
@require_POST
def handover_decline(request, pk: int):
    handover = _get_handover(request.user, pk)
    form = HandoverNoteForm(request.POST, prefix="decline")
    form.is_valid()

    def act():
        rules.handover_decline(handover=handover, note=form.cleaned_data.get("note", ""), user=request.user)

    return _decided(request, handover, act, _("The handover is declined."), "decline_form", form)


@login_required
@require_POST
def handover_cancel(request, pk: int):
    handover = _get_handover(request.user, pk)
    form = HandoverNoteForm(request.POST, prefix="cancel")
    form.is_valid()

    def act():
        rules.handover_cancel(handover=handover, note=form.cleaned_data.get("note", ""), user=request.user)

    return _decided(request, handover, act, _("The handover is withdrawn."), "cancel_form", form)
