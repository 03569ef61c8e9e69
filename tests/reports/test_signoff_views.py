"""The monthly sign-off's page and its forms, and the dashboards' sign-off panel: each role's step, the scoping rule
(a county signs only its own months, a prefecture accepts only its counties'), and signed, pending and overdue
months per area."""

import pytest
from django.urls import reverse
from django.utils import timezone

from counties.models import CountyGroup, CountyGroupMembership, Role
from reports import signoff
from reports.models import MonthSignOff, SignOffStatus
from reports.services import touched
from reports.services.signoff import month_accept, month_sign
from students.choices import Placement
from students.services import case_mark_returned
from tests.factories import CountyFactory, PrefectureFactory, UserFactory

from .signoff_support import DAY, published_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(settings, area):
    return published_ledger(settings, area)


def page_url(county, month) -> str:
    return reverse("reports:sign-off", args=[county.code, month.strftime("%Y-%m")])


def action_url(name: str, county, month) -> str:
    return reverse(f"reports:sign-off-{name}", args=[county.code, month.strftime("%Y-%m")])


def as_user(client, user):
    client.force_login(user)
    return client


# Each role's step ----------------------------------------------------------------------------------------------


def test_the_county_signs_the_prefecture_and_the_province_accept_through_the_page(client, area, users, ledger):
    county, month = area["county"], ledger.month
    page = as_user(client, users["county"]).get(page_url(county, month))
    assert page.status_code == 200 and page.context["can_sign"] and not page.context["can_accept"]
    assert 'id="sign"' in page.content.decode()

    response = client.post(action_url("sign", county, month))
    assert response.status_code == 302 and response["Location"] == page_url(county, month)
    assert MonthSignOff.objects.get().status == SignOffStatus.SIGNED

    page = as_user(client, users["prefecture"]).get(page_url(county, month))
    assert page.context["can_accept"] and not page.context["can_sign"]
    assert client.post(action_url("accept", county, month)).status_code == 302
    assert MonthSignOff.objects.get().status == SignOffStatus.PREFECTURE_ACCEPTED

    as_user(client, users["province"])
    assert client.post(action_url("accept", county, month)).status_code == 302
    page = client.get(page_url(county, month))
    assert page.context["state"] == signoff.State.SIGNED and not page.context["can_accept"]
    chain = page.content.decode().split('id="signature-chain"')[1]
    for user in (users["county"], users["prefecture"], users["province"]):
        assert (user.get_full_name() or user.username) in chain
    assert [step.action for step in page.context["steps"]] == ["sign", "prefecture_accept", "province_accept"]


def test_sending_back_needs_a_note_and_keeps_what_was_typed(client, area, users, ledger):
    county, month = area["county"], ledger.month
    month_sign(county=county, month=month, user=users["county"])
    as_user(client, users["prefecture"])

    empty = client.post(action_url("send-back", county, month), {"note": ""})
    assert empty.status_code == 400
    assert "Say what the county should look at again." in empty.content.decode()

    long_note = "请核对复学人数。" * 300
    too_long = client.post(action_url("send-back", county, month), {"note": long_note})
    assert too_long.status_code == 400
    assert long_note in too_long.content.decode()
    assert MonthSignOff.objects.get().status == SignOffStatus.SIGNED

    sent = client.post(action_url("send-back", county, month), {"note": "The returns do not match the registry."})
    assert sent.status_code == 302
    page = as_user(client, users["county"]).get(page_url(county, month))
    assert "The returns do not match the registry." in page.content.decode()
    assert page.context["can_sign"]


def test_a_step_that_is_not_due_says_why_on_the_page(client, area, users, ledger):
    county, month = area["county"], ledger.month
    month_sign(county=county, month=month, user=users["county"])
    response = as_user(client, users["county"]).post(action_url("sign", county, month))
    assert response.status_code == 400
    assert "This month is not waiting for you" in response.content.decode()


def test_a_month_that_has_not_ended_offers_no_signature(client, area, users, ledger):
    this_month = timezone.localdate().replace(day=1)
    page = as_user(client, users["county"]).get(page_url(area["county"], this_month))
    assert page.status_code == 200
    assert page.context["sign_problems"] and "has not ended yet" in page.content.decode()
    assert client.post(action_url("sign", area["county"], this_month)).status_code == 400
    assert not MonthSignOff.objects.exists()


# Scoping -------------------------------------------------------------------------------------------------------


def test_a_county_cannot_sign_another_county(client, area, users, ledger):
    as_user(client, users["neighbour_county"])
    assert client.get(page_url(area["county"], ledger.month)).status_code == 404
    assert client.post(action_url("sign", area["county"], ledger.month)).status_code == 404
    assert not MonthSignOff.objects.exists()


def test_a_prefecture_accepts_only_its_own_counties(client, area, users, ledger):
    far = area["far"]
    far_official = UserFactory(role=Role.COUNTY, division=far)
    other_prefecture = UserFactory(role=Role.PREFECTURE, division=far.prefecture)
    month_sign(county=area["county"], month=ledger.month, user=users["county"])
    as_user(client, other_prefecture)
    assert client.get(page_url(area["county"], ledger.month)).status_code == 404
    assert client.post(action_url("accept", area["county"], ledger.month)).status_code == 404
    assert client.post(action_url("send-back", area["county"], ledger.month), {"note": "x"}).status_code == 404
    assert MonthSignOff.objects.get().status == SignOffStatus.SIGNED
    # Its own county's page opens.
    assert as_user(client, far_official).get(page_url(far, ledger.month)).status_code == 200


@pytest.mark.parametrize("role", ["ministry", "admin"])
def test_national_users_read_the_page_and_take_no_step(client, area, users, ledger, role):
    month_sign(county=area["county"], month=ledger.month, user=users["county"])
    page = as_user(client, users[role]).get(page_url(area["county"], ledger.month))
    assert page.status_code == 200
    assert not page.context["can_sign"] and not page.context["can_accept"]
    assert client.post(action_url("accept", area["county"], ledger.month)).status_code == 404
    assert MonthSignOff.objects.get().status == SignOffStatus.SIGNED


def test_principals_and_the_county_level_alone_have_the_page(client, area, users, ledger):
    as_user(client, users["principal"])
    assert client.get(page_url(area["county"], ledger.month)).status_code == 404
    assert client.post(action_url("sign", area["county"], ledger.month)).status_code == 404
    as_user(client, users["prefecture"])
    assert client.get(page_url(area["prefecture"], ledger.month)).status_code == 404  # not a county
    assert client.get(reverse("reports:sign-off", args=[area["county"].code, "2026-13"])).status_code == 404


# Corrections on the page ---------------------------------------------------------------------------------------


def test_the_page_shows_the_signed_figure_and_a_later_back_dated_return_as_a_correction(client, area, users, ledger):
    county, month = area["county"], ledger.month
    month_sign(county=county, month=month, user=users["county"])
    case = ledger.cases["later_returned"]
    case_mark_returned(case=case, returned_on=month + 20 * DAY, placement=Placement.REGULAR_CLASS, user=users["county"])
    touched.touched_recompute()

    page = as_user(client, users["county"]).get(page_url(county, month))
    open_row = page.context["rows"][0]
    assert (open_row.signed, open_row.now, open_row.difference) == (2, 1, -1)
    corrections = page.content.decode().split('id="corrections"')[1].split("</section>")[0]
    assert "桑青卓玛" in corrections and reverse("students:case-detail", args=[case.pk]) in corrections
    assert (users["county"].get_full_name() or users["county"].username) in corrections

    masked = as_user(client, users["prefecture"]).get(page_url(county, month)).content.decode()
    assert "桑**" in masked and "桑青卓玛" not in masked


# The dashboards' panel -----------------------------------------------------------------------------------------


@pytest.fixture
def months_signed(settings, area, users, ledger):
    """Two months followed; the last one still pending (due at the end of this month), the one before overdue.

    The home county's last month is accepted by both; its month before is signed and waits for the prefecture.
    The neighbour county and the far county sign nothing.
    """
    settings.SIGN_OFF_MONTHS_SHOWN = 2
    settings.SIGN_OFF_DUE_DAY = 31
    county = area["county"]
    month_sign(county=county, month=ledger.month, user=users["county"])
    month_accept(county=county, month=ledger.month, user=users["prefecture"])
    month_accept(county=county, month=ledger.month, user=users["province"])
    month_sign(county=county, month=ledger.earlier, user=users["county"])
    return ledger


def counts(row) -> tuple[int, int, int]:
    return (row.signed, row.pending, row.overdue)


def test_the_prefecture_dashboard_shows_signed_pending_and_overdue_per_county(client, area, users, months_signed):
    response = as_user(client, users["prefecture"]).get(reverse("reports:division", args=[area["prefecture"].code]))
    panel = response.context["sign_off"]
    assert counts(panel.area_row) == (1, 1, 2)
    by_code = {row.division.code: counts(row) for row in panel.rows}
    assert by_code == {area["county"].code: (1, 0, 1), area["neighbour"].code: (0, 1, 1)}
    assert [(item.county, item.month) for item in panel.waiting] == [(area["county"], months_signed.earlier)]
    html = response.content.decode()
    assert 'id="sign-off"' in html and page_url(area["county"], months_signed.earlier) in html


def test_the_province_and_national_dashboards_count_per_area(client, area, users, months_signed):
    province = as_user(client, users["province"]).get(reverse("reports:division", args=[area["province"].code]))
    panel = province.context["sign_off"]
    assert [(row.division.code, counts(row)) for row in panel.rows] == [(area["prefecture"].code, (1, 1, 2))]
    assert panel.waiting == []  # the prefecture has not accepted the month before yet

    national = as_user(client, users["ministry"]).get(reverse("reports:national")).context["sign_off"]
    assert counts(national.area_row) == (1, 2, 3)
    assert {row.division.code: counts(row) for row in national.rows} == {
        area["province"].code: (1, 1, 2),
        area["far"].province.code: (0, 1, 1),
    }


def test_the_county_dashboard_shows_each_month_with_its_signed_figure(client, area, users, months_signed):
    county = area["county"]
    case_mark_returned(
        case=months_signed.cases["later_returned"],
        returned_on=months_signed.month + 20 * DAY,
        placement=Placement.REGULAR_CLASS,
    )
    touched.touched_recompute()
    response = as_user(client, users["county"]).get(reverse("reports:division", args=[county.code]))
    panel = response.context["sign_off"]
    last, before = panel.month_rows
    assert (last.month, last.state, last.open_count, last.corrections) == (months_signed.month, "signed", 2, 1)
    assert (before.state, before.stage) == ("overdue", "Signed; waiting for the prefecture")
    assert counts(panel.area_row) == (1, 0, 1)
    html = response.content.decode()
    assert f'data-month="{months_signed.month:%Y-%m}" data-state="signed"' in html


def national_counts(client, user) -> str:
    html = client.get(reverse("reports:national")).content.decode()
    return " ".join(html.split('id="sign-off-counts"')[1].split("</dl>")[0].split())


def test_the_national_panel_is_rendered_once_and_follows_each_step_at_once(client, area, users, months_signed):
    as_user(client, users["ministry"])
    first = national_counts(client, users["ministry"])
    assert 'data-state="signed">1<' in first
    again = client.get(reverse("reports:national"))  # served from the cache: the panel is not rendered again
    assert "reports/_sign_off.html" not in [template.name for template in again.templates]
    assert 'id="sign-off-counts"' in again.content.decode()
    # The prefecture and the province accept the month before: the next page counts it signed.
    month_accept(county=area["county"], month=months_signed.earlier, user=users["prefecture"])
    month_accept(county=area["county"], month=months_signed.earlier, user=users["province"])
    assert 'data-state="signed">2<' in national_counts(client, users["ministry"])


def test_a_county_group_dashboard_counts_its_member_counties(client, area, users, months_signed):
    group = CountyGroup.objects.create(slug="poverty-counties", name="Poverty counties")
    for county in (area["county"], area["far"]):
        CountyGroupMembership.objects.create(group=group, county=county, valid_from=months_signed.earlier)
    panel = as_user(client, users["ministry"]).get(reverse("reports:group", args=[group.slug])).context["sign_off"]
    assert {row.division.code: counts(row) for row in panel.rows} == {
        area["county"].code: (1, 0, 1),
        area["far"].code: (0, 1, 1),
    }
    assert counts(panel.area_row) == (1, 1, 2)


def test_a_principal_sees_no_sign_off_panel(client, area, users, months_signed):
    response = as_user(client, users["principal"]).get(reverse("reports:division", args=[area["county"].code]))
    assert "sign_off" not in response.context
    assert 'id="sign-off"' not in response.content.decode()


def test_the_panel_counts_with_one_query_whatever_the_number_of_counties(
    client, area, users, months_signed, django_assert_num_queries
):
    from reports.selectors import Area

    prefecture = area["prefecture"]
    today = timezone.localdate()
    with django_assert_num_queries(2):  # the counts, the months waiting for the user
        signoff.sign_off_panel(users["prefecture"], Area.of_division(prefecture), today)
    for _ in range(5):
        CountyFactory(parent=prefecture)
    CountyFactory(parent=PrefectureFactory(parent=area["province"]))
    with django_assert_num_queries(2):
        panel = signoff.sign_off_panel(users["prefecture"], Area.of_division(prefecture), today)
    assert counts(panel.area_row) == (1, 6, 7)  # 7 counties, 2 months: 1 accepted
