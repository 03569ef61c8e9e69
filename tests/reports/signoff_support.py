"""A small ledger with its totals published, for the monthly sign-off's tests.

The last month that has ended (`month`) and the one before it are covered by published totals. In the home county
two cases are open at the end of the month ("throughout" and "later_returned") and one child returned during it;
the neighbour county has one case open. The people are the `users` fixture's, with a province official.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from reports import signoff
from reports.services import runs
from students.choices import Placement
from students.models import LedgerCorrection
from students.services import case_mark_returned
from tests.factories import StudentFactory, open_case

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Ledger:
    month: datetime.date  # the last month that has ended
    earlier: datetime.date  # the month before it
    cases: dict


def published_ledger(settings, area) -> Ledger:
    """The ledger above, its totals published from the first day of `earlier` to today, no correction waiting."""
    month = signoff.previous_month(timezone.localdate())
    earlier = signoff.previous_month(month)
    settings.LEDGER_BASELINE_DATE = earlier.isoformat()
    school = area["school"]
    cases = {
        "throughout": open_case(school, student=StudentFactory(name="卓玛措"), dropout_date=earlier + 2 * DAY),
        "returned": open_case(school, student=StudentFactory(name="扎西顿珠"), dropout_date=earlier + 3 * DAY),
        "later_returned": open_case(school, student=StudentFactory(name="桑青卓玛"), dropout_date=earlier + 4 * DAY),
        "neighbour": open_case(area["neighbour_school"], dropout_date=earlier + 5 * DAY),
    }
    case_mark_returned(case=cases["returned"], returned_on=month + 5 * DAY, placement=Placement.REGULAR_CLASS)
    runs.recompute()
    LedgerCorrection.objects.update(recomputed_at=timezone.now())
    return Ledger(month=month, earlier=earlier, cases=cases)
