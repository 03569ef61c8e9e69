import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from counties.models import Role
from students.models import IdentityChange, LedgerCorrection
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


def admin_form_data(response) -> dict:
    """What the admin's change form would post back as it stands."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = field.widget.format_value(value)
    return {name: value for name, value in data.items() if value is not None}


def test_a_correction_saved_in_the_admin_is_recorded_for_the_figures_and_names_who_made_it(area):
    case = open_case(
        area["school"], student=StudentFactory(registered_poor=False), dropout_date=datetime.date(2019, 4, 1)
    )
    administrator = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(administrator)
    url = reverse("admin:students_student_change", args=[case.student.pk])
    data = {**admin_form_data(client.get(url)), "registered_poor": "on"}
    LedgerCorrection.objects.all().delete()  # the one the case's opening recorded

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    case.student.refresh_from_db()
    assert case.student.registered_poor
    correction = LedgerCorrection.objects.get()
    assert (correction.county, correction.first_day) == (area["county"], case.dropout_date)
    change = IdentityChange.objects.get(student=case.student)
    assert change.changed_by == administrator
    assert "registered_poor" in str(change.changes)
