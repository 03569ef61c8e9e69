"""A prefecture's returned children for spot checks: 20 in the home county, whose open count fell by 90% over the
period in the published totals, and 20 in the neighbour county, whose count held."""

import datetime

import pytest

from counties.models import Role
from tests.case_steps import days_ago, returned
from tests.factories import StudentFactory, UserFactory, daily_total, open_case

PERIOD = (days_ago(60), days_ago(1))
PER_COUNTY = 20


@pytest.fixture
def ledger(area):
    start, end = PERIOD
    cases = {"county": [], "neighbour": []}
    for n in range(PER_COUNTY):
        for place, school in (("county", "school"), ("neighbour", "neighbour_school")):
            case = open_case(area[school], student=StudentFactory(name=f"{place}{n}"), dropout_date=days_ago(90))
            cases[place].append(returned(case, days_ago(30 - n % 20)))
    before = start - datetime.timedelta(days=1)
    daily_total(area["county"], day=before, open_count=100)
    daily_total(area["county"], day=end, open_count=10)
    daily_total(area["neighbour"], day=before, open_count=50)
    daily_total(area["neighbour"], day=end, open_count=50)
    return cases


@pytest.fixture
def verifier(area):
    return UserFactory(role=Role.VERIFIER, division=area["prefecture"], username="verifier", first_name="李核查")
