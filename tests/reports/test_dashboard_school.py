"""The school page: the principal's open cases and what each needs next."""

import datetime
import importlib

import pytest
from django.urls import reverse
from django.utils import timezone

from students.access import Scope
from students.choices import Placement, Status, VisitMethod, VisitOutcome
from students.disclosure import Disclosure
from students.services import case_change_status, case_mark_returned, visit_record
from tests.factories import StudentFactory, open_case

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def visit(case, when, next_follow_up=None):
    visit_record(
        case=case,
        visit_date=when,
        visitors=[{"role": "class_teacher", "name": "李老师"}],
        method=VisitMethod.PHONE,
        outcome=VisitOutcome.REFUSED,
        next_follow_up=next_follow_up,
    )
    return case


def school_page(client, user, school):
    client.force_login(user)
    return client.get(reverse("reports:school", args=[school.code]))


def test_each_open_case_says_what_it_needs_next(client, users, area):
    school = area["school"]
    never = open_case(school, dropout_date=days_ago(20))
    follow_up_passed = visit(open_case(school, dropout_date=days_ago(40)), days_ago(20), next_follow_up=days_ago(2))
    next_week = timezone.localdate() + datetime.timedelta(days=7)
    scheduled = visit(open_case(school, dropout_date=days_ago(40)), days_ago(5), next_follow_up=next_week)
    long_ago = visit(open_case(school, dropout_date=days_ago(90)), days_ago(45))
    recent = visit(open_case(school, dropout_date=days_ago(90)), days_ago(3))

    response = school_page(client, users["principal"], school)
    steps = {row["case"].pk: row["next"].code for row in response.context["rows"]}
    assert steps == {
        never.pk: "first_visit",
        follow_up_passed.pk: "follow_up_due",
        scheduled.pk: "scheduled",
        long_ago.pk: "visit_again",
        recent.pk: "keep_going",
    }
    assert response.context["counts"] == {"open": 5, "first_visit": 1, "overdue": 2, "retention": 0}
    html = response.content.decode()
    for case in (never, follow_up_passed, scheduled, long_ago, recent):
        assert reverse("students:case-detail", args=[case.pk]) in html
        assert case.student.name in html


def test_returned_children_due_a_retention_check_are_listed(client, users, area):
    first = open_case(area["school"], dropout_date=days_ago(200))
    case_mark_returned(case=first, returned_on=days_ago(40), placement=Placement.REGULAR_CLASS)
    second = open_case(area["school"], dropout_date=days_ago(200))
    case_mark_returned(case=second, returned_on=days_ago(120), placement=Placement.SEPARATE_CLASS)
    case_change_status(case=second, to_status=Status.RETAINED, effective_date=days_ago(90))

    retention = school_page(client, users["principal"], area["school"]).context["retention"]
    assert [(row["case"].pk, row["next"].code) for row in retention] == [
        (second.pk, "retention_90"),
        (first.pk, "retention_30"),
    ]


def test_principal_sees_only_their_own_schools_cases(client, users, area):
    mine = open_case(area["school"], dropout_date=days_ago(20))
    theirs = open_case(area["other_school"], dropout_date=days_ago(20))
    html = school_page(client, users["principal"], area["school"]).content.decode()
    assert mine.student.name in html
    assert theirs.student.name not in html
    assert school_page(client, users["principal"], area["other_school"]).status_code == 404


def test_county_official_opens_any_school_page_in_the_county(client, users, area):
    case = open_case(area["other_school"], dropout_date=days_ago(20))
    response = school_page(client, users["county"], area["other_school"])
    assert response.status_code == 200
    assert [row["case"].pk for row in response.context["rows"]] == [case.pk]


def test_school_page_queries_do_not_grow_with_cases(client, users, area, django_assert_max_num_queries):
    visit(open_case(area["school"], dropout_date=days_ago(40)), days_ago(20), next_follow_up=days_ago(2))
    client.force_login(users["principal"])
    url = reverse("reports:school", args=[area["school"].code])
    # The session, the user, the school, the counts in one, each section's page, the retention count (the
    # navigation's badge is fetched by the page once shown).
    with django_assert_max_num_queries(7) as small:
        client.get(url)
    for n in range(8):
        case = open_case(area["school"], dropout_date=days_ago(60 + n))
        if n % 2:
            visit(case, days_ago(30))
        returned = open_case(area["school"], dropout_date=days_ago(200))
        case_mark_returned(case=returned, returned_on=days_ago(100), placement=Placement.REGULAR_CLASS)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.context["counts"]["open"] == 9
    assert response.context["counts"]["retention"] == 8


def test_the_page_names_children_as_the_disclosure_rule_lets_the_user_see_them(client, users, area, monkeypatch):
    # Principals see identifiers today; a rule that masked them would mask this page too.
    open_case(area["school"], student=StudentFactory(name="桑青卓玛"), dropout_date=days_ago(20))
    back = open_case(area["school"], student=StudentFactory(name="扎西拉姆"), dropout_date=days_ago(200))
    case_mark_returned(case=back, returned_on=days_ago(40), placement=Placement.REGULAR_CLASS)
    # The package's `school` is the view function, which hides its module from a dotted path.
    module = importlib.import_module("reports.views.school")
    monkeypatch.setattr(module, "disclosure_for", lambda user: Disclosure(Scope(everything=True)))
    response = school_page(client, users["principal"], area["school"])
    assert [row["name"] for row in response.context["rows"]] == ["桑**"]
    assert [row["name"] for row in response.context["retention"]] == ["扎**"]
    html = response.content.decode()
    assert "桑青卓玛" not in html and "扎西拉姆" not in html
