"""The county dashboard: the totals, plus work lists read live from the ledger through the scoping rule."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from students.access import Scope
from students.choices import Reason
from students.disclosure import Disclosure
from tests.case_steps import days_ago, returned, visit
from tests.factories import SchoolFactory, StudentFactory, open_case

from .dashboard_data import make_totals

pytestmark = pytest.mark.django_db


def county_page(client, user, county):
    client.force_login(user)
    return client.get(reverse("reports:division", args=[county.code]))


def test_open_cases_by_school_and_reason_are_read_live_from_the_ledger(client, users, area):
    make_totals(area)
    open_case(area["school"], reason=Reason.POVERTY, dropout_date=days_ago(50))
    open_case(area["school"], reason=Reason.WORK, dropout_date=days_ago(50))
    open_case(area["other_school"], reason=Reason.POVERTY, dropout_date=days_ago(50))
    open_case(area["neighbour_school"], reason=Reason.POVERTY, dropout_date=days_ago(50))
    returned(open_case(area["school"], dropout_date=days_ago(50)), days_ago(3))

    ledger = county_page(client, users["county"], area["county"]).context["ledger"]
    assert [(row["school__name"], row["count"]) for row in ledger["by_school"]] == [
        ("Home school", 2),
        ("Other school, same county", 1),
    ]
    assert ledger["by_reason"][:2] == [
        (Reason.POVERTY.value, str(Reason.POVERTY.label), 2),
        (Reason.WORK.value, str(Reason.WORK.label), 1),
    ]
    assert ledger["open_count"] == 3


def test_overdue_follow_up_lists_cases_with_no_visit_in_thirty_days(client, users, area):
    never = open_case(area["school"], dropout_date=days_ago(60))
    stale = open_case(area["school"], dropout_date=days_ago(90))
    visit(stale, days_ago(45))
    recent = open_case(area["school"], dropout_date=days_ago(90))
    visit(recent, days_ago(10))
    open_case(area["school"], dropout_date=days_ago(5))  # too new to be overdue
    open_case(area["neighbour_school"], dropout_date=days_ago(60))  # another county

    response = county_page(client, users["county"], area["county"])
    overdue = response.context["ledger"]["overdue"]
    assert overdue.count == 2
    assert [row["case"].pk for row in overdue.cases] == [never.pk, stale.pk]
    html = response.content.decode()
    assert reverse("students:case-detail", args=[never.pk]) in html
    assert never.student.name in html


def test_returns_this_month_are_listed(client, users, area):
    today = timezone.localdate()
    this_month = returned(open_case(area["school"], dropout_date=days_ago(60)), today.replace(day=1))
    returned(open_case(area["school"], dropout_date=days_ago(90)), days_ago(40))
    ledger = county_page(client, users["county"], area["county"]).context["ledger"]
    assert [row["case"].pk for row in ledger["returned"].cases] == [this_month.pk]


def test_returned_children_are_due_a_check_thirty_and_ninety_days_after_return(client, users, area):
    due_first = returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(35))
    returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(35), checks=[days_ago(4)])
    due_second = returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(100), checks=[days_ago(70)])
    returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(100), checks=[days_ago(70), days_ago(9)])
    returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(10))

    retention = county_page(client, users["county"], area["county"]).context["ledger"]["retention"]
    assert [row["case"].pk for row in retention.cases] == [due_second.pk, due_first.pk]


@pytest.mark.parametrize("role", ["ministry", "province", "prefecture", "admin"])
def test_area_and_national_users_see_counts_but_no_children_on_the_county_page(client, users, area, role):
    make_totals(area)
    case = open_case(area["school"], dropout_date=days_ago(60))
    response = county_page(client, users[role], area["county"])
    ledger = response.context["ledger"]
    assert ledger["overdue"].count == 1
    assert ledger["overdue"].cases is None
    html = response.content.decode()
    assert case.student.name not in html
    assert case.student.id_number not in html
    assert reverse("students:case-detail", args=[case.pk]) not in html


def test_county_page_shows_its_totals_headline(client, users, area):
    make_totals(area)
    response = county_page(client, users["county"], area["county"])
    assert "300, down 98.5% from 20,000" in " ".join(strip_tags(response.content.decode()).split())


def test_county_dashboard_queries_do_not_grow_with_cases_or_schools(client, users, area, django_assert_max_num_queries):
    make_totals(area)
    case = open_case(area["school"], dropout_date=days_ago(60))
    visit(case, days_ago(40))
    returned(open_case(area["school"], dropout_date=days_ago(90)), days_ago(35))
    client.force_login(users["county"])
    url = reverse("reports:division", args=[area["county"].code])
    # Each paged list counts, then reads its page (the navigation's badge is fetched by the page once shown); the
    # sign-off panel reads the county's months (one query); the spot-check panel counts the county's checks (one).
    with django_assert_max_num_queries(19) as small:
        client.get(url)

    for _ in range(6):
        school = SchoolFactory(county=area["county"])
        for reason in (Reason.POVERTY, Reason.DISTANCE):
            visit(open_case(school, dropout_date=days_ago(80), reason=reason), days_ago(50))
        returned(open_case(school, dropout_date=days_ago(90)), days_ago(35))
        returned(open_case(school, dropout_date=days_ago(90)), timezone.localdate().replace(day=1))
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["ledger"]["by_school"]) == 7


def test_county_work_lists_show_even_before_any_totals_exist(client, users, area):
    case = open_case(area["school"], dropout_date=days_ago(60))
    response = county_page(client, users["county"], area["county"])
    html = response.content.decode()
    assert "No totals have been computed yet" in html
    assert response.context["ledger"]["overdue"].count == 1
    assert case.student.name in html


def test_the_work_lists_name_children_as_the_disclosure_rule_lets_the_user_see_them(client, users, area, monkeypatch):
    # Only those who see identifiers see these lists today; a rule that masked them would mask the lists too.
    case = open_case(area["school"], student=StudentFactory(name="桑青卓玛"), dropout_date=days_ago(60))
    back = open_case(area["school"], student=StudentFactory(name="扎西拉姆"), dropout_date=days_ago(90))
    returned(back, days_ago(35))
    monkeypatch.setattr("reports.views.county.disclosure_for", lambda user: Disclosure(Scope(everything=True)))
    response = county_page(client, users["county"], area["county"])
    ledger = response.context["ledger"]
    assert [row["name"] for row in ledger["overdue"].cases] == ["桑**"]
    assert [row["name"] for row in ledger["retention"].cases] == ["扎**"]
    html = response.content.decode()
    assert "桑青卓玛" not in html and "扎西拉姆" not in html
    assert reverse("students:case-detail", args=[case.pk]) in html
