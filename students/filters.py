"""The case list's filters, shared by the list screen and the exports of the filtered list.

`CaseFilter(request.GET, request=request).qs` is always a subset of `cases_visible_to(request.user)`:
the filter builds its base queryset from the scoping rule itself, so a caller cannot forget it.

Areas and schools: users whose area spans several counties narrow the list by province, prefecture and county,
each choice limited to their area and to the area chosen above it (a choice outside is an error, never a wider
list). A school is found by its code, by "name (code)" as the suggestions offer it, or by part of its name, among
the schools of the user's area (and of the area chosen). A filter that is not valid (an unknown school, a date
range whose start is after its end) is shown with its message, and the list is empty rather than unfiltered.

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

from counties.models import Division, Level

from .access import Scope, cases_visible_to, schools_visible_to, scope_for
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


class OrderedDateRangeField(django_filters.fields.DateRangeField):
    """From one day to another; a start after the end is an error, not an empty list."""

    def clean(self, value):
        span = super().clean(value)
        if span is not None and span.start and span.stop and span.start > span.stop:
            raise forms.ValidationError(
                _("The first date is after the second one: put the earlier date first."), code="reversed"
            )
        return span


class OrderedDateRangeFilter(django_filters.DateFromToRangeFilter):
    field_class = OrderedDateRangeField


# Up to this many schools are offered as suggestions as the page is drawn (a school's, a county's); above it the
# suggestions come from students.views.schools as the user types.
SCHOOL_LIST_LIMIT = 150
# A part of a name may match this many schools at most; past it the user is asked to type more of it.
SCHOOL_MATCH_LIMIT = 100
SCHOOL_CODE = re.compile(r"(?:^|\()(\d{10})\)?\s*$")


def school_choice_is_a_list(user) -> bool:
    """A school's or a small county's schools fit in the page's own list of suggestions; a large county's, a
    province's or the nation's do not."""
    scope = scope_for(user)
    if scope.school is not None:
        return True
    if scope.division is None or scope.division.level != Level.COUNTY:
        return False
    return schools_visible_to(user).order_by()[: SCHOOL_LIST_LIMIT + 1].count() <= SCHOOL_LIST_LIMIT


def school_label(name: str, code: str) -> str:
    """How a suggestion names a school, which the school filter reads back exactly: names repeat, codes do not."""
    return f"{name} ({code})"


class SchoolField(forms.CharField):
    """A school among `schools`: by its code, by "name (code)", or by part of its name; cleaned to their ids."""

    def __init__(self, *args, schools=None, **kwargs):
        self.schools = schools
        super().__init__(*args, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text or self.schools is None:
            return None
        code = SCHOOL_CODE.search(text)
        matches = self.schools.filter(code=code.group(1)) if code else self.schools.filter(name__icontains=text)
        ids = list(matches.order_by().values_list("pk", flat=True)[: SCHOOL_MATCH_LIMIT + 1])
        if not ids:
            raise forms.ValidationError(
                _("No school in your area matches “%(text)s”. Pick one from the suggestions."),
                code="unknown",
                params={"text": text},
            )
        if len(ids) > SCHOOL_MATCH_LIMIT:
            raise forms.ValidationError(
                _("More than %(limit)s schools match “%(text)s”: type more of the name, or pick one."),
                code="too_many",
                params={"text": text, "limit": SCHOOL_MATCH_LIMIT},
            )
        return ids


class SchoolFilter(django_filters.Filter):
    field_class = SchoolField

    def filter(self, qs, value):
        return qs if not value else qs.filter(school_id__in=value)


AREA_ERROR = _("Choose from the list: this area is not in your area, or not in the one chosen above it.")


def area_filter(field_name: str, label, empty_label) -> django_filters.ModelChoiceFilter:
    """A choice of area by its code; the choices (the user's scope, under the area chosen above) are set per form."""
    return django_filters.ModelChoiceFilter(
        field_name=field_name,
        queryset=Division.objects.none(),
        to_field_name="code",
        label=label,
        empty_label=empty_label,
        error_messages={"invalid_choice": AREA_ERROR},
    )


def area_choices(scope: Scope, data) -> dict[str, QuerySet]:
    """The provinces, prefectures and counties a wide role may narrow the list to: within their area, and within
    the province or prefecture chosen. The whole nation's prefectures and counties are offered only once a
    province is chosen (a list of 2,800 counties is no help); one typed into the address is still checked."""
    areas = Division.objects.all() if scope.everything else Division.objects.within(scope.division)
    province, prefecture = data.get("province"), data.get("prefecture")
    prefectures = areas.prefectures()
    counties = areas.counties()
    if province:
        prefectures = prefectures.filter(province__code=province)
        counties = counties.filter(province__code=province)
    elif scope.everything:
        chosen = data.get("prefecture")
        prefectures = prefectures.filter(code=chosen) if chosen else prefectures.none()
    if prefecture:
        counties = counties.filter(prefecture__code=prefecture)
    elif not province and scope.everything:
        chosen = data.get("county")
        counties = counties.filter(code=chosen) if chosen else counties.none()
    return {
        "province": areas.provinces().order_by("code"),
        "prefecture": prefectures.order_by("code"),
        "county": counties.order_by("code"),
    }


def wide_levels(scope: Scope) -> tuple[str, ...]:
    """The area filters a scope has: those below its own level, for users whose area holds several counties."""
    if scope.everything:
        return ("province", "prefecture", "county")
    if scope.division is not None and scope.division.level == Level.PROVINCE:
        return ("prefecture", "county")
    if scope.division is not None and scope.division.level == Level.PREFECTURE:
        return ("county",)
    return ()


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label=_("Status"), empty_label=_("Any status")
    )
    reason = django_filters.ChoiceFilter(choices=Reason.choices, label=_("Reason"), empty_label=_("Any reason"))
    province = area_filter("county__province", _("Province"), _("Any province"))
    prefecture = area_filter("county__prefecture", _("Prefecture"), _("Any prefecture"))
    county = area_filter("county", _("County"), _("Any county"))
    school = SchoolFilter(label=_("School"))
    grade = django_filters.ChoiceFilter(choices=GRADE_CHOICES, label=_("Grade"), empty_label=_("Any grade"))
    flag = django_filters.MultipleChoiceFilter(
        choices=FLAG_CHOICES,
        method="filter_flags",
        label=_("Child is"),
        widget=forms.CheckboxSelectMultiple,
    )
    dropout = OrderedDateRangeFilter(field_name="dropout_date", label=_("Dropped out between"), widget=DateRangeWidget)
    returned = OrderedDateRangeFilter(field_name="returned_on", label=_("Returned between"), widget=DateRangeWidget)
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
        levels = wide_levels(self.scope)
        choices = area_choices(self.scope, self.data) if levels else {}
        for level in ("province", "prefecture", "county"):
            if level in levels:
                self.filters[level].queryset = choices[level]
            else:
                # Removed rather than ignored: an area typed into the address cannot widen the list.
                del self.filters[level]
        self.filters["school"].extra.update(
            schools=self._schools(user, levels),
            widget=forms.TextInput(
                attrs={"placeholder": _("School name or code"), "list": "school-options", "autocomplete": "off"}
            ),
            help_text=_("Type part of the name, then pick the school from the suggestions."),
        )
        if "q" in self.filters:
            self.filters["q"].extra["widget"] = forms.TextInput(
                attrs={"type": "search", "placeholder": _("Name, or the start of an ID or registry number")}
            )

    def _schools(self, user, levels: tuple[str, ...]) -> QuerySet:
        """The schools the school filter looks among: the user's, within the area chosen."""
        schools = schools_visible_to(user)
        for level, lookup in (("county", "county__code"), ("prefecture", "county__prefecture__code")):
            if level in levels and self.data.get(level):
                return schools.filter(**{lookup: self.data.get(level)})
        if "province" in levels and self.data.get("province"):
            return schools.filter(county__province__code=self.data.get("province"))
        return schools

    @property
    def form(self):
        """The filters' form, holding the fields this filter set's own filters built (Filter.field): fresh for each
        request already, so not deep-copied once more as a form class's declared fields would be."""
        if not hasattr(self, "_form"):
            form = self._meta.form(self.data if self.is_bound else None, prefix=self.form_prefix)
            form.fields = {name: filter_.field for name, filter_ in self.filters.items()}
            self._form = form
        return self._form

    @property
    def invalid(self) -> bool:
        """Whether a filter cannot be read; a sort order that is not offered is only ignored, as before."""
        return self.is_bound and any(name != "sort" for name in self.form.errors)

    @property
    def qs(self):
        if self.invalid:
            # A filter that cannot be read is shown with its message; listing everything would look like an answer.
            return self.queryset.none()
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
