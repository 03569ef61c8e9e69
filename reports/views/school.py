"""A school's page: its open cases and what each one needs next, for the principal and the county."""

import datetime
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from students.access import cases_visible_to, schools_visible_to, scope_for
from students.disclosure import disclosure_for
from students.views.paging import page_from, pager

from .. import selectors
from .access import can_open


@dataclass(frozen=True)
class NextStep:
    code: str  # first_visit, follow_up_due, visit_again, scheduled, retention_30, retention_90
    text: str
    urgent: bool


def next_step(case, today: datetime.date) -> NextStep:
    """What an open case needs next, from its latest persuasion visit."""
    if case.last_visit is None:
        return NextStep("first_visit", _("First persuasion visit"), True)
    if case.next_follow_up is not None:
        if case.next_follow_up < today:
            return NextStep(
                "follow_up_due",
                _("Follow-up was due on %(date)s") % {"date": date_format(case.next_follow_up)},
                True,
            )
        return NextStep("scheduled", _("Follow-up on %(date)s") % {"date": date_format(case.next_follow_up)}, False)
    if case.last_visit <= today - datetime.timedelta(selectors.FOLLOW_UP_DAYS):
        days = selectors.FOLLOW_UP_DAYS
        return NextStep("visit_again", _("Visit again: no visit in %(days)s days") % {"days": days}, True)
    return NextStep("keep_going", _("Keep persuading; plan the next visit"), False)


def retention_step(case, today: datetime.date) -> NextStep:
    """The latest retention check due (students.worklist), annotated by selectors.retention_checks_due."""
    days = case.retention_check
    return NextStep(f"retention_{days}", _("%(days)s-day retention check") % {"days": days}, True)


# Rows a section of the page shows at a time; the counts above say how many there are in all.
PAGE_SIZE = 25


@login_required
@require_safe
def school(request, code: str):
    scope = scope_for(request.user)
    # The page names children: it is for those who act on the cases, never for read-only national staff.
    if not scope.can_write:
        raise Http404
    place = get_object_or_404(schools_visible_to(request.user).select_related("county"), code=code)
    today = timezone.localdate()
    disclosure = disclosure_for(request.user)
    # Each section is paged on its own (a school may hold thousands of cases); the counts come from the database.
    cases = selectors.school_cases(request.user, place)
    counts = selectors.school_counts(request.user, place, today)
    open_page = page_from(request, cases, per_page=PAGE_SIZE, rows=cases, count=counts["open"])
    rows = [
        {"case": case, "name": disclosure.name(case.student.name), "next": next_step(case, today)}
        for case in open_page.object_list
    ]
    due = selectors.retention_checks_due(cases_visible_to(request.user).filter(school=place), today)
    retention_page = page_from(request, due, per_page=PAGE_SIZE, param="retention_page", rows=due)
    retention = [
        {"case": case, "name": disclosure.name(case.student.name), "next": retention_step(case, today)}
        for case in retention_page.object_list
    ]
    counts["retention"] = retention_page.paginator.count
    return render(
        request,
        "reports/school.html",
        {
            "school": place,
            "rows": rows,
            "open_pager": pager(request, open_page, anchor="open-title"),
            "retention": retention,
            "retention_pager": pager(request, retention_page, param="retention_page", anchor="retention"),
            "counts": counts,
            "today": today,
            "county_url_allowed": can_open(scope, place.county),
        },
    )
