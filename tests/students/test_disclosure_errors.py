"""Errors about a child outside the user's scope say only what the user needs to act: another county's name at
most, never its dates, its school or the identifiers it holds for the child (students.disclosure)."""

import datetime
import json

import pytest
from django.urls import reverse

from students.choices import Placement
from students.importing import import_ledger
from students.models import DropoutCase, JobKind, JobStatus, LedgerJob, Student
from students.services import case_mark_returned
from tests.factories import StudentFactory, make_id_number, open_case
from tests.students.ledger_files import ledger_row, write_csv

pytestmark = pytest.mark.django_db
D = datetime.date

OTHER_DROPOUT = D(2018, 11, 23)  # the other county's dropout date: a date no row of the files gives
OTHER_ID = make_id_number("513231", D(2008, 7, 7), 402)
OTHER_REGISTRY = "J" + "4" * 18


@pytest.fixture
def elsewhere(area):
    """A child on the neighbour county's ledger, with an open case and both identifiers recorded."""
    student = StudentFactory(name="卓玛", id_number=OTHER_ID, registry_number=OTHER_REGISTRY, birth_date=D(2008, 7, 7))
    open_case(area["neighbour_school"], student=student, dropout_date=OTHER_DROPOUT)
    return student


def problems_text(result) -> str:
    """Everything the problem report would show: rows, columns, values and messages."""
    return json.dumps([problem.as_dict() for problem in result.problems], ensure_ascii=False)


# The import ------------------------------------------------------------------------------------------


def test_a_registry_number_held_with_another_id_number_does_not_show_that_id_number(area, elsewhere, tmp_path):
    typed_id = make_id_number("513230", D(2009, 6, 1), 12)
    row = ledger_row(area["school"], 1, id_number=typed_id, registry_number=OTHER_REGISTRY)
    result = import_ledger(write_csv(tmp_path / "registry.csv", [row]), county=area["county"])
    assert [problem.row for problem in result.problems] == [2]
    assert "different ID number" in result.problems[0].message
    report = problems_text(result)
    assert OTHER_ID not in report
    assert OTHER_ID[-6:] not in report  # not a part of it either
    assert "卓玛" not in report and "Neighbour" not in report


def test_an_id_number_held_with_another_registry_number_does_not_show_that_registry_number(area, elsewhere, tmp_path):
    row = ledger_row(area["school"], 2, id_number=OTHER_ID, registry_number="J" + "5" * 18, birth_date="2008-07-07")
    result = import_ledger(write_csv(tmp_path / "id.csv", [row]), county=area["county"])
    assert [problem.row for problem in result.problems] == [2]
    assert "different registry number" in result.problems[0].message
    report = problems_text(result)
    assert OTHER_REGISTRY not in report
    assert "卓玛" not in report and "Neighbour" not in report


def test_an_open_case_in_another_county_is_reported_with_the_county_only(area, elsewhere, tmp_path):
    row = ledger_row(area["school"], 3, id_number=OTHER_ID, name="卓玛", dropout_date="2019-06-01")
    result = import_ledger(write_csv(tmp_path / "open.csv", [row]), county=area["county"])
    message = result.problems[0].message
    assert message == (
        "This child already has an open case in another county (Neighbour county); "
        "ask that county to hand the case over."
    )
    report = problems_text(result)
    assert OTHER_DROPOUT.isoformat() not in report and "2018" not in report
    assert "Neighbour school" not in report
    assert DropoutCase.objects.count() == 1


def test_a_row_known_by_registry_number_only_does_not_show_the_id_number_the_ledger_holds(area, elsewhere, tmp_path):
    row = ledger_row(
        area["school"], 4, id_number="", registry_number=OTHER_REGISTRY, birth_date="2008-07-07", gender="女"
    )
    result = import_ledger(write_csv(tmp_path / "registry-only.csv", [row]), county=area["county"])
    assert "another county (Neighbour county)" in result.problems[0].message
    assert result.problems[0].value == OTHER_REGISTRY  # what the file gave
    assert OTHER_ID not in problems_text(result)


def test_a_case_on_another_countys_ledger_is_reported_without_its_date(area, tmp_path):
    student = StudentFactory()
    open_case(area["neighbour_school"], student=student, dropout_date=OTHER_DROPOUT)
    row = ledger_row(area["school"], 5, id_number=student.id_number, name=student.name)
    row["dropout_date"] = OTHER_DROPOUT.isoformat()
    result = import_ledger(write_csv(tmp_path / "theirs.csv", [row]), county=area["county"])
    message = result.problems[0].message
    assert "another county (Neighbour county)" in message
    assert OTHER_DROPOUT.isoformat() not in message and "2018" not in message
    assert "Neighbour school" not in message


# The new-case form ---------------------------------------------------------------------------------------


def form_data(school, **overrides) -> dict:
    data = {
        "school": school.code,
        "grade": 7,
        "dropout_date": "2019-03-01",
        "reason": "work",
        "name": "扎西",
        "gender": "M",
        "ethnicity": "04",
        "birth_date": "2009-06-01",
        "id_number": make_id_number("513230", D(2009, 6, 1), 21),
        "registry_number": "",
    }
    data.update(overrides)
    return data


def test_the_new_case_form_tells_where_the_open_case_is_and_what_to_do_and_nothing_more(client, users, area):
    student = StudentFactory(name="卓玛", id_number=OTHER_ID, registry_number=OTHER_REGISTRY, birth_date=D(2008, 7, 7))
    open_case(area["far_school"], student=student, dropout_date=OTHER_DROPOUT)
    client.force_login(users["principal"])
    response = client.post(
        reverse("students:case-new"), form_data(area["school"], id_number=OTHER_ID, birth_date="2008-07-07", gender="F")
    )
    assert response.context["form"].non_field_errors() == [
        "This child already has an open case in another county (Far county); ask that county to hand the case over."
    ]
    page = response.content.decode()
    assert OTHER_DROPOUT.isoformat() not in page and "Far school" not in page
    assert "卓玛" not in page and OTHER_REGISTRY not in page


def test_a_registry_number_of_another_child_does_not_open_a_case_on_that_child(client, users, area):
    """The registry number typed belongs, on the ledger, to a child with another ID number: refused, not a case
    opened on that other child (whose identifiers the case page would then show)."""
    student = StudentFactory(name="卓玛", id_number=OTHER_ID, registry_number=OTHER_REGISTRY, birth_date=D(2008, 7, 7))
    earlier = open_case(area["far_school"], student=student, dropout_date=OTHER_DROPOUT)
    case_mark_returned(case=earlier, returned_on=D(2019, 1, 15), placement=Placement.REGULAR_CLASS)
    client.force_login(users["principal"])
    response = client.post(reverse("students:case-new"), form_data(area["school"], registry_number=OTHER_REGISTRY))
    assert response.status_code == 200
    assert response.context["form"].errors["registry_number"] == [
        "The ledger holds this registry number with a different ID number."
    ]
    page = response.content.decode()
    assert OTHER_ID not in page and "卓玛" not in page
    assert DropoutCase.objects.count() == 1 and Student.objects.count() == 1


# Job errors ------------------------------------------------------------------------------------------------


def test_a_jobs_error_shows_no_identifier_to_a_masked_user(client, users, area):
    job = LedgerJob.objects.create(
        kind=JobKind.EXPORT,
        requested_by=users["province"],
        status=JobStatus.FAILED,
        error=f"duplicate key value (id_number)=({OTHER_ID}) for 卓玛, phone 13908370001",
    )
    client.force_login(users["province"])
    data = client.get(reverse("students:job-status", args=[job.pk])).json()
    assert OTHER_ID not in data["error"] and "13908370001" not in data["error"]
    assert "duplicate key value" in data["error"]
    page = client.get(reverse("students:job-detail", args=[job.pk])).content.decode()
    assert "duplicate key value" in page
    assert OTHER_ID not in page and "13908370001" not in page


def test_a_jobs_error_is_shown_whole_to_a_county_official(client, users, area):
    job = LedgerJob.objects.create(
        kind=JobKind.IMPORT,
        requested_by=users["county"],
        county=area["county"],
        status=JobStatus.FAILED,
        error=f"duplicate key value (id_number)=({OTHER_ID})",
    )
    client.force_login(users["county"])
    assert OTHER_ID in client.get(reverse("students:job-status", args=[job.pk])).json()["error"]
