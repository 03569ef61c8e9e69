"""The county dashboard's work lists, read live from the ledger through the scoping rule.

Ministry, province and prefecture staff see only counts here: the names of children are shown to the
people who act on the cases (county officials and principals), as students.disclosure lets them see them.
"""

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from counties.models import Division
from students.access import Scope, cases_visible_to
from students.disclosure import Disclosure, disclosure_for
from students.views.paging import Pager, page_from, pager

from .. import charts, selectors
from .formatting import counter

# Cases a dashboard panel shows at a time; each panel is paged on its own, and its count says how many in all.
LIST_LIMIT = 25
# The most schools drawn in the chart (the table lists them all).
CHART_SCHOOLS = 20


@dataclass(frozen=True)
class CaseList:
    count: int
    cases: list[dict] | None  # {"case", "name"} rows; None when the user may not see who the children are
    pager: Pager | None = None
    capped: bool = False  # more than the count says (paging counts up to CappedCountPaginator.cap)


def shows_people(scope: Scope) -> bool:
    return scope.can_write and not scope.everything


def _case_list(request, queryset: QuerySet, disclosure: Disclosure | None, *, param: str, anchor: str) -> CaseList:
    """One page of a work list, each child's name as the user may see it (disclosure None: the count only)."""
    if disclosure is None:
        return CaseList(count=queryset.count(), cases=None)
    page = page_from(request, queryset, per_page=LIST_LIMIT, param=param, rows=queryset)
    rows = [{"case": case, "name": disclosure.name(case.student.name)} for case in page.object_list]
    return CaseList(
        count=page.paginator.count,
        cases=rows,
        pager=pager(request, page, param=param, anchor=anchor),
        capped=page.paginator.capped,
    )


def county_ledger(request, scope: Scope, county: Division, today: datetime.date) -> dict:
    """The county's live lists; each list of cases is paged with a parameter of its own (overdue_page, ...)."""
    user = request.user
    people = shows_people(scope)
    disclosure = disclosure_for(user) if people else None
    by_school = selectors.open_by_school(user, county)
    for row in by_school:
        row["url"] = reverse("reports:school", args=[row["school__code"]]) if people else None
    by_reason = selectors.open_by_reason(user, county)
    visible = cases_visible_to(user).filter(county=county)
    open_label = _("Open cases")
    count = counter()
    return {
        "today": today,
        "people": people,
        "open_count": sum(row["count"] for row in by_school),
        "by_school": by_school,
        "by_school_chart": charts.ranked_bars(
            "chart-schools",
            _("Open cases by school"),
            [(row["school__name"], row["count"], row["url"] or "") for row in by_school[:CHART_SCHOOLS]],
            name=open_label,
            table=charts.table(
                [_("School"), open_label],
                [(row["school__name"], row["url"] or "", [count(row["count"])]) for row in by_school],
            ),
        )
        if by_school
        else None,
        "by_reason": by_reason,
        "by_reason_chart": charts.ranked_bars(
            "chart-ledger-reasons",
            _("Open cases by reason"),
            [(label, n, "") for _value, label, n in by_reason],
            name=open_label,
            table=charts.table([_("Reason"), open_label], [(label, "", [count(n)]) for _value, label, n in by_reason]),
        ),
        "overdue": _case_list(
            request,
            selectors.overdue_follow_up(user, county, today),
            disclosure,
            param="overdue_page",
            anchor="overdue",
        ),
        "returned": _case_list(
            request,
            selectors.returned_between(user, county, today.replace(day=1), today),
            disclosure,
            param="returned_page",
            anchor="returned",
        ),
        "retention": _case_list(
            request,
            selectors.retention_checks_due(visible, today),
            disclosure,
            param="retention_page",
            anchor="retention",
        ),
        "follow_up_days": selectors.FOLLOW_UP_DAYS,
    }
