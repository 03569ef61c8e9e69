"""Forms of the roster comparison. They check input; rosters.services decides and writes."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counties.models import School
from students.choices import Reason
from students.forms import date_field, today
from students.views_jobs import MAX_UPLOAD_BYTES

from .models import DismissReason, RosterKind

FILE_HELP = gettext_lazy("An .xlsx or .csv file (UTF-8, GBK or GB18030), one row per child, with a heading row.")


def roster_file(label) -> forms.FileField:
    return forms.FileField(label=label, required=False, help_text=FILE_HELP)


class ComparisonForm(forms.Form):
    household = roster_file(RosterKind.HOUSEHOLD.label)
    registry = roster_file(RosterKind.REGISTRY.label)
    attendance = roster_file(RosterKind.ATTENDANCE.label)
    poor = roster_file(RosterKind.POOR.label)
    as_of = date_field(gettext_lazy("Attendance as of"), initial=today)

    def _clean_roster(self, name: str):
        upload = self.cleaned_data.get(name)
        if upload is None:
            return None
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Upload an .xlsx or a .csv file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 100 MB; split it by school."))
        return upload

    def clean_household(self):
        return self._clean_roster("household")

    def clean_registry(self):
        return self._clean_roster("registry")

    def clean_attendance(self):
        return self._clean_roster("attendance")

    def clean_poor(self):
        return self._clean_roster("poor")

    def rosters(self) -> dict:
        return {kind: self.cleaned_data[kind] for kind in RosterKind.values if self.cleaned_data.get(kind)}


class OpenCasesForm(forms.Form):
    """Opening cases from candidates: what the new-case form asks that a roster does not say."""

    candidates = forms.TypedMultipleChoiceField(label=gettext_lazy("Candidates"), coerce=int)
    dropout_date = date_field(gettext_lazy("Dropout date"))
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=Reason.choices)
    reason_detail = forms.CharField(label=gettext_lazy("Reason in detail"), required=False, max_length=200)
    school = forms.ModelChoiceField(
        label=gettext_lazy("School, for children the roster gives none"),
        queryset=School.objects.none(),
        to_field_name="code",
        required=False,
    )
    grade = forms.TypedChoiceField(
        label=gettext_lazy("Grade, for children the roster gives none"),
        choices=[("", "—"), *((g, g) for g in range(1, 10))],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, choices, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidates"].choices = choices
        self.fields["school"].queryset = schools


class DismissForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Why"), choices=DismissReason.choices)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)
