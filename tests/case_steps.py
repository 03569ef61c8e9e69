"""Steps of a case's life at days relative to today, shared by the tests of what is due and of the county page."""

import datetime

from django.utils import timezone

from students.choices import Placement, VisitMethod, VisitOutcome
from students.services import case_mark_returned, case_record_retention_check, visit_record


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def visit(case, when, next_follow_up=None):
    return visit_record(
        case=case,
        visit_date=when,
        visitors=[{"role": "principal", "name": "王校长"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
        next_follow_up=next_follow_up,
    )


def returned(case, when, checks=()):
    """Mark the case returned on `when`, then record a retention check on each of `checks`; the case, reloaded."""
    case_mark_returned(case=case, returned_on=when, placement=Placement.REGULAR_CLASS)
    for check in checks:
        case_record_retention_check(case=case, checked_on=check)
    case.refresh_from_db()
    return case
