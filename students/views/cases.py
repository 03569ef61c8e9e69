"""The case list and a case's page.

Who sees which personal data:
- Names: users who see identifiers (county officials, principals, administrators) see children's
  names; ministry, province and prefecture staff see them masked (桑**), like every other personal
  identifier of a minor. They work with figures and need no names.
- ID and registry numbers are masked in the list for everyone: the list is for finding a case, and
  four characters at each end are enough to tell children apart. Full numbers appear only on a case's
  page, for users who see identifiers, and each such view is written to the IdentifierAccess log.
- Free text (notes, reason in detail) is shown to read-only roles with the child's and guardian's
  names, numbers and address replaced by their masked forms wherever colleagues typed them in full.
  A nickname or a given name alone cannot be caught this way; notes are for the people on the case.

How the list stays fast at national scale is explained in students.views.paging.
"""

import dataclasses
import datetime
import functools
import operator
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, translation
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from counties.models import Level

from ..access import Scope, cases_visible_to, get_case_for_user, scope_for
from ..choices import OPEN_STATUSES, Reason, ResponsibleRole, Status, VisitorRole
from ..filters import CaseFilter
from ..forms import (
    ChangeStatusForm,
    CloseForm,
    MarkReturnedForm,
    RelapseForm,
    ResponsiblePersonsForm,
    VisitForm,
)
from ..identifiers import mask, mask_name, mask_phone
from ..models import DropoutCase, IdentifierAccess
from .paging import CappedCountPaginator

PAGE_SIZE = 50

# Columns of the list that can be sorted, with the OrderingFilter value that sorts them ascending.
SORTABLE = [
    ("name", pgettext_lazy("a child's", "Name")),
    ("status", _("Status")),
    ("dropout_date", _("Dropped out")),
    ("school", _("School")),
    ("grade", _("Grade")),
]


@dataclass(frozen=True)
class Identity:
    """A child's personal data as this user may see it."""

    name: str
    id_number: str
    registry_number: str
    birth_date: object
    address: str
    hukou_place: str
    guardian_name: str
    guardian_phone: str
    masked: bool
    # (what was hidden, what shows instead), to hide the same data where colleagues typed it in notes
    replacements: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, student, scope: Scope) -> "Identity":
        if scope.sees_identifiers:
            return cls(
                name=student.name,
                id_number=student.id_number or "",
                registry_number=student.registry_number or "",
                birth_date=student.birth_date,
                address=student.address,
                hukou_place=student.hukou_place,
                guardian_name=student.guardian_name,
                guardian_phone=student.guardian_phone,
                masked=False,
            )
        masked = cls(
            name=mask_name(student.name),
            id_number=mask(student.id_number or ""),
            registry_number=mask(student.registry_number or "", 5, 4),
            birth_date=student.birth_date.year,
            address="***" if student.address else "",
            hukou_place="***" if student.hukou_place else "",
            guardian_name=mask_name(student.guardian_name),
            guardian_phone=mask_phone(student.guardian_phone),
            masked=True,
        )
        hidden = [
            (student.registry_number or "", masked.registry_number),
            (student.id_number or "", masked.id_number),
            (student.guardian_phone, masked.guardian_phone),
            (student.address, masked.address),
            (student.name, masked.name),
            (student.guardian_name, masked.guardian_name),
        ]
        # Longest first, so that a name inside the address does not break the address's replacement.
        pairs = sorted(((value, shown) for value, shown in hidden if len(value) >= 2), key=lambda p: -len(p[0]))
        return dataclasses.replace(masked, replacements=tuple(pairs))

    def redact(self, text: str) -> str:
        """Free text with the child's hidden data hidden in it too (notes name children by name)."""
        for value, shown in self.replacements:
            text = text.replace(value, shown)
        return text


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


def list_rows(cases: list[dict], scope: Scope) -> list[ListRow]:
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
            name=case["student__name"] if scope.sees_identifiers else mask_name(case["student__name"]),
            status=case["status"],
            status_label=status_labels.get(case["status"], case["status"]),
            dropout_date=short_date(case["dropout_date"]),
            school=case["school__name"],
            county=case.get(COUNTY_FIELD, ""),
            grade=case["grade"],
            reason_label=reason_labels.get(case["reason"], case["reason"]),
            returned_on=short_date(case["returned_on"]),
            id_number=mask(case["student__id_number"] or "") or "—",
        )
        for case in cases
    ]


def _sort_headers(current: str) -> list[dict]:
    headers = []
    for key, label in SORTABLE:
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
    return sum(1 for key in data if key not in ("q", "sort", "page") and any(v for v in data.getlist(key)))


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
    case_filter = CaseFilter(request.GET, request=request)
    show_county = scope.everything or (scope.division is not None and scope.division.level != Level.COUNTY)
    fields = (*LIST_FIELDS, COUNTY_FIELD) if show_county else LIST_FIELDS
    paginator = CappedCountPaginator(case_filter.qs, PAGE_SIZE, fields=fields)
    page = paginator.get_page(request.GET.get("page"))
    rows = list_rows(page.object_list, scope)
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
            "sort_headers": _sort_headers(request.GET.get("sort", "")),
            "export_links": _export_links(request),
            "open_statuses": OPEN_STATUSES,
        },
    )


def _timeline(case: DropoutCase, identity: Identity) -> list[dict]:
    """The case's status changes and visits, newest first; on the same day, the later record first."""
    entries = [
        {
            "date": event.effective_date,
            "at": event.recorded_at,
            "kind": "event",
            "event": event,
            "note": identity.redact(event.note),
        }
        for event in case.events.select_related("recorded_by", "closure_reason")
    ]
    role_labels = dict(VisitorRole.choices)
    for visit in case.visits.select_related("recorded_by"):
        visitors = [
            {"role": role_labels.get(v.get("role"), v.get("role")), "name": identity.redact(v.get("name", ""))}
            for v in visit.visitors
        ]
        entries.append(
            {
                "date": visit.visit_date,
                "at": visit.recorded_at,
                "kind": "visit",
                "visit": visit,
                "visitors": visitors,
                "note": identity.redact(visit.notes),
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
    if case.status in (Status.RETURNED, Status.RETAINED):
        forms["relapse_form"] = RelapseForm(case=case)
    return forms


def render_case(request, case: DropoutCase, *, bound: dict | None = None, status: int = 200, open_form: str = ""):
    """The case's page; `bound` replaces the named forms with the user's submitted ones (and errors)."""
    scope = scope_for(request.user)
    identity = Identity.of(case.student, scope)
    if not identity.masked:
        IdentifierAccess.objects.create(user=request.user, case=case, purpose="case_detail")
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
        "identity": identity,
        "timeline": _timeline(case, identity),
        "reason_detail": identity.redact(case.reason_detail),
        "persons": persons,
        "can_edit": scope.can_write,
        "open_form": open_form,
    }
    if scope.can_write:
        context.update(action_forms(case))
        context["responsible_form"] = ResponsiblePersonsForm(case=case, persons=persons)
        context.update(bound or {})
    return render(request, "students/case_detail.html", context, status=status)


@login_required
def case_detail(request, pk: int):
    # Out-of-scope cases are 404, exactly like cases that do not exist.
    case = get_case_for_user(request.user, pk)
    return render_case(request, case)
