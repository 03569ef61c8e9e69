import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from counties.models import Role
from students.services import student_update
from tests.factories import StudentFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
    return client


def test_student_update_runs_the_identity_checks():
    student = StudentFactory()
    with pytest.raises(ValidationError) as error:
        student_update(student=student, changes={"birth_date": datetime.date(2009, 1, 1)})
    assert "birth_date" in error.value.message_dict
    student_update(student=student, changes={"name": "桑青卓玛"})
    student.refresh_from_db()
    assert student.name == "桑青卓玛"


def test_admin_refuses_a_bad_id_number_on_the_field(admin_client):
    student = StudentFactory()
    url = reverse("admin:students_student_change", args=[student.pk])
    data = {
        "name": student.name,
        "gender": student.gender,
        "ethnicity": "01",
        "birth_date": "2008-03-01",
        "id_number": "110105194912310021",
        "left_behind": "",
        "disability": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "should be X" in response.content.decode()
    student.refresh_from_db()
    assert student.id_number != "110105194912310021"


def test_cases_are_read_only_in_the_admin(admin_client, area):
    case = open_case(area["school"])
    response = admin_client.get(reverse("admin:students_dropoutcase_change", args=[case.pk]))
    assert response.status_code == 200
    assert 'name="grade"' not in response.content.decode()
    assert admin_client.get(reverse("admin:students_dropoutcase_add")).status_code == 403
