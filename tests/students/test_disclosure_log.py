"""The identifier-access log: every disclosure of full identifiers is written, and read only by the user and
their supervisors, never with an identifier in it."""

import pytest
from django.urls import reverse

from students.disclosure import log_disclosure
from students.models import DisclosurePurpose, IdentifierAccess
from tests.factories import StudentFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

LOG = reverse("students:disclosure-log")


@pytest.fixture
def entries(users, area):
    """One logged disclosure by each user who may see identifiers, and one by a county official far away."""
    far_official = UserFactory(role="county", division=area["far"])
    made = {}
    for key in ("county", "neighbour_county", "principal", "admin"):
        log_disclosure(users[key], purpose=DisclosurePurpose.EXPORT, children=3, detail=f"export by {key}")
        made[key] = IdentifierAccess.objects.latest("pk")
    log_disclosure(far_official, purpose=DisclosurePurpose.EXPORT, children=5, detail="export by far")
    made["far"] = IdentifierAccess.objects.latest("pk")
    return made


def shown(client, user) -> set[str]:
    client.force_login(user)
    response = client.get(LOG)
    assert response.status_code == 200
    return {entry.detail for entry in response.context["page"].object_list}


def test_a_county_official_and_a_principal_read_only_their_own_entries(client, users, entries):
    assert shown(client, users["county"]) == {"export by county"}
    assert shown(client, users["principal"]) == {"export by principal"}


def test_a_prefecture_reads_the_entries_of_the_users_in_its_area(client, users, entries):
    expected = {"export by county", "export by neighbour_county", "export by principal"}
    assert shown(client, users["prefecture"]) == expected
    assert shown(client, users["province"]) == expected


def test_the_ministry_reads_every_entry(client, users, entries):
    assert shown(client, users["ministry"]) == {f"export by {key}" for key in entries}


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    assert client.get(LOG).status_code == 302


def test_an_entry_never_holds_an_identifier_even_from_a_typed_search(users):
    student = StudentFactory()
    log_disclosure(users["county"], purpose=DisclosurePurpose.EXPORT, children=1, detail=f"q={student.id_number}")
    assert student.id_number not in IdentifierAccess.objects.get().detail
    assert student.id_number[:7] not in IdentifierAccess.objects.get().detail


def test_a_county_officials_export_is_logged_with_how_many_children_and_what(client, users, area, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for _ in range(3):
        open_case(area["school"])
    open_case(area["neighbour_school"])
    client.force_login(users["county"])
    response = client.get(reverse("students:export") + "?format=csv&status=open")
    b"".join(response.streaming_content)

    entry = IdentifierAccess.objects.get()
    assert (entry.user, entry.purpose, entry.children) == (users["county"], DisclosurePurpose.EXPORT, 3)
    assert "status=open" in entry.detail


def test_a_masked_export_is_not_a_disclosure_and_is_not_logged(client, users, area):
    open_case(area["school"])
    client.force_login(users["ministry"])
    response = client.get(reverse("students:export") + "?format=csv")
    b"".join(response.streaming_content)
    assert not IdentifierAccess.objects.exists()


def test_the_log_page_shows_no_identifier_of_the_case_it_names(client, users, area):
    case = open_case(area["school"], student=StudentFactory(guardian_phone="13908371526"))
    client.force_login(users["county"])
    client.get(reverse("students:case-detail", args=[case.pk]))
    client.force_login(users["prefecture"])
    html = client.get(LOG).content.decode()
    assert reverse("students:case-detail", args=[case.pk]) in html
    for secret in (case.student.id_number, case.student.name, case.student.guardian_phone):
        assert secret not in html
