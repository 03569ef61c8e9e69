"""Import problem reports (the job's XLSX and CSV downloads, `import_ledger --report`): the uploaded cells they
repeat never run as formulas, and each download of full identifiers is logged."""

import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from students.models import DisclosurePurpose, IdentifierAccess, LedgerJob
from tests.students.ledger_files import ledger_row, write_csv
from tests.students.test_import_jobs import upload

pytestmark = pytest.mark.django_db

# What a spreadsheet reads as the start of a formula, and the characters OWASP adds: tab and carriage return.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def formula_file(area, tmp_path):
    """Two rows whose bad cells are formulas: each comes back in the report, as value and in messages."""
    rows = [
        ledger_row(
            area["school"],
            1,
            grade="=1+1",
            reason="@SUM(A1)",
            dropout_date="-1+1",
            status="\t=2+3",
            left_behind="\r=3+4",
        ),
        ledger_row(area["school"], 2, school_code="+cmd|' /C calc'!A0"),
        ledger_row(area["school"], 3, school_code="x;=HYPERLINK(1)"),
        ledger_row(area["school"], 4),
    ]
    return write_csv(tmp_path / "formulas.csv", rows)


def checked_job(client, area, users, path, django_capture_on_commit_callbacks) -> LedgerJob:
    client.force_login(users["county"])
    upload(client, area["county"], path, django_capture_on_commit_callbacks)
    job = LedgerJob.objects.get()
    assert job.counts["bad_rows"] == 3
    return job


def assert_inert(values) -> None:
    for value in values:
        if isinstance(value, str):
            assert not value.startswith(DANGEROUS), repr(value)


def test_the_csv_problem_report_neutralises_formulas(
    client, area, users, formula_file, django_capture_on_commit_callbacks
):
    job = checked_job(client, area, users, formula_file, django_capture_on_commit_callbacks)
    response = client.get(reverse("students:job-problems", args=[job.pk, "csv"]))
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    values = {row[2] for row in rows[1:]}
    assert {"'=1+1", "'@SUM(A1)", "'-1+1", "'\t=2+3", "'\r=3+4", "'+cmd|' /C calc'!A0"} <= values
    assert_inert(cell for row in rows for cell in row)
    # Quoted, so a spreadsheet that splits on ";" does not start a cell with the "=" after it.
    assert '"x;=HYPERLINK(1)"' in content


def test_the_xlsx_problem_report_writes_formulas_as_text(
    client, area, users, formula_file, django_capture_on_commit_callbacks
):
    job = checked_job(client, area, users, formula_file, django_capture_on_commit_callbacks)
    response = client.get(reverse("students:job-problems", args=[job.pk, "xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert_inert(cell.value for cell in cells)
    values = {row[2].value for row in sheet.iter_rows(min_row=2)}
    assert {"'=1+1", "'@SUM(A1)", "'-1+1", "'\t=2+3", "'+cmd|' /C calc'!A0"} <= values
    formula = next(row[2] for row in sheet.iter_rows(min_row=2) if row[2].value == "'=1+1")
    assert formula.data_type == "s"


def test_each_problem_report_download_is_logged_with_the_rows_it_shows(
    client, area, users, formula_file, django_capture_on_commit_callbacks
):
    job = checked_job(client, area, users, formula_file, django_capture_on_commit_callbacks)
    client.get(reverse("students:job-problems", args=[job.pk, "xlsx"]))
    client.get(reverse("students:job-problems", args=[job.pk, "csv"]))
    entries = list(IdentifierAccess.objects.order_by("pk"))
    assert [(e.user, e.purpose, e.children, e.detail) for e in entries] == [
        (users["county"], DisclosurePurpose.PROBLEM_REPORT, 3, f"job {job.pk}"),
        (users["county"], DisclosurePurpose.PROBLEM_REPORT, 3, f"job {job.pk}"),
    ]


def test_an_administrators_download_of_someone_elses_report_is_logged_as_theirs(
    client, area, users, formula_file, django_capture_on_commit_callbacks
):
    job = checked_job(client, area, users, formula_file, django_capture_on_commit_callbacks)
    client.force_login(users["admin"])
    client.get(reverse("students:job-problems", args=[job.pk, "csv"]))
    assert IdentifierAccess.objects.get().user == users["admin"]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_commands_report_neutralises_formulas(area, formula_file, tmp_path, suffix):
    report = tmp_path / f"report.{suffix}"
    with pytest.raises(CommandError):
        call_command("import_ledger", str(formula_file), "--county", area["county"].code, "--report", str(report))
    if suffix == "csv":
        rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
        values = [cell for row in rows for cell in row]
    else:
        sheet = openpyxl.load_workbook(report).active
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert all(cell.data_type != "f" for cell in cells)
        values = [cell.value for cell in cells]
    assert "'=1+1" in values and "'\t=2+3" in values
    assert_inert(values)


def test_the_job_page_showing_the_problems_is_logged_too(
    client, area, users, formula_file, django_capture_on_commit_callbacks
):
    job = checked_job(client, area, users, formula_file, django_capture_on_commit_callbacks)
    IdentifierAccess.objects.all().delete()
    client.get(reverse("students:job-detail", args=[job.pk]))
    entry = IdentifierAccess.objects.get()
    assert (entry.user, entry.purpose, entry.children) == (users["county"], DisclosurePurpose.PROBLEM_REPORT, 3)
