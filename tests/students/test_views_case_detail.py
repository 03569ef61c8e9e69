"""A case's page: scope, masking and the identifier-access log, the merged history, and its query count."""

import datetime

import pytest
from django.urls import reverse

from students.choices import Placement, ResponsibleRole, Status, VisitMethod, VisitorRole, VisitOutcome
from students.models import IdentifierAccess
from students.services import case_mark_returned, case_set_responsible_persons, visit_record
from tests.factories import StudentFactory, open_case

pytestmark = pytest.mark.django_db

VISIBLE = {
    "ministry": {"school", "other_school", "neighbour_school", "far_school"},
    "admin": {"school", "other_school", "neighbour_school", "far_school"},
    "province": {"school", "other_school", "neighbour_school"},
    "prefecture": {"school", "other_school", "neighbour_school"},
    "county": {"school", "other_school"},
    "neighbour_county": {"neighbour_school"},
    "principal": {"school"},
    "other_principal": {"other_school"},
}
ALL = {"school", "other_school", "neighbour_school", "far_school"}


@pytest.fixture
def cases(area):
    return {
        key: open_case(area[key], student=StudentFactory(name=f"{key} child", guardian_phone="13912345678"))
        for key in sorted(ALL)
    }


def detail(case) -> str:
    return reverse("students:case-detail", args=[case.pk])


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_opens_its_cases_and_gets_404_for_the_rest(role, client, users, cases):
    client.force_login(users[role])
    for key in sorted(VISIBLE[role]):
        assert client.get(detail(cases[key])).status_code == 200
    for key in sorted(ALL - VISIBLE[role]):
        assert client.get(detail(cases[key])).status_code == 404


def test_a_case_that_does_not_exist_is_404(client, users):
    client.force_login(users["admin"])
    assert client.get(reverse("students:case-detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("role", ["ministry", "province", "prefecture"])
def test_read_only_roles_see_masked_identity_and_no_actions_and_nothing_is_logged(role, client, users, cases):
    client.force_login(users[role])
    case = cases["school"]
    html = client.get(detail(case)).content.decode()
    assert case.student.name not in html
    assert case.student.id_number not in html
    assert case.student.id_number[-4:] not in html
    assert "*** (已登记，校验通过)" in html or "*** (recorded, valid)" in html
    assert "13912345678" not in html
    assert reverse("students:case-visit", args=[case.pk]) not in html
    assert not IdentifierAccess.objects.exists()


@pytest.mark.parametrize("role", ["county", "principal", "admin"])
def test_roles_that_act_see_identifiers_and_each_view_is_logged(role, client, users, cases):
    client.force_login(users[role])
    case = cases["school"]
    html = client.get(detail(case)).content.decode()
    assert case.student.name in html
    assert case.student.id_number in html
    assert "13912345678" in html
    access = IdentifierAccess.objects.get()
    assert (access.user, access.case, access.purpose) == (users[role], case, "case_detail")
    client.get(detail(case))
    assert IdentifierAccess.objects.count() == 2


def test_an_out_of_scope_attempt_writes_no_access_log(client, users, cases):
    client.force_login(users["principal"])
    client.get(detail(cases["other_school"]))
    assert not IdentifierAccess.objects.exists()


def test_history_merges_status_changes_and_visits_newest_first(client, users, area):
    case = open_case(area["school"], dropout_date=datetime.date(2019, 3, 1))
    visit_record(
        case=case,
        visit_date=datetime.date(2019, 4, 10),
        visitors=[
            {"role": VisitorRole.PRINCIPAL, "name": "王校长"},
            {"role": VisitorRole.VILLAGE_CADRE, "name": "扎西"},
        ],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
    )
    visit_record(
        case=case,
        visit_date=datetime.date(2019, 5, 2),
        visitors=[{"role": VisitorRole.CLASS_TEACHER, "name": "李老师"}],
        method=VisitMethod.PHONE,
        outcome=VisitOutcome.AGREED,
    )
    case_mark_returned(case=case, returned_on=datetime.date(2019, 6, 1), placement=Placement.REGULAR_CLASS)
    client.force_login(users["principal"])
    response = client.get(detail(case))
    timeline = response.context["timeline"]
    assert [(entry["date"], entry["kind"]) for entry in timeline] == [
        (datetime.date(2019, 6, 1), "event"),
        (datetime.date(2019, 5, 2), "visit"),
        (datetime.date(2019, 4, 10), "event"),
        (datetime.date(2019, 4, 10), "visit"),
        (datetime.date(2019, 3, 1), "event"),
    ]
    html = response.content.decode()
    assert "Principal 王校长, Village cadre 扎西" in html
    assert "Back into a regular class" in html


def test_returned_case_offers_retention_check_and_relapse_but_no_visit(client, users, area):
    case = open_case(area["school"])
    case_mark_returned(case=case, returned_on=datetime.date(2019, 6, 1), placement=Placement.REGULAR_CLASS)
    client.force_login(users["principal"])
    context = client.get(detail(case)).context
    assert "visit_form" not in context and "return_form" not in context and "close_form" not in context
    # "Retained" comes only from the retention check's own form: after the last check (students.services).
    assert "status_form" not in context
    assert "retention_form" in context and "relapse_form" in context


def test_open_case_offers_visit_return_close_and_only_the_allowed_plain_status_change(client, users, area):
    case = open_case(area["school"])
    client.force_login(users["county"])
    context = client.get(detail(case)).context
    assert {"visit_form", "return_form", "close_form"} <= set(context.keys())
    assert [value for value, _ in context["status_form"].fields["to_status"].widget.choices] == [Status.PERSUADING]
    assert "relapse_form" not in context


def test_responsible_persons_are_listed(client, users, area):
    case = open_case(area["school"])
    case_set_responsible_persons(
        case=case, persons=[{"line": "education", "role": ResponsibleRole.PRINCIPAL, "name": "王校长", "phone": "139"}]
    )
    client.force_login(users["county"])
    assert "王校长" in client.get(detail(case)).content.decode()
    client.force_login(users["ministry"])
    html = client.get(detail(case)).content.decode()
    assert "王**" in html and "王校长" not in html  # each person's role and family name, for masked roles


def test_other_episodes_of_the_child_are_linked_when_visible(client, users, area):
    student = StudentFactory()
    first = open_case(area["school"], student=student, dropout_date=datetime.date(2019, 1, 1))
    case_mark_returned(case=first, returned_on=datetime.date(2019, 3, 1), placement=Placement.REGULAR_CLASS)
    second = open_case(area["school"], student=student, dropout_date=datetime.date(2019, 9, 1))
    client.force_login(users["principal"])
    assert client.get(detail(second)).context["episodes"] == [first]


def test_detail_query_count_does_not_grow_with_history(client, users, area, django_assert_max_num_queries):
    case = open_case(area["school"], dropout_date=datetime.date(2019, 1, 1))
    for day in range(1, 15):
        visit_record(
            case=case,
            visit_date=datetime.date(2019, 1, 1) + datetime.timedelta(days=day),
            visitors=[{"role": VisitorRole.PRINCIPAL, "name": "王"}],
            method=VisitMethod.HOME_VISIT,
            outcome=VisitOutcome.REFUSED,
        )
    case_set_responsible_persons(
        case=case,
        persons=[
            {"line": "education", "role": ResponsibleRole.PRINCIPAL, "name": "王"},
            {"line": "government", "role": ResponsibleRole.VILLAGE_HEAD, "name": "扎西"},
        ],
    )
    client.force_login(users["principal"])
    with django_assert_max_num_queries(13):
        response = client.get(detail(case))
    # The opening, the first visit's status change, 14 visits and the naming of the responsible persons.
    assert len(response.context["timeline"]) == 17


def test_notes_typed_by_colleagues_are_withheld_from_read_only_roles(client, users, area):
    student = StudentFactory(name="桑青卓玛", guardian_name="泽仁多吉", guardian_phone="13908371526")
    case = open_case(area["school"], student=student, dropout_date=datetime.date(2019, 3, 1))
    visit_record(
        case=case,
        visit_date=datetime.date(2019, 4, 10),
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "王校长"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.AGREED,
        notes=f"泽仁多吉 (13908371526) agreed that 桑青卓玛 ({student.id_number}) goes back.",
    )
    client.force_login(users["ministry"])
    html = client.get(detail(case)).content.decode()
    for secret in ("桑青卓玛", "泽仁多吉", "13908371526", student.id_number):
        assert secret not in html
    assert "agreed that" not in html  # a note may name anyone: masked roles learn only that one is recorded
    assert "(a note is recorded; the county and the school on the case can read it)" in html
    assert "王校长" not in html
    client.force_login(users["county"])
    assert "泽仁多吉 (13908371526) agreed that 桑青卓玛" in client.get(detail(case)).content.decode()
