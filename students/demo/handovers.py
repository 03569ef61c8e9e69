"""A handover in the demo's working set: one open case of another Aba or Sichuan county waits to move into
Rangtang County, so the handover screens and the dashboards' handover panels have something to show.

The family moved to Rangtang for work, and the holding county asked Rangtang to take the case more than 30
days before the anchor date: Rangtang's official sees it waiting on the county dashboard, Aba, Sichuan and
the ministry see it among the handovers stuck for more than 30 days. It is asked for through
students.handover, with the rules every handover obeys; nothing is drawn from the working set's chance,
so the rest of the working set is what it would be without it.
"""

import datetime

from django.utils import timezone

from counties.models import Division
from students.choices import OPEN_STATUSES, HandoverReason
from students.handover import handover_request
from students.models import DropoutCase, Handover

# How long before the anchor date the handover was asked for: past the 30 days after which it shows as stuck.
ASKED_DAYS_BEFORE = 35
NOTE = "学生随父母到壤塘县务工居住，家长希望在当地就近入学，请壤塘县接收并继续劝返。"


def handover_into_rangtang(cases: list[DropoutCase], rangtang: Division, today: datetime.date) -> Handover | None:
    """Ask Rangtang to take the first open case of another county that began before the handover was asked for."""
    asked_on = today - datetime.timedelta(days=ASKED_DAYS_BEFORE)
    case = next(
        (
            case
            for case in cases
            if case.county_id != rangtang.pk and case.status in OPEN_STATUSES and case.dropout_date < asked_on
        ),
        None,
    )
    if case is None:
        return None
    handover = handover_request(case=case, to_county=rangtang, reason=HandoverReason.MOVED_WITH_PARENTS, note=NOTE)
    asked_at = timezone.make_aware(datetime.datetime.combine(asked_on, datetime.time(10, 30)))
    Handover.objects.filter(pk=handover.pk).update(requested_at=asked_at)
    handover.requested_at = asked_at
    return handover
