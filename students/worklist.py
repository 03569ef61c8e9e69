"""What is due: the work of a county official or a principal, today. One definition of each kind of work, read by
the work list (students.views.worklist), the navigation's badge, the case page and the dashboards (reports).

- Follow-ups due: open cases whose latest persuasion visit set a next follow-up on or before today.
- No visit for NO_VISIT_DAYS (30) days: open cases on the ledger that long with no visit since, less those already
  listed as follow-ups due, so that a case is listed once.
- Retention checks due. A child back in school is checked `RETENTION_CHECK_DAYS` (30 and 90) days after the return
  (`DropoutCase.returned_on`, which only a return sets: a handover's event keeps the status and is not a return).
  A check is an event of students.services.case_record_retention_check: to "retained" when it completes the last
  check (a child counts as retained only then), else one that keeps the status "returned"; a handover's event
  (which keeps the status too, on the day the case was handed over) is not one. A check counts for a due date
  when it is dated on or after the due date less `RETENTION_CHECK_EARLY_DAYS`, so one late check counts for every
  due date before it. A check is due when its due date is today or past and it is not done. It stays due for
  `RETENTION_CHECK_LISTED_DAYS` after its due date and then lapses: a return long ago expects no check any more,
  and the dashboards do not count the ledger's whole history. A case is listed once, for its latest check due;
  a case that relapsed or closed expects none.
- Handovers waiting: pending handovers into a county official's county (students.handover).
- Reopened at a spot check: open cases that a verifier's "not found in school" opened again (verification), not
  yet visited, for their first NO_VISIT_DAYS days (then the no-visit section lists them): how the county hears
  that a return did not hold.

Every read goes through the scoping rule (students.access); what of a child is shown, through the disclosure rule.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)

from counties.models import Level, Role

from .access import Scope, cases_visible_to, scope_for
from .choices import OPEN_STATUSES, HandoverStatus, Status
from .handover import pending_of_county
from .models import CaseEvent, DropoutCase, Handover, PersuasionVisit

NO_VISIT_DAYS = 30
# Statuses of a child back in school, who is due retention checks.
BACK_IN_SCHOOL = (Status.RETURNED, Status.RETAINED)

FOLLOW_UPS = "follow_ups"
NO_VISIT = "no_visit"
RETENTION = "retention"
HANDOVERS = "handovers"
SPOT_CHECKS = "spot_checks"
SECTIONS = (FOLLOW_UPS, NO_VISIT, RETENTION, HANDOVERS, SPOT_CHECKS)


# Retention checks -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionRule:
    days: tuple[int, ...]
    early: int
    listed: int


def retention_rule() -> RetentionRule:
    return RetentionRule(
        days=tuple(sorted(settings.RETENTION_CHECK_DAYS)),
        early=settings.RETENTION_CHECK_EARLY_DAYS,
        listed=settings.RETENTION_CHECK_LISTED_DAYS,
    )


@dataclass(frozen=True)
class RetentionCheck:
    """One retention check of a returned child: `state` is done, due, upcoming or lapsed."""

    days: int
    due_on: datetime.date
    done_on: datetime.date | None
    state: str


def retention_checks(
    returned_on: datetime.date, check_dates: Iterable[datetime.date], today: datetime.date
) -> list[RetentionCheck]:
    """The checks of a child back in school since `returned_on`, given the dates of their recorded checks."""
    rule = retention_rule()
    dates = sorted(check_dates)
    checks = []
    for days in rule.days:
        due_on = returned_on + datetime.timedelta(days)
        done_on = next((day for day in dates if day >= due_on - datetime.timedelta(rule.early)), None)
        if done_on is not None:
            state = "done"
        elif due_on > today:
            state = "upcoming"
        elif due_on >= today - datetime.timedelta(rule.listed):
            state = "due"
        else:
            state = "lapsed"
        checks.append(RetentionCheck(days, due_on, done_on, state))
    return checks


def completes_retention(returned_on: datetime.date, checked_on: datetime.date) -> bool:
    """Whether a check on `checked_on` counts for the last due check: only then is the child retained."""
    rule = retention_rule()
    return checked_on >= returned_on + datetime.timedelta(rule.days[-1] - rule.early)


def check_events() -> QuerySet[CaseEvent]:
    """The recorded retention checks: events to "retained", and the earlier checks that keep a returned case
    "returned"; less the handover events, which keep the status too, on the day of the handover."""
    handed_over_that_day = Handover.objects.filter(
        case=OuterRef("case"), status=HandoverStatus.ACCEPTED, handed_over_on=OuterRef("effective_date")
    )
    return CaseEvent.objects.filter(
        Q(to_status=Status.RETAINED) | Q(from_status=Status.RETURNED, to_status=Status.RETURNED)
    ).exclude(Q(from_status=F("to_status")) & Exists(handed_over_that_day))


def case_check_dates(case: DropoutCase) -> list[datetime.date]:
    return list(check_events().filter(case=case).values_list("effective_date", flat=True))


def _retention_due_days(today: datetime.date) -> Case:
    """The days of a case's latest retention check due (90, 30), or NULL: `retention_checks` in SQL."""
    rule = retention_rule()
    whens = []
    for days in reversed(rule.days):
        counts_from = ExpressionWrapper(
            OuterRef("returned_on") + datetime.timedelta(days - rule.early), output_field=DateTimeField()
        )
        done = check_events().filter(case=OuterRef("pk"), effective_date__gte=counts_from)
        whens.append(
            When(
                Q(status__in=BACK_IN_SCHOOL)
                & Q(returned_on__lte=today - datetime.timedelta(days))
                & Q(returned_on__gte=today - datetime.timedelta(days + rule.listed))
                & ~Exists(done),
                then=days,
            )
        )
    return Case(*whens, default=None, output_field=IntegerField())


def _may_be_due_a_check(today: datetime.date) -> Q:
    rule = retention_rule()
    return Q(
        status__in=BACK_IN_SCHOOL,
        returned_on__gte=today - datetime.timedelta(rule.days[-1] + rule.listed),
        returned_on__lte=today - datetime.timedelta(rule.days[0]),
    )


def retention_checks_due(cases: QuerySet[DropoutCase], today: datetime.date) -> QuerySet[DropoutCase]:
    """The cases due a retention check, returned longest ago first; `retention_check` is the latest due's days."""
    return (
        cases.filter(_may_be_due_a_check(today))
        .annotate(retention_check=_retention_due_days(today))
        .filter(retention_check__isnull=False)
        .order_by("returned_on", "pk")
    )


# Visits -----------------------------------------------------------------------------------------------------------


def _latest_visit(field_name: str) -> Subquery:
    return Subquery(
        PersuasionVisit.objects.filter(case=OuterRef("pk")).order_by("-visit_date", "-pk").values(field_name)[:1]
    )


def _with_latest_visit(cases: QuerySet[DropoutCase]) -> QuerySet[DropoutCase]:
    return cases.annotate(last_visit=_latest_visit("visit_date"), next_follow_up=_latest_visit("next_follow_up"))


def _follow_up_due(today: datetime.date) -> Q:
    return Q(status__in=OPEN_STATUSES, next_follow_up__lte=today)


def _no_visit(today: datetime.date) -> Q:
    since = today - datetime.timedelta(NO_VISIT_DAYS)
    recent = PersuasionVisit.objects.filter(case=OuterRef("pk"), visit_date__gt=since)
    return (
        Q(status__in=OPEN_STATUSES, dropout_date__lte=since)
        & ~Exists(recent)
        & (Q(next_follow_up__isnull=True) | Q(next_follow_up__gt=today))
    )


def follow_ups_due(cases: QuerySet[DropoutCase], today: datetime.date) -> QuerySet[DropoutCase]:
    """Open cases whose follow-up date has come, the longest overdue first."""
    return (
        _with_latest_visit(cases.filter(status__in=OPEN_STATUSES))
        .filter(_follow_up_due(today))
        .order_by("next_follow_up", "pk")
    )


def no_visit(cases: QuerySet[DropoutCase], today: datetime.date) -> QuerySet[DropoutCase]:
    """Open cases with no visit for NO_VISIT_DAYS days (and no follow-up due), never visited first, then the
    longest without one."""
    return (
        _with_latest_visit(cases.filter(status__in=OPEN_STATUSES))
        .filter(_no_visit(today))
        .order_by(F("last_visit").asc(nulls_first=True), "dropout_date", "pk")
    )


def _reopened_at_spot_check(today: datetime.date) -> Q:
    since = today - datetime.timedelta(NO_VISIT_DAYS)
    reopened = DropoutCase.objects.filter(pk=OuterRef("pk"), reopening_checks__isnull=False)
    visited = PersuasionVisit.objects.filter(case=OuterRef("pk"))
    return Q(status__in=OPEN_STATUSES, dropout_date__gt=since) & Exists(reopened) & ~Exists(visited)


def reopened_at_spot_check(cases: QuerySet[DropoutCase], today: datetime.date) -> QuerySet[DropoutCase]:
    """Open cases reopened by a failed spot check and not visited yet, the earliest first."""
    return cases.filter(_reopened_at_spot_check(today)).order_by("dropout_date", "pk")


# Whose work, and how much -----------------------------------------------------------------------------------------


def has_work_list(user) -> bool:
    """The work list is a county official's (their county) or a principal's (their school)."""
    scope = scope_for(user)
    return getattr(user, "role", None) in (Role.COUNTY, Role.PRINCIPAL) and (
        scope.school is not None or (scope.division is not None and scope.division.level == Level.COUNTY)
    )


def handovers_waiting(user, scope: Scope) -> QuerySet[Handover]:
    """Pending handovers into a county official's county, the longest waiting first (none for a principal)."""
    if scope.school is not None or scope.division is None or scope.division.level != Level.COUNTY:
        return Handover.objects.none()
    return pending_of_county(user, scope.division).filter(to_county=scope.division)


def due_counts(user, today: datetime.date, *, cases: QuerySet[DropoutCase] | None = None) -> dict[str, int]:
    """How many items each section holds, in one query on the cases and one on the handovers.

    `cases`: the user's visible cases narrowed by a filter (a school); the handovers are not narrowed.
    """
    scope = scope_for(user)
    cases = cases_visible_to(user) if cases is None else cases
    # Each rule is a column of the candidate cases, then counted: the rules' subqueries stay inside.
    counts = (
        _with_latest_visit(cases.filter(Q(status__in=OPEN_STATUSES) | _may_be_due_a_check(today)))
        .annotate(
            retention_check=_retention_due_days(today),
            is_follow_up=ExpressionWrapper(_follow_up_due(today), output_field=BooleanField()),
        )
        .annotate(is_no_visit=ExpressionWrapper(_no_visit(today), output_field=BooleanField()))
        .annotate(is_spot=ExpressionWrapper(_reopened_at_spot_check(today), output_field=BooleanField()))
        .aggregate(
            **{
                FOLLOW_UPS: Count("pk", filter=Q(is_follow_up=True)),
                NO_VISIT: Count("pk", filter=Q(is_no_visit=True)),
                RETENTION: Count("pk", filter=Q(retention_check__isnull=False)),
                SPOT_CHECKS: Count("pk", filter=Q(is_spot=True)),
            }
        )
    )
    counts[HANDOVERS] = handovers_waiting(user, scope).count()
    return counts


def badge_count(user, today: datetime.date) -> int:
    """The navigation's count of everything due."""
    return sum(due_counts(user, today).values())
