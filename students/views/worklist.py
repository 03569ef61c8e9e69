"""The work list ("Due today"): what a county official (their county) or a principal (their school) has to do.

What is due is students.worklist's rule; this screen lists it in sections, each with its count and paged, the
child named through the disclosure rule. The URLconf opens it to county officials and principals only.
"""

import datetime
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from .. import handover as rules
from .. import worklist
from ..access import cases_visible_to, schools_visible_to, scope_for
from ..disclosure import Disclosure, disclosure_for
from .handover import _related as handovers_related

PAGE_SIZE = 25

TITLES = {
    worklist.FOLLOW_UPS: gettext_lazy("Follow-up visits due"),
    worklist.NO_VISIT: gettext_lazy("No visit for 30 days"),
    worklist.RETENTION: gettext_lazy("Retention checks due"),
    worklist.HANDOVERS: gettext_lazy("Handovers waiting for your county"),
    worklist.SPOT_CHECKS: gettext_lazy("Reopened at a spot check"),
}


class CountedPaginator(Paginator):
    """Pages of a section whose count is known already (students.worklist.due_counts counts every section at once)."""

    def __init__(self, object_list, per_page: int, *, count: int):
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


@dataclass(frozen=True)
class DueRow:
    url: str
    name: str
    school: str
    grade: int
    dropout_date: datetime.date
    what: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    count: int
    page: Page
    rows: list
    url: str  # this section alone, first page

    def page_url(self, number: int) -> str:
        return f"{self.url}&page={number}"

    @property
    def previous_url(self) -> str:
        return self.page_url(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.page_url(self.page.next_page_number()) if self.page.has_next() else ""


def _what(key: str, case, today: datetime.date) -> str:
    if key == worklist.FOLLOW_UPS:
        if case.next_follow_up == today:
            return _("Follow-up due today")
        return _("Follow-up was due on %(date)s") % {"date": date_format(case.next_follow_up)}
    if key == worklist.NO_VISIT:
        if case.last_visit is None:
            return _("Never visited")
        return _("Last visit on %(date)s") % {"date": date_format(case.last_visit)}
    if key == worklist.SPOT_CHECKS:
        return _("Not found in school at a spot check on %(date)s: visit the family") % {
            "date": date_format(case.dropout_date)
        }
    due_on = case.returned_on + datetime.timedelta(case.retention_check)
    return _("%(days)s-day check due on %(date)s (back in school since %(returned)s)") % {
        "days": case.retention_check,
        "date": date_format(due_on),
        "returned": date_format(case.returned_on),
    }


def _case_rows(key: str, cases: list, disclosure: Disclosure, today: datetime.date) -> list[DueRow]:
    return [
        DueRow(
            url=case.get_absolute_url(),
            name=disclosure.name(case.student.name),
            school=case.school.name,
            grade=case.grade,
            dropout_date=case.dropout_date,
            what=_what(key, case, today),
        )
        for case in cases
    ]


@require_safe
def work_list(request):
    """Each section with its count; `section` shows one alone, paged; a county official filters by `school`."""
    if not worklist.has_work_list(request.user):
        raise Http404  # a superuser has every role but no county or school of their own
    scope = scope_for(request.user)
    today = timezone.localdate()
    disclosure = disclosure_for(request.user)
    cases = cases_visible_to(request.user)
    schools, school = [], None
    if scope.school is None:
        schools = list(schools_visible_to(request.user).order_by("name", "code").only("pk", "code", "name"))
        school = next((s for s in schools if s.code == request.GET.get("school")), None)
        if school is not None:
            cases = cases.filter(school=school)
    chosen = request.GET.get("section", "")
    chosen = chosen if chosen in worklist.SECTIONS else ""

    counts = worklist.due_counts(request.user, today, cases=cases)
    # The navigation's badge counts the same, unfiltered: drawn in place instead of fetched.
    badge = sum(counts.values()) if school is None else None
    keys = list(worklist.SECTIONS)
    if scope.school is not None or school is not None:
        # Handovers come to the county, not to a school.
        keys.remove(worklist.HANDOVERS)
        counts.pop(worklist.HANDOVERS)

    querysets = {
        worklist.FOLLOW_UPS: worklist.follow_ups_due(cases, today),
        worklist.NO_VISIT: worklist.no_visit(cases, today),
        worklist.RETENTION: worklist.retention_checks_due(cases, today),
        worklist.SPOT_CHECKS: worklist.reopened_at_spot_check(cases, today),
    }
    base_query = {"school": school.code} if school else {}
    sections = []
    for key in [chosen] if chosen in keys else keys:
        number = request.GET.get("page") if chosen else 1
        if key == worklist.HANDOVERS:
            queryset = handovers_related(worklist.handovers_waiting(request.user, scope))
        else:
            queryset = querysets[key].select_related("student", "school")
        page = CountedPaginator(queryset, PAGE_SIZE, count=counts[key]).get_page(number)
        if key == worklist.HANDOVERS:
            rows = rules.handover_rows(request.user, list(page.object_list), scope.division.pk, disclosure=disclosure)
        else:
            rows = _case_rows(key, list(page.object_list), disclosure, today)
        url = "?" + urlencode({**base_query, "section": key})
        sections.append(Section(key, str(TITLES[key]), counts[key], page, rows, url))

    return render(
        request,
        "students/work_list.html",
        {
            "sections": sections,
            "summary": [
                (key, TITLES[key], counts[key], "?" + urlencode({**base_query, "section": key})) for key in keys
            ],
            "total": sum(counts.values()),
            "chosen": chosen,
            "schools": schools,
            "school": school,
            "today": today,
            "section_choices": [(key, TITLES[key]) for key in keys],
            "retention_days": worklist.retention_rule().days,
            "work_list_due": badge,
        },
    )


@require_safe
def work_list_count(request):
    """The navigation's badge: how many items are due in all (the work list's sections, unfiltered), as JSON.

    Fetched by the page after it is shown (static/js/app.js), so the count never holds a page up; a number, which
    names no child. The work list page itself draws its count in place.
    """
    if not worklist.has_work_list(request.user):
        raise Http404
    return JsonResponse({"count": worklist.badge_count(request.user, timezone.localdate())})
