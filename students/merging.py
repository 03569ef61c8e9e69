"""Deciding on a duplicate candidate: "not the same child", or "same child" and the merge, which can be undone.

A merge joins the record the user merges into the one they keep: every case of the merged record moves to the
kept one with its whole history (events, visits, responsible persons stay on the case); the kept record's blank
identity fields are filled from the merged one (an ID or registry number moves, as they are unique); the merged
record keeps its row, pointing at the kept one (`merged_into`), so that the merge can be undone. Each side's
identity change is logged (IdentityChange, source MERGE), and the merge itself (StudentMerge: the cases moved,
the kept record as it was). A child has at most one open case: a merge of two records that both have one is
refused until one of them is closed.

Undoing a merge puts every moved case back, the kept record back as it was, the merged record's identifiers
back, and the candidate back to be decided.

Figures are broken down by the child's details (gender, registered-poor household, ...), and a merge changes
whose details a case is counted with: each merge and undo asks the nightly totals to recompute from the first
dropout day of the cases concerned.

Who decides: see students.duplicates (county officials of either child's county, and administrators).
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .access import cases_editable_by, scope_for
from .choices import OPEN_STATUSES, DuplicateStatus, IdentitySource
from .identifiers import id_birth_date, id_gender
from .models import DropoutCase, DuplicateCandidate, IdentityChange, Student, StudentMerge
from .services import STUDENT_DATA_FIELDS, correction_record, first_days_on_ledger

# Filled on the kept record when blank there: text fields when empty, flags when not set.
FILLED_TEXT = (
    "id_number",
    "registry_number",
    "hukou_place",
    "address",
    "guardian_name",
    "guardian_phone",
    "left_behind",
    "disability",
)
FILLED_FLAGS = ("registered_poor", "migrant", "orphan", "unsupported")
UNIQUE = ("id_number", "registry_number")


def _require_decider(user, students: list[Student]) -> None:
    """County officials with a case of either child in their write scope, and administrators, decide."""
    if user is None:  # system work: management commands, the seed
        return
    scope = scope_for(user)
    allowed = scope.can_write and scope.school is None
    if allowed and not scope.everything:
        allowed = cases_editable_by(user).filter(student__in=[s.pk for s in students]).exists()
    if not allowed:
        raise PermissionDenied(
            _("Only the officials of the children's counties and administrators decide on duplicates.")
        )


def _locked(*students: Student) -> dict[int, Student]:
    """The records, locked in the order of their ids (so two decisions never wait on each other)."""
    ids = sorted(s.pk for s in students)
    return {s.pk: s for s in Student.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _identity(student: Student) -> dict:
    values = {name: getattr(student, name) for name in STUDENT_DATA_FIELDS}
    values["birth_date"] = student.birth_date.isoformat()
    return values


def _changes(before: dict, after: dict) -> dict:
    return {name: [before[name], after[name]] for name in before if before[name] != after[name]}


def _fits(kept: Student, name: str, value) -> bool:
    """Whether a value of the merged record may fill the kept one without contradicting it."""
    if name == "id_number":
        return id_birth_date(value) == kept.birth_date and id_gender(value) == kept.gender
    if name == "registry_number" and value.startswith("G") and kept.id_number:
        return value[1:] == kept.id_number
    return True


def _check_open(candidate: DuplicateCandidate) -> None:
    if candidate.status != DuplicateStatus.OPEN:
        raise ValidationError(_("This pair was already decided."), code="decided")


@transaction.atomic
def duplicate_decide_not_same(*, candidate: DuplicateCandidate, user) -> DuplicateCandidate:
    """Record that the two records are two children: the pair is not proposed again."""
    candidate = DuplicateCandidate.objects.select_for_update().select_related("first", "second").get(pk=candidate.pk)
    _require_decider(user, [candidate.first, candidate.second])
    _check_open(candidate)
    candidate.status = DuplicateStatus.NOT_SAME
    candidate.decided_by = user
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    return candidate


@transaction.atomic
def students_merge(*, candidate: DuplicateCandidate, kept: Student, user) -> StudentMerge:
    """One child entered twice: join the other record of the pair into `kept`, with every case and its history."""
    candidate = DuplicateCandidate.objects.select_for_update().select_related("first", "second").get(pk=candidate.pk)
    _require_decider(user, [candidate.first, candidate.second])
    _check_open(candidate)
    if kept.pk not in (candidate.first_id, candidate.second_id):
        raise ValidationError(_("Keep one of the two records of the pair."), code="not_in_pair")
    records = _locked(candidate.first, candidate.second)
    kept = records[kept.pk]
    merged = records[candidate.second_id if kept.pk == candidate.first_id else candidate.first_id]
    if kept.merged_into_id or merged.merged_into_id:
        raise ValidationError(_("One of the two records was merged into another meanwhile."), code="merged")
    cases = list(DropoutCase.objects.filter(student__in=[kept, merged]).values_list("pk", "student_id", "status"))
    if sum(1 for _pk, _student, status in cases if status in OPEN_STATUSES) > 1:
        raise ValidationError(
            _(
                "Both records have an open case, and a child has at most one. Close one of them first (for "
                "example as entered twice), then merge the records."
            ),
            code="two_open",
        )

    kept_before, merged_before = _identity(kept), _identity(merged)
    filled = {}
    for name in FILLED_TEXT:
        value = getattr(merged, name)
        if value and not getattr(kept, name) and _fits(kept, name, value):
            filled[name] = value
    for name in FILLED_FLAGS:
        if getattr(merged, name) and not getattr(kept, name):
            filled[name] = True
    # The identifiers are unique: the merged record lets go of those it hands over before the kept one takes them.
    for name in UNIQUE:
        if name in filled:
            setattr(merged, name, None)
    merged.merged_into = kept
    merged.save(update_fields=[*UNIQUE, "merged_into"])
    for name, value in filled.items():
        setattr(kept, name, value)
    kept.full_clean()
    kept.save(update_fields=list(filled))

    moved = sorted(pk for pk, student, _status in cases if student == merged.pk)
    DropoutCase.objects.filter(pk__in=moved).update(student=kept, updated_at=timezone.now())
    now = timezone.now()
    candidate.status = DuplicateStatus.SAME
    candidate.decided_by = user
    candidate.decided_at = now
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    merge = StudentMerge.objects.create(
        kept=kept, merged=merged, candidate=candidate, moved_cases=moved, kept_before=kept_before, merged_by=user
    )
    detail = f"#{merge.pk}: #{merged.pk} → #{kept.pk}"
    IdentityChange.objects.create(
        student=kept,
        changed_by=user,
        source=IdentitySource.MERGE,
        detail=detail,
        changes=_changes(kept_before, _identity(kept)),
    )
    IdentityChange.objects.create(
        student=merged,
        changed_by=user,
        source=IdentitySource.MERGE,
        detail=detail,
        changes={**_changes(merged_before, _identity(merged)), "merged_into": [None, kept.pk]},
    )
    correction_record(first_days_on_ledger([kept.pk]))
    return merge


@transaction.atomic
def students_merge_undo(*, merge: StudentMerge, user) -> StudentMerge:
    """Two children after all: every moved case back, both records as they were, the pair to decide again."""
    merge = StudentMerge.objects.select_for_update().get(pk=merge.pk)
    records = _locked(merge.kept, merge.merged)
    kept, merged = records[merge.kept_id], records[merge.merged_id]
    _require_decider(user, [kept, merged])
    if merge.undone_at is not None:
        raise ValidationError(_("This merge was already undone."), code="undone")
    moved_elsewhere = DropoutCase.objects.filter(pk__in=merge.moved_cases).exclude(student=kept).exists()
    if merged.merged_into_id != kept.pk or moved_elsewhere:
        raise ValidationError(
            _("The records changed after this merge (merged again, or a case moved): undo that change first."),
            code="changed",
        )
    open_back = DropoutCase.objects.filter(pk__in=merge.moved_cases, status__in=OPEN_STATUSES).exists()
    if open_back and merged.cases.filter(status__in=OPEN_STATUSES).exists():
        raise ValidationError(
            _("The merged record has an open case of its own now, and a child has at most one: close one first."),
            code="two_open",
        )

    kept_now, merged_now = _identity(kept), _identity(merged)
    # The identifiers the merge handed over, as the merged record's own log of the merge says.
    handed = IdentityChange.objects.filter(student=merged, source=IdentitySource.MERGE).order_by("-at", "-pk").first()
    given_back = {name: handed.changes[name][0] for name in UNIQUE if handed and name in handed.changes}
    for name, value in merge.kept_before.items():
        setattr(kept, name, datetime.date.fromisoformat(value) if name == "birth_date" else value)
    kept.full_clean()
    kept.save(update_fields=list(merge.kept_before))
    for name, value in given_back.items():
        setattr(merged, name, value)
    merged.merged_into = None
    merged.save(update_fields=[*given_back, "merged_into"])
    DropoutCase.objects.filter(pk__in=merge.moved_cases).update(student=merged, updated_at=timezone.now())

    detail = f"#{merge.pk}: #{merged.pk} ← #{kept.pk}"
    IdentityChange.objects.create(
        student=kept,
        changed_by=user,
        source=IdentitySource.UNMERGE,
        detail=detail,
        changes=_changes(kept_now, _identity(kept)),
    )
    IdentityChange.objects.create(
        student=merged,
        changed_by=user,
        source=IdentitySource.UNMERGE,
        detail=detail,
        changes={**_changes(merged_now, _identity(merged)), "merged_into": [kept.pk, None]},
    )
    if merge.candidate_id:
        DuplicateCandidate.objects.filter(pk=merge.candidate_id).update(
            status=DuplicateStatus.OPEN, decided_by=None, decided_at=None
        )
    merge.undone_by = user
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_by", "undone_at"])
    correction_record(first_days_on_ledger([kept.pk, merged.pk]))
    return merge
