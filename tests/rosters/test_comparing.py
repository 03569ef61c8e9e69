"""The comparison finds exactly the children planted in a generated county, and nothing else."""

import datetime

import pytest

from rosters import generated
from rosters.generated import HEADINGS
from rosters.models import Candidate, CandidateGroup, RosterKind, RosterRow
from students.choices import Reason
from students.models import JobStatus
from students.services import StudentData, case_open
from tests.rosters.helpers import AS_OF, compare, county, open_cases_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def listed(comparison) -> dict[str, list[str]]:
    found = {}
    for candidate in Candidate.objects.filter(comparison=comparison).order_by("name"):
        found.setdefault(candidate.group, []).append(candidate.name)
    return found


def test_the_comparison_lists_exactly_the_planted_children(area, users, django_capture_on_commit_callbacks):
    cases = open_cases_in(area["school"])
    generated = county(area, children=300, open_cases=cases)
    comparison = compare(generated, area["county"], users["county"], django_capture_on_commit_callbacks)
    assert comparison.status == JobStatus.SUCCEEDED, comparison.error
    assert comparison.counts["problems"] == 0
    planted = {group: names for group, names in generated.planted.items() if names}
    assert set(planted) == {
        CandidateGroup.NEVER_ENROLLED,
        CandidateGroup.DROPPED_OUT,
        CandidateGroup.POOR_NOT_FLAGGED,
    }
    assert listed(comparison) == planted
    assert comparison.counts["candidates"] == {
        CandidateGroup.NEVER_ENROLLED: 1,
        CandidateGroup.DROPPED_OUT: 1,
        CandidateGroup.POOR_NOT_FLAGGED: 1,
        CandidateGroup.FLAGGED_NOT_POOR: 0,
    }
    assert comparison.counts["rows"][RosterKind.HOUSEHOLD] == len(generated.rosters[RosterKind.HOUSEHOLD])
    assert comparison.progress == 100
    # The rosters' rows are not kept once compared: only the candidates are.
    assert not RosterRow.objects.filter(comparison=comparison).exists()


def test_a_generated_child_never_takes_the_id_number_of_an_open_cases_child(
    area, users, django_capture_on_commit_callbacks
):
    # The number the generator would give its first child, held by a child of the ledger with an open case.
    born = generated.years_before(AS_OF, 16) + datetime.timedelta(days=2)
    held = generated.id_number(area["county"].code, born, 500)
    student = StudentData(name="林已登记", gender="F", birth_date=born, id_number=held)
    case = case_open(student=student, school=area["school"], grade=9, dropout_date=AS_OF, reason=Reason.POVERTY)
    rosters = county(area, children=50, open_cases=[case])
    for kind, rows in rosters.rosters.items():
        ids = [row[HEADINGS[kind].index("身份证号")] for row in rows]
        assert len([n for n in ids if n]) == len({n for n in ids if n}), kind
    comparison = compare(rosters, area["county"], users["county"], django_capture_on_commit_callbacks)
    assert comparison.counts["problems"] == 0, [upload.problems for upload in comparison.uploads.all()]
    assert listed(comparison)[CandidateGroup.NEVER_ENROLLED] == rosters.planted[CandidateGroup.NEVER_ENROLLED]


def test_each_candidate_says_why_and_carries_the_rosters_details(area, users, django_capture_on_commit_callbacks):
    cases = open_cases_in(area["school"])
    comparison = compare(
        county(area, open_cases=cases), area["county"], users["county"], django_capture_on_commit_callbacks
    )
    dropout = Candidate.objects.get(comparison=comparison, group=CandidateGroup.DROPPED_OUT)
    assert (dropout.source_kind, dropout.school_code, dropout.grade is not None) == (
        RosterKind.REGISTRY,
        dropout.school_code,
        True,
    )
    assert dropout.school_code in (area["school"].code, area["other_school"].code)
    assert "attendance roster" in dropout.why(comparison.as_of)
    poor = Candidate.objects.get(comparison=comparison, group=CandidateGroup.POOR_NOT_FLAGGED)
    assert poor.case in cases and poor.case.is_open and not poor.student.registered_poor
    assert poor.matched_by == "id_number"
    assert "matched by resident ID number" in poor.why(comparison.as_of)
    never = Candidate.objects.get(comparison=comparison, group=CandidateGroup.NEVER_ENROLLED)
    assert never.source_kind == RosterKind.HOUSEHOLD and never.id_number and never.address


def test_a_child_with_an_open_case_is_not_listed_as_never_enrolled_or_dropped_out(
    area, users, django_capture_on_commit_callbacks
):
    cases = open_cases_in(area["school"], flagged=0, unflagged=4)
    generated = county(area, open_cases=cases)
    comparison = compare(
        generated,
        area["county"],
        users["county"],
        django_capture_on_commit_callbacks,
        kinds=(RosterKind.HOUSEHOLD, RosterKind.REGISTRY, RosterKind.ATTENDANCE),
    )
    names = {case.student.name for case in cases}
    assert not Candidate.objects.filter(comparison=comparison, name__in=names).exists()
    # Without the ledger's exclusion they would be: in the household register with no registry row, or in the
    # registry roster with no attendance.
    household = {row[0] for row in generated.rosters[RosterKind.HOUSEHOLD]}
    registry = {row[2] for row in generated.rosters[RosterKind.REGISTRY]}
    assert names <= household and names & registry and names - registry


def test_an_open_case_flagged_poor_and_in_no_row_of_the_poor_roster_is_listed(
    area, users, django_capture_on_commit_callbacks
):
    cases = open_cases_in(area["school"], flagged=3, unflagged=0)
    generated = county(area, open_cases=cases)
    dropped = cases[1].student.id_number
    generated.rosters[RosterKind.POOR] = [row for row in generated.rosters[RosterKind.POOR] if row[0] != dropped]
    comparison = compare(
        generated, area["county"], users["county"], django_capture_on_commit_callbacks, kinds=(RosterKind.POOR,)
    )
    assert listed(comparison) == {CandidateGroup.FLAGGED_NOT_POOR: [cases[1].student.name]}
    assert set(comparison.counts["candidates"]) == {CandidateGroup.POOR_NOT_FLAGGED, CandidateGroup.FLAGGED_NOT_POOR}


def test_a_roster_with_problems_is_reported_by_row_and_nothing_is_compared(
    area, users, django_capture_on_commit_callbacks
):
    generated = county(area, children=20)
    good_id = generated.rosters[RosterKind.HOUSEHOLD][3][1]
    bad_id = good_id[:17] + ("1" if good_id[17] == "0" else "0")  # another check character: never a valid number
    generated.rosters[RosterKind.HOUSEHOLD][3] = ("错号", bad_id, "", "", "某村")
    generated.rosters[RosterKind.HOUSEHOLD][5] = ("无号", "", "", "", "某村")
    comparison = compare(
        generated,
        area["county"],
        users["county"],
        django_capture_on_commit_callbacks,
        kinds=(RosterKind.HOUSEHOLD, RosterKind.REGISTRY),
    )
    upload = comparison.uploads.get(kind=RosterKind.HOUSEHOLD)
    assert comparison.status == JobStatus.SUCCEEDED and comparison.counts["problems"] == 2
    assert [problem["row"] for problem in upload.problems] == [5, 7]  # the heading is row 1
    assert "check character" in upload.problems[0]["message"]
    assert not Candidate.objects.filter(comparison=comparison).exists()
    assert "nothing was compared" in comparison.status_label
