"""The case sheet (一生一案): one child's case on paper, for the file or a visit.

It says what the case page says, through the same two rules: the case is fetched through the scoping rule
(outside the user's scope it does not exist: 404) and every detail of the child through the disclosure rule, so
a masked role's sheet holds exactly what its case page shows. A sheet with full identifiers is logged as a view
of the case page is.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from ..access import get_case_for_user
from ..choices import OPEN_STATUSES, ResponsibleRole
from ..disclosure import disclosure_for, log_disclosure
from ..models import DisclosurePurpose, DropoutCase
from ..worklist import BACK_IN_SCHOOL, NO_VISIT_DAYS, RetentionCheck, case_check_dates, retention_checks
from .cases import _timeline


@dataclass(frozen=True)
class NextSteps:
    """What the case needs next: a follow-up visit for an open case, retention checks for a child back in school."""

    next_follow_up: datetime.date | None = None
    follow_up_due: bool = False
    last_visit: datetime.date | None = None
    no_visit_for: int | None = None  # NO_VISIT_DAYS when an open case has gone that long without a visit
    retention: tuple[RetentionCheck, ...] = ()


def next_steps(case: DropoutCase, today: datetime.date) -> NextSteps:
    """The rules of the work list (students.worklist) applied to one case."""
    if case.status in OPEN_STATUSES:
        latest = case.visits.order_by("-visit_date", "-pk").values("visit_date", "next_follow_up").first() or {}
        next_follow_up, last_visit = latest.get("next_follow_up"), latest.get("visit_date")
        since = today - datetime.timedelta(NO_VISIT_DAYS)
        waiting = case.dropout_date <= since and (last_visit is None or last_visit <= since)
        return NextSteps(
            next_follow_up=next_follow_up,
            follow_up_due=next_follow_up is not None and next_follow_up <= today,
            last_visit=last_visit,
            no_visit_for=NO_VISIT_DAYS if waiting else None,
        )
    if case.status in BACK_IN_SCHOOL and case.returned_on:
        return NextSteps(retention=tuple(retention_checks(case.returned_on, case_check_dates(case), today)))
    return NextSteps()


def _history(case: DropoutCase, disclosure) -> list[dict]:
    """The case page's history (students.views.cases), oldest first as a story reads on paper, each entry with
    the name of the colleague who recorded it."""
    entries = list(reversed(_timeline(case, disclosure)))
    for entry in entries:
        record = entry.get("event") or entry.get("visit")
        who = record.recorded_by if record is not None else entry["change"].changed_by
        entry["by"] = (who.get_full_name() or who.username) if who else ""
    return entries


@login_required
@require_safe
def case_sheet(request, pk: int):
    case = get_case_for_user(request.user, pk)
    disclosure = disclosure_for(request.user)
    child = disclosure.child(case.student)
    if not child.masked:
        log_disclosure(request.user, purpose=DisclosurePurpose.CASE_PAGE, case=case, detail="case sheet")
    role_order = {role: i for i, role in enumerate(ResponsibleRole.values)}
    persons = sorted(case.responsible_persons.all(), key=lambda person: role_order.get(person.role, 99))
    now = timezone.localtime()
    return render(
        request,
        "students/case_sheet.html",
        {
            "case": case,
            "identity": child,
            "reason_detail": disclosure.note(case.reason_detail),
            "persons": [disclosure.person(person) for person in persons],
            "timeline": _history(case, disclosure),
            "steps": next_steps(case, now.date()),
            "printed_at": now,
        },
    )
