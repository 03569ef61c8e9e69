"""The demo's roster comparison of Rangtang County (rosters.demo), as the seed adds it."""

import datetime

import pytest
from django.utils import timezone

from counties.models import Role
from rosters.demo import demo_rosters_add
from rosters.models import Candidate, CandidateGroup, RosterComparison
from students.demo.places import RANGTANG
from tests.factories import CountyFactory, PrefectureFactory, ProvinceFactory, SchoolFactory, UserFactory
from tests.rosters.helpers import open_cases_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rangtang():
    prefecture = PrefectureFactory(parent=ProvinceFactory(code=RANGTANG[:2] + "0000"), code=RANGTANG[2:4])
    county = CountyFactory(parent=prefecture, code=RANGTANG[4:], name="壤塘县")
    school = SchoolFactory(county=county, name="上杜柯乡小学")
    SchoolFactory(county=county, name="壤塘县中学")
    UserFactory(role=Role.COUNTY, division=county, username="demo-rangtang")
    open_cases_in(school)
    return county


def test_the_demo_compares_rangtangs_rosters_with_a_few_candidates_once(rangtang):
    today = timezone.localdate()
    found = demo_rosters_add(seed=2019, today=today)
    comparison = RosterComparison.objects.get(county=rangtang)
    assert comparison.status == "succeeded" and comparison.requested_by.username == "demo-rangtang"
    assert comparison.as_of == today - datetime.timedelta(days=1)
    groups = sorted(Candidate.objects.filter(comparison=comparison).values_list("group", flat=True))
    assert groups == sorted(
        [
            CandidateGroup.DROPPED_OUT,
            CandidateGroup.DROPPED_OUT,
            CandidateGroup.NEVER_ENROLLED,
            CandidateGroup.POOR_NOT_FLAGGED,
        ]
    )
    assert found == len(groups)
    assert demo_rosters_add(seed=2019, today=today) == 0
    assert RosterComparison.objects.filter(county=rangtang).count() == 1
