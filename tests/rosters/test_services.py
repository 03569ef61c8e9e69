"""Deciding candidates: cases opened in bulk through the new-case form's service, dismissals, the flag."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rosters import services
from rosters.models import Candidate, CandidateGroup, CandidateStatus, DismissReason, RosterKind
from students.choices import IdentitySource, Reason, Status
from students.ledger_chain import ledger_verify
from students.models import CaseEvent, DropoutCase, IdentityChange, LedgerCorrection
from tests.rosters.helpers import AS_OF, compare, county, open_cases_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def comparison(area, users, django_capture_on_commit_callbacks):
    cases = open_cases_in(area["school"])
    return compare(county(area, open_cases=cases), area["county"], users["county"], django_capture_on_commit_callbacks)


def candidate(comparison, group) -> Candidate:
    return Candidate.objects.get(comparison=comparison, group=group)


def test_opening_cases_from_candidates_writes_through_the_new_case_service(comparison, area, users):
    never, dropout = (
        candidate(comparison, CandidateGroup.NEVER_ENROLLED),
        candidate(comparison, CandidateGroup.DROPPED_OUT),
    )
    corrections = LedgerCorrection.objects.count()
    dropout_day = AS_OF - datetime.timedelta(days=1)
    cases = services.candidates_open_cases(
        comparison=comparison,
        candidates=[never, dropout],
        dropout_date=dropout_day,
        reason=Reason.POVERTY,
        school=area["other_school"],
        grade=3,
        user=users["county"],
    )
    assert len(cases) == 2
    by_name = {case.student.name: case for case in cases}
    opened_never, opened_dropout = by_name[never.name], by_name[dropout.name]
    # The registry's school and grade are kept; the child never enrolled takes the ones chosen.
    assert (opened_dropout.school.code, opened_dropout.grade) == (dropout.school_code, dropout.grade)
    assert (opened_never.school, opened_never.grade) == (area["other_school"], 3)
    assert opened_never.student.id_number == never.id_number and opened_never.student.address == never.address
    for case in cases:
        assert (case.status, case.dropout_date, case.county) == (Status.DROPPED_OUT, dropout_day, area["county"])
        event = CaseEvent.objects.get(case=case)
        assert (event.to_status, event.recorded_by, event.chain_position) == (Status.DROPPED_OUT, users["county"], 1)
        assert event.entry_hash and f"#{comparison.pk}" in event.note
    assert LedgerCorrection.objects.count() == corrections + 2
    assert ledger_verify()[1] == []
    for item in (never, dropout):
        item.refresh_from_db()
        assert item.status == CandidateStatus.CASE_OPENED and item.case in cases and item.decided_by == users["county"]


def test_opening_cases_is_all_or_nothing_and_says_what_is_missing_per_candidate(comparison, area, users):
    never, dropout = (
        candidate(comparison, CandidateGroup.NEVER_ENROLLED),
        candidate(comparison, CandidateGroup.DROPPED_OUT),
    )
    opened = DropoutCase.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.candidates_open_cases(
            comparison=comparison,
            candidates=[never, dropout],
            dropout_date=AS_OF,
            reason=Reason.POVERTY,
            user=users["county"],
        )
    problems = refused.value.message_dict
    assert set(problems) == {f"candidate-{never.pk}"}
    assert any("school" in text for text in problems[f"candidate-{never.pk}"])
    assert DropoutCase.objects.count() == opened
    assert set(Candidate.objects.filter(pk__in=[never.pk, dropout.pk]).values_list("status", flat=True)) == {
        CandidateStatus.OPEN
    }


def test_a_candidate_already_decided_cannot_be_opened_again(comparison, area, users):
    dropout = candidate(comparison, CandidateGroup.DROPPED_OUT)
    services.candidates_open_cases(
        comparison=comparison, candidates=[dropout], dropout_date=AS_OF, reason=Reason.WORK, user=users["county"]
    )
    with pytest.raises(ValidationError):
        services.candidates_open_cases(
            comparison=comparison, candidates=[dropout], dropout_date=AS_OF, reason=Reason.WORK, user=users["county"]
        )
    assert DropoutCase.objects.filter(student__name=dropout.name).count() == 1


def test_a_candidate_is_dismissed_with_a_reason(comparison, users):
    never = candidate(comparison, CandidateGroup.NEVER_ENROLLED)
    services.candidate_dismiss(candidate=never, reason=DismissReason.MOVED_AWAY, note="迁往成都", user=users["county"])
    never.refresh_from_db()
    assert (never.status, never.dismiss_reason, never.note, never.decided_by) == (
        CandidateStatus.DISMISSED,
        DismissReason.MOVED_AWAY,
        "迁往成都",
        users["county"],
    )
    assert never.decided_at is not None


def test_a_dismissal_needs_a_known_reason(comparison, users):
    never = candidate(comparison, CandidateGroup.NEVER_ENROLLED)
    with pytest.raises(ValidationError):
        services.candidate_dismiss(candidate=never, reason="", user=users["county"])
    never.refresh_from_db()
    assert never.status == CandidateStatus.OPEN


def test_setting_the_flag_is_a_recorded_change_of_the_childs_identity(comparison, users):
    poor = candidate(comparison, CandidateGroup.POOR_NOT_FLAGGED)
    services.candidate_set_flag(candidate=poor, user=users["county"])
    poor.refresh_from_db()
    assert poor.status == CandidateStatus.FLAG_SET and poor.student.registered_poor
    change = IdentityChange.objects.get(student=poor.student)
    assert (change.source, change.changed_by, change.changes) == (
        IdentitySource.FORM,
        users["county"],
        {"registered_poor": [False, True]},
    )


@pytest.mark.parametrize("role", ["neighbour_county", "principal", "prefecture", "ministry"])
def test_only_the_countys_officials_decide_its_candidates(comparison, users, role):
    never = candidate(comparison, CandidateGroup.NEVER_ENROLLED)
    with pytest.raises(PermissionDenied):
        services.candidate_dismiss(candidate=never, reason=DismissReason.DECEASED, user=users[role])
    with pytest.raises(PermissionDenied):
        services.candidates_open_cases(
            comparison=comparison, candidates=[never], dropout_date=AS_OF, reason=Reason.WORK, user=users[role]
        )


def test_clearing_the_flag_of_an_open_case_the_poor_roster_does_not_hold(
    area, users, django_capture_on_commit_callbacks
):
    cases = open_cases_in(area["school"], flagged=2, unflagged=0)
    generated = county(area, open_cases=cases)
    gone = cases[0].student.id_number
    generated.rosters[RosterKind.POOR] = [row for row in generated.rosters[RosterKind.POOR] if row[0] != gone]
    comparison = compare(
        generated, area["county"], users["county"], django_capture_on_commit_callbacks, kinds=(RosterKind.POOR,)
    )
    flagged = candidate(comparison, CandidateGroup.FLAGGED_NOT_POOR)
    services.candidate_set_flag(candidate=flagged, user=users["county"])
    flagged.student.refresh_from_db()
    assert flagged.student == cases[0].student and not flagged.student.registered_poor
    assert IdentityChange.objects.get(student=flagged.student).changes == {"registered_poor": [True, False]}
