import datetime
import io

import pytest
from django.db import connection

from bench.importing import _reserve_ids, copy_buffers, generate_rows, write_file
from students.importing import import_ledger
from students.models import CaseEvent, DropoutCase, Student

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 30)


def test_generated_file_passes_every_import_check_and_imports_every_row(area, users, tmp_path):
    county = area["county"]
    rows = generate_rows(county, 40, today=TODAY)
    path = write_file(rows, tmp_path / "ledger.csv")
    result = import_ledger(path, county=county, user=users["county"], filename=path.name)
    assert result.problems == []
    assert result.created == 40
    assert DropoutCase.objects.filter(county=county).count() == 40


def test_generated_children_are_distinct_and_new_to_the_ledger(area):
    county = area["county"]
    first = generate_rows(county, 25, today=TODAY)
    Student.objects.create(
        name="已有", gender=first[0]["gender"], birth_date=first[0]["birth_date"], id_number=first[0]["id_number"]
    )
    rows = generate_rows(county, 25, today=TODAY)
    ids = [row["id_number"] for row in rows]
    assert len(set(ids)) == 25
    assert first[0]["id_number"] not in ids
    assert all(row["dropout_date"] <= TODAY.isoformat() for row in rows)


def test_copy_baseline_loads_the_same_children_cases_and_first_events(area):
    county = area["county"]
    rows = generate_rows(county, 30, today=TODAY)
    with connection.cursor() as cursor:
        students = _reserve_ids(cursor, "students_student", 30)
        cases = _reserve_ids(cursor, "students_dropoutcase", 30)
        for target, text in copy_buffers(rows, county, students, cases).items():
            cursor.copy_expert(f"COPY {target} FROM STDIN", io.StringIO(text))
    loaded = DropoutCase.objects.filter(county=county).select_related("student")
    assert loaded.count() == 30
    assert {case.student.id_number for case in loaded} == {row["id_number"] for row in rows}
    assert CaseEvent.objects.filter(case__county=county).count() == 30
    assert all(case.reason_detail == "" and case.struck_off_on is None for case in loaded)
