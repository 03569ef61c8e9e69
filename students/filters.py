"""The case list's filters, shared by the list screen and the exports of the filtered list.

`CaseFilter(request.GET, request=request).qs` is always a subset of `cases_visible_to(request.user)`:
the filter builds its base queryset from the scoping rule itself, so a caller cannot forget it.

Search privacy: users who see identifiers (county officials, principals, administrators) search by
part of a name and by the beginning of an ID or registry number, and sort by name. Users who may not
see them (ministry, province and prefecture staff; students.disclosure) have no search and no sort by
name at all: even a whole-number search would confirm a guess built from what else is shown. They find
cases by area, school, status, reason, dates and flags.
"""

import re

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from counties.models import Level, School

from .access import cases_visible_to, schools_visible_to, scope_for
from .choices import OPEN_STATUSES, Disability, LeftBehind, Reason, Status
from .disclosure import Disclosure
from .identifiers import normalize_id_number
from .models import DropoutCase

OPEN = "open"
STATUS_CHOICES = [(OPEN, _("All open cases")), *Status.choices]
GRADE_CHOICES = [(g, g) for g in range(1, 10)]

FLAG_CHOICES = [
    ("registered_poor", _("Registered-poor household")),
    ("left_behind", _("Left-behind child")),
    ("migrant", _("Migrant child")),
    ("orphan", _("Orphan")),
    ("unsupported", _("De-facto unsupported child")),
    ("disability", _("Any disability")),
]
FLAG_Q = {
    "registered_poor": Q(student__registered_poor=True),
    "left_behind": ~Q(student__left_behind=LeftBehind.NO),
    "migrant": Q(student__migrant=True),
    "orphan": Q(student__orphan=True),
    "unsupported": Q(student__unsupported=True),
    "disability": ~Q(student__disability=Disability.NONE),
}

ID_LIKE = re.compile(r"^\d{1,17}[\dX]?$")
REGISTRY_LIKE = re.compile(r"^[GJL]\d[0-9A-Z]{0,17}$")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateRangeWidget(django_filters.widgets.DateRangeWidget):
    def __init__(self, attrs=None):
        forms.MultiWidget.__init__(self, (DateInput(attrs), DateInput(attrs)), attrs)


# Above this many schools a drop-down is slow to render and to use; the filter takes a school code instead.
SCHOOL_LIST_LIMIT = 150


def school_choice_is_a_list(user) -> bool:
    """A school's or a small county's schools fit in a drop-down; a large county's, a province's or the nation's
    do not."""
    scope = scope_for(user)
    if scope.school is not None:
        return True
    if scope.division is None or scope.division.level != Level.COUNTY:
        return False
    return schools_visible_to(user).order_by()[: SCHOOL_LIST_LIMIT + 1].count() <= SCHOOL_LIST_LIMIT


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label=_("Status"), empty_label=_("Any status")
    )
    reason = django_filters.ChoiceFilter(choices=Reason.choices, label=_("Reason"), empty_label=_("Any reason"))
    school = django_filters.ModelChoiceFilter(
        queryset=School.objects.none(), to_field_name="code", label=_("School"), empty_label=_("All schools")
    )
    grade = django_filters.ChoiceFilter(choices=GRADE_CHOICES, label=_("Grade"), empty_label=_("Any grade"))
    flag = django_filters.MultipleChoiceFilter(
        choices=FLAG_CHOICES,
        method="filter_flags",
        label=_("Child is"),
        widget=forms.CheckboxSelectMultiple,
    )
    dropout = django_filters.DateFromToRangeFilter(
        field_name="dropout_date", label=_("Dropped out between"), widget=DateRangeWidget
    )
    returned = django_filters.DateFromToRangeFilter(
        field_name="returned_on", label=_("Returned between"), widget=DateRangeWidget
    )
    sort = django_filters.OrderingFilter(
        fields=(
            ("dropout_date", "dropout_date"),
            ("student__name", "name"),
            ("school__name", "school"),
            ("status", "status"),
            ("grade", "grade"),
        ),
        field_labels={
            "dropout_date": _("Dropout date"),
            "student__name": _("Name"),
            "school__name": _("School"),
            "status": _("Status"),
            "grade": _("Grade"),
        },
        label=_("Sort by"),
    )

    class Meta:
        model = DropoutCase
        fields: list[str] = []

    def __init__(self, data=None, queryset: QuerySet | None = None, *, request, prefix=None):
        user = request.user
        self.scope = scope_for(user)
        base = cases_visible_to(user)
        if queryset is not None:
            base = queryset.filter(self.scope.case_q())
        super().__init__(data, base, request=request, prefix=prefix)
        if not Disclosure(self.scope).may_search_people:
            # Removed rather than ignored: a parameter typed into the address does nothing either.
            del self.filters["q"]
            sort = self.filters["sort"]
            sort.param_map = {param: field for param, field in sort.param_map.items() if param != "name"}
            sort.extra["choices"] = [c for c in sort.extra["choices"] if c[0].lstrip("-") != "name"]
        school = self.filters["school"]
        school.queryset = schools_visible_to(user).order_by("name")
        if not school_choice_is_a_list(user):
            school.extra["widget"] = forms.TextInput(
                attrs={"placeholder": _("10-digit school code"), "inputmode": "numeric", "maxlength": 10}
            )
        if "q" in self.filters:
            self.filters["q"].extra["widget"] = forms.TextInput(
                attrs={"type": "search", "placeholder": _("Name, or the start of an ID or registry number")}
            )

    @property
    def qs(self):
        queryset = super().qs
        if not queryset.query.order_by:
            queryset = queryset.order_by("-dropout_date", "-pk")
        elif "pk" not in queryset.query.order_by and "-pk" not in queryset.query.order_by:
            # A unique last key keeps pages stable when many cases share a date, a school or a name.
            queryset = queryset.order_by(*queryset.query.order_by, "-pk")
        return queryset

    def filter_status(self, queryset, name, value):
        if value == OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_flags(self, queryset, name, values):
        for flag in values:
            queryset = queryset.filter(FLAG_Q[flag])
        return queryset

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        number = normalize_id_number(text)
        if ID_LIKE.match(number):
            return queryset.filter(student__id_number__startswith=number)
        if REGISTRY_LIKE.match(number):
            return queryset.filter(student__registry_number__startswith=number)
        return queryset.filter(student__name__icontains=text)
