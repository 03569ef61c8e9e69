"""The case list and a case's page.

What of a child's data each user sees is decided by students.disclosure, and only there. ID and registry
numbers are shortened in the list for everyone: the list is for finding a case, and four characters at each
end are enough to tell children apart for those who may see them. Full numbers appear only on a case's page,
and each such view is logged.

How the list stays fast at national scale is explained in students.views.paging.
"""

import datetime
import functools
import operator
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from counties.models import Level

from ..access import cases_visible_to, get_case_for_user, schools_visible_to, scope_for, viewer_key
from ..choices import OPEN_STATUSES, Reason, ResponsibleRole, Status, VisitorRole
from ..disclosure import Disclosure, Person, disclosure_for, log_disclosure
from ..filters import CaseFilter, school_choice_is_a_list, school_label
from ..forms import (
    CaseResponsiblePersonsForm,
    ChangeStatusForm,
    CloseForm,
    MarkReturnedForm,
    RelapseForm,
    RetentionCheckForm,
    VisitForm,
)
from ..models import DisclosurePurpose, DropoutCase, ResponsiblePerson, ResponsiblePersonChange, Student
from ..services import case_is_finished
from ..worklist import BACK_IN_SCHOOL, case_check_dates, retention_checks
from .handover import case_handover_context
from .paging import CappedCountPaginator

PAGE_SIZE = 50
# Rows a page may show, as the user chooses (per_page); anything else is the default.
PAGE_SIZES = (25, 50, 100)

# Columns of the list that can be sorted, with the OrderingFilter value that sorts them ascending.
SORTABLE = [
    ("name", pgettext_lazy("a child's", "Name")),
    ("status", _("Status")),
    ("dropout_date", _("Dropped out")),
    ("school", _("School")),
    ("grade", _("Grade")),
]


@dataclass(frozen=True)
class ListRow:
    """One line of the case list, every cell ready to print: a page of 50 lines is drawn in a few milliseconds."""

    pk: int
    url: str
    name: str
    status: str
    status_label: str
    dropout_date: str
    school: str
    county: str
    grade: int
    reason_label: str
    returned_on: str
    id_number: str


# What a line of the list prints, read as plain values (see CappedCountPaginator).
LIST_FIELDS = (
    "status",
    "reason",
    "grade",
    "dropout_date",
    "returned_on",
    "student__name",
    "student__id_number",
    "school__name",
)
# Shown to users whose area spans several counties.
COUNTY_FIELD = "county__name"


@functools.lru_cache(maxsize=8192)
def _short_date(value: datetime.date, language: str) -> str:
    """A date as the language writes it briefly; a ledger's dates are a few thousand days, formatted once each."""
    with translation.override(language):
        return formats.date_format(value, "SHORT_DATE_FORMAT")


def case_url_maker():
    """The case page's URL for any case id, from a single reverse(): a page of the list links 50 cases."""
    marker = 987654321
    head, tail = reverse("students:case-detail", args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def list_rows(cases: list[dict], disclosure: Disclosure) -> list[ListRow]:
    # Links, labels and dates worked out once per page rather than once per line.
    case_url = case_url_maker()
    status_labels = {value: str(label) for value, label in Status.choices}
    reason_labels = {value: str(label) for value, label in Reason.choices}
    language = get_language()

    def short_date(value) -> str:
        return "—" if value is None else _short_date(value, language)

    return [
        ListRow(
            pk=case["pk"],
            url=case_url(case["pk"]),
            name=disclosure.name(case["student__name"]),
            status=case["status"],
            status_label=status_labels.get(case["status"], case["status"]),
            dropout_date=short_date(case["dropout_date"]),
            school=case["school__name"],
            county=case.get(COUNTY_FIELD, ""),
            grade=case["grade"],
            reason_label=reason_labels.get(case["reason"], case["reason"]),
            returned_on=short_date(case["returned_on"]),
            id_number=disclosure.list_id_number(case["student__id_number"]),
        )
        for case in cases
    ]


def _sort_headers(current: str, disclosure: Disclosure) -> list[dict]:
    headers = []
    for key, label in SORTABLE:
        if key == "name" and not disclosure.may_search_people:
            # Headed, but not sortable: an order by hidden names would tell them.
            headers.append({"key": key, "label": label, "direction": None, "next": None})
            continue
        if current == key:
            direction, next_value = "ascending", f"-{key}"
        elif current == f"-{key}":
            direction, next_value = "descending", key
        else:
            direction = None
            # Dates are most useful newest first; names and grades from the start.
            next_value = f"-{key}" if key == "dropout_date" else key
        headers.append({"key": key, "label": label, "direction": direction, "next": next_value})
    return headers


def _filters_active(case_filter: CaseFilter) -> int:
    """How many filters besides the search box are set, to say so on the folded filter panel."""
    data = case_filter.data
    ignored = ("q", "sort", "page", "per_page")
    return sum(1 for key in data if key not in ignored and any(v for v in data.getlist(key)))


def page_size(request) -> int:
    try:
        size = int(request.GET.get("per_page", ""))
    except ValueError:
        return PAGE_SIZE
    return size if size in PAGE_SIZES else PAGE_SIZE


def school_options(user) -> list[str]:
    """The school suggestions drawn with the page when the user's schools are few; otherwise they come as the
    user types (students.views.schools)."""
    if not school_choice_is_a_list(user):
        return []
    return [
        school_label(name, code) for name, code in schools_visible_to(user).order_by("name").values_list("name", "code")
    ]


def filters_key(request) -> str:
    """The filter panel's cache key: it shows only the viewer's choices and what the query asked for, so users of
    the same role and place asking the same query see the same panel. Empty, so never cached, when the query
    searches for a child by name or number: a search is not kept anywhere."""
    if request.GET.get("q", "").strip():
        return ""
    query = request.GET.copy()
    query.pop("page", None)
    return f"{viewer_key(request.user)}?{query.urlencode()}"


def _export_links(request) -> list[dict]:
    """Links to the exports of this very list; none while the export screen does not exist."""
    try:
        url = reverse("students:export")
    except NoReverseMatch:
        return []
    query = request.GET.copy()
    query.pop("page", None)
    links = []
    for fmt, label in (("xlsx", _("Excel (XLSX)")), ("csv", "CSV")):
        query["format"] = fmt
        links.append({"url": f"{url}?{query.urlencode()}", "label": label})
    return links


@login_required
def case_list(request):
    scope = scope_for(request.user)
    disclosure = disclosure_for(request.user)
    case_filter = CaseFilter(request.GET, request=request)
    show_county = scope.everything or (scope.division is not None and scope.division.level != Level.COUNTY)
    fields = (*LIST_FIELDS, COUNTY_FIELD) if show_county else LIST_FIELDS
    per_page = page_size(request)
    paginator = CappedCountPaginator(case_filter.qs, per_page, fields=fields)
    page = paginator.get_page(request.GET.get("page"))
    rows = list_rows(page.object_list, disclosure)
    return render(
        request,
        "students/case_list.html",
        {
            "filter": case_filter,
            "page": page,
            "rows": rows,
            "paginator": paginator,
            "scope": scope,
            "show_county": show_county,
            "filters_active": _filters_active(case_filter),
            "sort_headers": _sort_headers(request.GET.get("sort", ""), disclosure),
            "export_links": _export_links(request),
            "open_statuses": OPEN_STATUSES,
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            "filters_key": filters_key(request),
            # Called by the template only when it renders the filter panel, not when the panel comes from the cache.
            "school_options": functools.partial(school_options, request.user),
            "area_fields": [
                case_filter.form[name]
                for name in ("province", "prefecture", "county")
                if name in case_filter.form.fields
            ],
        },
    )


@dataclass(frozen=True)
class PersonChangeRow:
    """One role of a change of responsible persons: who held it before and after (None: no one), as the user may
    see them (students.disclosure)."""

    role_label: str
    old: Person | None
    new: Person | None


def person_change_rows(change: ResponsiblePersonChange, disclosure: Disclosure) -> list[PersonChangeRow]:
    """The roles a change of responsible persons touched, each through the disclosure rule, as the list of the
    case's persons shows them: masked roles see each one's family name and no phone."""

    def shown(role: str, values: dict | None) -> Person | None:
        return disclosure.person(ResponsiblePerson(role=role, **values)) if values else None

    role_labels = dict(ResponsibleRole.choices)
    return [
        PersonChangeRow(role_labels.get(role, role), shown(role, old), shown(role, new))
        for role, (old, new) in change.changes.items()
    ]


def _timeline(case: DropoutCase, disclosure: Disclosure) -> list[dict]:
    """The case's status changes, visits and changes of its responsible persons, newest first; on the same day,
    the later record first."""
    entries = [
        {
            "date": event.effective_date,
            "at": event.recorded_at,
            "kind": "event",
            "event": event,
            "note": disclosure.note(event.note),
        }
        for event in case.events.select_related("recorded_by", "closure_reason")
    ]
    role_labels = dict(VisitorRole.choices)
    for visit in case.visits.select_related("recorded_by"):
        visitors = [
            {
                "role": role_labels.get(v.get("role"), v.get("role")),
                "name": "" if disclosure.masked else v.get("name", ""),
            }
            for v in visit.visitors
        ]
        entries.append(
            {
                "date": visit.visit_date,
                "at": visit.recorded_at,
                "kind": "visit",
                "visit": visit,
                "visitors": visitors,
                "note": disclosure.note(visit.notes),
            }
        )
    for change in case.responsible_person_changes.select_related("changed_by"):
        entries.append(
            {
                "date": timezone.localdate(change.at),
                "at": change.at,
                "kind": "persons",
                "change": change,
                "persons": person_change_rows(change, disclosure),
            }
        )
    entries.sort(key=operator.itemgetter("date", "at"), reverse=True)
    return entries


def action_forms(case: DropoutCase) -> dict:
    """The unbound forms of the actions a case's current status allows."""
    forms = {}
    if case.status in OPEN_STATUSES:
        forms["visit_form"] = VisitForm(case=case)
        forms["return_form"] = MarkReturnedForm(case=case)
        forms["close_form"] = CloseForm(case=case)
    if ChangeStatusForm.next_statuses(case):
        forms["status_form"] = ChangeStatusForm(case=case)
    if case.status in BACK_IN_SCHOOL:
        forms["retention_form"] = RetentionCheckForm(case=case)
        forms["relapse_form"] = RelapseForm(case=case)
    return forms


@dataclass(frozen=True)
class ChangedDetail:
    """One field of an identity change; `shown` is False, and the values empty, for those who may not see them."""

    label: str
    shown: bool
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class IdentityChangeRow:
    at: datetime.datetime
    by: str
    source: str
    detail: str
    fields: list[ChangedDetail]


def _detail_value(name: str, value) -> str:
    """An identity detail as IdentityChange.changes stores it, as a person reads it."""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    try:
        field = Student._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if value in (None, ""):
        return "—"
    return f"#{value}" if field is not None and field.is_relation else str(value)


def _detail_label(name: str) -> str:
    try:
        return capfirst(Student._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def identity_change_rows(student: Student, disclosure: Disclosure) -> list[IdentityChangeRow]:
    """The changes of the child's identity, newest first: who, when, why, and each field's old and new value.

    Masked roles learn which fields changed, when, by whom and why, never the values (students.disclosure); the
    why is free text to them, masked as such.
    """
    rows = []
    for change in student.identity_changes.select_related("changed_by"):
        by = (change.changed_by.get_full_name() or change.changed_by.username) if change.changed_by else ""
        fields = [
            ChangedDetail(_detail_label(name), shown=False)
            if disclosure.masked
            else ChangedDetail(
                _detail_label(name), shown=True, old=_detail_value(name, old), new=_detail_value(name, new)
            )
            for name, (old, new) in change.changes.items()
        ]
        detail = disclosure.text(change.detail, student) if disclosure.masked else change.detail
        rows.append(IdentityChangeRow(change.at, by, change.get_source_display(), detail, fields))
    return rows


def render_case(request, case: DropoutCase, *, bound: dict | None = None, status: int = 200, open_form: str = ""):
    """The case's page; `bound` replaces the named forms with the user's submitted ones (and errors)."""
    scope = scope_for(request.user)
    disclosure = disclosure_for(request.user)
    child = disclosure.child(case.student)
    if not child.masked:
        log_disclosure(request.user, purpose=DisclosurePurpose.CASE_PAGE, case=case)
    role_order = {role: i for i, role in enumerate(ResponsibleRole.values)}
    persons = sorted(case.responsible_persons.all(), key=lambda person: role_order.get(person.role, 99))
    episodes = (
        cases_visible_to(request.user)
        .filter(student_id=case.student_id)
        .exclude(pk=case.pk)
        .select_related("school")
        .order_by("dropout_date")
    )
    context = {
        "episodes": list(episodes),
        "case": case,
        "scope": scope,
        "identity": child,
        "timeline": _timeline(case, disclosure),
        "reason_detail": disclosure.note(case.reason_detail),
        "persons": [disclosure.person(person) for person in persons],
        "can_edit": scope.can_write,
        "open_form": open_form,
        "identity_changes": identity_change_rows(case.student, disclosure),
    }
    if case.status in BACK_IN_SCHOOL and case.returned_on:
        context["retention_checks"] = retention_checks(case.returned_on, case_check_dates(case), timezone.localdate())
    context.update(case_handover_context(request.user, case, disclosure))
    if scope.can_write:
        context.update(action_forms(case))
        if not case_is_finished(case):
            context["responsible_form"] = CaseResponsiblePersonsForm(case=case, persons=persons)
        context.update(bound or {})
    return render(request, "students/case_detail.html", context, status=status)


@login_required
def case_detail(request, pk: int):
    # Out-of-scope cases are 404, exactly like cases that do not exist.
    case = get_case_for_user(request.user, pk)
    return render_case(request, case)
