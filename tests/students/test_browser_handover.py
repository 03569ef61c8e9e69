"""A handover in a real browser: a county in one province offers a case, a county in another accepts it, and
afterwards the case is found only in the receiving county. Screenshots go to test-artifacts/."""

import datetime

import pytest
from django.utils import timezone

from counties.models import Role
from students.choices import VisitMethod, VisitorRole, VisitOutcome
from students.models import Handover
from students.services import visit_record
from tests.browser import save_screenshot, sign_in
from tests.factories import CountyFactory, SchoolFactory, StudentFactory, UserFactory, open_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def switch_user(page, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, username)


def test_a_case_offered_by_one_county_and_accepted_by_another_is_visible_only_there(page):
    songpan = CountyFactory(name="Songpan County")
    rangtang = CountyFactory(name="Rangtang County")  # in a province of its own
    third = CountyFactory(parent=rangtang.parent, name="Third County")
    school = SchoolFactory(county=songpan, name="Songpan Primary School")
    SchoolFactory(county=rangtang, name="Shangduke Township Primary School")
    UserFactory(role=Role.COUNTY, division=songpan, username="songpan")
    UserFactory(role=Role.COUNTY, division=rangtang, username="rangtang")
    UserFactory(role=Role.COUNTY, division=third, username="third")
    dropped = timezone.localdate() - datetime.timedelta(days=40)
    case = open_case(school, student=StudentFactory(name="Sang Qingzhuoma"), dropout_date=dropped)
    visit_record(
        case=case,
        visit_date=dropped + datetime.timedelta(days=3),
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "Principal Wang"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.NOT_FOUND,
        notes="The family has gone to Rangtang for work.",
    )

    sign_in(page, "songpan")
    page.goto(f"/cases/{case.pk}/")
    page.click("#handover summary")
    page.fill("#handover input[name=county]", rangtang.code)
    page.select_option("#handover select[name=reason]", "moved")
    page.fill("#handover textarea[name=note]", "The parents work in Rangtang now.")
    save_screenshot(page, "handover-offer-form")
    page.click("#handover button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert "Rangtang County" in page.inner_text(".messages")
    assert "Waiting for Rangtang County" in page.inner_text("#handovers")

    switch_user(page, "rangtang")
    page.goto("/")
    assert "1 handover waiting" in page.inner_text("#handovers")
    page.goto("/cases/handovers/")
    assert "S**" in page.inner_text("table.handovers")
    assert "Sang Qingzhuoma" not in page.content()
    page.click("table.handovers tbody a")
    page.wait_for_selector("#accept")
    save_screenshot(page, "handover-incoming-masked")
    page.select_option("#accept select[name=to_school]", label="Shangduke Township Primary School")
    page.fill("#accept input[name=persons-name_principal]", "Principal Zhaxi")
    page.click("#accept button[type=submit]")

    page.wait_for_url(f"**/cases/{case.pk}/")
    assert "Sang Qingzhuoma" in page.inner_text(".case-head h1")
    assert "Shangduke Township Primary School" in page.inner_text(".case-head .meta")
    timeline = page.inner_text(".timeline")
    assert "The family has gone to Rangtang for work." in timeline
    assert "Songpan County" in timeline and "Rangtang County" in timeline
    save_screenshot(page, "handover-accepted-case")
    handover = Handover.objects.get()
    assert (handover.status, handover.handed_over_on) == ("accepted", timezone.localdate())

    for username in ("songpan", "third"):
        switch_user(page, username)
        response = page.goto(f"/cases/{case.pk}/")
        assert response.status == 404
        page.goto("/cases/")
        assert "Sang Qingzhuoma" not in page.content()
    page.goto(f"/cases/handovers/{handover.pk}/")
    assert "Sang Qingzhuoma" not in page.content()
