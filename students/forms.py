"""Forms of the case-work screens. They check input; students.services decides and writes."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from counties.models import Level, School

from .access import schools_visible_to, scope_for
from .choices import (
    Line,
    Placement,
    Reason,
    ResponsibleRole,
    Status,
    VisitMethod,
    VisitorRole,
    VisitOutcome,
    ethnicity_choices,
)
from .lifecycle import allowed_next
from .models import ClosureReason, DropoutCase, Student
from .services import STUDENT_DATA_FIELDS, StudentData

# The messages of students.identifiers.validate_id_number, keyed by its error codes, for the check
# that runs in the browser as the user types. The texts must stay identical to the server's, so that
# the browser and the server say the same thing in the same words (a test compares them).
ID_MESSAGES = {
    "id_length": _("A resident ID number has 18 characters; this one has %(count)d."),
    "id_digits": _("The first 17 characters of a resident ID number must be digits."),
    "id_last": _("The last character of a resident ID number must be a digit or X."),
    "id_date": _("The birth date in this ID number (%(date)s) does not exist."),
    "id_future": _("The birth date in this ID number (%(date)s) is in the future."),
    "id_check": _("The check character is %(given)s but should be %(expected)s: a digit was probably mistyped."),
}

# Statuses that need more than a date and a note have their own forms on the case page.
# A retention check has its own form too: a child counts as retained only once the last check is done.
STATUSES_WITH_OWN_FORM = frozenset({Status.RETURNED, Status.RETAINED, Status.CLOSED, Status.RELAPSED})

ROLE_LINE = {
    ResponsibleRole.COUNTY_HEAD: Line.GOVERNMENT,
    ResponsibleRole.TOWNSHIP_HEAD: Line.GOVERNMENT,
    ResponsibleRole.VILLAGE_HEAD: Line.GOVERNMENT,
    ResponsibleRole.VILLAGE_GROUP: Line.GOVERNMENT,
    ResponsibleRole.BUREAU_HEAD: Line.EDUCATION,
    ResponsibleRole.PRINCIPAL: Line.EDUCATION,
    ResponsibleRole.CLASS_TEACHER: Line.EDUCATION,
    # The family works with the school: the seven heads list parents next to teachers.
    ResponsibleRole.PARENT: Line.EDUCATION,
}

VISITOR_ROWS = 3
MAX_VISITOR_ROWS = 12


class DateInput(forms.DateInput):
    """A native date picker: the phone or browser shows it in the user's own format."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def date_field(label, *, required=True, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(), **kwargs)


def note_field() -> forms.CharField:
    return forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


def add_service_errors(form: forms.Form, error: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form, each message next to the field it concerns."""
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        field = field_map.get(name, name)
        form.add_error(field if field in form.fields else None, ValidationError(errors))


class CaseActionForm(forms.Form):
    """A form that acts on a case; it carries the version of the case the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    # The service's names for fields this form calls differently.
    service_fields: dict[str, str] = {}

    def __init__(self, *args, case: DropoutCase, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", case.version)
        self.case = case
        super().__init__(*args, **kwargs)

    def add_service_errors(self, error: ValidationError) -> None:
        add_service_errors(self, error, self.service_fields)


def today() -> datetime.date:
    return timezone.localdate()


class VisitForm(CaseActionForm):
    visit_date = date_field(_("Visit date"), initial=today)
    method = forms.ChoiceField(label=_("How"), choices=VisitMethod.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=VisitOutcome.choices)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_follow_up = date_field(_("Next follow-up"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = VISITOR_ROWS
        if self.data:
            # A sent form has the rows it sent (a page sends all it shows, empty ones too), at least one.
            submitted = [
                int(key.rsplit("_", 1)[1])
                for key in self.data
                if key.startswith(("visitor_role_", "visitor_name_")) and key.rsplit("_", 1)[1].isdigit()
            ]
            rows = min(max([0, *submitted]) + 1, MAX_VISITOR_ROWS)
        for i in range(rows):
            self.fields[f"visitor_role_{i}"] = forms.ChoiceField(
                label=_("Visitor's role"), choices=[("", "—"), *VisitorRole.choices], required=False
            )
            self.fields[f"visitor_name_{i}"] = forms.CharField(
                label=pgettext_lazy("a person's", "Name"), max_length=50, required=False
            )

    @property
    def visitor_rows(self):
        rows = []
        i = 0
        while f"visitor_role_{i}" in self.fields:
            rows.append((self[f"visitor_role_{i}"], self[f"visitor_name_{i}"]))
            i += 1
        return rows

    def clean(self):
        cleaned = super().clean()
        visitors = []
        i = 0
        while f"visitor_role_{i}" in self.fields:
            role = cleaned.get(f"visitor_role_{i}")
            name = (cleaned.get(f"visitor_name_{i}") or "").strip()
            if role and name:
                visitors.append({"role": role, "name": name})
            elif role:
                self.add_error(f"visitor_name_{i}", _("Give the name of this visitor."))
            elif name:
                self.add_error(f"visitor_role_{i}", _("Say what role %(name)s has.") % {"name": name})
            i += 1
        if not visitors and not self.errors:
            raise ValidationError(_("Say who went: at least one visitor's role and name."), code="no_visitors")
        cleaned["visitors"] = visitors
        return cleaned


class ChangeStatusForm(CaseActionForm):
    to_status = forms.ChoiceField(label=_("New status"))
    effective_date = date_field(_("Effective date"), initial=today)
    note = note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The drop-down offers what the case's current status allows, but any status without a form of
        # its own is accepted here: students.lifecycle, through the service, decides. So a form built on
        # an older status is refused as stale, with the explanation that matters, not as a bad choice.
        field = self.fields["to_status"]
        field.choices = [(s, label) for s, label in Status.choices if s not in STATUSES_WITH_OWN_FORM]
        field.widget.choices = [(s, Status(s).label) for s in self.next_statuses(self.case)]

    def add_service_errors(self, error: ValidationError) -> None:
        if getattr(error, "code", None) == "bad_transition":
            self.add_error("to_status", error)
        else:
            super().add_service_errors(error)

    @staticmethod
    def next_statuses(case: DropoutCase) -> list[str]:
        return [s for s in allowed_next(case.status) if s not in STATUSES_WITH_OWN_FORM]


class MarkReturnedForm(CaseActionForm):
    returned_on = date_field(_("Back in school on"), initial=today)
    placement = forms.ChoiceField(label=_("Placement"), choices=Placement.choices)
    note = note_field()
    service_fields = {"effective_date": "returned_on"}


class RetentionCheckForm(CaseActionForm):
    checked_on = date_field(_("Checked on"), initial=today)
    note = note_field()
    service_fields = {"effective_date": "checked_on"}


class ClosureReasonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ClosureReason) -> str:
        if obj.name_en and not (get_language() or "").startswith("zh"):
            return obj.name_en
        return obj.name


class CloseForm(CaseActionForm):
    effective_date = date_field(_("Closed on"), initial=today)
    closure_reason = ClosureReasonField(label=_("Closure reason"), queryset=ClosureReason.objects.none())
    note = note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["closure_reason"].queryset = ClosureReason.objects.filter(active=True)


class RelapseForm(CaseActionForm):
    dropout_date = date_field(_("Dropped out again on"), initial=today)
    reason = forms.ChoiceField(label=_("Reason"), choices=Reason.choices)
    grade = forms.TypedChoiceField(
        label=_("Grade"),
        choices=[(g, g) for g in range(1, 10)],
        coerce=int,
        help_text=_("The grade the child was in when they dropped out again."),
    )
    note = note_field()
    service_fields = {"effective_date": "dropout_date"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].initial = self.case.grade


class ResponsiblePersonsForm(forms.Form):
    """One name and phone per role, on both lines; a blank name removes that role's person."""

    def __init__(self, *args, case: DropoutCase, persons=(), **kwargs):
        self.case = case
        current = {person.role: person for person in persons}
        super().__init__(*args, **kwargs)
        for role in ResponsibleRole:
            person = current.get(role.value)
            self.fields[f"name_{role.value}"] = forms.CharField(
                label=role.label, max_length=50, required=False, initial=person.name if person else ""
            )
            self.fields[f"phone_{role.value}"] = forms.CharField(
                label=_("Phone"), max_length=20, required=False, initial=person.phone if person else ""
            )

    @property
    def rows(self):
        return [(ROLE_LINE[role], self[f"name_{role.value}"], self[f"phone_{role.value}"]) for role in ResponsibleRole]

    def clean(self):
        cleaned = super().clean()
        names = {role: cleaned.get(f"name_{role.value}", "").strip() for role in ResponsibleRole}
        cleaned["persons"] = [
            {
                "line": ROLE_LINE[role],
                "role": role.value,
                "name": names[role],
                "phone": cleaned.get(f"phone_{role.value}", "").strip(),
            }
            for role in ResponsibleRole
            if names[role]
        ]
        return cleaned

    def persons(self) -> list[dict]:
        return self.cleaned_data["persons"]


class CaseResponsiblePersonsForm(ResponsiblePersonsForm):
    """The case page's form of responsible persons. Like every action on a case, it carries the version of the
    case the user saw (a handover's acceptance names persons with its own form, which carries the version)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case: DropoutCase, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", case.version)
        super().__init__(*args, case=case, **kwargs)

    def add_service_errors(self, error: ValidationError) -> None:
        add_service_errors(self, error)


def _student_field(name: str, **kwargs):
    return Student._meta.get_field(name).formfield(**kwargs)


def school_field_for(user) -> forms.ModelChoiceField:
    """The schools the user may put a case in: a drop-down for a school or county, a code otherwise."""
    scope = scope_for(user)
    schools = schools_visible_to(user).order_by("name") if scope.can_write else School.objects.none()
    if scope.school is not None or (scope.division is not None and scope.division.level == Level.COUNTY):
        return forms.ModelChoiceField(label=_("School"), queryset=schools, to_field_name="code")
    return forms.ModelChoiceField(
        label=_("School"),
        queryset=schools,
        to_field_name="code",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 10, "placeholder": "5132000001"}),
        help_text=_("The school's 10-digit identification code."),
    )


class CaseOpenForm(forms.Form):
    """A child newly found out of school: who they are, where they dropped out, when and why."""

    school = forms.ModelChoiceField(queryset=School.objects.none())
    grade = forms.TypedChoiceField(label=_("Grade"), choices=[("", "—"), *[(g, g) for g in range(1, 10)]], coerce=int)
    dropout_date = date_field(_("Dropout date"))
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "—"), *Reason.choices])
    reason_detail = forms.CharField(label=_("Reason in detail"), max_length=200, required=False)

    name = _student_field("name", label=pgettext_lazy("a child's", "Name"))
    gender = _student_field("gender", widget=forms.RadioSelect)
    ethnicity = _student_field("ethnicity")
    birth_date = _student_field("birth_date", widget=DateInput())
    id_number = _student_field(
        "id_number",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "data-id-check": "id_number"}),
        help_text=_("18 characters; the birth date and gender are read from it."),
    )
    registry_number = _student_field(
        "registry_number",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("19 characters: G, J or L, then 18 digits or capital letters."),
    )
    hukou_place = _student_field("hukou_place")
    address = _student_field("address")
    guardian_name = _student_field("guardian_name")
    guardian_phone = _student_field("guardian_phone", widget=forms.TextInput(attrs={"type": "tel"}))
    registered_poor = _student_field("registered_poor")
    left_behind = _student_field("left_behind")
    migrant = _student_field("migrant")
    orphan = _student_field("orphan")
    unsupported = _student_field("unsupported")
    disability = _student_field("disability")

    case_fields = ["school", "grade", "dropout_date", "reason", "reason_detail"]
    identity_fields = ["name", "gender", "ethnicity", "birth_date", "id_number", "registry_number"]
    family_fields = ["hukou_place", "address", "guardian_name", "guardian_phone"]
    flag_fields = ["left_behind", "disability"]
    check_fields = ["registered_poor", "migrant", "orphan", "unsupported"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"] = school_field_for(user)
        scope = scope_for(user)
        if scope.school is not None:
            self.fields["school"].initial = scope.school.code
            self.fields["school"].empty_label = None
        self.fields["gender"].choices = [c for c in self.fields["gender"].choices if c[0]]
        self.fields["ethnicity"].choices = ethnicity_choices()
        for name in ("left_behind", "disability"):
            self.fields[name].required = False

    def fieldset(self, names):
        return [self[name] for name in names]

    @property
    def sections(self):
        return [
            (_("The child"), self.fieldset(self.identity_fields), []),
            (_("Family and address"), self.fieldset(self.family_fields), []),
            (_("Circumstances"), self.fieldset(self.flag_fields), self.fieldset(self.check_fields)),
            (_("The dropout"), self.fieldset(self.case_fields), []),
        ]

    def student_data(self) -> StudentData:
        data = self.cleaned_data
        return StudentData(**{name: data[name] if data[name] is not None else "" for name in STUDENT_DATA_FIELDS})
