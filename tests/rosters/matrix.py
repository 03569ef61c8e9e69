"""A finished roster comparison of the disclosure matrix's home county (tests/test_disclosure_matrix.py).

Its candidates carry the home county's children's identifiers, as a roster gives them, and a roster's problem
quotes one: only the county's officials and administrators may see them unmasked.
"""

from rosters.models import (
    Candidate,
    CandidateGroup,
    MatchedBy,
    RosterComparison,
    RosterKind,
    RosterUpload,
)
from students.identifiers import id_birth_date
from students.models import JobStatus


def build_roster_comparison(area: dict, users: dict, children: dict, cases: dict) -> dict:
    home_a, home_b, other_a = children["home_a"], children["home_b"], children["other_a"]
    comparison = RosterComparison.objects.create(
        county=area["county"],
        requested_by=users["county"],
        as_of=cases["home_a"].dropout_date,
        status=JobStatus.SUCCEEDED,
        progress=100,
        counts={
            "rows": {RosterKind.HOUSEHOLD: 3, RosterKind.REGISTRY: 2, RosterKind.POOR: 1, "ledger": 4},
            "problems": 0,
            "candidates": {CandidateGroup.NEVER_ENROLLED: 1, CandidateGroup.POOR_NOT_FLAGGED: 1},
        },
    )
    RosterUpload.objects.create(
        comparison=comparison,
        kind=RosterKind.HOUSEHOLD,
        file="rosters/household.csv",
        filename="household.csv",
        rows=3,
        problems=[{"row": 4, "column": "身份证号", "value": other_a.id_number, "message": f"{other_a.name} twice"}],
    )
    never = Candidate.objects.create(
        comparison=comparison,
        group=CandidateGroup.NEVER_ENROLLED,
        source_kind=RosterKind.HOUSEHOLD,
        source_row=2,
        name=home_b.name,
        gender=home_b.gender,
        birth_date=id_birth_date(home_b.id_number),
        id_number=home_b.id_number,
        registry_number=home_b.registry_number or "",
        address=home_b.address,
    )
    poor = Candidate.objects.create(
        comparison=comparison,
        group=CandidateGroup.POOR_NOT_FLAGGED,
        source_kind=RosterKind.POOR,
        source_row=3,
        matched_by=MatchedBy.ID_NUMBER,
        name=home_a.name,
        gender=home_a.gender,
        birth_date=home_a.birth_date,
        id_number=home_a.id_number,
        registry_number=home_a.registry_number or "",
        address=home_a.address,
        school_code=cases["home_a"].school.code,
        grade=cases["home_a"].grade,
        student=home_a,
        case=cases["home_a"],
    )
    return {"roster_comparison": comparison, "roster_never_enrolled": never, "roster_poor": poor}
