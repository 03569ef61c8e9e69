"""Case work in a real browser: a principal on a phone marks a child returned, a county official records a
visit, and the new-case form checks an ID number as it is typed. Screenshots go to test-artifacts/."""

import datetime

import pytest

from counties.models import Role
from students.choices import Placement, Status, VisitorRole
from students.models import PersuasionVisit
from tests.browser import save_screenshot, sign_in
from tests.factories import SchoolFactory, StudentFactory, UserFactory, make_id_number, open_case

# serialized_rollback, as in the other browser tests: the rows the migrations put in survive the flushes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def school():
    return SchoolFactory(name="Shangduke Township Primary School")


def test_principal_on_a_phone_marks_a_case_returned(phone, school):
    principal = UserFactory(role=Role.PRINCIPAL, school=school, username="principal")
    case = open_case(school, student=StudentFactory(name="Sang Qingzhuoma"), dropout_date=datetime.date(2019, 3, 11))
    sign_in(phone, principal.username)

    phone.goto("/cases/")
    phone.click("text=Sang Qingzhuoma")
    phone.wait_for_url(f"**/cases/{case.pk}/")
    phone.click("#returned summary")
    phone.fill("input[name=returned_on]", "2019-09-02")
    phone.select_option("select[name=placement]", Placement.REGULAR_CLASS)
    phone.fill("#returned textarea[name=note]", "Back in her class after the summer.")
    save_screenshot(phone, "casework-principal-phone-return-form")
    phone.click("#returned button[type=submit]")

    phone.wait_for_selector(".messages li.success")
    assert "struck off" in phone.inner_text(".messages")
    assert "Returned to school" in phone.inner_text(".case-head .status")
    assert "Back in her class after the summer." in phone.inner_text(".timeline")
    save_screenshot(phone, "casework-principal-phone-returned")
    case.refresh_from_db()
    assert (case.status, case.returned_on, case.placement) == (
        Status.RETURNED,
        datetime.date(2019, 9, 2),
        Placement.REGULAR_CLASS,
    )


def test_county_official_records_a_visit_with_two_visitors(page, school):
    official = UserFactory(role=Role.COUNTY, division=school.county, username="official")
    case = open_case(school, student=StudentFactory(name="Tashi"), dropout_date=datetime.date(2019, 3, 1))
    sign_in(page, official.username)

    page.goto(f"/cases/{case.pk}/")
    page.click("#visit summary")
    page.fill("input[name=visit_date]", "2019-04-02")
    page.select_option("select[name=method]", "home_visit")
    page.select_option("select[name=outcome]", "refused")
    page.select_option("select[name=visitor_role_0]", VisitorRole.PRINCIPAL)
    page.fill("input[name=visitor_name_0]", "Wang")
    page.select_option("select[name=visitor_role_1]", VisitorRole.VILLAGE_CADRE)
    page.fill("input[name=visitor_name_1]", "Zhaxi")
    page.click("[data-add-visitor]")
    page.select_option("select[name=visitor_role_3]", VisitorRole.POLICE)
    page.fill("input[name=visitor_name_3]", "Officer Li")
    page.fill("#visit textarea[name=notes]", "The father wants her to herd the yaks this summer.")
    save_screenshot(page, "casework-county-visit-form")
    page.click("#visit button[type=submit]")

    page.wait_for_selector(".messages li.success")
    timeline = page.inner_text(".timeline")
    assert "Principal Wang, Village cadre Zhaxi, Police Officer Li" in timeline
    assert "Being persuaded" in page.inner_text(".case-head .status")
    save_screenshot(page, "casework-county-visit-recorded")
    visit = PersuasionVisit.objects.get(case=case)
    assert [v["name"] for v in visit.visitors] == ["Wang", "Zhaxi", "Officer Li"]
    assert visit.recorded_by == official


def test_new_case_form_checks_the_id_number_as_it_is_typed(page, school):
    official = UserFactory(role=Role.COUNTY, division=school.county, username="official")
    good = make_id_number("513230", datetime.date(2011, 5, 20), 31)
    mistyped = good[:17] + ("0" if good[17] != "0" else "1")
    sign_in(page, official.username)

    page.goto("/cases/new/")
    page.fill("input[name=id_number]", mistyped)
    feedback = page.locator("#field-id_number .live-check")
    assert feedback.inner_text() == (
        f"The check character is {mistyped[17]} but should be {good[17]}: a digit was probably mistyped."
    )
    save_screenshot(page, "casework-new-case-bad-id")
    page.fill("input[name=id_number]", "5132302011")
    page.locator("input[name=id_number]").blur()
    assert feedback.inner_text() == "A resident ID number has 18 characters; this one has 10."

    page.fill("input[name=id_number]", good)
    assert feedback.inner_text() == "✓"
    # A valid number fills in what it encodes.
    assert page.input_value("input[name=birth_date]") == "2011-05-20"
    assert page.is_checked("input[name=gender][value=M]")
