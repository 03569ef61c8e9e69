"""The forms of spot checks: drawing a round, assigning its checks, recording what was found."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from counties.models import Division, Level
from students.access import divisions_visible_to, scope_for
from students.forms import DateInput, add_service_errors, date_field

from .evidence import EVIDENCE_MAX_MB
from .models import Outcome, SpotCheck
from .services import SEED_LIMIT, verifiers_for


def _today() -> datetime.date:
    return timezone.localdate()


def _month_ago() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=30)


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Division) -> str:
        return obj.full_name


class DrawForm(forms.Form):
    area = AreaChoiceField(label=_("Area"), queryset=Division.objects.none(), to_field_name="code")
    returned_from = date_field(_("Returned to school from"), initial=_month_ago)
    returned_until = date_field(_("until"), initial=_today)
    size = forms.IntegerField(label=_("Sample size"), required=False, min_value=1)
    share = forms.DecimalField(
        label=_("or a share (%)"), required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=0,
        max_value=SEED_LIMIT - 1,
        help_text=_("Leave empty for a new random draw; give a round's seed to draw it again."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = divisions_visible_to(user).select_related("province", "prefecture")
        # The whole country lists its provinces and prefectures; a province its prefectures and counties too.
        if scope_for(user).everything:
            areas = areas.exclude(level=Level.COUNTY)
        self.fields["area"].queryset = areas.order_by("code")

    def clean(self):
        data = super().clean()
        given = data.get("size") is not None or data.get("share") is not None
        if not given and not self.has_error("size") and not self.has_error("share"):
            self.add_error("size", _("Give a sample size or a share."))
        return data

    add_service_errors = add_service_errors


class CheckChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: SpotCheck) -> str:
        return f"#{obj.case_id} · {obj.county.name} · {obj.case.school.name}"


class AssignForm(forms.Form):
    verifier = forms.ModelChoiceField(label=_("Verifier"), queryset=None)
    checks = CheckChoiceField(
        label=_("Checks to assign"), queryset=SpotCheck.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, spot_round, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verifier"].queryset = verifiers_for(spot_round)
        self.fields["verifier"].label_from_instance = lambda user: (
            f"{user.get_full_name() or user.username} · {user.division.name}"
        )
        self.fields["checks"].queryset = (
            spot_round.checks.filter(outcome="").select_related("county", "case__school").order_by("pk")
        )

    add_service_errors = add_service_errors


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("What you found"), choices=Outcome.choices, widget=forms.RadioSelect)
    checked_on = forms.DateField(label=_("Checked on"), initial=_today, widget=DateInput())
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Where you looked and whom you asked."),
    )
    evidence = forms.FileField(
        label=_("Photo or scan"),
        required=False,
        help_text=_("Optional: a JPEG, PNG or PDF of at most %(mb)s MB.") % {"mb": EVIDENCE_MAX_MB},
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
    )

    add_service_errors = add_service_errors
