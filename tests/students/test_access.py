"""Each role sees exactly its own area: an in-scope and an out-of-scope object for every role."""

import pytest
from django.http import Http404

from students.access import (
    cases_editable_by,
    cases_visible_to,
    get_case_for_user,
    schools_visible_to,
    scope_for,
    students_visible_to,
    visits_visible_to,
)
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(area):
    return {key: open_case(area[key]) for key in ("school", "other_school", "neighbour_school", "far_school")}


# For each role: which of the four cases it may see.
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
WRITABLE = {
    "ministry": set(),
    "province": set(),
    "prefecture": set(),
    "admin": VISIBLE["admin"],
    "county": VISIBLE["county"],
    "neighbour_county": VISIBLE["neighbour_county"],
    "principal": VISIBLE["principal"],
    "other_principal": VISIBLE["other_principal"],
}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_sees_only_its_own_cases(role, users, cases):
    visible = set(cases_visible_to(users[role]).values_list("pk", flat=True))
    assert visible == {cases[key].pk for key in VISIBLE[role]}


@pytest.mark.parametrize("role", sorted(WRITABLE))
def test_each_role_changes_only_its_own_cases(role, users, cases):
    editable = set(cases_editable_by(users[role]).values_list("pk", flat=True))
    assert editable == {cases[key].pk for key in WRITABLE[role]}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_out_of_scope_case_is_404(role, users, cases):
    for key, case in cases.items():
        if key in VISIBLE[role]:
            assert get_case_for_user(users[role], case.pk) == case
        else:
            with pytest.raises(Http404):
                get_case_for_user(users[role], case.pk)


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_students_follow_the_cases(role, users, cases):
    visible = set(students_visible_to(users[role]).values_list("pk", flat=True))
    assert visible == {cases[key].student_id for key in VISIBLE[role]}


def test_principal_sees_only_own_school(users, area):
    assert list(schools_visible_to(users["principal"])) == [area["school"]]


def test_county_official_sees_schools_of_own_county(users, area):
    assert set(schools_visible_to(users["county"])) == {area["school"], area["other_school"]}


def test_visits_are_scoped_like_cases(users, cases):
    from tests.students.test_services import visit

    visit(cases["school"])
    visit(cases["far_school"])
    assert visits_visible_to(users["principal"]).count() == 1
    assert visits_visible_to(users["neighbour_county"]).count() == 0
    assert visits_visible_to(users["ministry"]).count() == 2


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("ministry", False),
        ("province", False),
        ("prefecture", False),
        ("county", True),
        ("principal", True),
        ("admin", True),
    ],
)
def test_only_those_who_act_see_identifiers(role, sees, users):
    assert scope_for(users[role]).sees_identifiers is sees


def test_anonymous_and_inactive_users_see_nothing(users, cases):
    from django.contrib.auth.models import AnonymousUser

    assert not cases_visible_to(AnonymousUser()).exists()
    users["ministry"].is_active = False
    assert not cases_visible_to(users["ministry"]).exists()
