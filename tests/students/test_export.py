"""Exports of the case list and the county ledger, their round trip through the import, and the monthly report."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from reports.models import AreaLevel, DailyTotal
from students import views_jobs
from students.choices import Placement, Reason, Status, VisitMethod, VisitorRole, VisitOutcome
from students.importing import import_ledger
from students.models import ClosureReason, DropoutCase, JobStatus, LedgerJob
from students.services import case_change_status, case_mark_returned, case_reopen_on_relapse, visit_record
from tests.factories import StudentFactory, open_case
from tests.students.test_import import ledger_state

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ledger(area):
    """A county ledger with a case in every status, made through the services as the screens make them."""
    school = area["school"]
    open_case(school, student=StudentFactory(address="上杜柯乡", guardian_phone="13800138000"))
    persuading = open_case(area["other_school"], student=StudentFactory(registered_poor=True, left_behind="both"))
    visit_record(
        case=persuading,
        visit_date=D(2019, 5, 2),
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "王校长"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
    )
    returned = open_case(school, student=StudentFactory(disability="physical"), reason=Reason.ILLNESS)
    case_mark_returned(case=returned, returned_on=D(2019, 9, 1), placement=Placement.HOME_DELIVERED)
    retained = open_case(school, grade=3)
    case_mark_returned(case=retained, returned_on=D(2019, 9, 1), placement=Placement.REGULAR_CLASS)
    case_change_status(case=retained, to_status=Status.RETAINED, effective_date=D(2019, 12, 1))
    closed = open_case(school, student=StudentFactory(registry_number=None))
    case_change_status(
        case=closed,
        to_status=Status.CLOSED,
        effective_date=D(2019, 6, 1),
        closure_reason=ClosureReason.objects.get(code="moved_away"),
    )
    relapsed = open_case(school)
    case_mark_returned(case=relapsed, returned_on=D(2019, 9, 1), placement=Placement.SEPARATE_CLASS)
    case_reopen_on_relapse(case=relapsed, dropout_date=D(2019, 11, 1), reason=Reason.WORK)
    # Cells a spreadsheet would run as formulas.
    tricky = StudentFactory(
        name='=HYPERLINK("http://x")',
        guardian_name="'-5",
        guardian_phone="+8613800138000",
        address="-1+2",
        hukou_place="\t=1+1",
    )
    open_case(school, student=tricky, reason=Reason.OTHER)
    DropoutCase.objects.filter(student=tricky).update(reason_detail="@SUM(A1)")
    open_case(area["neighbour_school"])  # another county's case: never in this county's ledger
    return area["county"]


def download(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_reimport_of_a_county_ledger_changes_nothing(client, users, ledger, tmp_path, fmt):
    client.force_login(users["county"])
    response = client.get(reverse("students:export-ledger", args=[ledger.code]) + f"?format={fmt}")
    assert response.status_code == 200
    path = tmp_path / f"ledger.{fmt}"
    path.write_bytes(download(response))
    before = ledger_state()
    versions = dict(DropoutCase.objects.values_list("pk", "version"))

    result = import_ledger(path, county=ledger, user=users["county"])
    assert result.ok, result.problems
    in_county = DropoutCase.objects.filter(county=ledger).count()
    assert (result.created, result.updated, result.unchanged) == (0, 0, in_county)
    assert in_county == 8
    assert ledger_state() == before
    assert dict(DropoutCase.objects.values_list("pk", "version")) == versions


def test_the_ledger_export_uses_the_template_layout_and_labels(client, users, ledger):
    client.force_login(users["county"])
    rows = csv_rows(download(client.get(reverse("students:export-ledger", args=[ledger.code]) + "?format=csv")))
    header = rows[0]
    assert header[:5] == ["姓名", "性别", "民族", "出生日期", "身份证号"]
    statuses = {row[header.index("当前状态")] for row in rows[1:]}
    assert statuses == {"辍学", "劝返中", "已复学", "巩固在校", "其他销号", "再次辍学"}
    english = csv_rows(
        download(client.get(reverse("students:export-ledger", args=[ledger.code]) + "?format=csv&headers=en"))
    )
    assert english[0][:2] == ["Name", "Gender"]
    assert "Returned to school" in {row[english[0].index("Status")] for row in english[1:]}


def test_cells_that_would_run_as_formulas_are_neutralised(client, users, ledger):
    client.force_login(users["county"])
    url = reverse("students:export-ledger", args=[ledger.code])
    rows = csv_rows(download(client.get(url + "?format=csv")))
    header, tricky = rows[0], next(row for row in rows if "HYPERLINK" in row[0])
    assert tricky[0] == '\'=HYPERLINK("http://x")'
    assert tricky[header.index("监护人电话")] == "'+8613800138000"
    assert tricky[header.index("家庭住址")] == "'-1+2"
    assert tricky[header.index("原因说明")] == "'@SUM(A1)"
    assert tricky[header.index("户籍所在地")] == "'\t=1+1"  # a tab or carriage return first: OWASP's advice

    workbook = openpyxl.load_workbook(io.BytesIO(download(client.get(url + "?format=xlsx"))))
    cells = [row for row in workbook.active.iter_rows() if "HYPERLINK" in str(row[0].value)][0]
    assert cells[0].value == '\'=HYPERLINK("http://x")'
    assert cells[0].data_type == "s"  # text, not a formula
    assert not [cell for row in workbook.active.iter_rows() for cell in row if cell.data_type == "f"]


def test_every_csv_cell_is_quoted_so_a_separator_inside_a_value_starts_no_cell(client, users, ledger):
    DropoutCase.objects.filter(student__name__startswith="=HYPERLINK").update(reason_detail="x;=1+1")
    client.force_login(users["county"])
    content = download(client.get(reverse("students:export-ledger", args=[ledger.code]) + "?format=csv"))
    assert '"x;=1+1"' in content.decode("utf-8-sig")


@pytest.mark.parametrize(
    ("persona", "masked"), [("county", False), ("admin", False), ("ministry", True), ("province", True)]
)
def test_identifiers_are_masked_in_exports_as_the_role_requires(client, users, ledger, persona, masked):
    client.force_login(users[persona])
    rows = csv_rows(download(client.get(reverse("students:export-ledger", args=[ledger.code]) + "?format=csv")))
    header = rows[0]
    students = [case.student for case in DropoutCase.objects.filter(county=ledger).select_related("student")]
    if masked:
        for row in rows[1:]:
            assert row[header.index("身份证号")] in ("*** (已登记，校验通过)", "*** (recorded, valid)")
            assert len(row[header.index("姓名")].lstrip("'")) == 3 and row[header.index("姓名")].endswith("**")
        assert not {s.id_number for s in students} & {cell for row in rows for cell in row}
        assert not {s.name for s in students} & {cell for row in rows for cell in row}
    else:
        student = students[0]
        exported = next(row for row in rows[1:] if row[header.index("身份证号")] == student.id_number)
        assert exported[header.index("身份证号")] == student.id_number
        assert exported[header.index("姓名")] == student.name


def test_a_masked_export_cannot_be_imported(client, users, ledger, tmp_path):
    client.force_login(users["ministry"])
    path = tmp_path / "masked.csv"
    path.write_bytes(download(client.get(reverse("students:export-ledger", args=[ledger.code]) + "?format=csv")))
    result = import_ledger(path, county=ledger)
    assert not result.ok
    assert all("masked" in problem.message for problem in result.problems if problem.column == "身份证号")


def test_a_county_official_cannot_export_another_county(client, users, ledger, area):
    client.force_login(users["county"])
    assert client.get(reverse("students:export-ledger", args=[area["neighbour"].code])).status_code == 404


def test_a_principal_exports_only_their_schools_cases(client, users, ledger, area):
    client.force_login(users["principal"])
    rows = csv_rows(download(client.get(reverse("students:export-ledger", args=[ledger.code]) + "?format=csv")))
    codes = {row[rows[0].index("学校标识码")] for row in rows[1:]}
    assert codes == {area["school"].code}


def test_the_case_list_export_applies_the_lists_filters(client, users, ledger):
    client.force_login(users["county"])
    response = client.get(reverse("students:export") + "?status=open&format=csv")
    rows = csv_rows(download(response))
    assert {row[rows[0].index("当前状态")] for row in rows[1:]} == {"辍学", "劝返中"}
    assert len(rows) - 1 == DropoutCase.objects.filter(county=ledger).open().count()


def test_an_unknown_export_format_is_not_found(client, users, ledger):
    client.force_login(users["county"])
    assert client.get(reverse("students:export") + "?format=pdf").status_code == 404


def test_a_large_export_runs_as_a_job_that_only_the_requester_downloads(
    client, users, ledger, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(views_jobs, "DIRECT_EXPORT_LIMIT", 3)
    client.force_login(users["county"])
    url = reverse("students:export") + "?format=xlsx&status=open"
    offer = client.get(url)
    assert offer.status_code == 200 and LedgerJob.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    job = LedgerJob.objects.get()
    assert response.url == reverse("students:job-detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.counts["rows"]) == (JobStatus.SUCCEEDED, 4)
    page = client.get(response.url).content.decode()
    assert reverse("students:job-download", args=[job.pk]) in page
    rows = xlsx_rows(download(client.get(reverse("students:job-download", args=[job.pk]))))
    assert len(rows) == 5

    client.force_login(users["neighbour_county"])
    assert client.get(reverse("students:job-download", args=[job.pk])).status_code == 404
    client.force_login(users["admin"])
    assert client.get(reverse("students:job-download", args=[job.pk])).status_code == 200


# The monthly report ----------------------------------------------------------------------------------


def totals(division, day, **counts):
    level = AreaLevel(division.level)
    return DailyTotal(day=day, level=level, division=division, **counts)


def test_the_monthly_report_says_when_the_totals_are_not_there_yet(client, users, area):
    client.force_login(users["province"])
    response = client.get(reverse("students:monthly-report", args=[area["province"].code]) + "?month=2020-06")
    assert response.status_code == 200
    assert "not available yet" in response.content.decode()


def test_the_monthly_report_gives_the_figures_of_the_15th_for_a_province_and_its_counties(client, users, area):
    days = [D(2020, 5, 16) + datetime.timedelta(days=n) for n in range(31)]
    assert days[-1] == D(2020, 6, 15)
    rows = [totals(area["province"], day, open_count=10, new_count=1) for day in days]
    rows += [totals(area["county"], day, new_count=1, returned_count=2) for day in days[:5]]
    rows.append(totals(area["county"], days[-1], open_count=7, open_poor=2, open_reason_poverty=5, open_reason_work=2))
    rows.append(totals(area["province"], D(2020, 5, 15), new_count=100))  # the month before: not counted
    DailyTotal.objects.bulk_create(rows)
    client.force_login(users["province"])
    response = client.get(reverse("students:monthly-report", args=[area["province"].code]) + "?month=2020-06")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = xlsx_rows(download(response))
    header = sheet[1]
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in sheet[2:]}
    county = by_code[area["county"].code]
    assert (county["Open on 2020-06-15"], county["New dropouts"], county["Returned"]) == (7, 5, 10)
    assert county["Open, registered-poor"] == 2
    assert county["Open: 因贫"] == 5 and county["Open: 外出打工"] == 2
    assert by_code[area["province"].code]["New dropouts"] == 31
    assert by_code[area["neighbour"].code]["Open on 2020-06-15"] == 0


def test_the_monthly_report_of_a_county_outside_the_users_area_is_not_found(client, users, area):
    client.force_login(users["county"])
    assert client.get(reverse("students:monthly-report", args=[area["far"].code])).status_code == 404
