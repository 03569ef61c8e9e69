"""The benchmark's pages at the busiest county: which county and school it picks, and that each page answers."""

import pytest
from django.test import Client

from bench import pages
from counties.models import Role
from tests.bench.test_figures import by_metric_and_baseline, page_figures
from tests.factories import SchoolFactory, open_case

pytestmark = pytest.mark.django_db


def test_the_busiest_county_and_its_busiest_school_are_measured_as_their_own_users_see_them(area):
    for _ in range(3):
        open_case(area["neighbour_school"])
    busy_school = SchoolFactory(county=area["neighbour"])  # four cases to the other school's three
    for _ in range(4):
        open_case(busy_school)
    open_case(area["school"])
    measured = pages.busiest_pages()
    official, county_path = measured["busy_county"]
    principal, school_path = measured["busy_school"]
    assert (official.role, official.division) == (Role.COUNTY, area["neighbour"])
    assert (principal.role, principal.school) == (Role.PRINCIPAL, busy_school)
    assert county_path.endswith(f"/{area['neighbour'].code}/") and school_path.endswith(f"/{busy_school.code}/")
    for user, path in measured.values():
        client = Client()
        client.force_login(user)
        assert client.get(path).status_code == 200


def test_busiest_pages_are_judged_against_the_same_pages_at_the_small_ledger():
    large = {**page_figures(busy_county=13.0, busy_school=14.0), "paths": {"busy_county": "/area/x/"}}
    small = page_figures(busy_county=10.0, busy_school=10.0)
    results = by_metric_and_baseline(pages.results(large, small, large_label="600k", small_label="6k"))
    county = results[("county dashboard, busiest county (600k)", "same page at 6k")]
    school = results[("principal's landing page, busiest school of the busiest county (600k)", "same page at 6k")]
    assert (county.ratio, county.meets, str(county.target)) == (1.3, True, "at most 1.3")
    assert (school.ratio, school.meets) == (1.4, False)
    assert "/area/x/" in county.note
