"""The demo ledger's signed months (reports.demo): Rangtang's months up to the one before the seed's day, signed and
accepted through the services, the last one waiting for Aba prefecture."""

import pytest
from django.utils import timezone

from counties.models import Role
from reports import signoff
from reports.demo import sign_off_demo_months
from reports.models import DailyTotal, MonthSignOff, SignOffAction, SignOffStatus
from reports.selectors import Area, period_figures
from students.demo.places import RANGTANG
from tests.factories import CountyFactory, PrefectureFactory, ProvinceFactory, SchoolFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def rangtang(settings):
    today = timezone.localdate()
    settings.SIGN_OFF_MONTHS_SHOWN = 3
    settings.LEDGER_BASELINE_DATE = signoff.previous_month(
        signoff.previous_month(signoff.previous_month(today))
    ).isoformat()
    sichuan = ProvinceFactory(code="510000", name="四川省")
    aba = PrefectureFactory(parent=sichuan, code="32", name="阿坝藏族羌族自治州")
    county = CountyFactory(parent=aba, code=RANGTANG[4:], name="壤塘县")
    for username, role, division in (
        ("rangtang", Role.COUNTY, county),
        ("aba", Role.PREFECTURE, aba),
        ("sichuan", Role.PROVINCE, sichuan),
    ):
        UserFactory(username=username, role=role, division=division)
    open_case(SchoolFactory(county=county), dropout_date=signoff.parse_month(settings.LEDGER_BASELINE_DATE[:7]))
    return county


def test_rangtang_signs_its_months_up_to_last_month_and_the_last_waits_for_aba(rangtang):
    today = timezone.localdate()
    assert not DailyTotal.objects.exists()  # a freshly seeded ledger: the totals are computed first

    assert sign_off_demo_months(today=today) == 3

    months = sorted(signoff.months_shown(today))
    sign_offs = {row.month: row for row in MonthSignOff.objects.filter(county=rangtang)}
    assert sorted(sign_offs) == months
    assert [sign_offs[month].status for month in months] == [
        SignOffStatus.ACCEPTED,
        SignOffStatus.ACCEPTED,
        SignOffStatus.SIGNED,
    ]
    assert list(sign_offs[months[1]].steps.values_list("action", flat=True)) == [
        SignOffAction.SIGN,
        SignOffAction.SEND_BACK,
        SignOffAction.SIGN,
        SignOffAction.PREFECTURE_ACCEPT,
        SignOffAction.PROVINCE_ACCEPT,
    ]
    for month in months:
        published = period_figures([Area.of_division(rangtang)], month, signoff.month_end(month))[0]
        assert sign_offs[month].figures == signoff.figures_as_stored(published)
        assert sign_offs[month].figures["open_count"] == 1


def test_seeding_again_adds_no_month(rangtang):
    today = timezone.localdate()
    sign_off_demo_months(today=today)
    assert sign_off_demo_months(today=today) == 0
    assert MonthSignOff.objects.count() == 3


def test_without_the_demo_users_nothing_is_signed(rangtang):
    from counties.models import User

    User.objects.filter(username="aba").delete()
    assert sign_off_demo_months(today=timezone.localdate()) == 0
    assert not MonthSignOff.objects.exists()
