"""A round of spot checks in the disclosure matrix's home prefecture (tests/test_disclosure_matrix.py).

The ministry draws every returned child of the prefecture (home B, other B, neighbour B). The matrix's verifier is
given home B and other B; other B is recorded as a wrong record, with a note naming both children (as a careless
verifier types it) and a photo. Neighbour B stays unassigned: a case of the verifier's area they must never see.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import identifier_text
from verification.models import Outcome
from verification.services import spot_check_record, spot_check_round_draw, spot_checks_assign

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# The children whose spot checks the matrix's verifier is given: the only ones they may see in full.
ASSIGNED = frozenset({"home_b", "other_b"})


def build_spot_checks(area: dict, users: dict, children: dict, cases: dict) -> dict:
    today = timezone.localdate()
    spot_round = spot_check_round_draw(
        area=area["prefecture"],
        returned_from=cases["home_b"].returned_on,
        returned_until=today,
        share=100,
        seed=2019,
        user=users["ministry"],
    )
    checks = {label: spot_round.checks.get(case=cases[label]) for label in ("home_b", "other_b", "neighbour_b")}
    spot_checks_assign(
        spot_round=spot_round,
        checks=[checks[label] for label in ASSIGNED],
        verifier=users["verifier"],
        user=users["ministry"],
    )
    recorded = spot_check_record(
        check=checks["other_b"],
        outcome=Outcome.RECORD_WRONG,
        checked_on=today,
        note=identifier_text(children["other_b"], children["home_b"]),
        evidence=SimpleUploadedFile("photo.png", PNG, content_type="image/png"),
        user=users["verifier"],
    )
    return {
        "spot_round": spot_round,
        "spot_check_open": checks["home_b"],
        "spot_check_recorded": recorded,
        "spot_check_unassigned": checks["neighbour_b"],
    }
