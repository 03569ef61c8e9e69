"""Every problem of a file in one check: the rows' own, the same child twice, and what the ledger forbids, grouped
by kind with counts on the job's page, the first 1,000 listed, all of them in the report file."""

import pytest
from django.urls import reverse
from django.utils import translation

from students import import_problems
from students.import_problems import ProblemKind
from students.importing import import_ledger
from students.models import DropoutCase, LedgerJob, Student
from tests.factories import StudentFactory, open_case
from tests.students.ledger_files import ledger_row, write_csv
from tests.students.test_import_jobs import upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def eight_problems(area) -> list[dict]:
    """A good row, then seven rows with a problem of their own and one that repeats the good row's child."""
    elsewhere = StudentFactory()
    open_case(area["neighbour_school"], student=elsewhere)
    good = ledger_row(area["school"], 1)
    bad_checksum = ledger_row(area["school"], 2)
    bad_checksum["id_number"] = bad_checksum["id_number"][:17] + ("0" if bad_checksum["id_number"][17] != "0" else "1")
    return [
        good,  # row 2
        bad_checksum,  # row 3
        ledger_row(area["school"], 3, school_code="9999999999"),  # row 4
        ledger_row(area["school"], 4, dropout_date="2999-01-01"),  # row 5
        ledger_row(area["school"], 5, reason="不想上"),  # row 6
        ledger_row(area["school"], 6, name=""),  # row 7
        ledger_row(area["school"], 7, grade=12),  # row 8
        ledger_row(area["school"], 8, id_number=elsewhere.id_number, name=elsewhere.name, dropout_date="2019-06-01"),
        dict(good),  # row 10: the same child with the same dropout date as row 2
    ]


def test_a_duplicate_beside_seven_other_problems_is_found_in_the_same_check(area, tmp_path):
    result = import_ledger(write_csv(tmp_path / "eight.csv", eight_problems(area)), county=area["county"])
    rows = {problem.row: problem for problem in result.problems}
    assert sorted(rows) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert rows[10].kind == ProblemKind.DUPLICATE and "already in row 2" in rows[10].message
    assert rows[9].kind == ProblemKind.LEDGER and "open case in another county" in rows[9].message
    assert (rows[6].kind, rows[7].kind, rows[8].kind) == (
        ProblemKind.UNKNOWN_VALUE,
        ProblemKind.REQUIRED,
        ProblemKind.UNREADABLE,
    )
    assert Student.objects.count() == 1 and DropoutCase.objects.count() == 1  # only the other county's child


def test_the_same_child_open_twice_is_found_beside_a_row_of_its_own_problem(area, tmp_path):
    first = ledger_row(area["school"], 20)
    rows = [first, {**first, "dropout_date": "2019-06-01"}, ledger_row(area["school"], 21, grade=12)]
    result = import_ledger(write_csv(tmp_path / "open-twice.csv", rows), county=area["county"])
    assert {problem.row: problem.kind for problem in result.problems} == {
        3: ProblemKind.DUPLICATE,
        4: ProblemKind.UNREADABLE,
    }


def test_a_duplicate_row_with_a_problem_of_its_own_is_reported_as_both(area, tmp_path):
    first = ledger_row(area["school"], 30)
    rows = [first, {**first, "grade": 12}]
    result = import_ledger(write_csv(tmp_path / "both.csv", rows), county=area["county"])
    assert sorted(problem.kind for problem in result.problems) == [ProblemKind.DUPLICATE, ProblemKind.UNREADABLE]


def test_the_job_page_groups_the_problems_by_kind_with_counts(
    client, area, users, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(users["county"])
    rows = [ledger_row(area["school"], 100 + n, grade=12) for n in range(5)] + eight_problems(area)
    upload(client, area["county"], write_csv(tmp_path / "grouped.csv", rows), django_capture_on_commit_callbacks)
    job = LedgerJob.objects.get()
    groups = {(group["kind"], group["column"]): group["count"] for group in job.report["groups"]}
    assert groups[(ProblemKind.UNREADABLE, "年级")] == 6
    assert groups[(ProblemKind.DUPLICATE, "身份证号")] == 1
    assert sum(groups.values()) == job.counts["problems"] == 13
    page = client.get(reverse("students:job-detail", args=[job.pk])).content.decode()
    assert "Cells that cannot be read" in page and "The same child twice in the file" in page
    assert "13 problems found" in page


def test_the_report_is_a_file_and_the_page_lists_the_first_problems_of_it(
    client, area, users, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(import_problems, "PROBLEMS_LISTED", 10)
    from students import tasks, views_jobs

    monkeypatch.setattr(views_jobs, "PROBLEMS_LISTED", 10)
    client.force_login(users["county"])
    rows = [ledger_row(area["school"], n, grade=12) for n in range(25)]
    upload(client, area["county"], write_csv(tmp_path / "many.csv", rows), django_capture_on_commit_callbacks)
    job = LedgerJob.objects.get()
    assert job.report_file.name.endswith(".jsonl")
    assert "problems" not in job.report  # the row keeps the summary only
    assert len(list(import_problems.report_problems(job.report_file))) == 25
    page = client.get(reverse("students:job-detail", args=[job.pk])).content.decode()
    assert page.count('<td class="num">') == 10 + len(job.report["groups"])
    assert "The first 10 problems are listed below; the download holds all 25." in page
    report = client.get(reverse("students:job-problems", args=[job.pk, "csv"]))
    assert b"".join(report.streaming_content).decode("utf-8-sig").count("The grade must be") == 25
    assert tasks  # the task wrote the file


def test_the_progress_poll_does_not_read_the_report(client, area, users, django_assert_max_num_queries):
    job = LedgerJob.objects.create(
        kind="import", requested_by=users["county"], county=area["county"], report={"groups": [{"x": "y" * 10_000}]}
    )
    client.force_login(users["county"])
    with django_assert_max_num_queries(6) as queries:
        data = client.get(reverse("students:job-status", args=[job.pk])).json()
    assert data["id"] == job.pk
    job_reads = [q["sql"] for q in queries.captured_queries if 'FROM "students_ledgerjob"' in q["sql"]]
    assert job_reads and all('"students_ledgerjob"."report"' not in sql for sql in job_reads)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_file_level_problem_is_not_headed_as_rows_with_problems(
    client, area, users, tmp_path, django_capture_on_commit_callbacks, language
):
    client.force_login(users["county"])
    path = tmp_path / "no-header.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    upload(client, area["county"], path, django_capture_on_commit_callbacks)
    job = LedgerJob.objects.get()
    with translation.override(language):
        page = client.get(reverse("students:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE=language)
    text = page.content.decode()
    assert "0 rows" not in text and "0 行" not in text
    if language == "en":
        assert "A problem with the file: nothing was imported" in text
        assert "1 problem found. Correct it in your file" in text
    else:
        assert "文件有问题：未导入任何数据" in text
        assert "发现1个问题" in text
