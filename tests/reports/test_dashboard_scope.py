"""Each dashboard exists only inside the user's area: anything outside it answers 404."""

import pytest
from django.urls import reverse

from counties.models import CountyGroup

from .dashboard_data import make_totals

pytestmark = pytest.mark.django_db


def division_url(place):
    return reverse("reports:division", args=[place.code])


@pytest.fixture
def totals(area):
    return make_totals(area)


# For each role: the areas of the `area` fixture whose dashboards it may open.
OPENS = {
    "ministry": {"province", "prefecture", "county", "neighbour", "far"},
    "admin": {"province", "prefecture", "county", "neighbour", "far"},
    "province": {"province", "prefecture", "county", "neighbour"},
    "prefecture": {"prefecture", "county", "neighbour"},
    "county": {"county"},
    "neighbour_county": {"neighbour"},
    "principal": {"county"},
}


@pytest.mark.parametrize("role", sorted(OPENS))
@pytest.mark.parametrize("place", ["province", "prefecture", "county", "neighbour", "far"])
def test_area_dashboards_open_only_inside_the_users_area(client, users, area, totals, role, place):
    client.force_login(users[role])
    expected = 200 if place in OPENS[role] else 404
    assert client.get(division_url(area[place])).status_code == expected


@pytest.mark.parametrize("role", ["province", "prefecture", "county", "principal"])
def test_national_and_group_dashboards_are_for_national_users_only(client, users, totals, role):
    CountyGroup.objects.create(slug="poverty-52", name="52 counties")
    client.force_login(users[role])
    assert client.get(reverse("reports:national")).status_code == 404
    assert client.get(reverse("reports:group", args=["poverty-52"])).status_code == 404


def test_an_unknown_area_or_group_is_404(client, users, totals):
    client.force_login(users["ministry"])
    assert client.get(reverse("reports:division", args=["999999"])).status_code == 404
    assert client.get(reverse("reports:group", args=["nope"])).status_code == 404


def test_county_official_sees_the_areas_above_without_links(client, users, area, totals):
    client.force_login(users["county"])
    crumbs = client.get(division_url(area["county"])).context["crumbs"]
    assert [(crumb.label, crumb.url) for crumb in crumbs] == [
        ("Nation", None),
        (area["province"].name, None),
        (area["prefecture"].name, None),
    ]


def test_prefecture_staff_rank_only_their_own_counties_with_links(client, users, area, totals):
    client.force_login(users["prefecture"])
    response = client.get(division_url(area["prefecture"]))
    assert [(row.name, row.url) for row in response.context["children"]] == [
        (area["county"].name, division_url(area["county"])),
        (area["neighbour"].name, division_url(area["neighbour"])),
    ]


SCHOOL_OPENS = {
    "principal": {"school"},
    "other_principal": {"other_school"},
    "county": {"school", "other_school"},
    "neighbour_county": {"neighbour_school"},
    "admin": {"school", "other_school", "neighbour_school", "far_school"},
    "ministry": set(),
    "province": set(),
    "prefecture": set(),
}


@pytest.mark.parametrize("role", sorted(SCHOOL_OPENS))
@pytest.mark.parametrize("school", ["school", "other_school", "neighbour_school", "far_school"])
def test_school_pages_open_only_for_those_who_work_the_schools_cases(client, users, area, role, school):
    client.force_login(users[role])
    expected = 200 if school in SCHOOL_OPENS[role] else 404
    assert client.get(reverse("reports:school", args=[area[school].code])).status_code == expected
