"""A verifier's scope and what they see: within their area, only the cases assigned to them, in full and logged;
a case of the same area not assigned to them does not exist for them. The rounds are for those who draw them."""

import pytest
from django.urls import reverse

from counties.models import Role
from students.access import (
    can_edit_case,
    cases_visible_to,
    disclosures_visible_to,
    handovers_visible_to,
    students_visible_to,
    visits_visible_to,
)
from students.choices import HandoverReason
from students.disclosure import disclosure_for, log_disclosure
from students.handover import handover_request
from students.models import IdentifierAccess
from tests.factories import UserFactory
from verification.services import spot_check_round_draw, spot_checks_assign

from .conftest import PERIOD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(ledger, users, area, verifier):
    """A round of four in the prefecture: one check for the verifier, one for a colleague, two unassigned."""
    start, end = PERIOD
    spot_round = spot_check_round_draw(
        area=area["prefecture"], returned_from=start, returned_until=end, size=4, seed=11, user=users["ministry"]
    )
    mine, theirs, *unassigned = spot_round.checks.select_related("case__student").order_by("pk")
    colleague = UserFactory(role=Role.VERIFIER, division=area["prefecture"])
    spot_checks_assign(spot_round=spot_round, checks=[mine], verifier=verifier, user=users["ministry"])
    spot_checks_assign(spot_round=spot_round, checks=[theirs], verifier=colleague, user=users["ministry"])
    never_drawn = next(case for case in ledger["county"] if not case.spot_checks.exists())
    return {"round": spot_round, "mine": mine, "theirs": theirs, "unassigned": unassigned, "never": never_drawn}


def test_a_verifier_reads_only_the_cases_assigned_to_them(world, verifier):
    case = world["mine"].case
    assert list(cases_visible_to(verifier)) == [case]
    assert list(students_visible_to(verifier)) == [case.student]
    assert not visits_visible_to(verifier).exclude(case=case).exists()
    assert not can_edit_case(verifier, case)


def test_an_unassigned_case_of_the_same_area_is_not_there(client, world, verifier):
    client.force_login(verifier)
    others = [world["theirs"].case, world["never"], *(check.case for check in world["unassigned"])]
    for case in others:
        assert client.get(reverse("students:case-detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("verification:check-detail", args=[world["theirs"].pk])).status_code == 404
    listing = client.get(reverse("students:case-list")).content.decode()
    mine = client.get(reverse("verification:my-checks")).content.decode()
    for case in others:
        assert case.student.name not in listing and case.student.name not in mine
        assert case.student.id_number not in listing and case.student.id_number not in mine
        assert f'href="{reverse("students:case-detail", args=[case.pk])}"' not in listing
    assert f'href="{reverse("students:case-detail", args=[world["mine"].case.pk])}"' in listing
    assert world["mine"].case.student.name in mine


def test_the_sampled_case_shows_its_identifiers_on_its_check_and_the_view_is_logged(client, world, verifier):
    client.force_login(verifier)
    case = world["mine"].case
    html = client.get(reverse("verification:check-detail", args=[world["mine"].pk])).content.decode()
    assert case.student.id_number in html and case.student.name in html and case.student.guardian_phone in html
    assert IdentifierAccess.objects.filter(user=verifier, case=case).count() == 1


def test_on_the_ledgers_own_pages_a_verifier_is_masked(client, world, verifier):
    """A colleague's notes on a case may name other children: the case page shows the verifier what it shows
    the ministry, and logs nothing."""
    client.force_login(verifier)
    case = world["mine"].case
    html = client.get(reverse("students:case-detail", args=[case.pk])).content.decode()
    assert case.student.id_number not in html and case.student.name not in html
    assert case.student.name[0] + "**" in html
    assert disclosure_for(verifier).masked
    assert not IdentifierAccess.objects.filter(user=verifier).exists()


def test_a_verifier_changes_nothing_on_the_ledger(client, world, verifier):
    client.force_login(verifier)
    case = world["mine"].case
    response = client.post(reverse("students:case-relapse", args=[case.pk]), {"version": case.version})
    assert response.status_code == 404
    assert client.get(reverse("students:work-list")).status_code == 404


def test_a_verifier_sees_no_handover_and_only_their_own_access_log(world, verifier, users, area):
    handover_request(case=world["never"], to_county=area["far"], reason=HandoverReason.OTHER, user=users["county"])
    assert not handovers_visible_to(verifier).exists()
    log_disclosure(users["county"], purpose="case_detail", case=world["never"])
    log_disclosure(verifier, purpose="case_detail", case=world["mine"].case)
    assert list(disclosures_visible_to(verifier).values_list("user", flat=True)) == [verifier.pk]
    # Their supervisors read the verifier's entries, as those of anyone working in their area.
    assert disclosures_visible_to(users["prefecture"]).filter(user=verifier).exists()


@pytest.mark.parametrize("role", ["prefecture", "county", "principal"])
def test_rounds_are_for_ministry_and_province_staff(client, world, users, role):
    client.force_login(users[role])
    assert client.get(reverse("verification:rounds")).status_code == 404
    assert client.get(reverse("verification:round-detail", args=[world["round"].pk])).status_code == 404


def test_a_round_page_names_no_child(client, world, users):
    client.force_login(users["province"])
    html = client.get(reverse("verification:round-detail", args=[world["round"].pk])).content.decode()
    assert str(world["round"].seed) in html
    for check in world["round"].checks.select_related("case__student"):
        assert f"#{check.case_id}" in html and check.case.student.name not in html


def test_a_verifier_starts_at_their_spot_checks_and_may_open_their_areas_dashboards(client, world, verifier, area):
    client.force_login(verifier)
    assert client.get(reverse("reports:home"))["Location"] == reverse("verification:my-checks")
    assert client.get(reverse("reports:division", args=[area["prefecture"].code])).status_code == 200
    assert client.get(reverse("reports:division", args=[area["far"].code])).status_code == 404
