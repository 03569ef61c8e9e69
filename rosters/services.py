"""Writes of the roster comparison: starting a run, running it, and deciding its candidates.

A comparison is written first, with its roster files, and sent to the task queue once its transaction commits
(rosters.tasks). Deciding a candidate goes through the ledger's own services: a case is opened by
students.services.case_open, as the new-case form opens one (its first event, its place in the case's hash chain,
the county's figures recomputed); a flag is set by students.services.student_update, recorded as a change of the
child's identity. Opening cases from candidates is one step: every case, or none and every problem said.
"""

import datetime
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from counties.models import Division, School
from students import services as ledger
from students.choices import IdentitySource
from students.models import DropoutCase, JobStatus

from . import comparing
from .models import Candidate, CandidateGroup, CandidateStatus, RosterComparison, RosterKind, RosterUpload
from .reading import read_roster
from .selectors import may_compare

OPENS_CASES = (CandidateGroup.NEVER_ENROLLED, CandidateGroup.DROPPED_OUT)
SETS_FLAG = {CandidateGroup.POOR_NOT_FLAGGED: True, CandidateGroup.FLAGGED_NOT_POOR: False}
# The pairs of rosters that can be compared, each giving a group of candidates.
PAIRS = (
    {RosterKind.HOUSEHOLD, RosterKind.REGISTRY},
    {RosterKind.REGISTRY, RosterKind.ATTENDANCE},
    {RosterKind.POOR},
)


def _require_comparer(user, county: Division) -> None:
    if user is not None and not may_compare(user, county):
        raise PermissionDenied(_("Only the county's officials and administrators compare its rosters."))


@transaction.atomic
def comparison_start(
    *, county: Division, as_of: datetime.date, files: dict, user=None, language: str = ""
) -> RosterComparison:
    """Record a comparison of the rosters in `files` (kind -> uploaded file) and send it to a worker on commit."""
    from .tasks import enqueue_comparison

    _require_comparer(user, county)
    kinds = set(files)
    if not any(pair <= kinds for pair in PAIRS):
        raise ValidationError(
            _(
                "Upload rosters that can be compared: the household register and the student registry, the student "
                "registry and the attendance roster, or the poor-household roster."
            ),
            code="nothing_to_compare",
        )
    if as_of > timezone.localdate():
        raise ValidationError({"as_of": [_("The date cannot be in the future.")]})
    comparison = RosterComparison.objects.create(
        county=county, requested_by=user, as_of=as_of, params={"language": language}
    )
    for kind, upload in sorted(files.items()):
        roster = RosterUpload(comparison=comparison, kind=kind, filename=upload.name[:200])
        roster.file.save(upload.name, upload, save=False)
        roster.save()
    enqueue_comparison(comparison)
    return comparison


def comparison_run(comparison: RosterComparison, progress=None) -> None:
    """Read every roster of a comparison, check it, and (when no roster has a problem) compare them in SQL.

    `progress(percent)` is told how far it got. The counts are kept on the comparison: rows per roster, candidates
    per group, problems, and the seconds it took.
    """
    started = time.monotonic()
    progress = progress or (lambda percent: None)
    uploads = list(comparison.uploads.all())
    rosters = {}
    for position, upload in enumerate(uploads):
        share = 80 / len(uploads)

        def told(done: int, total: int, base: float = 80 * position / len(uploads), share: float = share) -> None:
            progress(int(base + share * min(done / max(total, 1), 1)))

        roster = read_roster(
            upload.file.path,
            kind=upload.kind,
            filename=upload.filename,
            mapping=comparison.params.get("mappings", {}).get(upload.kind),
            progress=told,
        )
        upload.rows, upload.encoding = len(roster.entries), roster.encoding
        upload.problems = [problem.as_dict() for problem in roster.problems]
        upload.save(update_fields=["rows", "encoding", "problems"])
        rosters[upload.kind] = roster
    counts = {"rows": {kind: len(roster.entries) for kind, roster in rosters.items()}}
    counts["problems"] = sum(len(roster.problems) for roster in rosters.values())
    if counts["problems"]:
        comparison.counts = {**counts, "seconds": round(time.monotonic() - started, 1)}
        return
    progress(80)
    with transaction.atomic():
        for kind, roster in rosters.items():
            comparison_stage(comparison.pk, kind, roster.entries)
        counts["rows"]["ledger"] = comparing.stage_ledger(comparison.pk, comparison.county_id)
        progress(90)
        counts["candidates"] = comparing.candidates_find(comparison.pk, set(rosters), comparison.as_of)
        comparing.staged_rows_remove(comparison.pk)
    counts["seconds"] = round(time.monotonic() - started, 1)
    comparison.counts = counts


def comparison_stage(comparison_id: int, kind: str, entries) -> None:
    comparing.stage_roster(comparison_id, kind, entries)


# Deciding candidates ---------------------------------------------------------------------------------------------


def _require_decider(user, comparison: RosterComparison) -> None:
    _require_comparer(user, comparison.county)
    if comparison.status != JobStatus.SUCCEEDED:
        raise ValidationError(_("The comparison has not finished."))


def _decided(candidate: Candidate, status: str, user) -> None:
    candidate.status = status
    candidate.decided_by = user
    candidate.decided_at = timezone.now()


def _locked_open(candidates: list[Candidate], groups) -> list[Candidate]:
    """The candidates, locked and still to decide, of the groups given; a decided one is refused by name of row."""
    locked = list(
        Candidate.objects.select_for_update()
        .filter(pk__in=[c.pk for c in candidates])
        .order_by("group", "source_row", "pk")
    )
    for candidate in locked:
        if candidate.status != CandidateStatus.OPEN:
            raise ValidationError(
                _("A candidate was decided meanwhile (row %(row)s): reload the page.") % {"row": candidate.source_row},
                code="decided",
            )
        if candidate.group not in groups:
            raise ValidationError(_("This action does not apply to this candidate."), code="wrong_group")
    return locked


def _student_data(candidate: Candidate) -> ledger.StudentData:
    return ledger.StudentData(
        name=candidate.name,
        gender=candidate.gender,
        birth_date=candidate.birth_date,
        id_number=candidate.id_number,
        registry_number=candidate.registry_number,
        address=candidate.address,
    )


def _school_of(candidate: Candidate, schools: dict[str, School], chosen: School | None) -> School | None:
    return schools.get(candidate.school_code) or chosen


@transaction.atomic
def candidates_open_cases(
    *,
    comparison: RosterComparison,
    candidates: list[Candidate],
    dropout_date: datetime.date,
    reason: str,
    reason_detail: str = "",
    school: School | None = None,
    grade: int | None = None,
    user=None,
) -> list[DropoutCase]:
    """Open a case for each candidate, through the new-case form's service; all of them, or none.

    A candidate of the registry roster keeps its school and grade; `school` and `grade` are for those the roster
    gives none (a child never enrolled). Every problem is reported at once, per candidate ("candidate-<id>").
    """
    _require_decider(user, comparison)
    if not candidates:
        raise ValidationError(_("Choose at least one candidate."), code="none_chosen")
    locked = _locked_open(candidates, OPENS_CASES)
    schools = {s.code: s for s in School.objects.filter(county=comparison.county)}
    errors: dict[str, list[str]] = {}
    for candidate in locked:
        problems = []
        if _school_of(candidate, schools, school) is None:
            problems.append(_("Choose the school for children the roster gives none."))
        if (candidate.grade or grade) is None:
            problems.append(_("Choose the grade for children the roster gives none."))
        if candidate.birth_date is None or not candidate.gender:
            problems.append(_("The roster gives no birth date or gender for this child: open the case by hand."))
        if problems:
            errors[f"candidate-{candidate.pk}"] = problems
    if errors:
        raise ValidationError(errors)
    cases = []
    detail = _("Roster comparison #%(number)s") % {"number": comparison.pk}
    for candidate in locked:
        try:
            with transaction.atomic():
                case = ledger.case_open(
                    student=_student_data(candidate),
                    school=_school_of(candidate, schools, school),
                    grade=candidate.grade or grade,
                    dropout_date=dropout_date,
                    reason=reason,
                    reason_detail=reason_detail,
                    user=user,
                    note=detail,
                )
        except (ValidationError, PermissionDenied) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            errors[f"candidate-{candidate.pk}"] = messages
            continue
        candidate.case, candidate.student = case, case.student
        _decided(candidate, CandidateStatus.CASE_OPENED, user)
        candidate.save(update_fields=["case", "student", "status", "decided_by", "decided_at"])
        cases.append(case)
    if errors:
        raise ValidationError(errors)
    return cases


@transaction.atomic
def candidate_dismiss(*, candidate: Candidate, reason: str, note: str = "", user=None) -> Candidate:
    """Dismiss a candidate with a reason (moved away, home-schooled with approval, deceased, wrong record)."""
    _require_decider(user, candidate.comparison)
    (locked,) = _locked_open([candidate], tuple(CandidateGroup.values))
    locked.dismiss_reason = reason
    locked.note = note[:300]
    _decided(locked, CandidateStatus.DISMISSED, user)
    locked.full_clean(exclude=["comparison", "student", "case"])
    locked.save(update_fields=["dismiss_reason", "note", "status", "decided_by", "decided_at"])
    return locked


@transaction.atomic
def candidate_set_flag(*, candidate: Candidate, user=None) -> Candidate:
    """Set an open case's registered-poor flag as the poor-household roster says, as a recorded identity change."""
    _require_decider(user, candidate.comparison)
    (locked,) = _locked_open([candidate], tuple(SETS_FLAG))
    if locked.student is None:
        raise ValidationError(_("This candidate's child is no longer on the ledger."), code="no_child")
    ledger.student_update(
        student=locked.student,
        changes={"registered_poor": SETS_FLAG[locked.group]},
        user=user,
        source=IdentitySource.FORM,
        detail=_("Roster comparison #%(number)s") % {"number": locked.comparison_id},
    )
    _decided(locked, CandidateStatus.FLAG_SET, user)
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked
