"""The demo's spot-check round in Aba prefecture: drawn, given to the demo verifier, partly recorded, once."""

import pytest

from counties.models import Role
from students.demo.users import DEMO_USERS
from tests.case_steps import days_ago, returned
from tests.factories import CountyFactory, PrefectureFactory, ProvinceFactory, SchoolFactory, UserFactory, open_case
from verification.demo import ABA, SAMPLE_SIZE, demo_spot_checks_add
from verification.models import Outcome, SpotCheckRound

pytestmark = pytest.mark.django_db


def demo_username(role: str) -> str:
    return next(spec.username for spec in DEMO_USERS if spec.role == role)


def test_the_demo_round_is_drawn_in_aba_and_given_to_the_demo_verifier():
    aba = PrefectureFactory(parent=ProvinceFactory(code=ABA[:2] + "0000"), code=ABA[2:4], name="阿坝藏族羌族自治州")
    assert aba.code == ABA
    rangtang = CountyFactory(parent=aba, name="壤塘县")
    school = SchoolFactory(county=rangtang)
    for n in range(SAMPLE_SIZE + 2):
        returned(open_case(school, dropout_date=days_ago(120)), days_ago(30 + n))
    UserFactory(role=Role.PROVINCE, division=aba.province, username=demo_username(Role.PROVINCE))
    verifier = UserFactory(role=Role.VERIFIER, division=aba, username=demo_username(Role.VERIFIER))

    assert demo_spot_checks_add(days_ago(0)) == SAMPLE_SIZE
    spot_round = SpotCheckRound.objects.get(area=aba)
    assert spot_round.checks.filter(verifier=verifier).count() == SAMPLE_SIZE
    assert sorted(spot_round.checks.exclude(outcome="").values_list("outcome", flat=True)) == sorted(
        [Outcome.CONFIRMED, Outcome.RECORD_WRONG]
    )
    assert demo_spot_checks_add(days_ago(0)) == 0  # once
    assert SpotCheckRound.objects.count() == 1
