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


def test_the_generated_xlsx_passes_every_check_too(area, users, tmp_path):
    county = area["county"]
    path = write_file(generate_rows(county, 30, today=TODAY), tmp_path / "ledger.xlsx")
    result = import_ledger(path, county=county, user=users["county"], filename=path.name, dry_run=True)
    assert result.problems == [] and result.created == 30


def test_the_memory_of_a_check_is_measured_as_the_processs_peak(area, tmp_path):
    from bench.check_memory import measure

    path = write_file(generate_rows(area["county"], 20, today=TODAY), tmp_path / "ledger.csv")
    figures = measure(str(path), area["county"])
    assert (figures["rows"], figures["problems"]) == (20, 0)
    assert 0 < figures["before_mb"] <= figures["peak_mb"]


def test_the_memory_of_a_check_is_judged_by_its_value():
    from bench.importing import check_memory_results

    memory = {"csv": {"before_mb": 90.0, "peak_mb": 310.0, "seconds": 20.0, "rows": 100_000, "problems": 0}}
    memory["xlsx"] = {**memory["csv"], "peak_mb": 620.0}
    results = {r.metric: r for r in check_memory_results(100_000, memory)}
    csv_result = results["check of a 100,000-row CSV file, peak memory"]
    assert (csv_result.value, csv_result.unit, csv_result.meets, str(csv_result.target)) == (
        310.0,
        "MB",
        True,
        "value at most 500",
    )
    assert results["check of a 100,000-row XLSX file, peak memory"].meets is False
