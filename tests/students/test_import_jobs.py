"""The import screens, the job that runs an import, and the console command."""

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse
from django.utils import timezone

from students import importing, tasks
from students.models import DropoutCase, JobKind, JobStatus, LedgerJob
from tests.students.ledger_files import ledger_row, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, county, path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("students:import-upload", args=[county.code]),
            {"file": SimpleUploadedFile(path.name, path.read_bytes())},
        )


def test_a_county_official_uploads_a_file_and_its_check_reports_what_would_change(
    client, area, users, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(users["county"])
    path = write_csv(tmp_path / "ledger.csv", [ledger_row(area["school"], n) for n in range(3)])
    response = upload(client, area["county"], path, django_capture_on_commit_callbacks)
    job = LedgerJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("students:job-detail", args=[job.pk])
    assert (job.kind, job.status, job.progress, job.requested_by) == (
        JobKind.IMPORT,
        JobStatus.SUCCEEDED,
        100,
        users["county"],
    )
    assert job.params["dry_run"] is True
    assert (job.counts["created"], job.counts["problems"]) == (3, 0)
    assert DropoutCase.objects.count() == 0  # a check writes nothing

    page = client.get(response.url)
    assert page.status_code == 200
    assert reverse("students:import-confirm", args=[job.pk]) in page.content.decode()


def test_after_a_clean_check_the_import_writes_all_rows(
    client, area, users, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(users["county"])
    path = write_csv(tmp_path / "ledger.csv", [ledger_row(area["school"], n) for n in range(3)])
    upload(client, area["county"], path, django_capture_on_commit_callbacks)
    checked = LedgerJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("students:import-confirm", args=[checked.pk]))
    job = LedgerJob.objects.latest("pk")
    assert response.url == reverse("students:job-detail", args=[job.pk])
    assert job.params["dry_run"] is False and job.status == JobStatus.SUCCEEDED
    assert job.counts["created"] == 3
    assert DropoutCase.objects.filter(county=area["county"]).count() == 3


def test_a_file_with_problems_cannot_be_confirmed_and_its_problems_download(
    client, area, users, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(users["county"])
    rows = [ledger_row(area["school"], 1), ledger_row(area["school"], 2, school_code="9999999999")]
    upload(client, area["county"], write_csv(tmp_path / "bad.csv", rows), django_capture_on_commit_callbacks)
    job = LedgerJob.objects.get()
    assert job.counts["bad_rows"] == 1
    page = client.get(reverse("students:job-detail", args=[job.pk])).content.decode()
    assert "9999999999" in page
    assert reverse("students:import-confirm", args=[job.pk]) not in page
    assert client.post(reverse("students:import-confirm", args=[job.pk])).status_code == 403

    report = client.get(reverse("students:job-problems", args=[job.pk, "xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Row", "Column", "Value", "Problem")
    assert rows[1][:3] == (3, "学校标识码", "9999999999")
    csv_report = client.get(reverse("students:job-problems", args=[job.pk, "csv"]))
    assert "9999999999" in b"".join(csv_report.streaming_content).decode("utf-8-sig")


def test_a_county_official_cannot_import_into_another_county(client, area, users):
    client.force_login(users["county"])
    url = reverse("students:import-upload", args=[area["neighbour"].code])
    assert client.get(url).status_code == 404
    assert client.post(url, {"file": SimpleUploadedFile("x.csv", b"a,b")}).status_code == 404
    assert LedgerJob.objects.count() == 0


@pytest.mark.parametrize("persona", ["ministry", "province", "principal"])
def test_read_only_roles_and_principals_cannot_import(client, area, users, persona):
    client.force_login(users[persona])
    assert client.get(reverse("students:import-upload", args=[area["county"].code])).status_code == 403


def test_an_administrator_may_import_into_any_county(client, area, users, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(users["admin"])
    path = write_csv(tmp_path / "far.csv", [ledger_row(area["far_school"], 1)])
    upload(client, area["far"], path, django_capture_on_commit_callbacks)
    assert LedgerJob.objects.get().counts["created"] == 1


def test_only_the_requester_and_administrators_see_a_job(client, area, users):
    job = LedgerJob.objects.create(kind=JobKind.IMPORT, requested_by=users["county"], county=area["county"])
    for persona, expected in [("county", 200), ("admin", 200), ("neighbour_county", 404), ("ministry", 404)]:
        client.force_login(users[persona])
        assert client.get(reverse("students:job-status", args=[job.pk])).status_code == expected, persona
        assert client.get(reverse("students:job-detail", args=[job.pk])).status_code == expected, persona


def test_the_status_endpoint_reports_progress_as_json(client, area, users):
    job = LedgerJob.objects.create(
        kind=JobKind.IMPORT, requested_by=users["county"], county=area["county"], status=JobStatus.RUNNING, progress=42
    )
    client.force_login(users["county"])
    data = client.get(reverse("students:job-status", args=[job.pk])).json()
    assert (data["status"], data["progress"], data["finished"]) == ("running", 42, False)


def test_a_job_whose_worker_died_is_reported_failed_not_running_for_ever(client, area, users):
    long_ago = timezone.now() - tasks.stopped_after() - datetime.timedelta(minutes=1)
    dead = LedgerJob.objects.create(
        kind=JobKind.IMPORT, requested_by=users["county"], county=area["county"], status=JobStatus.RUNNING
    )
    LedgerJob.objects.filter(pk=dead.pk).update(started_at=long_ago, progress=40)
    busy = LedgerJob.objects.create(
        kind=JobKind.IMPORT,
        requested_by=users["county"],
        county=area["county"],
        status=JobStatus.RUNNING,
        started_at=timezone.now() - datetime.timedelta(minutes=30),
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    client.force_login(users["county"])

    data = client.get(reverse("students:job-status", args=[dead.pk])).json()
    assert (data["status"], data["finished"]) == ("failed", True)
    assert "Stopped before finishing: its worker was stopped or lost. Start it again." in data["error"]
    assert client.get(reverse("students:job-status", args=[busy.pk])).json()["status"] == "running"
    page = client.get(reverse("students:job-detail", args=[dead.pk])).content.decode()
    assert "Stopped before finishing" in page


def test_a_running_job_records_when_it_started(area, users, tmp_path):
    job = LedgerJob.objects.create(
        kind=JobKind.IMPORT,
        requested_by=users["county"],
        county=area["county"],
        params={"dry_run": True, "language": "en", "filename": "ledger.csv"},
    )
    job.input_file.save(
        "ledger.csv", io.BytesIO(write_csv(tmp_path / "ledger.csv", [ledger_row(area["school"], 1)]).read_bytes())
    )
    tasks.run_ledger_job(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.started_at is not None and job.started_at <= job.finished_at


@pytest.mark.django_db(transaction=True)
def test_the_import_task_updates_the_progress_as_rows_are_read_and_written(area, users, tmp_path, monkeypatch):
    """Progress is written through a connection of its own, which a poller sees while the import's transaction
    is still open: the job must be committed for it (transaction=True)."""
    from students import import_rows, services

    rows = [ledger_row(area["school"], n) for n in range(50)]
    job = LedgerJob.objects.create(
        kind=JobKind.IMPORT,
        requested_by=users["county"],
        county=area["county"],
        params={"dry_run": False, "language": "en", "filename": "ledger.csv"},
    )
    job.input_file.save("ledger.csv", io.BytesIO(write_csv(tmp_path / "ledger.csv", rows).read_bytes()))
    seen = []
    write_progress = tasks._ProgressWriter.write
    poller = connections.create_connection(DEFAULT_DB_ALIAS)  # reads as the job's page would, meanwhile

    def recording(writer, percent):
        write_progress(writer, percent)
        with poller.cursor() as cursor:
            cursor.execute("SELECT progress FROM students_ledgerjob WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(tasks._ProgressWriter, "write", recording)
    monkeypatch.setattr(tasks, "PROGRESS_INTERVAL", 0)
    monkeypatch.setattr(import_rows, "PROGRESS_EVERY", 10)
    monkeypatch.setattr(services._WriteProgress, "EVERY", 10)
    try:
        tasks.run_ledger_job(job.pk)
    finally:
        poller.close()
    job.refresh_from_db()
    # Reading is the first half of an import's rows, writing the second: the bar moves through both.
    assert seen == sorted(seen)
    reading = [percent for percent in seen if percent < 50]
    writing = [percent for percent in seen if 50 <= percent < 99]
    assert len(reading) >= 4 and len(writing) >= 4, seen
    assert seen[-1] == 99
    assert (job.status, job.progress, job.counts["created"]) == (JobStatus.SUCCEEDED, 100, 50)


def test_a_job_that_raises_is_marked_failed_with_the_error(area, users, monkeypatch):
    job = LedgerJob.objects.create(
        kind=JobKind.IMPORT, requested_by=users["county"], county=area["county"], params={"dry_run": True}
    )
    job.input_file.save("gone.csv", io.BytesIO(b"x"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "import_ledger", broken)
    tasks.run_ledger_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, "disk full")


def test_the_template_downloads_with_chinese_headers_and_an_english_variant(client, users):
    client.force_login(users["county"])
    chinese = client.get(reverse("students:import-template"))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chinese.streaming_content))).active
    headers = [cell.value for cell in sheet[1]]
    assert headers[:5] == ["姓名", "性别", "民族", "出生日期", "身份证号"]
    english = client.get(reverse("students:import-template") + "?headers=en")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(english.streaming_content))).active
    assert [cell.value for cell in sheet[1]][:2] == ["Name", "Gender"]


def test_the_filled_template_imports(area, tmp_path, client, users):
    client.force_login(users["county"])
    content = b"".join(client.get(reverse("students:import-template")).streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    row = ledger_row(area["school"], 9)
    headers = [cell.value for cell in sheet[1]]
    values = {"姓名": row["name"], "身份证号": row["id_number"], "学校标识码": row["school_code"], "年级": 7}
    values.update({"辍学日期": "2019-04-01", "辍学原因": "因贫"})
    for column, header in enumerate(headers, start=1):
        if header in values:
            sheet.cell(row=2, column=column, value=values[header])
    workbook.save(tmp_path / "filled.xlsx")
    result = importing.import_ledger(tmp_path / "filled.xlsx", county=area["county"])
    assert result.ok, result.problems
    assert result.created == 1


def test_the_command_checks_then_imports_with_a_progress_display(area, tmp_path, capsys):
    path = write_csv(tmp_path / "ledger.csv", [ledger_row(area["school"], n) for n in range(4)])
    call_command("import_ledger", str(path), "--county", area["county"].code, "--dry-run")
    out = capsys.readouterr()
    assert "4 cases would be created" in out.out
    assert "100%" in out.err and "4 / 4 rows" in out.err
    assert DropoutCase.objects.count() == 0
    call_command("import_ledger", str(path), "--county", area["county"].code)
    assert DropoutCase.objects.count() == 4


def test_the_command_refuses_a_file_with_problems_and_writes_the_report(area, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [ledger_row(area["school"], 1, grade=11)])
    with pytest.raises(CommandError, match="1 problem in 1 row of 1: nothing imported"):
        call_command(
            "import_ledger",
            str(path),
            "--county",
            area["county"].code,
            "--report",
            str(tmp_path / "report.csv"),
            "--language",
            "en",
        )
    assert "1 to 9" in (tmp_path / "report.csv").read_text(encoding="utf-8-sig")
