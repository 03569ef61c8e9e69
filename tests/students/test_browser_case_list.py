"""The case list in a real browser: cards with each case's status and date on a phone (Chinese), and the area and
school filters of a ministry user (English). Screenshots go to test-artifacts/."""

import pytest

from counties.models import Role
from tests.browser import PHONE, save_screenshot, save_screenshots_in_both_languages, sign_in, wait_until
from tests.case_steps import days_ago
from tests.factories import CountyFactory, PrefectureFactory, SchoolFactory, StudentFactory, UserFactory, open_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def ledger():
    prefecture = PrefectureFactory(name="阿坝藏族羌族自治州")
    county = CountyFactory(parent=prefecture, name="壤塘县")
    other = CountyFactory(parent=prefecture, name="马尔康市")
    school = SchoolFactory(county=county, name="上杜柯乡中心小学")
    SchoolFactory(county=other, name="马尔康市第二小学")
    for n, name in enumerate(["桑青卓玛", "扎西拉姆", "格桑梅朵", "尼玛顿珠"]):
        open_case(school, student=StudentFactory(name=name), dropout_date=days_ago(30 + n))
    open_case(SchoolFactory(county=other), dropout_date=days_ago(10))
    return {"province": prefecture.province, "prefecture": prefecture, "county": county, "school": school}


def test_on_a_phone_every_case_shows_its_status_and_date(phone_zh, ledger):
    UserFactory(role=Role.COUNTY, division=ledger["county"], username="county")
    sign_in(phone_zh, "county")
    phone_zh.goto("/cases/")
    rows = phone_zh.locator("table.cases tbody tr")
    assert rows.count() == 4
    for i in range(rows.count()):
        row = rows.nth(i)
        for cell in (row.locator("td .status"), row.locator("td.date").first):
            assert cell.is_visible()
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (i, box)
    assert phone_zh.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshot(phone_zh, "case-list-phone-zh")


def test_a_ministry_user_narrows_by_area_and_finds_a_school_by_its_name(page, ledger):
    UserFactory(role=Role.MINISTRY, username="ministry")
    sign_in(page, "ministry")
    page.goto("/cases/")
    page.click("details.more-filters summary")
    assert page.locator("select[name=county] option").count() == 1  # "Any county": choose a province first
    with page.expect_navigation():
        page.select_option("select[name=province]", ledger["province"].code)
    counties = page.locator("select[name=county] option")
    assert counties.count() == 3
    with page.expect_navigation():
        page.select_option("select[name=prefecture]", ledger["prefecture"].code)
    page.select_option("select[name=county]", ledger["county"].code)
    school = page.locator("input[name=school]")
    with page.expect_response(lambda response: "/schools/suggest/" in response.url):
        school.fill("中心")
    wait_until(page, "document.querySelectorAll('#school-options option').length === 1")
    value = page.locator("#school-options option").first.get_attribute("value")
    assert value == f"上杜柯乡中心小学 ({ledger['school'].code})"
    school.fill(value)
    page.fill("input[name=dropout_after]", days_ago(60).isoformat())
    page.fill("input[name=dropout_before]", days_ago(20).isoformat())
    page.click("text=Apply filters")
    page.wait_for_load_state()
    assert page.locator("table.cases tbody tr").count() == 4
    assert "4 cases" in page.locator("p.count").inner_text()
    page.click("details.more-filters summary")
    save_screenshots_in_both_languages(page, "case-list-filters")
