"""The case sheet (一生一案): what each role's sheet holds of the child, its scope, its log and its next steps."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from students.choices import Placement, VisitMethod, VisitorRole, VisitOutcome
from students.models import IdentifierAccess
from students.services import case_mark_returned, case_record_retention_check, visit_record
from tests.factories import (
    StudentFactory,
    identifiers,
    open_case,
    open_case_full_of_identifiers,
    student_with_identifiers,
)

pytestmark = pytest.mark.django_db

MASKED = ("ministry", "province", "prefecture")
UNMASKED = ("county", "principal", "admin")
TODAY = timezone.localdate


def sheet(case) -> str:
    return reverse("students:case-sheet", args=[case.pk])


def days_ago(n: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=n)


@pytest.fixture
def children(area):
    county = area["county"].code
    return {
        "own": student_with_identifiers(county, 1, name="桑青卓玛", guardian_name="泽仁多吉", village="德格"),
        "sibling": student_with_identifiers(county, 2, name="扎西拉姆", guardian_name="洛桑平措", village="宗科"),
    }


@pytest.fixture
def case(area, children):
    """A case of the home school whose every note, visitor and responsible person names both children."""
    return open_case_full_of_identifiers(
        area["school"], student=children["own"], other=children["sibling"], dropout_date=days_ago(100)
    )


@pytest.mark.parametrize("role", MASKED)
def test_a_masked_roles_sheet_holds_no_identifier_digit_phone_or_full_name(role, client, users, case, children):
    client.force_login(users[role])
    response = client.get(sheet(case))
    assert response.status_code == 200
    text = response.content.decode()
    for label, student in children.items():
        shown = [what for what, value in identifiers(student).items() if value and value in text]
        assert shown == [], f"{role} sees {label}'s {shown} on the sheet"
    # No phone of anyone (the principal's landline among them) and no run of digits like an ID's but the school's
    # code, which is no one's identifier.
    assert "0837-2345678" not in text
    assert not re.search(r"\d{7,}", re.sub(r"<[^>]+>", " ", text).replace(case.school.code, ""))
    # What the case page shows a masked role: the family name, the birth year, the township.
    assert "桑**" in text and "*** (" in text
    assert str(children["own"].birth_date.year) in text
    assert not IdentifierAccess.objects.exists()


@pytest.mark.parametrize("role", MASKED)
def test_a_masked_roles_sheet_says_of_the_child_what_its_case_page_says(role, client, users, case, children):
    client.force_login(users[role])
    page = client.get(reverse("students:case-detail", args=[case.pk])).content.decode()
    paper = client.get(sheet(case)).content.decode()
    shown_on_page = {value.strip() for value in re.findall(r"<dd[^>]*>(.*?)</dd>", page, re.S)}
    for value in re.findall(r"<dd[^>]*>(.*?)</dd>", paper, re.S):
        if "***" in value or "**" in value:
            assert value.strip() in shown_on_page, value


@pytest.mark.parametrize("role", UNMASKED)
def test_roles_that_act_get_the_whole_sheet_and_each_one_is_logged(role, client, users, case, children):
    client.force_login(users[role])
    text = client.get(sheet(case)).content.decode()
    child = children["own"]
    for value in (child.name, child.id_number, child.registry_number, child.guardian_phone, child.address):
        assert value in text
    assert "王校长" in text and "0837-2345678" in text  # the responsible persons
    access = IdentifierAccess.objects.get()
    assert (access.user, access.case, access.purpose, access.detail) == (users[role], case, "case_detail", "case sheet")
    client.get(sheet(case))
    assert IdentifierAccess.objects.count() == 2


@pytest.mark.parametrize(
    ("role", "school", "found"),
    [
        ("principal", "other_school", False),
        ("other_principal", "school", False),
        ("neighbour_county", "school", False),
        ("county", "neighbour_school", False),
        ("province", "far_school", False),
        ("prefecture", "far_school", False),
        ("county", "other_school", True),
        ("ministry", "far_school", True),
    ],
)
def test_a_sheet_outside_the_users_scope_is_not_found(role, school, found, client, users, area):
    case = open_case(area[school], student=StudentFactory(name="某某某"))
    client.force_login(users[role])
    assert client.get(sheet(case)).status_code == (200 if found else 404)
    if not found:
        assert not IdentifierAccess.objects.exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(client, case):
    response = client.get(sheet(case))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_sheet_holds_the_timeline_the_persons_and_the_next_follow_up(client, users, area):
    case = open_case(area["school"], dropout_date=days_ago(60))
    visit_record(
        case=case,
        visit_date=days_ago(40),
        visitors=[{"role": VisitorRole.CLASS_TEACHER, "name": "李老师"}],
        method=VisitMethod.PHONE,
        outcome=VisitOutcome.REFUSED,
        notes="家长不同意",
        next_follow_up=days_ago(5),
    )
    client.force_login(users["county"])
    text = client.get(sheet(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Phone call" in text and "Refused" in text and "李老师" in text and "家长不同意" in text
    assert "Next steps" in text
    assert "No visit in 30 days" in text  # the last visit was 40 days ago
    assert "due now" in text  # the follow-up set for five days ago


def test_the_sheet_of_a_child_back_in_school_lists_the_retention_checks(client, users, area):
    case = open_case(area["school"], dropout_date=days_ago(200))
    case_mark_returned(case=case, returned_on=days_ago(95), placement=Placement.REGULAR_CLASS)
    case_record_retention_check(case=case, checked_on=days_ago(60))
    client.force_login(users["principal"])
    text = client.get(sheet(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "30-day check" in text and "90-day check" in text
    assert "done on" in text  # the 30-day check
    assert "due now" in text  # the 90-day check, due five days ago


def test_the_case_page_links_its_printable_sheet(client, users, case):
    client.force_login(users["ministry"])
    assert sheet(case) in client.get(reverse("students:case-detail", args=[case.pk])).content.decode()


def test_the_sheet_shows_the_ethnicity_in_the_pages_language_only(client, users, area):
    case = open_case(area["school"], student=StudentFactory(ethnicity="04"))
    client.force_login(users["county"])
    chinese = client.get(sheet(case), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "藏族" in chinese and "Tibetan" not in chinese
    english = client.get(sheet(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Tibetan" in english and "藏族" not in english
