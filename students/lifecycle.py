"""The one place that says which status changes a case may make."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DROPPED_OUT: frozenset({Status.PERSUADING, Status.RETURNED, Status.CLOSED}),
    Status.PERSUADING: frozenset({Status.RETURNED, Status.CLOSED}),
    # A retention check (30 days, 90 days) may be recorded more than once. Only the check that completes the last
    # one makes the case "retained"; an earlier check is an event that keeps the status "returned", as a handover's
    # event keeps it (students.services.case_record_retention_check): no change of status, so not listed here.
    Status.RETURNED: frozenset({Status.RETAINED, Status.RELAPSED}),
    Status.RETAINED: frozenset({Status.RETAINED, Status.RELAPSED}),
    Status.RELAPSED: frozenset(),
    Status.CLOSED: frozenset(),
}

# Leaving the open ledger on these statuses strikes the case off.
STRUCK_OFF = frozenset({Status.RETURNED, Status.CLOSED})


def allowed_next(status: str) -> list[str]:
    return sorted(TRANSITIONS[status])


def check_transition(from_status: str, to_status: str) -> None:
    if to_status not in TRANSITIONS.get(from_status, ()):
        raise ValidationError(
            _("A case cannot go from “%(from)s” to “%(to)s”.")
            % {"from": Status(from_status).label, "to": Status(to_status).label},
            code="bad_transition",
        )
