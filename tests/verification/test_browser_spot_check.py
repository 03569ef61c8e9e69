"""A verifier records a failed spot check in a real browser, and the county sees the reopened case on its
dashboard. Screenshots, in English and in Chinese, go to test-artifacts/."""

import pytest

from counties.models import Role
from students.choices import Status
from tests.browser import save_screenshot, save_screenshots_in_both_languages, sign_in
from tests.case_steps import days_ago, returned
from tests.factories import CountyFactory, SchoolFactory, StudentFactory, UserFactory, open_case
from verification.models import Outcome, SpotCheck
from verification.services import spot_check_round_draw, spot_checks_assign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_verifier_records_a_child_not_found_and_the_county_sees_the_case_reopened(page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    rangtang = CountyFactory(name="壤塘县")
    school = SchoolFactory(county=rangtang, name="上杜柯乡小学")
    UserFactory(role=Role.COUNTY, division=rangtang, username="rangtang")
    drawer = UserFactory(role=Role.MINISTRY, username="ministry")
    verifier = UserFactory(role=Role.VERIFIER, division=rangtang.prefecture, username="verifier", first_name="李明")
    case = returned(open_case(school, student=StudentFactory(name="桑青卓玛"), dropout_date=days_ago(80)), days_ago(40))
    spot_round = spot_check_round_draw(
        area=rangtang.prefecture, returned_from=days_ago(60), returned_until=days_ago(0), size=1, seed=1, user=drawer
    )
    spot_checks_assign(spot_round=spot_round, checks=list(spot_round.checks.all()), verifier=verifier, user=drawer)

    sign_in(page, "verifier")
    page.goto("/spot-checks/mine/")
    save_screenshots_in_both_languages(page, "spot-check-list")
    page.click("text=桑青卓玛")
    page.wait_for_selector("#outcome form")
    assert case.student.id_number in page.inner_text("main")  # the assigned child, in full
    save_screenshots_in_both_languages(page, "spot-check-form")

    page.check(f"input[name=outcome][value={Outcome.NOT_FOUND}]")
    page.fill("textarea[name=note]", "班主任说该生已两周未到校。")
    (tmp_path / "photo.png").write_bytes(PNG)
    page.set_input_files("input[name=evidence]", str(tmp_path / "photo.png"))
    save_screenshot(page, "spot-check-filled")
    page.click("#outcome button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert page.get_attribute("[data-outcome]", "data-outcome") == Outcome.NOT_FOUND
    save_screenshots_in_both_languages(page, "spot-check-recorded")

    check = SpotCheck.objects.get()
    case.refresh_from_db()
    assert case.status == Status.RELAPSED and check.reopened_case.previous_case == case and check.evidence

    page.context.clear_cookies()
    sign_in(page, "rangtang")
    page.goto(f"/area/{rangtang.code}/")
    panel = page.inner_text("#spot-checks")
    assert "桑青卓玛" in panel and "Not found in school" in panel
    page.locator("#spot-checks").scroll_into_view_if_needed()
    save_screenshots_in_both_languages(page, "spot-check-county-dashboard")
    assert page.get_attribute("#spot-checks td a", "href") == f"/cases/{check.reopened_case_id}/"
