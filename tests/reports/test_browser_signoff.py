"""The monthly sign-off in Chromium: Rangtang's official signs last month's figures, Aba prefecture sends them back
with a note, the county signs again, the prefecture and then Sichuan province accept them. Screenshots of each
step, in English and Chinese, go to test-artifacts/."""

import pytest

from counties.models import Role, User
from reports.models import MonthSignOff, SignOffStatus
from reports.services import touched
from students.choices import Placement
from students.services import case_mark_returned
from tests.browser import save_screenshots_in_both_languages, sign_in
from tests.factories import CountyFactory, PrefectureFactory, ProvinceFactory, SchoolFactory, UserFactory

from .signoff_support import DAY, published_ledger

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def aba(settings):
    """四川 -> 阿坝州 -> 壤塘县 and 松潘县, with a ledger whose totals are published for last month."""
    sichuan = ProvinceFactory(code="510000", name="四川省")
    prefecture = PrefectureFactory(parent=sichuan, code="32", name="阿坝藏族羌族自治州")
    rangtang = CountyFactory(parent=prefecture, code="30", name="壤塘县")
    songpan = CountyFactory(parent=prefecture, code="24", name="松潘县")
    area = {
        "province": sichuan,
        "prefecture": prefecture,
        "county": rangtang,
        "school": SchoolFactory(county=rangtang, name="上杜柯乡小学"),
        "neighbour_school": SchoolFactory(county=songpan, name="松潘县小学"),
    }
    UserFactory(username="rangtang", role=Role.COUNTY, division=rangtang, first_name="杨华")
    UserFactory(username="aba", role=Role.PREFECTURE, division=prefecture, first_name="马永强")
    UserFactory(username="sichuan", role=Role.PROVINCE, division=sichuan, first_name="刘晓梅")
    return area, published_ledger(settings, area)


def switch_user(page, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, username)


def test_a_month_signed_by_the_county_sent_back_signed_again_and_accepted_in_turn(page, aba):
    area, ledger = aba
    month = f"{ledger.month:%Y-%m}"
    url = f"/sign-off/{area['county'].code}/{month}/"

    sign_in(page, "rangtang")
    page.goto(f"/area/{area['county'].code}/")
    row = page.locator(f"#sign-off-months tr[data-month='{month}']")
    assert "Waiting for the county to sign" in row.inner_text()
    save_screenshots_in_both_languages(page, "sign-off-county-dashboard")
    row.locator("a").click()
    page.wait_for_url(f"**{url}")
    save_screenshots_in_both_languages(page, "sign-off-county-to-sign")
    page.click("#sign button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert "Signed; waiting for the prefecture" in page.inner_text("#sign-off-stage")
    assert "杨华" in page.inner_text("#signature-chain")

    switch_user(page, "aba")
    page.goto(f"/area/{area['prefecture'].code}/")
    page.click(f"#sign-off-waiting a[href='{url}']")
    page.wait_for_url(f"**{url}")
    page.fill("#send-back textarea[name=note]", "返校人数与学籍系统不一致，请核对。")
    page.click("#send-back button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert "返校人数与学籍系统不一致，请核对。" in page.inner_text("#signature-chain")

    switch_user(page, "rangtang")
    page.goto(url)
    page.click("#sign button[type=submit]")
    page.wait_for_selector(".messages li.success")

    switch_user(page, "aba")
    page.goto(url)
    save_screenshots_in_both_languages(page, "sign-off-prefecture-to-accept")
    page.click("#accept button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert "Waiting for the province" in page.inner_text("#sign-off-stage")

    switch_user(page, "sichuan")
    page.goto(url)
    page.click("#accept button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert page.locator("[data-state=signed]").count() == 1
    assert page.locator("#accept").count() == 0
    chain = page.inner_text("#signature-chain")
    for name in ("杨华", "马永强", "刘晓梅"):
        assert name in chain
    save_screenshots_in_both_languages(page, "sign-off-accepted-chain")

    page.goto(f"/area/{area['province'].code}/")
    assert page.locator("#sign-off-areas").count() == 1
    save_screenshots_in_both_languages(page, "sign-off-province-dashboard")
    assert MonthSignOff.objects.get(month=ledger.month).status == SignOffStatus.ACCEPTED

    # A return dated in the signed month, recorded now: a correction against the month, its figure kept as signed.
    case_mark_returned(
        case=ledger.cases["later_returned"],
        returned_on=ledger.month + 20 * DAY,
        placement=Placement.REGULAR_CLASS,
        user=User.objects.get(username="rangtang"),
    )
    touched.touched_recompute()
    page.goto(url)
    corrections = page.inner_text("#corrections")
    assert "桑**" in corrections and "杨华" in corrections and "桑青卓玛" not in page.content()
    open_row = page.locator("#sign-off-figures tbody tr").first.inner_text()
    assert open_row.split()[-3:] == ["2", "1", "-1"]
    save_screenshots_in_both_languages(page, "sign-off-correction")
