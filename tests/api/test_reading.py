"""Reading the ledger through the API: the scoping rule decides what exists, the disclosure rule what shows, the case
list's filters narrow, cursors page; as on the pages."""

import datetime

import pytest
from django.urls import reverse

from students.models import IdentifierAccess
from tests.factories import identifiers, open_case_full_of_identifiers, student_with_identifiers

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(area):
    """A case full of identifiers in the home school, another in the far county."""
    home_child = student_with_identifiers(
        area["county"].code, 1, name="桑青卓玛", guardian_name="泽仁多吉", village="德格"
    )
    far_child = student_with_identifiers(
        area["far"].code, 2, name="白玛曲珍", guardian_name="贡布扎西", village="岗木达"
    )
    home = open_case_full_of_identifiers(
        area["school"], student=home_child, other=far_child, dropout_date=datetime.date(2024, 3, 1)
    )
    far = open_case_full_of_identifiers(
        area["far_school"], student=far_child, other=home_child, dropout_date=datetime.date(2024, 2, 1)
    )
    return {"home": home, "far": far, "home_child": home_child, "far_child": far_child}


def test_a_principal_lists_only_their_schools_cases(api, ledger):
    ids = [row["id"] for row in api("principal").get(reverse("api:case-list")).json()["results"]]
    assert ids == [ledger["home"].pk]


def test_a_case_outside_the_scope_is_a_404_like_one_that_does_not_exist(api, ledger):
    outside = api("county").get(reverse("api:case-detail", args=[ledger["far"].pk]))
    missing = api("county").get(reverse("api:case-detail", args=[10**9]))
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()


@pytest.mark.parametrize("role", ["ministry", "province", "prefecture"])
def test_masked_roles_see_a_cases_child_as_on_its_page(api, ledger, role):
    response = api(role).get(reverse("api:case-detail", args=[ledger["home"].pk]))
    assert response.status_code == 200
    text = response.content.decode()
    shown = [what for what, value in identifiers(ledger["home_child"]).items() if value and value in text]
    assert shown == []
    body = response.json()
    assert body["child"]["masked"] and body["child"]["name"] == "桑**"
    assert body["child"]["birth_date"] == str(ledger["home_child"].birth_date.year)
    assert all(visitor["name"] == "" for visit in body["visits"] for visitor in visit["visitors"])


def test_a_county_official_sees_their_child_in_full_and_the_view_is_logged(api, ledger, users):
    response = api("county").get(reverse("api:case-detail", args=[ledger["home"].pk]))
    assert response.json()["child"]["id_number"] == ledger["home_child"].id_number
    assert IdentifierAccess.objects.filter(user=users["county"], case=ledger["home"]).exists()


def test_the_case_list_filters_are_the_lists_own(api, ledger):
    client = api("admin")
    assert [r["id"] for r in client.get(reverse("api:case-list"), {"county": ledger["far"].county.code}).json()[
        "results"
    ]] == [ledger["far"].pk]  # fmt: skip
    reversed_range = client.get(
        reverse("api:case-list"), {"dropout_after": "2024-03-01", "dropout_before": "2024-01-01"}
    )
    assert reversed_range.status_code == 400
    assert reversed_range.json()["field"] == "dropout"


def test_masked_roles_cannot_search_by_name(api, ledger):
    named = api("ministry").get(reverse("api:case-list"), {"q": "no such child at all"}).json()["results"]
    assert len(named) == 2  # the search is not there for them: it is ignored, never an oracle


def test_cases_are_paged_by_a_cursor(api, ledger):
    client = api("admin")
    first = client.get(reverse("api:case-list"), {"page_size": 1}).json()
    assert [row["id"] for row in first["results"]] == [ledger["home"].pk]
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [ledger["far"].pk]
    assert second["next"] is None


def test_a_page_of_cases_costs_a_fixed_number_of_queries(api, ledger, django_assert_max_num_queries):
    client = api("admin")
    client.get(reverse("api:case-list"))
    with django_assert_max_num_queries(6):
        client.get(reverse("api:case-list"))


def test_visits_are_listed_within_the_scope(api, ledger):
    cases = {row["case"] for row in api("principal").get(reverse("api:visit-list")).json()["results"]}
    assert cases == {ledger["home"].pk}
    assert api("principal").get(reverse("api:visit-list"), {"case": ledger["far"].pk}).status_code == 404


def test_children_are_listed_within_the_scope_and_masked_for_masked_roles(api, ledger):
    county = api("county").get(reverse("api:child-list")).json()["results"]
    assert [row["id"] for row in county] == [ledger["home_child"].pk]
    ministry = api("ministry").get(reverse("api:child-detail", args=[ledger["far_child"].pk])).json()
    assert ministry["masked"] and ministry["id_number"].startswith("***")
    assert api("county").get(reverse("api:child-detail", args=[ledger["far_child"].pk])).status_code == 404


def test_responsible_persons_come_with_the_version_and_masked_for_masked_roles(api, ledger):
    body = api("province").get(reverse("api:case-persons", args=[ledger["home"].pk])).json()
    assert body["version"] == ledger["home"].version
    assert body["persons"] and all(person["phone"] in ("", "***") for person in body["persons"])


def test_areas_and_schools_are_those_of_the_scope(api, area):
    codes = {row["code"] for row in api("prefecture").get(reverse("api:area-list")).json()["results"]}
    assert codes == {area["prefecture"].code, area["county"].code, area["neighbour"].code}
    county = api("county").get(reverse("api:area-detail", args=[area["county"].code])).json()
    assert county["parent"] == area["prefecture"].code and county["province"] == area["province"].code
    assert api("county").get(reverse("api:area-detail", args=[area["far"].code])).status_code == 404
    schools = {row["code"] for row in api("principal").get(reverse("api:school-list")).json()["results"]}
    assert schools == {area["school"].code}
