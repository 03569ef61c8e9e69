"""The work list in a real browser: a principal opens what is due today and completes a retention check.
Screenshots go to test-artifacts/."""

import pytest
from playwright.sync_api import expect

from counties.models import Role
from students.choices import Placement, Status
from students.services import case_mark_returned
from tests.browser import save_screenshot, save_screenshots_in_both_languages, sign_in
from tests.case_steps import days_ago, visit
from tests.factories import SchoolFactory, StudentFactory, UserFactory, open_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_principal_opens_their_work_list_and_completes_a_retention_check(page):
    school = SchoolFactory(name="Shangduke Township Primary School")
    principal = UserFactory(role=Role.PRINCIPAL, school=school, username="principal")
    back = open_case(school, student=StudentFactory(name="Zhaxi Lamu"), dropout_date=days_ago(120))
    case_mark_returned(case=back, returned_on=days_ago(33), placement=Placement.REGULAR_CLASS)
    visit(
        open_case(school, student=StudentFactory(name="Sang Qingzhuoma"), dropout_date=days_ago(60)),
        days_ago(12),
        days_ago(2),
    )
    open_case(school, student=StudentFactory(name="Gesang Meiduo"), dropout_date=days_ago(45))
    sign_in(page, principal.username)

    # The page is shown first; its badge follows from the count's own address.
    expect(page.locator(".mainnav [data-work-list-count]")).to_have_text("3")
    page.click(".mainnav >> text=Due today")
    page.wait_for_url("**/cases/due/")
    retention = page.locator("#retention")
    assert "Zhaxi Lamu" in retention.inner_text() and "30-day check due on" in retention.inner_text()
    save_screenshots_in_both_languages(page, "work-list-principal")

    retention.locator("text=Zhaxi Lamu").click()
    page.wait_for_url(f"**/cases/{back.pk}/")
    assert "due now" in page.locator("section#retention").inner_text()
    page.click("#retention-check summary")
    page.fill("#retention-check textarea[name=note]", "Seen in class 7-2 today.")
    save_screenshot(page, "work-list-case-retention-check")
    page.click("#retention-check button[type=submit]")
    page.wait_for_selector("text=The retention check was recorded.")
    assert "done on" in page.locator("section#retention").inner_text()
    back.refresh_from_db()
    # The 30-day check is recorded; the child counts as retained only after the 90-day one.
    assert back.status == Status.RETURNED
    assert back.events.filter(to_status=Status.RETURNED, note__contains="Seen in class 7-2 today.").exists()

    page.click(".mainnav >> text=Due today")
    page.wait_for_url("**/cases/due/")
    assert page.locator("#retention").inner_text().endswith("Nothing due.")
    assert page.locator(".mainnav [data-work-list-count]").inner_text() == "2"
