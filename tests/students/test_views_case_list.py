"""The case list: scope, masking, filters, search, sorting, pagination and its query count."""

import datetime
import pickle
import re

import pytest
from django.core.cache import caches
from django.urls import NoReverseMatch, reverse

from students.choices import Disability, LeftBehind, Placement, Reason, Status
from students.filters import school_label
from students.identifiers import mask
from students.services import case_change_status, case_mark_returned
from students.views.paging import CappedCountPaginator
from tests.factories import SchoolFactory, StudentFactory, make_id_number, open_case

pytestmark = pytest.mark.django_db

LIST = reverse("students:case-list")

# For each role: which of the four cases (by the school they are in) appears in its list.
VISIBLE = {
    "ministry": {"school", "other_school", "neighbour_school", "far_school"},
    "admin": {"school", "other_school", "neighbour_school", "far_school"},
    "province": {"school", "other_school", "neighbour_school"},
    "prefecture": {"school", "other_school", "neighbour_school"},
    "county": {"school", "other_school"},
    "neighbour_county": {"neighbour_school"},
    "principal": {"school"},
    "other_principal": {"other_school"},
}
MASKED = {"ministry", "province", "prefecture"}


@pytest.fixture
def cases(area):
    return {
        key: open_case(area[key], student=StudentFactory(name=f"{key} child"))
        for key in ("school", "other_school", "neighbour_school", "far_school")
    }


def listed(response) -> list[int]:
    return [row.pk for row in response.context["rows"]]


def get(client, user, **params):
    client.force_login(user)
    return client.get(LIST, params)


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_lists_exactly_the_cases_in_its_scope(role, client, users, cases):
    response = get(client, users[role])
    assert response.status_code == 200
    assert set(listed(response)) == {cases[key].pk for key in VISIBLE[role]}
    assert response.context["paginator"].count == len(VISIBLE[role])


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_searching_for_an_out_of_scope_child_finds_nothing(role, client, users, cases):
    outsiders = {"school", "other_school", "neighbour_school", "far_school"} - VISIBLE[role]
    searchable = role not in MASKED
    for key in outsiders:
        response = get(client, users[role], q=cases[key].student.id_number)
        if searchable:
            assert listed(response) == []
            assert response.context["paginator"].count == 0
        else:  # no search at all for masked roles: the list is the unsearched one
            assert set(listed(response)) == {cases[k].pk for k in VISIBLE[role]}
        assert cases[key].student.name not in response.content.decode()


def test_ministry_sees_masked_names_and_id_numbers(client, users, cases):
    response = get(client, users["ministry"])
    html = response.content.decode()
    student = cases["school"].student
    assert student.name not in html
    assert student.id_number not in html
    assert mask(student.id_number) not in html
    assert f'">{student.name[0]}**</a>' in html  # the family name (here the first letter) and a fixed "**"


def test_county_official_sees_names_but_id_numbers_stay_masked_in_the_list(client, users, cases):
    response = get(client, users["county"])
    html = response.content.decode()
    student = cases["school"].student
    assert student.name in html
    assert student.id_number not in html
    assert mask(student.id_number) in html


def test_county_official_finds_a_child_by_name_fragment_and_id_prefix(client, users, area):
    wanted = open_case(
        area["school"],
        student=StudentFactory(name="桑青卓玛", id_number=make_id_number("513230", datetime.date(2009, 6, 1), 7)),
    )
    other = open_case(
        area["other_school"],
        student=StudentFactory(name="王小明", id_number=make_id_number("513231", datetime.date(2009, 6, 1), 7)),
    )
    county = users["county"]
    assert listed(get(client, county, q="卓玛")) == [wanted.pk]
    assert listed(get(client, county, q="513230")) == [wanted.pk]
    assert set(listed(get(client, county, q="5132"))) == {wanted.pk, other.pk}
    assert listed(get(client, county, q=other.student.id_number)) == [other.pk]


def test_county_official_finds_a_child_by_registry_number_prefix(client, users, area):
    student = StudentFactory(registry_number=None)
    student.registry_number = "G" + student.id_number
    student.save()
    case = open_case(area["school"], student=student)
    open_case(area["school"])
    assert listed(get(client, users["county"], q=student.registry_number[:12].lower())) == [case.pk]


@pytest.mark.parametrize("role", sorted(MASKED))
def test_masked_roles_can_neither_search_nor_sort_by_what_they_may_not_see(role, client, users, cases):
    student = cases["school"].student
    everything = listed(get(client, users[role]))
    for query in (student.id_number, "G" + student.id_number, student.name, "school child"):
        response = get(client, users[role], q=query)
        assert listed(response) == everything
        assert 'name="q"' not in response.content.decode()
    by_name = get(client, users[role], sort="name")
    assert listed(by_name) == everything
    headers = {header["key"]: header for header in by_name.context["sort_headers"]}
    assert headers["name"]["next"] is None  # headed, not sortable
    assert "sort=name" not in by_name.content.decode().split("<thead>")[1].split("</thead>")[0]
    assert listed(get(client, users[role], sort="-name")) == everything


def test_status_filter_open_excludes_returned_cases(client, users, area):
    still_out = open_case(area["school"], dropout_date=datetime.date(2019, 4, 1))
    back = open_case(area["school"], dropout_date=datetime.date(2019, 4, 1))
    case_mark_returned(case=back, returned_on=datetime.date(2019, 9, 1), placement=Placement.REGULAR_CLASS)
    assert listed(get(client, users["principal"], status="open")) == [still_out.pk]
    assert listed(get(client, users["principal"], status=Status.RETURNED)) == [back.pk]


def test_filters_by_reason_grade_and_school(client, users, area):
    poverty = open_case(area["school"], reason=Reason.POVERTY, grade=7)
    work = open_case(area["school"], reason=Reason.WORK, grade=8)
    elsewhere = open_case(area["other_school"], reason=Reason.WORK, grade=8)
    county = users["county"]
    assert listed(get(client, county, reason=Reason.POVERTY)) == [poverty.pk]
    assert set(listed(get(client, county, grade=8))) == {work.pk, elsewhere.pk}
    assert listed(get(client, county, grade=8, school=area["school"].code)) == [work.pk]


def test_school_filter_offers_only_the_users_schools(client, users, area):
    response = get(client, users["county"])
    offered = set(response.context["school_options"]())
    assert offered == {school_label(s.name, s.code) for s in (area["school"], area["other_school"])}


def test_school_filter_refuses_a_school_outside_the_users_area(client, users, area, cases):
    response = get(client, users["county"], school=area["far_school"].code)
    assert "school" in response.context["filter"].form.errors
    assert cases["far_school"].pk not in listed(response)


def test_flag_filters_combine(client, users, area):
    poor_and_left = open_case(
        area["school"], student=StudentFactory(registered_poor=True, left_behind=LeftBehind.BOTH_PARENTS)
    )
    poor = open_case(area["school"], student=StudentFactory(registered_poor=True))
    disabled = open_case(area["school"], student=StudentFactory(disability=Disability.HEARING))
    principal = users["principal"]
    assert set(listed(get(client, principal, flag="registered_poor"))) == {poor_and_left.pk, poor.pk}
    client.force_login(principal)
    response = client.get(LIST + "?flag=registered_poor&flag=left_behind")
    assert listed(response) == [poor_and_left.pk]
    assert listed(get(client, principal, flag="disability")) == [disabled.pk]


def test_dropout_and_return_date_ranges(client, users, area):
    early = open_case(area["school"], dropout_date=datetime.date(2019, 3, 1))
    late = open_case(area["school"], dropout_date=datetime.date(2019, 8, 1))
    case_mark_returned(case=late, returned_on=datetime.date(2020, 2, 1), placement=Placement.REGULAR_CLASS)
    principal = users["principal"]
    assert listed(get(client, principal, dropout_after="2019-06-01")) == [late.pk]
    assert listed(get(client, principal, dropout_before="2019-06-01")) == [early.pk]
    assert listed(get(client, principal, returned_after="2020-01-01", returned_before="2020-03-01")) == [late.pk]
    assert listed(get(client, principal, returned_after="2020-03-01")) == []


def test_sorting_by_name_both_ways(client, users, area):
    names = ["丙", "甲", "乙"]
    by_name = {name: open_case(area["school"], student=StudentFactory(name=name)).pk for name in names}
    ascending = listed(get(client, users["principal"], sort="name"))
    assert ascending == [by_name[n] for n in sorted(names)]
    assert listed(get(client, users["principal"], sort="-name")) == ascending[::-1]


def test_default_order_is_newest_dropout_first_and_grade_sort_works(client, users, area):
    old = open_case(area["school"], dropout_date=datetime.date(2019, 1, 1), grade=9)
    new = open_case(area["school"], dropout_date=datetime.date(2019, 5, 1), grade=3)
    assert listed(get(client, users["principal"])) == [new.pk, old.pk]
    assert listed(get(client, users["principal"], sort="dropout_date")) == [old.pk, new.pk]
    assert listed(get(client, users["principal"], sort="grade")) == [new.pk, old.pk]
    assert listed(get(client, users["principal"], sort="-grade")) == [old.pk, new.pk]


def test_sort_header_links_toggle_direction_and_keep_the_filters(client, users, cases):
    response = get(client, users["county"], sort="name", status="open")
    headers = {h["key"]: h for h in response.context["sort_headers"]}
    assert headers["name"]["direction"] == "ascending"
    assert headers["name"]["next"] == "-name"
    html = response.content.decode()
    assert "?sort=-name&amp;status=open" in html or "?status=open&amp;sort=-name" in html


def test_list_is_paginated_by_fifty(client, users, area):
    school = area["school"]
    for day in range(55):
        open_case(school, dropout_date=datetime.date(2019, 1, 1) + datetime.timedelta(days=day))
    first = get(client, users["principal"])
    second = get(client, users["principal"], page=2)
    assert len(listed(first)) == 50
    assert len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))
    assert "55 cases" in first.content.decode()


def test_count_stops_at_the_cap_and_says_so(users, area, monkeypatch):
    from students.access import cases_visible_to

    for _ in range(4):
        open_case(area["school"])
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    paginator = CappedCountPaginator(cases_visible_to(users["principal"]), 2)
    assert paginator.count == 4
    assert paginator.capped
    monkeypatch.setattr(CappedCountPaginator, "cap", 10)
    assert not CappedCountPaginator(cases_visible_to(users["principal"]), 2).capped


def test_capped_count_is_announced_on_the_page(client, users, area, monkeypatch):
    for _ in range(3):
        open_case(area["school"])
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    html = get(client, users["principal"]).content.decode()
    assert "More than 2 cases" in html


def test_list_query_count_does_not_grow_with_the_page(client, users, area, django_assert_max_num_queries):
    schools = [area["school"], area["other_school"]]
    for i in range(60):
        student = StudentFactory()
        case = open_case(schools[i % 2], student=student)
        if i % 3 == 0:
            case_change_status(case=case, to_status=Status.PERSUADING, effective_date=datetime.date(2019, 5, 1))
    client.force_login(users["county"])
    # 8: one of them asks whether the county's schools are few enough to be suggested with the page.
    with django_assert_max_num_queries(8):
        response = client.get(LIST, {"status": "open", "sort": "school"})
    assert len(listed(response)) == 50
    client.force_login(users["ministry"])
    # 8: the school is looked up by its code, and the provinces are offered.
    with django_assert_max_num_queries(8):
        client.get(LIST, {"school": area["school"].code, "flag": "registered_poor"})


def test_new_case_button_only_for_roles_that_write(client, users, cases):
    new_url = reverse("students:case-new")
    assert new_url in get(client, users["principal"]).content.decode()
    assert f'class="button" href="{new_url}"' not in get(client, users["ministry"]).content.decode()


def test_export_links_carry_the_current_filters_when_exports_exist(client, users, cases):
    response = get(client, users["county"], status="open", reason=Reason.POVERTY, page=1)
    try:
        export_url = reverse("students:export")
    except NoReverseMatch:
        assert response.context["export_links"] == []
        return
    links = response.context["export_links"]
    assert {link["url"].split("?")[0] for link in links} == {export_url}
    for link in links:
        assert "status=open" in link["url"] and "reason=poverty" in link["url"] and "page=" not in link["url"]


def test_a_school_outside_the_principals_school_is_not_offered_even_with_many_schools(client, users, area):
    SchoolFactory(county=area["county"])
    response = get(client, users["principal"])
    assert response.context["school_options"]() == [school_label(area["school"].name, area["school"].code)]


def test_order_is_the_same_whether_or_not_the_count_is_capped(client, users, area, monkeypatch):
    names = ["丁", "甲", "丙", "乙"]
    for name in names:
        open_case(area["school"], student=StudentFactory(name=name))
    uncapped = listed(get(client, users["principal"], sort="-name"))
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    capped = get(client, users["principal"], sort="-name")
    assert capped.context["paginator"].capped
    assert listed(capped) == uncapped


def test_unfiltered_list_leaves_every_choice_filter_on_its_empty_choice(client, users, cases):
    response = get(client, users["county"])
    html = response.content.decode()
    form = response.context["filter"].form
    for name in ("status", "reason", "grade"):
        assert form[name].value() in (None, "")
        assert list(form.fields[name].choices)[0][0] == ""
    assert form["school"].value() in (None, "")
    assert "selected>1</option>" not in html


def test_county_with_many_schools_has_its_suggestions_as_the_user_types(client, area, users, monkeypatch):
    from students import filters

    monkeypatch.setattr(filters, "SCHOOL_LIST_LIMIT", 1)  # the home county has two schools
    client.force_login(users["county"])
    response = client.get(LIST)
    page = response.content.decode()
    assert response.context["school_options"]() == []
    assert 'name="school"' in page and reverse("students:school-suggestions") in page
    case = open_case(area["other_school"])
    open_case(area["school"])
    assert listed(client.get(LIST, {"school": area["other_school"].code})) == [case.pk]


def test_the_lists_case_links_are_the_case_pages_urls():
    from students.views.cases import case_url_maker

    case_url = case_url_maker()
    assert [case_url(pk) for pk in (1, 42, 987654321)] == [
        reverse("students:case-detail", args=[pk]) for pk in (1, 42, 987654321)
    ]


def rendered_panel(response) -> bool:
    return "students/_case_filters.html" in [template.name for template in response.templates]


def test_the_filter_panel_is_rendered_once_per_query_and_served_from_the_cache_after(client, users, cases):
    first = get(client, users["county"], reason=Reason.POVERTY)
    again = get(client, users["county"], reason=Reason.POVERTY, page=1)
    assert rendered_panel(first) and not rendered_panel(again)
    panel = re.compile(r'<form method="get" class="filter-form card".*?</form>', re.S)
    assert panel.search(again.content.decode()).group() == panel.search(first.content.decode()).group()
    assert 'value="poverty" selected' in again.content.decode()
    # Another query, another language or another place is a panel of its own.
    assert rendered_panel(get(client, users["county"], reason=Reason.ILLNESS))
    client.force_login(users["county"])
    chinese = client.get(LIST, {"reason": Reason.POVERTY}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert rendered_panel(chinese) and "筛选" in chinese.content.decode()
    neighbour = get(client, users["neighbour_county"], reason=Reason.POVERTY)
    home_school = cases["school"].school
    assert rendered_panel(neighbour)
    assert school_label(home_school.name, home_school.code) not in neighbour.content.decode()


def test_a_search_for_a_child_is_never_kept_in_the_cache(client, users, cases):
    name = cases["school"].student.name
    for _ in range(2):
        response = get(client, users["county"], q=name)
        assert rendered_panel(response)
        assert cases["school"].pk in listed(response)
    kept = [pickle.loads(value) for value in caches["default"]._cache.values()]
    assert not any(name in str(value) for value in kept)
