"""The admin and children's data: only superusers and administrators see it, and their views are logged."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from counties.models import Role
from students.models import IdentifierAccess, JobKind, LedgerJob
from tests.factories import StudentFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

CHILD_MODELS = ["student", "dropoutcase", "ledgerjob", "identifieraccess"]


def staff(role=Role.MINISTRY, **fields):
    """A staff account given every view permission there is, as a careless grant would."""
    user = UserFactory(role=role, is_staff=True, **fields)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def case(area):
    student = StudentFactory(name="桑青卓玛", guardian_name="泽仁多吉", guardian_phone="13908371526")
    return open_case(area["school"], student=student)


@pytest.fixture
def records(case, users):
    job = LedgerJob.objects.create(kind=JobKind.IMPORT, requested_by=users["county"], county=case.county)
    access = IdentifierAccess.objects.create(user=users["county"], case=case)
    return {"student": case.student, "dropoutcase": case, "ledgerjob": job, "identifieraccess": access}


def pages(records):
    for model in CHILD_MODELS:
        yield reverse(f"admin:students_{model}_changelist")
        yield reverse(f"admin:students_{model}_change", args=[records[model].pk])
        yield reverse(f"admin:students_{model}_history", args=[records[model].pk])


def refused(response) -> bool:
    """The admin is for administrators (counties.roles): anyone else is sent to its sign-in page."""
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", [Role.MINISTRY, Role.PROVINCE, Role.COUNTY])
def test_staff_with_view_permissions_but_not_an_administrator_see_no_child_in_the_admin(client, area, records, role):
    division = {Role.MINISTRY: None, Role.PROVINCE: area["province"], Role.COUNTY: area["county"]}[role]
    client.force_login(staff(role, division=division))
    for url in pages(records):
        response = client.get(url)
        assert refused(response), url
        assert "桑青卓玛" not in response.content.decode()
    # Nor anything else of the site: the staff flag and the permissions do not open it.
    assert refused(client.get(reverse("admin:index")))
    assert refused(client.get(reverse("admin:students_closurereason_changelist")))
    assert not IdentifierAccess.objects.exclude(pk=records["identifieraccess"].pk).exists()


def test_a_staff_searcher_learns_nothing_either(client, records):
    client.force_login(staff())
    student = records["student"]
    url = reverse("admin:students_student_changelist")
    assert refused(client.get(url, {"q": student.id_number}))
    assert refused(client.get(url, {"q": "no such child"}))
    # The autocomplete searches any admin's records by its search fields, for whoever may view them.
    lookup = {"app_label": "students", "model_name": "dropoutcase", "field_name": "student", "term": "桑"}
    response = client.get(reverse("admin:autocomplete"), lookup)
    assert refused(response)
    assert "桑青卓玛" not in response.content.decode()


def test_an_administrator_who_is_staff_sees_children_with_the_permissions_given(client, records):
    administrator = staff(Role.ADMIN)
    client.force_login(administrator)
    for url in pages(records):
        assert client.get(url).status_code == 200, url
    # Permissions still count: without them an administrator sees nothing either.
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True))
    assert client.get(reverse("admin:students_student_changelist")).status_code == 403


def test_each_list_page_of_children_is_logged_with_how_many_were_shown(client, area, records):
    open_case(area["far_school"])
    superuser = UserFactory(role=Role.MINISTRY, is_staff=True, is_superuser=True)
    client.force_login(superuser)
    logged = IdentifierAccess.objects.filter(user=superuser)

    response = client.get(reverse("admin:students_student_changelist"))
    assert response.status_code == 200 and "桑青卓玛" in response.content.decode()
    entry = logged.get()
    assert (entry.purpose, entry.children, entry.case) == ("admin", 2, None)
    assert entry.detail == reverse("admin:students_student_changelist")

    client.get(reverse("admin:students_dropoutcase_changelist"), {"status": "dropped_out"})
    entry = logged.latest("pk")
    assert (entry.purpose, entry.children) == ("admin", 2)
    assert entry.detail == reverse("admin:students_dropoutcase_changelist") + "?status=dropped_out"


def test_a_search_is_logged_without_what_was_searched(client, records):
    administrator = staff(Role.ADMIN)
    client.force_login(administrator)
    student = records["student"]
    for term in (student.id_number, student.name):
        response = client.get(reverse("admin:students_student_changelist"), {"q": term})
        assert student.name in response.content.decode()
        entry = IdentifierAccess.objects.filter(user=administrator).latest("pk")
        assert entry.children == 1
        assert entry.detail == reverse("admin:students_student_changelist") + "?q=***"


def test_each_record_shown_is_logged_and_a_case_names_its_case(client, records):
    administrator = staff(Role.ADMIN)
    client.force_login(administrator)
    case, student = records["dropoutcase"], records["student"]
    html = client.get(reverse("admin:students_dropoutcase_change", args=[case.pk])).content.decode()
    assert "桑青卓玛" in html
    entry = IdentifierAccess.objects.filter(user=administrator).get()
    assert (entry.purpose, entry.case, entry.children) == ("admin", case, 1)

    client.get(reverse("admin:students_student_change", args=[student.pk]))
    entry = IdentifierAccess.objects.filter(user=administrator).latest("pk")
    assert (entry.purpose, entry.case, entry.children) == ("admin", None, 1)
    assert entry.detail == reverse("admin:students_student_change", args=[student.pk])
