"""The case list's area, school, date-range and page-size filters: each within the user's scope, each error said."""

import datetime

import pytest
from django.urls import reverse

from students.filters import school_label
from tests.factories import CountyFactory, SchoolFactory, open_case

pytestmark = pytest.mark.django_db

LIST = reverse("students:case-list")
SUGGEST = reverse("students:school-suggestions")


@pytest.fixture
def cases(area):
    return {key: open_case(area[key]) for key in ("school", "other_school", "neighbour_school", "far_school")}


def listed(response) -> set[int]:
    return {row.pk for row in response.context["rows"]}


def get(client, user, **params):
    client.force_login(user)
    return client.get(LIST, params)


# Areas ---------------------------------------------------------------------------------------------------------


def test_ministry_narrows_the_list_to_a_province_then_a_county(client, users, area, cases):
    by_province = get(client, users["ministry"], province=area["province"].code)
    assert listed(by_province) == {cases[k].pk for k in ("school", "other_school", "neighbour_school")}
    offered = {county.code for county in by_province.context["filter"].form.fields["county"].queryset}
    assert offered == {area["county"].code, area["neighbour"].code}
    by_county = get(client, users["ministry"], province=area["province"].code, county=area["neighbour"].code)
    assert listed(by_county) == {cases["neighbour_school"].pk}


def test_ministry_is_offered_no_county_before_choosing_a_province(client, users, area, cases):
    response = get(client, users["ministry"])
    assert list(response.context["filter"].form.fields["county"].queryset) == []
    assert {p.code for p in response.context["filter"].form.fields["province"].queryset} >= {
        area["province"].code,
        area["far"].province.code,
    }


def test_a_county_of_another_province_than_the_one_chosen_is_an_error_and_lists_nothing(client, users, area, cases):
    response = get(client, users["ministry"], province=area["province"].code, county=area["far"].code)
    assert "county" in response.context["filter"].form.errors
    assert listed(response) == set()
    assert "Correct the filters" in response.content.decode()


def test_a_province_user_choosing_another_provinces_county_gets_an_error_never_its_cases(client, users, area, cases):
    response = get(client, users["province"], county=area["far"].code)
    assert "county" in response.context["filter"].form.errors
    assert listed(response) == set()
    assert cases["far_school"].student.name not in response.content.decode()
    offered = {county.code for county in response.context["filter"].form.fields["county"].queryset}
    assert offered == {area["county"].code, area["neighbour"].code}


def test_a_province_user_has_no_province_filter_and_a_prefecture_user_only_counties(client, users, area, cases):
    assert "province" not in get(client, users["province"]).context["filter"].form.fields
    fields = get(client, users["prefecture"]).context["filter"].form.fields
    assert "county" in fields and "prefecture" not in fields and "province" not in fields


@pytest.mark.parametrize("role", ["county", "principal"])
def test_a_county_user_or_principal_cannot_widen_the_list_by_an_area_in_the_address(role, client, users, area, cases):
    own = listed(get(client, users[role]))
    for params in ({"province": area["far"].province.code}, {"county": area["neighbour"].code}):
        response = get(client, users[role], **params)
        assert listed(response) == own
        assert not {"province", "prefecture", "county"} & set(response.context["filter"].form.fields)


# Schools -------------------------------------------------------------------------------------------------------


def test_a_school_is_found_by_part_of_its_name_by_its_code_and_as_suggested(client, users, area, cases):
    school = area["other_school"]
    for typed in ("same county", school.code, school_label(school.name, school.code)):
        assert listed(get(client, users["county"], school=typed)) == {cases["other_school"].pk}, typed


def test_an_unknown_school_says_so_and_lists_nothing(client, users, area, cases):
    response = get(client, users["county"], school="No such school")
    assert "No school in your area matches" in str(response.context["filter"].form.errors["school"])
    assert listed(response) == set()
    assert "No school in your area matches" in response.content.decode()


def test_a_school_outside_the_area_is_unknown_even_by_its_exact_name_or_code(client, users, area, cases):
    for typed in (area["far_school"].name, area["far_school"].code):
        response = get(client, users["county"], school=typed)
        assert "school" in response.context["filter"].form.errors
        assert listed(response) == set()


def test_suggestions_are_the_users_schools_matching_the_name_with_no_child_in_them(client, users, area, cases):
    client.force_login(users["county"])
    found = client.get(SUGGEST, {"q": "school"}).json()["schools"]
    assert {s["code"] for s in found} == {area["school"].code, area["other_school"].code}
    assert {s["value"] for s in found} == {school_label(s.name, s.code) for s in (area["school"], area["other_school"])}
    assert set(found[0]) == {"value", "name", "code", "county"}
    assert cases["school"].student.name not in client.get(SUGGEST, {"q": "school"}).content.decode()


def test_suggestions_of_another_county_never_appear(client, users, area, cases):
    client.force_login(users["county"])
    for typed in ("Neighbour", "Far", area["far_school"].code):
        assert client.get(SUGGEST, {"q": typed}).json()["schools"] == []
    client.force_login(users["province"])
    assert client.get(SUGGEST, {"q": "Far"}).json()["schools"] == []
    narrowed = client.get(SUGGEST, {"q": "school", "county": area["neighbour"].code}).json()["schools"]
    assert [s["code"] for s in narrowed] == [area["neighbour_school"].code]


def test_suggestions_need_a_signed_in_user(client):
    assert client.get(SUGGEST, {"q": "school"}).status_code == 302


def test_a_name_shared_by_many_schools_asks_for_more_of_it(client, users, area, monkeypatch):
    from students import filters

    monkeypatch.setattr(filters, "SCHOOL_MATCH_LIMIT", 1)
    response = get(client, users["county"], school="school")
    assert "type more of the name" in str(response.context["filter"].form.errors["school"])
    assert listed(response) == set()


def test_the_area_chosen_narrows_the_schools_a_name_is_looked_for_among(client, users, area, cases):
    SchoolFactory(county=CountyFactory(parent=area["prefecture"]), name="Home school annex")
    response = get(client, users["prefecture"], county=area["county"].code, school="Home school")
    assert listed(response) == {cases["school"].pk}


# Dates and page size -------------------------------------------------------------------------------------------


def test_a_reversed_date_range_is_an_error_not_an_empty_list(client, users, area, cases):
    response = get(client, users["county"], dropout_after="2020-01-01", dropout_before="2019-01-01")
    assert "dropout" in response.context["filter"].form.errors
    html = response.content.decode()
    assert "The first date is after the second one" in html
    assert "Correct the filters" in html
    assert "No case matches these filters" not in html
    assert listed(get(client, users["county"], returned_after="2020-01-01", returned_before="2020-01-01")) == set()
    assert "returned" not in get(client, users["county"], returned_after="2020-01-01").context["filter"].form.errors


def test_the_page_size_is_chosen_among_25_50_and_100(client, users, area):
    for day in range(30):
        open_case(area["school"], dropout_date=datetime.date(2019, 1, 1) + datetime.timedelta(days=day))
    assert len(listed(get(client, users["principal"], per_page=25))) == 25
    assert len(listed(get(client, users["principal"], per_page=100))) == 30
    assert get(client, users["principal"], per_page=7).context["paginator"].per_page == 50
    response = get(client, users["principal"], per_page=25, page=2)
    assert len(listed(response)) == 5
    assert "per_page=25" in response.content.decode()


def test_the_list_renders_at_most_one_page_in_a_fixed_number_of_queries(
    client, users, area, django_assert_max_num_queries
):
    for day in range(120):
        open_case(area["school"] if day % 2 else area["neighbour_school"], dropout_date=datetime.date(2019, 1, 1))
    client.force_login(users["province"])
    with django_assert_max_num_queries(9):
        response = client.get(LIST, {"county": area["county"].code, "school": "Home", "per_page": 25})
    assert len(listed(response)) == 25
    assert response.content.decode().count("<tr>") == 26  # the heading and 25 rows
    with django_assert_max_num_queries(9):
        response = client.get(LIST, {"per_page": 100})
    assert len(listed(response)) == 100


def test_phone_rows_carry_the_label_of_each_cell(client, users, cases):
    html = get(client, users["county"]).content.decode()
    assert 'class="cases case-cards"' in html
    assert 'data-label="Status"' in html and 'data-label="Dropped out"' in html
