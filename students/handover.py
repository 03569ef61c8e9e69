"""Handing a child from one county to another (转出/转入), across provinces too.

What moves is the case that holds the child (students.access.holding_case): their open case or, with none
open, their most recent one. A child back in school in one county who drops out again in another is put on
that county's ledger this way: their latest, struck-off case moves, and the county then opens the new case.

Either side starts it, the other decides:
- the holding county asks another county to take the case (`handover_request`);
- a county that has found the child asks for the case (`handover_claim`). It cannot see the case, so it
  finds it by what it legitimately holds, the child's resident ID or registry number typed in full
  (`handover_claim_by_identifier`), and learns nothing but the holding county's name.
The other side accepts (`handover_accept`) or declines (`handover_decline`); the side that asked may
withdraw while it waits (`handover_cancel`). Only county officials (for their own county) and
administrators act on handovers; prefectures, provinces and the ministry watch them (students.access).

On acceptance the case moves to the receiving county and school from `handed_over_on`:
- its events and visits stay on it, so the receiving county sees its whole history;
- an event dated `handed_over_on`, with the status unchanged, records the move in that history. Later
  status changes cannot be dated before it (the rule of every status change), so an open case is always
  struck off in the county that holds it last: the totals rely on it (reports.services.sql);
- a struck-off case moves the same way, but it counts nowhere any more: the totals leave out the receiving
  county's hold on it, so that no day's figures change (reports.services.sql, `segments`);
- the responsible persons the old county named are written into the handover's decision note, where they
  stay as history, and replaced by those the receiving county names (the parent stays unless replaced);
  the replacement is in the case's history of its responsible persons too;
- a back-dated handover of an open case records a ledger correction, so the totals recompute from that day.

What the receiving county sees of the child before it accepts is `handover_child`: masked, as for any
case outside its scope, with the facts needed to decide.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Q, QuerySet, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from counties.models import Division, Level, School

from .access import NOTHING, cases_visible_to, handovers_visible_to, holding_case, scope_for
from .choices import OPEN_STATUSES, HandoverReason, HandoverStatus, ResponsibleRole
from .disclosure import Disclosure, disclosure_for
from .identifiers import normalize_id_number, validate_id_number, validate_registry_number
from .models import CaseEvent, DropoutCase, Handover, ResponsiblePerson, Student
from .services import (
    StaleCaseError,
    case_lock,
    correction_record,
    effective_date_problems,
    responsible_persons_record_change,
)

# A handover waiting longer than this is shown as stuck, to the counties and to those above them.
STUCK_AFTER_DAYS = 30


def _today() -> datetime.date:
    return timezone.localdate()


def acts_for_county(user, county_id: int) -> bool:
    """Whether `user` may start or decide handovers for the county: its officials, and administrators."""
    if user is None:  # system work: the demo seed
        return True
    scope = scope_for(user)
    if not scope.can_write or scope.school is not None:
        return False
    return scope.everything or (scope.division is not None and scope.division.pk == county_id)


def asking_county_id(handover: Handover) -> int:
    return handover.to_county_id if handover.requested_by_receiver else handover.from_county_id


def deciding_county_id(handover: Handover) -> int:
    return handover.from_county_id if handover.requested_by_receiver else handover.to_county_id


def may_decide(user, handover: Handover) -> bool:
    return handover.status == HandoverStatus.PENDING and acts_for_county(user, deciding_county_id(handover))


def may_cancel(user, handover: Handover) -> bool:
    return handover.status == HandoverStatus.PENDING and acts_for_county(user, asking_county_id(handover))


def _require_county(user, county_id: int) -> None:
    if not acts_for_county(user, county_id):
        raise PermissionDenied(_("Only the county's officials can act on this handover."))


def holds_the_child(case: DropoutCase) -> bool:
    """Whether the case holds its child (students.access.holding_case): the one a handover may move."""
    if case.status in OPEN_STATUSES:
        return True
    holder = holding_case(case.student)
    return holder is not None and holder.pk == case.pk


def _check_new_handover(case: DropoutCase, to_county: Division, reason: str) -> None:
    errors: dict[str, list[str]] = {}
    if not holds_the_child(case):
        held = _("Only the case holding the child moves: their open case or, with none open, their latest.")
        errors["__all__"] = [held]
    if to_county.level != Level.COUNTY:
        errors["to_county"] = [_("A case is handed over to a county.")]
    elif to_county.pk == case.county_id:
        errors["to_county"] = [_("The case is already in this county.")]
    if reason not in HandoverReason.values:
        errors["reason"] = [_("Say why the case moves.")]
    if Handover.objects.filter(case=case, status=HandoverStatus.PENDING).exists():
        errors.setdefault("__all__", []).append(_("This case already waits for a handover."))
    if errors:
        raise ValidationError(errors)


def _check_school(school: School | None, county_id: int) -> None:
    if school is not None and school.county_id != county_id:
        raise ValidationError({"to_school": [_("Choose a school of the receiving county.")]})


@transaction.atomic
def handover_request(
    *,
    case: DropoutCase,
    to_county: Division,
    reason: str,
    note: str = "",
    user=None,
) -> Handover:
    """The holding county asks `to_county` to take the case (the child's open case or, with none open, their latest
    one); it stays where it is until accepted. Decided on the case under its row lock, as it is now."""
    case = case_lock(case)
    _require_county(user, case.county_id)
    _check_new_handover(case, to_county, reason)
    return Handover.objects.create(
        case=case,
        from_county_id=case.county_id,
        to_county=to_county,
        reason=reason,
        note=note.strip(),
        requested_by=user,
    )


def _receiving_county(user) -> Division:
    scope = scope_for(user)
    if not scope.can_write or scope.division is None or scope.division.level != Level.COUNTY:
        raise PermissionDenied(_("Only a county's officials can ask for a case."))
    return scope.division


@transaction.atomic
def handover_claim(
    *, case: DropoutCase, reason: str, note: str = "", user, to_school: School | None = None
) -> Handover:
    """The user's county asks for the case that holds a child, held by another county (to place the child in
    `to_school`). Decided on the case under its row lock, as it is now."""
    county = _receiving_county(user)
    case = case_lock(case)
    _check_new_handover(case, county, reason)
    _check_school(to_school, county.pk)
    return Handover.objects.create(
        case=case,
        from_county_id=case.county_id,
        to_county=county,
        to_school=to_school,
        requested_by_receiver=True,
        reason=reason,
        note=note.strip(),
        requested_by=user,
    )


def _student_by_identifier(identifier: str) -> Student | None:
    """The child with exactly this resident ID (18 characters) or registry number (a letter and 18 characters)."""
    number = normalize_id_number(identifier)
    if not number[:1].isalpha():
        validate_id_number(number)
        return Student.objects.filter(id_number=number).first()
    validate_registry_number(number)
    return Student.objects.filter(registry_number=number).first()


def holding_case_by_identifier(identifier: str) -> DropoutCase | None:
    """The case holding the child with exactly this ID or registry number (students.access.holding_case): their
    open case or, with none open, their most recent one."""
    student = _student_by_identifier(identifier)
    return holding_case(student) if student is not None else None


@transaction.atomic
def handover_claim_by_identifier(
    *, identifier: str, reason: str, note: str = "", user, to_school: School | None = None
) -> Handover:
    """Ask for the child with this ID or registry number, typed in full: for the case that holds the child.

    That is their open case or, with none open, their latest one (a child back in school elsewhere who has
    dropped out again here). Errors say only whether the ledger knows such a child elsewhere and, when it
    does, the holding county's name (what the new-case form says of a child held by another county).
    """
    county = _receiving_county(user)
    try:
        case = holding_case_by_identifier(identifier)
    except ValidationError as error:
        raise ValidationError({"identifier": error.messages}) from None
    if case is None:
        raise ValidationError({"identifier": [_("No child with this number is on the ledger.")]}, code="not_found")
    if case.county_id == county.pk:
        raise ValidationError({"identifier": [_("This child's case is already in your county.")]}, code="own")
    return handover_claim(case=case, reason=reason, note=note, user=user, to_school=to_school)


def _locked_pending(handover: Handover) -> Handover:
    locked = Handover.objects.select_for_update().get(pk=handover.pk)
    if locked.status != HandoverStatus.PENDING:
        raise ValidationError(
            _("This handover was already decided (%(status)s).") % {"status": locked.get_status_display()},
            code="decided",
        )
    return locked


def _persons_record(persons: list[ResponsiblePerson]) -> str:
    if not persons:
        return ""
    lines = [
        f"{person.get_role_display()}: {person.name}{f' {person.phone}' if person.phone else ''}" for person in persons
    ]
    return _("Responsible persons named by the county that handed the case over:") + "\n" + "\n".join(lines)


@transaction.atomic
def handover_accept(
    *,
    handover: Handover,
    user=None,
    to_school: School | None = None,
    handed_over_on: datetime.date | None = None,
    persons: list[dict] | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Handover:
    """The other side accepts: the case moves to the receiving county and school from `handed_over_on`.

    `to_school` is the receiving county's school (the one named in the claim when the receiving county
    asked); `persons` ({"line", "role", "name", "phone"}) are the responsible persons it names.

    A struck-off case (the child's latest, with no case open) moves the same way and is recorded the same way
    in its history; it was struck off before the handover day, so no day's totals change and nothing needs
    recomputing.
    """
    _require_county(user, deciding_county_id(handover))
    handover = _locked_pending(handover)
    # The child's record is locked before the case: an identity edit decides under that lock which county holds
    # the child (services.student_update), so it comes wholly before or after the move. NO KEY UPDATE, so that a
    # relapse holding the case can still open the child's new case; the checks below then find this case no
    # longer holds the child.
    student_id = DropoutCase.objects.values_list("student_id", flat=True).get(pk=handover.case_id)
    Student.objects.select_for_update(no_key=True).only("pk").get(pk=student_id)
    case = DropoutCase.objects.select_for_update().get(pk=handover.case_id)
    if case.student_id != student_id or expected_version not in (None, case.version):
        raise StaleCaseError(_("The case changed while you were deciding. Reload the page to see it."), code="stale")
    day = handed_over_on or _today()
    to_school = to_school or handover.to_school
    errors: dict[str, list[str]] = {}
    if not holds_the_child(case):
        errors["__all__"] = [_("The child has a newer case meanwhile: this one no longer holds the child.")]
    if case.county_id != handover.from_county_id:
        errors.setdefault("__all__", []).append(_("The case is no longer in the county that handed it over."))
    if to_school is None:
        errors["to_school"] = [_("Choose the school the child is placed in.")]
    elif to_school.county_id != handover.to_county_id:
        errors["to_school"] = [_("Choose a school of the receiving county.")]
    last = case.events.order_by("-effective_date", "-pk").values_list("effective_date", flat=True).first()
    problems = effective_date_problems(day=day, dropout_date=case.dropout_date, last_date=last)
    if problems:
        errors["handed_over_on"] = problems
    if errors:
        raise ValidationError(errors)
    new_persons = [ResponsiblePerson(case=case, **person) for person in persons or [] if person.get("name")]
    for person in new_persons:
        person.full_clean(exclude=["case"], validate_unique=False)

    old_persons = list(case.responsible_persons.all())
    kept = (
        []
        if any(p.role == ResponsibleRole.PARENT for p in new_persons)
        else [p for p in old_persons if p.role == ResponsibleRole.PARENT]
    )
    from_name = handover.from_county.name
    case.county_id = handover.to_county_id
    case.school = to_school
    case.version += 1
    case.save(update_fields=["county", "school", "version", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        from_status=case.status,
        to_status=case.status,
        effective_date=day,
        recorded_by=user,
        note=_("Handed over from %(from)s to %(to)s (%(school)s): %(reason)s.")
        % {
            "from": from_name,
            "to": handover.to_county.name,
            "school": to_school.name,
            "reason": handover.get_reason_display(),
        },
    )
    case.responsible_persons.exclude(pk__in=[p.pk for p in kept]).delete()
    ResponsiblePerson.objects.bulk_create(new_persons)
    responsible_persons_record_change(case=case, before=old_persons, after=[*kept, *new_persons], user=user)

    handover.status = HandoverStatus.ACCEPTED
    handover.to_school = to_school
    handover.handed_over_on = day
    handover.decided_by = user
    handover.decided_at = timezone.now()
    handover.decision_note = "\n\n".join(
        part for part in (note.strip(), _persons_record([p for p in old_persons if p not in kept])) if part
    )
    handover.full_clean(exclude=["case", "from_county", "to_county", "to_school", "requested_by", "decided_by"])
    handover.save()
    if case.status in OPEN_STATUSES:
        correction_record({handover.from_county_id: day, handover.to_county_id: day})
    return handover


def _decide(handover: Handover, *, status: str, user, note: str) -> Handover:
    handover.status = status
    handover.decided_by = user
    handover.decided_at = timezone.now()
    handover.decision_note = note.strip()
    handover.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return handover


@transaction.atomic
def handover_decline(*, handover: Handover, user=None, note: str = "") -> Handover:
    """The other side declines: the case stays where it is."""
    _require_county(user, deciding_county_id(handover))
    return _decide(_locked_pending(handover), status=HandoverStatus.DECLINED, user=user, note=note)


@transaction.atomic
def handover_cancel(*, handover: Handover, user=None, note: str = "") -> Handover:
    """The side that asked withdraws while the other has not decided."""
    _require_county(user, asking_county_id(handover))
    return _decide(_locked_pending(handover), status=HandoverStatus.CANCELLED, user=user, note=note)


# --- Reading -------------------------------------------------------------------------------------------


def pending_age_days(handover: Handover, today: datetime.date | None = None) -> int:
    return ((today or _today()) - timezone.localdate(handover.requested_at)).days


def stuck_before() -> datetime.datetime:
    """Pending handovers asked for before this moment are stuck: more than STUCK_AFTER_DAYS calendar days ago."""
    first_day = _today() - datetime.timedelta(days=STUCK_AFTER_DAYS)
    return timezone.make_aware(datetime.datetime.combine(first_day, datetime.time.min))


def pending_first(handovers: QuerySet[Handover]) -> QuerySet[Handover]:
    """Pending handovers first, the longest waiting first; then the others, newest first."""
    return handovers.alias(waiting=Case(When(status=HandoverStatus.PENDING, then=1), default=0)).order_by(
        "-waiting", Case(When(status=HandoverStatus.PENDING, then="requested_at")), "-requested_at", "-pk"
    )


def pending_of_county(user, county: Division) -> QuerySet[Handover]:
    """The pending handovers into and out of `county` that the user may see, the longest waiting first."""
    return (
        handovers_visible_to(user)
        .filter(Q(from_county=county) | Q(to_county=county), status=HandoverStatus.PENDING)
        .order_by("requested_at", "pk")
    )


def stuck_handovers(user, area: Division | None = None) -> QuerySet[Handover]:
    """Handovers pending for more than STUCK_AFTER_DAYS days in the user's area (or `area` within it)."""
    handovers = handovers_visible_to(user).filter(status=HandoverStatus.PENDING, requested_at__lt=stuck_before())
    if area is not None:
        handovers = handovers.filter(_touches(area))
    return handovers


def _touches(area: Division) -> Q:
    if area.level == Level.PROVINCE:
        return Q(from_county__province=area) | Q(to_county__province=area)
    if area.level == Level.PREFECTURE:
        return Q(from_county__prefecture=area) | Q(to_county__prefecture=area)
    return Q(from_county=area) | Q(to_county=area)


@dataclass(frozen=True)
class HandoverChild:
    """What one user may see of a handed-over child: all of it when the case is in their scope, else masked."""

    name: str
    gender: str
    birth_year: int | None
    grade: int
    dropout_date: datetime.date
    case_reason: str
    case_status: str
    school: str
    masked: bool
    case_url: str | None


def handover_child(handover: Handover, disclosure: Disclosure, in_scope: bool) -> HandoverChild:
    """The child of a handover as the user may see them (`in_scope`: the case is in the user's scope).

    A county asked to take a case (or asking for one) sees it as a case outside its scope: the masked name,
    gender, birth year, grade, dropout date, reason and the holding school, enough to decide.
    """
    case = handover.case
    shown = disclosure if in_scope else Disclosure(NOTHING)
    return HandoverChild(
        name=shown.name(case.student.name),
        gender=case.student.get_gender_display(),
        birth_year=case.student.birth_date.year if case.student.birth_date else None,
        grade=case.grade,
        dropout_date=case.dropout_date,
        case_reason=case.get_reason_display(),
        case_status=case.get_status_display(),
        school=case.school.name,
        masked=shown.masked,
        case_url=case.get_absolute_url() if in_scope else None,
    )


def handover_note(handover: Handover, text: str, disclosure: Disclosure, in_scope: bool) -> str:
    """A note on a handover, through the disclosure rule: whole for those whose scope holds the case, withheld
    from the others (the county asked to take it, supervisors), since a note may name any child."""
    shown = disclosure if in_scope else Disclosure(NOTHING)
    return shown.note(text)


def visible_case_ids(user, handovers: list[Handover]) -> set[int]:
    """Which of these handovers' cases are in the user's scope (one query)."""
    ids = {handover.case_id for handover in handovers}
    return set(cases_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()


@dataclass(frozen=True)
class HandoverRow:
    handover: Handover
    child: HandoverChild
    note: str
    decision_note: str
    incoming: bool | None  # for a county official: into their county (True) or out of it (False)
    age_days: int | None  # days waiting, while pending
    stuck: bool
    url: str


def handover_rows(
    user, handovers: list[Handover], county_id: int | None = None, *, disclosure: Disclosure | None = None
) -> list[HandoverRow]:
    """Rows ready to print; the child through the disclosure rule, in full only where the case is in scope.

    `county_id`: the county the rows are seen from (incoming or outgoing). Needs the handovers' cases,
    students, schools and counties selected with them.
    """
    disclosure = disclosure or disclosure_for(user)
    in_scope = visible_case_ids(user, handovers)
    rows = []
    for handover in handovers:
        seen = handover.case_id in in_scope
        pending = handover.status == HandoverStatus.PENDING
        age = pending_age_days(handover) if pending else None
        rows.append(
            HandoverRow(
                handover=handover,
                child=handover_child(handover, disclosure, seen),
                note=handover_note(handover, handover.note, disclosure, seen),
                decision_note=handover_note(handover, handover.decision_note, disclosure, seen),
                incoming=None if county_id is None else handover.to_county_id == county_id,
                age_days=age,
                stuck=age is not None and age > STUCK_AFTER_DAYS,
                url=reverse("students:handover-detail", args=[handover.pk]),
            )
        )
    return rows
