"""The school and county pages show a page of each list, whatever the ledger holds, in a fixed number of queries;
each list of a page is paged by a parameter of its own."""

import importlib

import pytest
from django.urls import reverse

from tests.case_steps import days_ago, returned, visit
from tests.factories import open_case

pytestmark = pytest.mark.django_db
# The package's `school` is the view function, which hides its module from a dotted path.
school_views = importlib.import_module("reports.views.school")
county_views = importlib.import_module("reports.views.county")


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(school_views, "PAGE_SIZE", 3)
    monkeypatch.setattr(county_views, "LIST_LIMIT", 3)


def busy_school(area, n: int) -> None:
    for i in range(n):
        case = open_case(area["school"], dropout_date=days_ago(60 + i))
        if i % 2:
            visit(case, days_ago(45))
        returned(open_case(area["school"], dropout_date=days_ago(200 + i)), days_ago(35))


def test_the_school_page_shows_one_page_of_each_list_whatever_the_school_holds(
    client, users, area, small_pages, django_assert_max_num_queries
):
    busy_school(area, 8)
    client.force_login(users["principal"])
    url = reverse("reports:school", args=[area["school"].code])
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert (len(response.context["rows"]), len(response.context["retention"])) == (3, 3)
    assert response.context["counts"] == {"open": 8, "first_visit": 4, "overdue": 4, "retention": 8}
    html = response.content.decode()
    assert "retention_page=2" in html and "page=2" in html
    last = client.get(url, {"page": 3, "retention_page": 2})
    assert (len(last.context["rows"]), len(last.context["retention"])) == (2, 3)
    rows = [row for page in (1, 2, 3) for row in client.get(url, {"page": page}).context["rows"]]
    assert len({row["case"].pk for row in rows}) == 8
    # The counts, taken in the database, say what each row's next step says.
    overdue = sum(row["next"].code in ("follow_up_due", "visit_again") for row in rows)
    assert (sum(row["next"].code == "first_visit" for row in rows), overdue) == (4, 4)


def test_the_school_page_keeps_its_queries_and_rows_when_the_school_grows(
    client, users, area, django_assert_max_num_queries
):
    busy_school(area, 30)
    client.force_login(users["principal"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("reports:school", args=[area["school"].code]))
    assert len(response.context["rows"]) == school_views.PAGE_SIZE == 25
    assert response.content.decode().count("<tr>") <= 2 * (25 + 1)


def test_the_county_pages_lists_are_paged_each_by_its_own_parameter(
    client, users, area, small_pages, django_assert_max_num_queries
):
    for i in range(5):
        open_case(area["school"], dropout_date=days_ago(60 + i))
        returned(open_case(area["other_school"], dropout_date=days_ago(90)), days_ago(35))
    client.force_login(users["county"])
    url = reverse("reports:division", args=[area["county"].code])
    # 19, and the sign-off panel's months (one query).
    with django_assert_max_num_queries(20):
        response = client.get(url)
    ledger = response.context["ledger"]
    assert (ledger["overdue"].count, len(ledger["overdue"].cases)) == (5, 3)
    assert (ledger["retention"].count, len(ledger["retention"].cases)) == (5, 3)
    second = client.get(url, {"overdue_page": 2}).context["ledger"]
    assert len(second["overdue"].cases) == 2
    assert len(second["retention"].cases) == 3
    assert {row["case"].pk for row in second["overdue"].cases}.isdisjoint(
        {row["case"].pk for row in ledger["overdue"].cases}
    )
    html = response.content.decode()
    assert "overdue_page=2" in html and "retention_page=2" in html
