"""Every write to the ledger. Forms, the admin, imports and the demo seed all call these functions.

Each function validates first, then writes in one transaction. Status changes append a CaseEvent and
update the case's summary fields together, under a row lock, so the summary always matches the events.

Every write to a case decides on the case as it is under that row lock (`case_lock`), never on the
caller's copy, which a colleague may have changed since the page was loaded: a form built on an older
version is refused (StaleCaseError), a visit to a case closed meanwhile is refused, a finished case
(closed, or ended by a relapse) takes no more changes of its responsible persons.
"""

import csv
import datetime
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2.extras import execute_values

from counties.models import School
from reports.tasks import recompute_touched_soon

from .access import holding_case, lock_case_for_user, may_change_identity, scope_for
from .choices import (
    OPEN_STATUSES,
    HandoverStatus,
    IdentitySource,
    Placement,
    ResponsibleRole,
    Status,
    VisitMethod,
    VisitorRole,
    VisitOutcome,
)
from .identifiers import (
    id_birth_date,
    id_gender,
    normalize_id_number,
    validate_id_number,
    validate_registry_number,
)
from .lifecycle import STRUCK_OFF, allowed_next, check_transition
from .models import (
    CaseEvent,
    ClosureReason,
    DropoutCase,
    Handover,
    IdentityChange,
    LedgerCorrection,
    PersuasionVisit,
    ResponsiblePerson,
    ResponsiblePersonChange,
    Student,
)

PLACEMENTS = frozenset(Placement.values)


class StaleCaseError(ValidationError):
    """The case changed after the user loaded it; their form was built on an old copy."""


@dataclass
class StudentData:
    name: str
    gender: str
    birth_date: datetime.date
    id_number: str = ""
    registry_number: str = ""
    ethnicity: str = "01"
    hukou_place: str = ""
    address: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""
    registered_poor: bool = False
    left_behind: str = ""
    migrant: bool = False
    orphan: bool = False
    unsupported: bool = False
    disability: str = ""
    extra: dict = field(default_factory=dict)


# A child's identity field by field, as StudentData holds it (the same names as on Student).
STUDENT_DATA_FIELDS = tuple(name for name in StudentData.__dataclass_fields__ if name != "extra")


_batch_today: ContextVar[datetime.date | None] = ContextVar("batch_today", default=None)


def _today() -> datetime.date:
    return _batch_today.get() or timezone.localdate()


@contextmanager
def rules_as_of_today() -> Iterator[datetime.date]:
    """Check a whole batch against one "today" (read once, not once per row); yields that day."""
    token = _batch_today.set(timezone.localdate())
    try:
        yield _batch_today.get()
    finally:
        _batch_today.reset(token)


def _require_school_access(user, school: School) -> None:
    if user is None:  # system work: management commands, the seed
        return
    scope = scope_for(user)
    if not scope.can_write:
        raise PermissionDenied(_("Your role cannot change the ledger."))
    if scope.everything:
        return
    if scope.school is not None:
        allowed = scope.school.pk == school.pk
    else:
        allowed = school.county_id == scope.division.pk
    if not allowed:
        raise PermissionDenied(_("This school is outside your area."))


def _require_case_access(user, case: DropoutCase) -> None:
    _require_school_access(user, case.school)


# The case a user's action holds (case_held), and that user.
_held_case: ContextVar[tuple[DropoutCase, object] | None] = ContextVar("held_case", default=None)


@contextmanager
def case_held(user, pk: int) -> Iterator[DropoutCase]:
    """A user's action on one case: the case read once, through the user's write scope (404 outside it), and
    locked in a transaction that lasts the block. The services called on it inside the block for that user decide
    on this copy (case_lock) instead of reading it again: it was read in their write scope, and is locked."""
    with transaction.atomic():
        case = lock_case_for_user(user, pk)
        token = _held_case.set((case, user))
        try:
            yield case
        finally:
            _held_case.reset(token)


def case_write(service):
    """A service that writes to a case runs in a transaction: its own, or the one a caller holds open. Inside
    case_held it takes no savepoint: an error of the service ends the held block, and the block's transaction with
    it, so there is nothing to roll back to short of that."""

    @functools.wraps(service)
    def wrapped(*args, **kwargs):
        with transaction.atomic(savepoint=_held_case.get() is None):
            return service(*args, **kwargs)

    return wrapped


def case_lock(case: DropoutCase, *, user=None) -> DropoutCase:
    """The case as it is now, its row locked until the transaction ends, checked against the user's write scope.

    Writes to a case decide on this copy: two writes to one case wait for each other, and neither acts on what
    the other has just changed (a status, a version, the county after a handover) without seeing it. Inside
    case_held, the case it holds is that copy already.
    """
    held = _held_case.get()
    if held is not None and held[0] is case and held[1] is user:
        return case
    locked = DropoutCase.objects.select_for_update(of=("self",)).select_related("school").get(pk=case.pk)
    _require_case_access(user, locked)
    return locked


def check_version(case: DropoutCase, expected_version: int | None) -> None:
    """Refuse a form built on another version of the case than the locked one (None: no form, no check)."""
    if expected_version is not None and case.version != expected_version:
        raise StaleCaseError(
            _("Someone else changed this case while you were editing it. Reload the page to see their change."),
            code="stale",
        )


def case_is_finished(case: DropoutCase) -> bool:
    """A case closed, or ended by a relapse (a new case holds the child): it has no next status."""
    return not allowed_next(case.status)


def student_clean(data: StudentData) -> StudentData:
    """Normalise and check a child's identity; every problem is reported at once, per field."""
    errors: dict[str, list[str]] = {}
    data.name = (data.name or "").strip()
    data.id_number = normalize_id_number(data.id_number)
    data.registry_number = (data.registry_number or "").strip().upper()
    if not data.name:
        errors.setdefault("name", []).append(_("The child's name is required."))
    if data.id_number:
        try:
            validate_id_number(data.id_number)
        except ValidationError as error:
            errors.setdefault("id_number", []).extend(error.messages)
        else:
            if data.birth_date and id_birth_date(data.id_number) != data.birth_date:
                errors.setdefault("birth_date", []).append(
                    _("The birth date does not match the one in the ID number (%(date)s).")
                    % {"date": id_birth_date(data.id_number).isoformat()}
                )
            if data.gender and id_gender(data.id_number) != data.gender:
                errors.setdefault("gender", []).append(_("The gender does not match the ID number."))
    if data.registry_number:
        try:
            validate_registry_number(data.registry_number)
        except ValidationError as error:
            errors.setdefault("registry_number", []).extend(error.messages)
    if data.birth_date and data.birth_date > _today():
        errors.setdefault("birth_date", []).append(_("The birth date is in the future."))
    if errors:
        raise ValidationError(errors)
    return data


def case_open_problems(*, grade: int, dropout_date: datetime.date) -> dict[str, list[str]]:
    """The rules for putting a case on the ledger, as {field: [messages]} (empty when it may open)."""
    errors: dict[str, list[str]] = {}
    if not 1 <= int(grade) <= 9:
        errors["grade"] = [_("Compulsory education covers grades 1 to 9.")]
    if dropout_date > _today():
        errors["dropout_date"] = [_("The dropout date cannot be in the future.")]
    return errors


def effective_date_problems(
    *, day: datetime.date, dropout_date: datetime.date, last_date: datetime.date | None
) -> list[str]:
    """The rule for the date of a status change: not in the future, not before the dropout or the last change."""
    if day > _today():
        return [_("The date cannot be in the future.")]
    if day < dropout_date:
        return [_("The date cannot be before the dropout date.")]
    if last_date and day < last_date:
        return [_("The date cannot be before the last recorded change (%(date)s).") % {"date": last_date}]
    return []


def status_details_problems(*, to_status: str, placement: str, closure_reason_id: int | None) -> dict[str, list[str]]:
    """What a status change must say: how the child was placed on return, why a case is closed."""
    errors: dict[str, list[str]] = {}
    if to_status == Status.RETURNED and placement not in PLACEMENTS:
        errors["placement"] = [_("Say how the child was placed on return.")]
    if to_status == Status.CLOSED and closure_reason_id is None:
        errors["closure_reason"] = [_("Say why the case is closed.")]
    return errors


def case_apply_change(
    case, *, to_status: str, effective_date: datetime.date, placement: str, closure_reason_id: int | None
) -> None:
    """Update a case's summary fields for one status change (on a DropoutCase or a BulkCase)."""
    case.status = to_status
    case.version += 1
    if to_status in STRUCK_OFF:
        case.struck_off_on = effective_date
    if to_status == Status.RETURNED:
        case.returned_on = effective_date
        case.placement = placement
    if to_status == Status.CLOSED:
        case.closure_reason_id = closure_reason_id


def _check_effective_date(case: DropoutCase, day: datetime.date) -> None:
    last = case.events.order_by("-effective_date", "-pk").values_list("effective_date", flat=True).first()
    problems = effective_date_problems(day=day, dropout_date=case.dropout_date, last_date=last)
    if problems:
        raise ValidationError({"effective_date": problems})


@transaction.atomic
def case_open(
    *,
    student: Student | StudentData,
    school: School,
    grade: int,
    dropout_date: datetime.date,
    reason: str,
    reason_detail: str = "",
    user=None,
    note: str = "",
    previous_case: DropoutCase | None = None,
    recorded_by=None,
) -> DropoutCase:
    """Put a child on the ledger: create (or reuse) the student, the case and its first event.

    `recorded_by`: who the event names when the write was authorised elsewhere (a spot check's verifier, who may
    not change the ledger otherwise); `user` by default.
    """
    _require_school_access(user, school)
    errors = case_open_problems(grade=grade, dropout_date=dropout_date)
    if errors:
        raise ValidationError(errors)
    if isinstance(student, StudentData):
        student = student_get_or_create(
            data=student, user=user, detail=_("New case at %(school)s") % {"school": school.name}
        )
    open_case = DropoutCase.objects.filter(student=student, status__in=OPEN_STATUSES).select_related("county").first()
    if open_case is not None:
        # The user may not see that case: its county's name tells them whom to ask, and nothing else of it is told.
        if open_case.county_id != school.county_id:
            message = held_elsewhere_message(open_case.county.name, open_case=True)
        else:
            message = _("This child already has an open case in %(county)s.") % {"county": open_case.county.name}
        raise ValidationError(message, code="already_open")
    case = DropoutCase(
        student=student,
        county_id=school.county_id,
        school=school,
        grade=grade,
        dropout_date=dropout_date,
        reason=reason,
        reason_detail=reason_detail,
        status=Status.DROPPED_OUT,
        previous_case=previous_case,
    )
    case.full_clean(exclude=["student", "county", "school"])
    case.save()
    CaseEvent.objects.create(
        case=case,
        from_status="",
        to_status=Status.DROPPED_OUT,
        effective_date=dropout_date,
        recorded_by=recorded_by or user,
        note=note,
    )
    correction_record({case.county_id: dropout_date})
    return case


# A child's details that the published figures are broken down by (reports.services.sql).
FIGURE_STUDENT_FIELDS = ("gender", "registered_poor", "left_behind", "disability")


def correction_record(first_days: Mapping[int, datetime.date | None]) -> None:
    """The figures of these counties change from these days on (county id -> first day; None: none change).

    Recorded in the writing transaction (LedgerCorrection). Once it commits, the on-commit recompute
    publishes them within a minute (reports.tasks.recompute_touched_soon); the nightly run starts
    from the earliest of them too.
    """
    corrections = [LedgerCorrection(county_id=county, first_day=day) for county, day in first_days.items() if day]
    if corrections:
        LedgerCorrection.objects.bulk_create(corrections)
        transaction.on_commit(recompute_touched_soon)


def first_days_on_ledger(student_ids: list[int]) -> dict[int, datetime.date]:
    """For each county holding or having held these children's cases, the first day one was on the ledger."""
    days = dict(
        DropoutCase.objects.filter(student_id__in=student_ids)
        .values("county_id")
        .annotate(day=Min("dropout_date"))
        .values_list("county_id", "day")
    )
    handed = (
        Handover.objects.filter(case__student_id__in=student_ids, status=HandoverStatus.ACCEPTED)
        .values("from_county_id")
        .annotate(day=Min("case__dropout_date"))
        .values_list("from_county_id", "day")
    )
    for county, day in handed:
        days[county] = min(day, days.get(county, day))
    return days


def _stored(name: str, value):
    """A detail as the ledger stores it: blank identifiers are NULL, so that uniqueness ignores them."""
    return (value or None) if name in ("id_number", "registry_number") else value


def _as_json(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def identity_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} for each detail that differs, as IdentityChange.changes holds them."""
    return {
        name: [_as_json(before[name]), _as_json(after[name])]
        for name in STUDENT_DATA_FIELDS
        if before[name] != after[name]
    }


@transaction.atomic
def student_update(
    *, student: Student, changes: dict, user=None, source: str = IdentitySource.ADMIN, detail: str = ""
) -> Student:
    """Correct a child's identity, as the holding county, the ministry or an administrator may (students.access).

    The same checks as on entry; the ID number stays unique. The values before are read from the database, on a
    locked row, never from `student`: the admin hands over an instance its form has already changed. Each change is
    recorded with who, when, why (`source`, `detail`) and every field's old and new value (IdentityChange); a
    correction of a detail the figures count by asks the nightly totals to recompute the child's days. The source
    defaults to the administration pages, whose call names none; forms and imports name theirs.
    """
    locked = Student.objects.select_for_update().get(pk=student.pk)
    # Decided under the child's lock, which a handover of the child's case takes too (students.handover): the
    # county that holds the child is the one after any handover that went before.
    if not may_change_identity(user, locked):
        raise PermissionDenied(_("Only the county that holds this child's case can change the child's details."))
    before = {name: _stored(name, getattr(locked, name)) for name in STUDENT_DATA_FIELDS}
    fields = {**before, **{name: value for name, value in changes.items() if name in before}}
    data = student_clean(
        StudentData(
            **{**fields, "id_number": fields["id_number"] or "", "registry_number": fields["registry_number"] or ""}
        )
    )
    after = {name: _stored(name, getattr(data, name)) for name in STUDENT_DATA_FIELDS}
    changed = [name for name in STUDENT_DATA_FIELDS if after[name] != before[name]]
    for name, value in after.items():
        setattr(student, name, value)
    if not changed:
        return student
    for name in changed:
        setattr(locked, name, after[name])
    locked.full_clean()
    locked.save(update_fields=changed)
    IdentityChange.objects.create(
        student=locked,
        changed_by=user,
        source=source,
        detail=detail[: IdentityChange._meta.get_field("detail").max_length],
        changes=identity_changes(before, after),
    )
    if any(name in FIGURE_STUDENT_FIELDS for name in changed):
        correction_record(first_days_on_ledger([locked.pk]))
    return student


def _find_student(data: StudentData) -> Student | None:
    """The child the ledger holds with these identifiers; identifiers that disagree with the ledger are refused."""
    existing = None
    if data.id_number:
        existing = Student.objects.filter(id_number=data.id_number).first()
    if data.registry_number:
        by_registry = Student.objects.filter(registry_number=data.registry_number).first()
        if by_registry is not None and existing is not None and by_registry.pk != existing.pk:
            raise ValidationError(
                {
                    "registry_number": _(
                        "This registry number belongs to another child in the ledger than the ID number."
                    )
                }
            )
        if by_registry is not None and data.id_number and by_registry.id_number not in (None, "", data.id_number):
            raise ValidationError(
                {"registry_number": _("The ledger holds this registry number with a different ID number.")}
            )
        if existing is not None and existing.registry_number not in (None, "", data.registry_number):
            raise ValidationError(
                {"registry_number": _("The ledger holds this ID number with a different registry number.")}
            )
        existing = existing or by_registry
    return existing


def held_elsewhere_message(county_name: str, *, open_case: bool) -> str:
    """What a county is told of a child another county holds: that county's name, whom to ask, nothing else."""
    if open_case:
        message = _(
            "This child already has an open case in another county (%(county)s); ask that county to hand the case over."
        )
    else:
        message = _(
            "This child is on the ledger of another county (%(county)s); ask that county to hand the child over."
        )
    return message % {"county": county_name}


def _refuse_held_elsewhere(user, student: Student) -> None:
    """Refuse a child whose identity the user may not change, naming the county that holds them and nothing else."""
    holder = holding_case(student)
    scope = scope_for(user)
    own_county = scope.school.county_id if scope.school is not None else getattr(scope.division, "pk", None)
    if holder.county_id != own_county:
        raise ValidationError(
            held_elsewhere_message(holder.county.name, open_case=holder.is_open), code="held_elsewhere"
        )
    # A principal, and the child is on another school's part of their own county's ledger.
    if holder.is_open:
        message, code = _("This child already has an open case in %(county)s."), "already_open"
    else:
        message = _(
            "This child is on the ledger of another school in %(county)s; ask the county's officials to open the case."
        )
        code = "held_in_county"
    raise ValidationError(message % {"county": holder.county.name}, code=code)


# The details a new case's form may leave blank, where a blank keeps what the ledger holds. The others (name,
# gender, birth date, ethnicity, the circumstances) always have a value on the form, and it is the child's now.
KEPT_WHEN_BLANK = ("id_number", "registry_number", "hukou_place", "address", "guardian_name", "guardian_phone")


def student_get_or_create(
    *, data: StudentData, user=None, source: str = IdentitySource.FORM, detail: str = ""
) -> Student:
    """The child with this ID number (or registry number), created if the ledger does not know them.

    Identifiers that the ledger holds for two different children, or for one child with a different second
    identifier, are refused, as the import refuses them: the case would otherwise be opened on another child,
    perhaps another county's. The refusal shows none of the values the ledger holds.

    A child the ledger knows is never linked silently: a user who may not change the child's identity (another
    county holds the child, students.access.may_change_identity) is refused with that county's name only, so that
    they can ask for a handover; for one who may, the typed details that differ from the ledger's are applied as
    a correction through student_update, recorded with the old values (`source`, `detail`).
    """
    data = student_clean(data)
    existing = _find_student(data)
    if existing is not None:
        if not may_change_identity(user, existing):
            _refuse_held_elsewhere(user, existing)
        typed = {
            name: getattr(data, name)
            for name in STUDENT_DATA_FIELDS
            if getattr(data, name) or name not in KEPT_WHEN_BLANK
        }
        return student_update(student=existing, changes=typed, user=user, source=source, detail=detail)
    values = {k: v for k, v in data.__dict__.items() if k != "extra"}
    values["id_number"] = values["id_number"] or None
    values["registry_number"] = values["registry_number"] or None
    student = Student(**values)
    student.full_clean(validate_unique=False)
    student.save()
    return student


@case_write
def case_change_status(
    *,
    case: DropoutCase,
    to_status: str,
    effective_date: datetime.date,
    user=None,
    note: str = "",
    placement: str = "",
    closure_reason: ClosureReason | None = None,
    expected_version: int | None = None,
    recorded_by=None,
) -> CaseEvent:
    """Move a case to a new status, recording who, when and why. The only way a status changes.

    `recorded_by`: who the event names when the write was authorised elsewhere (a spot check's verifier, who may
    not change the ledger otherwise); `user` by default.
    """
    locked = case_lock(case, user=user)
    check_version(locked, expected_version)
    check_transition(locked.status, to_status)
    _check_effective_date(locked, effective_date)
    details = status_details_problems(
        to_status=to_status, placement=placement, closure_reason_id=closure_reason.pk if closure_reason else None
    )
    if details:
        raise ValidationError(details)
    if to_status != Status.RETURNED:
        placement = ""
    if to_status != Status.CLOSED:
        closure_reason = None
    event = CaseEvent.objects.create(
        case=locked,
        from_status=locked.status,
        to_status=to_status,
        effective_date=effective_date,
        recorded_by=recorded_by or user,
        placement=placement,
        closure_reason=closure_reason,
        note=note,
    )
    # Between open statuses (a first visit) nothing the figures count changes.
    if not (locked.status in OPEN_STATUSES and to_status in OPEN_STATUSES):
        correction_record({locked.county_id: effective_date})
    case_apply_change(
        locked,
        to_status=to_status,
        effective_date=effective_date,
        placement=placement,
        closure_reason_id=closure_reason.pk if closure_reason else None,
    )
    locked.save(
        update_fields=["status", "version", "struck_off_on", "returned_on", "placement", "closure_reason", "updated_at"]
    )
    case.refresh_from_db()
    return event


def case_mark_returned(
    *,
    case: DropoutCase,
    returned_on: datetime.date,
    placement: str,
    user=None,
    note: str = "",
    expected_version: int | None = None,
) -> CaseEvent:
    """The child is back in school: strike the case off the open ledger (复学销号)."""
    return case_change_status(
        case=case,
        to_status=Status.RETURNED,
        effective_date=returned_on,
        placement=placement,
        user=user,
        note=note,
        expected_version=expected_version,
    )


@case_write
def case_record_retention_check(
    *,
    case: DropoutCase,
    checked_on: datetime.date,
    user=None,
    note: str = "",
    expected_version: int | None = None,
) -> CaseEvent:
    """The child back in school was found still there on `checked_on` (巩固核查).

    A child counts as retained only once the last configured check (the 90-day one) is done: a check that
    completes it moves the case to "retained"; an earlier one (the 30-day check) is an event that keeps the
    status "returned", as a handover's event does, so that no count of retained children includes a child
    checked only once. Which due check a check completes is students.worklist's rule; a check may be recorded
    at any time after the return.
    """
    from .worklist import completes_retention

    locked = case_lock(case, user=user)
    check_version(locked, expected_version)
    check_transition(locked.status, Status.RETAINED)
    if locked.status == Status.RETAINED or completes_retention(locked.returned_on, checked_on):
        return case_change_status(case=case, to_status=Status.RETAINED, effective_date=checked_on, user=user, note=note)
    _check_effective_date(locked, checked_on)
    event = CaseEvent.objects.create(
        case=locked,
        from_status=locked.status,
        to_status=locked.status,
        effective_date=checked_on,
        recorded_by=user,
        note=note,
    )
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    case.refresh_from_db()
    return event


@case_write
def case_reopen_on_relapse(
    *,
    case: DropoutCase,
    dropout_date: datetime.date,
    reason: str,
    user=None,
    note: str = "",
    school: School | None = None,
    grade: int | None = None,
    expected_version: int | None = None,
    recorded_by=None,
) -> DropoutCase:
    """A returned child dropped out again: end this episode and open a new one linked to it."""
    case_change_status(
        case=case,
        to_status=Status.RELAPSED,
        effective_date=dropout_date,
        user=user,
        note=note,
        expected_version=expected_version,
        recorded_by=recorded_by,
    )
    return case_open(
        student=case.student,
        school=school or case.school,
        grade=grade or case.grade,
        dropout_date=dropout_date,
        reason=reason,
        user=user,
        note=note,
        previous_case=case,
        recorded_by=recorded_by,
    )


@case_write
def visit_record(
    *,
    case: DropoutCase,
    visit_date: datetime.date,
    visitors: list[dict],
    method: str,
    outcome: str,
    notes: str = "",
    next_follow_up: datetime.date | None = None,
    user=None,
) -> PersuasionVisit:
    """Record a persuasion attempt. The first attempt on a fresh case marks it as being persuaded.

    The visit is checked and written under the case's row lock, in one transaction with the status change
    of a first visit: a visit sent while a colleague closes the case is recorded before the closing event,
    or refused; never after it.
    """
    locked = case_lock(case, user=user)
    errors: dict[str, list[str]] = {}
    if visit_date > _today():
        errors["visit_date"] = [_("The visit date cannot be in the future.")]
    elif visit_date < locked.dropout_date:
        errors["visit_date"] = [_("The visit cannot be before the dropout date.")]
    if not locked.is_open:
        errors["__all__"] = [_("Visits are recorded on open cases only.")]
    if not visitors:
        errors["visitors"] = [_("Say who went.")]
    for visitor in visitors:
        if visitor.get("role") not in VisitorRole.values:
            errors.setdefault("visitors", []).append(
                _("Unknown visitor role: %(role)s") % {"role": visitor.get("role")}
            )
    if method not in VisitMethod.values:
        errors["method"] = [_("Unknown method.")]
    if outcome not in VisitOutcome.values:
        errors["outcome"] = [_("Unknown outcome.")]
    if next_follow_up and next_follow_up < visit_date:
        errors["next_follow_up"] = [_("The next follow-up cannot be before the visit.")]
    if errors:
        raise ValidationError(errors)
    visit = PersuasionVisit(
        case=locked,
        visit_date=visit_date,
        visitors=[{"role": v["role"], "name": (v.get("name") or "").strip()} for v in visitors],
        method=method,
        outcome=outcome,
        notes=notes,
        next_follow_up=next_follow_up,
        recorded_by=user,
    )
    visit.save(force_insert=True)
    if locked.status == Status.DROPPED_OUT:
        case_change_status(
            case=case,
            to_status=Status.PERSUADING,
            effective_date=max(visit_date, _last_event_date(locked)),
            user=user,
            note=_("First persuasion visit recorded."),
        )
    return visit


def _last_event_date(case: DropoutCase) -> datetime.date:
    return case.events.order_by("-effective_date").values_list("effective_date", flat=True).first() or case.dropout_date


def _person_values(person: ResponsiblePerson | None) -> dict | None:
    return {"name": person.name, "phone": person.phone} if person is not None else None


def responsible_persons_record_change(
    *, case: DropoutCase, before: list[ResponsiblePerson], after: list[ResponsiblePerson], user=None
) -> ResponsiblePersonChange | None:
    """Record who changed the case's responsible persons from `before` to `after`, and when: each role whose person
    differs, with the person before and after ({"name", "phone"}, or None for no one). None when nothing differs."""
    old = {person.role: _person_values(person) for person in before}
    new = {person.role: _person_values(person) for person in after}
    changes = {
        role: [old.get(role), new.get(role)] for role in ResponsibleRole.values if old.get(role) != new.get(role)
    }
    if not changes:
        return None
    return ResponsiblePersonChange.objects.create(case=case, changed_by=user, changes=changes)


@case_write
def case_set_responsible_persons(
    *, case: DropoutCase, persons: list[dict], user=None, expected_version: int | None = None
) -> ResponsiblePersonChange | None:
    """Set the case's responsible persons to `persons` ({"line", "role", "name", "phone"}; one per role, a blank
    name is no one).

    Decided on the case under its row lock, against the version the user's form was built on
    (`expected_version`): of simultaneous saves one goes through, the others are refused as stale. A finished
    case takes no change. A change bumps the case's version and is recorded in its history (who, when, each
    role's person before and after); returns that record, or None when nothing changed.
    """
    locked = case_lock(case, user=user)
    check_version(locked, expected_version)
    if case_is_finished(locked):
        raise ValidationError(
            _("This case is finished (%(status)s): its responsible persons no longer change.")
            % {"status": locked.get_status_display()},
            code="finished",
        )
    wanted = {person["role"]: ResponsiblePerson(case=locked, **person) for person in persons if person.get("name")}
    for row in wanted.values():
        row.full_clean(exclude=["case"], validate_unique=False)
    change = responsible_persons_record_change(
        case=locked, before=list(locked.responsible_persons.all()), after=list(wanted.values()), user=user
    )
    if change is None:
        return None
    # Only the roles that changed are rewritten; under the lock no one else writes them meanwhile.
    locked.responsible_persons.filter(role__in=list(change.changes)).delete()
    ResponsiblePerson.objects.bulk_create([wanted[role] for role in change.changes if role in wanted])
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    case.refresh_from_db(fields=["version", "updated_at"])
    return change


# Set-based writes for large batches (the spreadsheet import). The caller checks each row with the
# same rule functions as above (student_clean, case_open_problems, effective_date_problems,
# status_details_problems, lifecycle.check_transition) to report problems row by row; the writer
# checks the rules again before writing, so a batch can never hold what the single-case services refuse.


@dataclass(eq=False)
class BulkStudent:
    """A child to create (pk None) or to update (`changed`) in a batch; `data` has passed student_clean.

    An update carries the ledger's details `before` it, and `detail`, the why of its IdentityChange (the file
    and the row it comes from).
    """

    data: StudentData
    pk: int | None = None
    changed: bool = False
    before: dict = field(default_factory=dict)
    detail: str = ""


@dataclass
class CaseStep:
    """One status change to record; the first step of a new case is its opening (dropped out)."""

    to_status: str
    effective_date: datetime.date
    placement: str = ""
    closure_reason_id: int | None = None


@dataclass(eq=False)
class BulkCase:
    """A case to create (pk None) or to update in a batch, with the status changes to record on it.

    For an existing case the summary fields hold what the ledger holds now and `last_date` the date of
    its latest event; `changed` says its own fields (school, grade, reason) differ from the ledger.
    """

    student: BulkStudent
    school_id: int
    county_id: int
    grade: int
    dropout_date: datetime.date
    reason: str
    reason_detail: str = ""
    pk: int | None = None
    status: str = ""
    struck_off_on: datetime.date | None = None
    returned_on: datetime.date | None = None
    placement: str = ""
    closure_reason_id: int | None = None
    version: int = 0
    last_date: datetime.date | None = None
    previous_case: "BulkCase | int | None" = None
    steps: list[CaseStep] = field(default_factory=list)
    changed: bool = False


STUDENT_COLUMNS = {
    "name": "varchar",
    "gender": "varchar",
    "ethnicity": "varchar",
    "birth_date": "date",
    "id_number": "varchar",
    "registry_number": "varchar",
    "hukou_place": "varchar",
    "address": "varchar",
    "guardian_name": "varchar",
    "guardian_phone": "varchar",
    "registered_poor": "boolean",
    "left_behind": "varchar",
    "migrant": "boolean",
    "orphan": "boolean",
    "unsupported": "boolean",
    "disability": "varchar",
}
CASE_COLUMNS = {
    "school_id": "bigint",
    "grade": "smallint",
    "reason": "varchar",
    "reason_detail": "varchar",
    "status": "varchar",
    "struck_off_on": "date",
    "returned_on": "date",
    "placement": "varchar",
    "closure_reason_id": "bigint",
    "version": "integer",
}
IDENTITY_CHANGE_COLUMNS = ("student_id", "changed_by_id", "at", "source", "detail", "changes")
EVENT_COLUMNS = (
    "case_id",
    "from_status",
    "to_status",
    "effective_date",
    "placement",
    "closure_reason_id",
    "recorded_at",
    "recorded_by_id",
    "note",
)


def _bulk_apply_rules(case: BulkCase) -> list[tuple]:
    """Apply a case's steps to its summary fields, refusing what the single-case services refuse.

    Returns the events to record, as (from_status, to_status, effective_date, placement, closure_reason_id).
    """
    events = []
    steps = case.steps
    if case.pk is None:
        errors = case_open_problems(grade=case.grade, dropout_date=case.dropout_date)
        opening = steps[0] if steps else None
        if opening is None or opening.to_status != Status.DROPPED_OUT or opening.effective_date != case.dropout_date:
            errors.setdefault("__all__", []).append(_("A new case starts with its dropout."))
        if errors:
            raise ValidationError(errors)
        case.status, case.version, case.last_date = Status.DROPPED_OUT, 1, case.dropout_date
        events.append(("", Status.DROPPED_OUT, case.dropout_date, "", None))
        steps = steps[1:]
    for step in steps:
        check_transition(case.status, step.to_status)
        errors = status_details_problems(
            to_status=step.to_status, placement=step.placement, closure_reason_id=step.closure_reason_id
        )
        problems = effective_date_problems(
            day=step.effective_date, dropout_date=case.dropout_date, last_date=case.last_date
        )
        if problems:
            errors["effective_date"] = problems
        if errors:
            raise ValidationError(errors)
        placement = step.placement if step.to_status == Status.RETURNED else ""
        closure_reason_id = step.closure_reason_id if step.to_status == Status.CLOSED else None
        events.append((case.status, step.to_status, step.effective_date, placement, closure_reason_id))
        case_apply_change(
            case,
            to_status=step.to_status,
            effective_date=step.effective_date,
            placement=placement,
            closure_reason_id=closure_reason_id,
        )
        case.last_date = step.effective_date
    if case.pk is not None and case.changed and not steps:
        case.version += 1
    return events


class _CsvStream:
    """A file-like object that formats rows as CSV only as COPY reads them.

    PostgreSQL parses and indexes each chunk while the next one is being formatted, instead of
    waiting for the whole batch to be formatted first.
    """

    def __init__(self, rows):
        self.lines = map(csv.writer(_Echo(), lineterminator="\n").writerow, rows)
        self.pending = ""

    def read(self, size: int = -1) -> str:
        parts, length = [self.pending], len(self.pending)
        for line in self.lines:
            parts.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        text = "".join(parts)
        if size < 0:
            self.pending = ""
            return text
        self.pending = text[size:]
        return text[:size]


class _Echo:
    def write(self, line: str) -> str:
        return line


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    """COPY rows (tuples in `columns` order) into `table`: the fastest way PostgreSQL takes many rows."""
    stream = _CsvStream(["\\N" if value is None else value for value in row] for row in rows)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    cursor.copy_expert(sql, stream, 1 << 16)


def _reserve_ids(cursor, table: str, count: int) -> list[int]:
    if not count:
        return []
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return [row[0] for row in cursor.fetchall()]


def _update_rows(cursor, table: str, columns: dict[str, str], rows: list[tuple]) -> None:
    """UPDATE many rows at once from a VALUES list of (id, *columns)."""
    if not rows:
        return
    names = list(columns)
    assignments = ", ".join(f"{name} = v.{name}" for name in names)
    template = "(" + ", ".join(f"%s::{kind}" for kind in ("bigint", *columns.values())) + ")"
    execute_values(
        cursor,
        f"UPDATE {table} AS t SET {assignments} FROM (VALUES %s) AS v(id, {', '.join(names)}) WHERE t.id = v.id",
        rows,
        template=template,
        page_size=1000,
    )


def _identity_change_rows(students: list[BulkStudent], user_id: int | None, now: str) -> Iterator[tuple]:
    detail_length = IdentityChange._meta.get_field("detail").max_length
    for student in students:
        after = {name: _stored(name, getattr(student.data, name)) for name in STUDENT_DATA_FIELDS}
        before = {name: _stored(name, student.before.get(name)) for name in STUDENT_DATA_FIELDS}
        changes = identity_changes(before, after)
        if changes:
            yield (
                student.pk,
                user_id,
                now,
                IdentitySource.IMPORT,
                student.detail[:detail_length],
                json.dumps(changes, ensure_ascii=False),
            )


def _student_values(student: BulkStudent) -> tuple:
    data = student.data
    return tuple(
        (getattr(data, name) or None) if name in ("id_number", "registry_number") else getattr(data, name)
        for name in STUDENT_COLUMNS
    )


class _WriteProgress:
    """Rows written so far of a bulk write, reported every few thousand as (done, total)."""

    EVERY = 2000

    def __init__(self, report: Callable[[int, int], None] | None, total: int):
        self.report = report or (lambda done, total: None)
        self.total = total
        self.done = 0

    def counted(self, rows: Iterable) -> Iterator:
        """The rows, each counted as COPY takes it (so the count follows the database, not a buffer)."""
        for row in rows:
            self.done += 1
            if self.done % self.EVERY == 0:
                self.report(self.done, self.total)
            yield row

    def add(self, count: int) -> None:
        self.done += count
        self.report(self.done, self.total)


@transaction.atomic
def ledger_bulk_write(
    *,
    students: list[BulkStudent],
    cases: list[BulkCase],
    user=None,
    note: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Create and update many students and cases at once, recording every status change as an event.

    The rules are those of case_open and case_change_status; the writes are COPY and set-based
    UPDATEs in one transaction. Each child updated gets an IdentityChange (source: import) with the old
    and new value of every detail that changed, all of them in one COPY. The caller has checked that the
    importing county holds those children (students.access.may_change_identity). Returns the number of
    events recorded. `progress(done, total)` is told the rows written as they go.
    """
    events_by_case = [(case, _bulk_apply_rules(case)) for case in cases]
    now = timezone.now().isoformat()  # formatted once, not once per row
    user_id = user.pk if user is not None else None
    new_students = [student for student in students if student.pk is None]
    changed_students = [student for student in students if student.pk is not None and student.changed]
    new_cases = [case for case in cases if case.pk is None]
    changed_cases = [case for case in cases if case.pk is not None and (case.changed or case.steps)]
    events_total = sum(len(case_events) for _case, case_events in events_by_case)
    written = _WriteProgress(
        progress, len(new_students) + len(changed_students) + len(new_cases) + len(changed_cases) + events_total
    )
    with connection.cursor() as cursor:
        for student, pk in zip(new_students, _reserve_ids(cursor, "students_student", len(new_students)), strict=True):
            student.pk = pk
        for case, pk in zip(new_cases, _reserve_ids(cursor, "students_dropoutcase", len(new_cases)), strict=True):
            case.pk = pk
        copy_rows(
            cursor,
            "students_student",
            ("id", *STUDENT_COLUMNS, "created_at"),
            written.counted((student.pk, *_student_values(student), now) for student in new_students),
        )
        _update_rows(
            cursor,
            "students_student",
            STUDENT_COLUMNS,
            [(student.pk, *_student_values(student)) for student in changed_students],
        )
        written.add(len(changed_students))
        copy_rows(
            cursor,
            "students_dropoutcase",
            (
                "id",
                "student_id",
                "county_id",
                "dropout_date",
                "previous_case_id",
                "created_at",
                "updated_at",
                *CASE_COLUMNS,
            ),
            written.counted(
                (
                    case.pk,
                    case.student.pk,
                    case.county_id,
                    case.dropout_date,
                    case.previous_case.pk if isinstance(case.previous_case, BulkCase) else case.previous_case,
                    now,
                    now,
                    *(getattr(case, name) for name in CASE_COLUMNS),
                )
                for case in new_cases
            ),
        )
        _update_rows(
            cursor,
            "students_dropoutcase",
            {**CASE_COLUMNS, "updated_at": "timestamptz"},
            [(case.pk, *(getattr(case, name) for name in CASE_COLUMNS), now) for case in changed_cases],
        )
        written.add(len(changed_cases))
        events = [
            (case.pk, *event, now, user_id, note) for case, case_events in events_by_case for event in case_events
        ]
        copy_rows(cursor, "students_caseevent", EVENT_COLUMNS, written.counted(events))
        copy_rows(
            cursor,
            "students_identitychange",
            IDENTITY_CHANGE_COLUMNS,
            _identity_change_rows(changed_students, user_id, now),
        )
    # New cases and status changes move their county's figures from their first event on. Details put
    # right may change the figures of every day those cases were on the ledger; an import does not tell
    # which details changed, so any change counts.
    first_days: dict[int, datetime.date] = {}

    def touch(county_id: int, day: datetime.date | None) -> None:
        if day is not None:
            first_days[county_id] = min(day, first_days.get(county_id, day))

    for case in cases:
        if case.changed:
            touch(case.county_id, case.dropout_date)
        if case.steps:
            touch(case.county_id, min(step.effective_date for step in case.steps))
    if changed_students:
        for county_id, day in first_days_on_ledger([student.pk for student in changed_students]).items():
            touch(county_id, day)
    correction_record(first_days)
    written.add(0)
    return len(events)
