"""The work list page ("Due today"), its badge in the navigation, and the case page's retention checks."""

import datetime

import pytest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import strip_tags

from counties.models import Role
from students.choices import HandoverReason, Status
from students.handover import handover_request
from students.models import CaseEvent
from students.views.worklist import PAGE_SIZE
from tests.factories import StudentFactory, UserFactory, open_case

from .test_worklist import days_ago, returned, visit

pytestmark = pytest.mark.django_db
URL = reverse("students:work-list")


def page_text(response) -> str:
    return " ".join(strip_tags(response.content.decode()).split())


def test_a_principal_sees_their_schools_work_with_counts_and_links(client, users, area):
    follow_up = open_case(area["school"], student=StudentFactory(name="桑青卓玛"), dropout_date=days_ago(40))
    visit(follow_up, days_ago(10), next_follow_up=days_ago(2))
    back = returned(
        open_case(area["school"], student=StudentFactory(name="扎西拉姆"), dropout_date=days_ago(90)), days_ago(35)
    )
    elsewhere = open_case(area["other_school"], student=StudentFactory(name="仁青措姆"), dropout_date=days_ago(40))
    client.force_login(users["principal"])
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for case in (follow_up, back):
        assert reverse("students:case-detail", args=[case.pk]) in html
    assert "桑青卓玛" in html and "扎西拉姆" in html
    assert "仁青措姆" not in html and reverse("students:case-detail", args=[elsewhere.pk]) not in html
    text = page_text(response)
    assert "1 Follow-up visits due" in text and "1 Retention checks due" in text and "0 No visit for 30 days" in text
    due_on = back.returned_on + datetime.timedelta(30)
    assert f"30-day check due on {date_format(due_on)}" in text
    assert "Handovers waiting" not in text  # handovers come to the county
    # The badge in the navigation says how much is due: drawn in place here, where the count is worked out.
    assert '<span class="badge" data-work-list-count>2</span>' in html
    # Elsewhere the page is sent without it, and fetches it once shown.
    html = client.get(reverse("students:case-list")).content.decode()
    count_url = reverse("students:work-list-count")
    assert f'data-count-url="{count_url}" hidden' in html
    response = client.get(count_url)
    assert response.json() == {"count": 2}


@pytest.mark.parametrize("role", ["ministry", "province", "prefecture", "admin"])
def test_other_roles_get_no_work_list_and_no_badge(client, users, area, role):
    open_case(area["school"], student=StudentFactory(name="桑青卓玛"), dropout_date=days_ago(40))
    client.force_login(users[role])
    assert client.get(URL).status_code == 404
    html = client.get(reverse("students:case-list")).content.decode()
    assert URL not in html and "data-work-list-count" not in html
    assert client.get(reverse("students:work-list-count")).status_code == 404


def test_a_superuser_without_a_county_or_school_gets_no_work_list(client):
    client.force_login(UserFactory(role=Role.ADMIN, is_superuser=True))
    assert client.get(URL).status_code == 404


def test_a_county_official_filters_by_school_and_section_and_sees_handovers_into_the_county(client, users, area):
    mine = open_case(area["school"], dropout_date=days_ago(40))
    other = open_case(area["other_school"], dropout_date=days_ago(40))
    coming = open_case(area["far_school"], student=StudentFactory(name="白玛曲珍"), dropout_date=days_ago(40))
    handover_request(
        case=coming,
        to_county=area["county"],
        reason=HandoverReason.OTHER,
        user=UserFactory(role=Role.COUNTY, division=area["far"]),
    )
    client.force_login(users["county"])
    text = page_text(client.get(URL))
    assert "2 No visit for 30 days" in text and "1 Handovers waiting for your county" in text
    assert "白**" in text and "白玛曲珍" not in text  # not the county's case yet: masked
    html = client.get(URL, {"school": area["other_school"].code, "section": "no_visit"}).content.decode()
    assert reverse("students:case-detail", args=[other.pk]) in html
    assert reverse("students:case-detail", args=[mine.pk]) not in html
    assert "Handovers waiting" not in html


def test_the_page_is_paged_and_its_queries_do_not_grow(client, users, area, django_assert_max_num_queries):
    def one_of_each(n: int) -> None:
        open_case(area["other_school"], dropout_date=days_ago(40 + n))
        visit(open_case(area["school"], dropout_date=days_ago(40 + n)), days_ago(10), next_follow_up=days_ago(1))
        returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(35))

    one_of_each(0)
    client.force_login(users["county"])
    with django_assert_max_num_queries(12) as small:
        client.get(URL)
    for n in range(PAGE_SIZE + 4):
        one_of_each(n + 1)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    sections = {section.key: section for section in response.context["sections"]}
    assert sections["follow_ups"].count == PAGE_SIZE + 5 and len(sections["follow_ups"].rows) == PAGE_SIZE
    assert len(sections["retention"].rows) == PAGE_SIZE
    second = client.get(URL, {"section": "follow_ups", "page": 2}).context["sections"]
    assert [len(section.rows) for section in second] == [5]


def test_the_dashboards_count_retention_checks_by_the_same_rule(client, users, area):
    returned(open_case(area["school"], dropout_date=datetime.date(2019, 3, 1)), datetime.date(2019, 6, 1))
    returned(open_case(area["school"], dropout_date=days_ago(100)), days_ago(35))
    client.force_login(users["principal"])
    response = client.get(reverse("reports:school", args=[area["school"].code]))
    assert response.context["counts"]["retention"] == 1


# --- The case page -------------------------------------------------------------------------------------------------


def test_the_case_page_shows_the_retention_checks_and_records_one(client, users, area):
    case = returned(open_case(area["school"], dropout_date=days_ago(100)), days_ago(35))
    client.force_login(users["principal"])
    page = client.get(reverse("students:case-detail", args=[case.pk]))
    assert [check.state for check in page.context["retention_checks"]] == ["due", "upcoming"]
    assert "Record retention check" in page.content.decode()

    response = client.post(
        reverse("students:case-retention-check", args=[case.pk]),
        {"version": case.version, "checked_on": days_ago(0).isoformat(), "note": "In class 7-2."},
        follow=True,
    )
    assert "The retention check was recorded." in response.content.decode()
    assert [check.state for check in response.context["retention_checks"]] == ["done", "upcoming"]
    # The 30-day check keeps the case "returned": the child counts as retained after the 90-day check.
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert (event.from_status, event.to_status, event.recorded_by) == (
        Status.RETURNED,
        Status.RETURNED,
        users["principal"],
    )
    assert client.get(URL).context["sections"][2].count == 0


def test_a_retention_check_on_a_stale_page_is_refused(client, users, area):
    case = returned(open_case(area["school"], dropout_date=days_ago(100)), days_ago(35))
    client.force_login(users["principal"])
    stale = case.version - 1
    response = client.post(
        reverse("students:case-retention-check", args=[case.pk]),
        {"version": stale, "checked_on": days_ago(0).isoformat()},
    )
    assert response.status_code == 409
    assert not CaseEvent.objects.filter(case=case, to_status=Status.RETAINED).exists()


def test_no_one_records_a_check_outside_their_scope_or_read_only(client, users, area):
    case = returned(open_case(area["school"], dropout_date=days_ago(100)), days_ago(35))
    for role in ("other_principal", "neighbour_county", "ministry"):
        client.force_login(users[role])
        response = client.post(
            reverse("students:case-retention-check", args=[case.pk]),
            {"version": case.version, "checked_on": days_ago(0).isoformat()},
        )
        assert response.status_code == 404, role
    assert not CaseEvent.objects.filter(case=case, to_status=Status.RETAINED).exists()
