"""The ledger import: reading files, checking rows, all-or-nothing writes, and re-imports that change nothing."""

import datetime

import openpyxl
import pytest
from django.db import transaction
from django.utils import translation

from students.choices import Placement, Reason, Status
from students.importing import import_ledger
from students.models import CaseEvent, ClosureReason, DropoutCase, LedgerCorrection, Student
from students.services import case_mark_returned
from tests.factories import SchoolFactory, StudentFactory, open_case
from tests.students.ledger_files import BIRTH, ledger_row, write_csv, write_xlsx

pytestmark = pytest.mark.django_db
D = datetime.date


class Rollback(Exception):
    pass


def _sorted(rows) -> list[tuple]:
    return sorted(tuple("" if value is None else str(value) for value in row) for row in rows)


def ledger_state():
    """Everything an import writes, in a form two imports can be compared by."""
    students = Student.objects.values_list(
        "name", "gender", "birth_date", "id_number", "registry_number", "address", "left_behind", "registered_poor"
    )
    cases = DropoutCase.objects.values_list(
        "student__name", "school__code", "grade", "dropout_date", "reason", "status", "returned_on", "placement"
    )
    events = CaseEvent.objects.values_list("case__student__name", "from_status", "to_status", "effective_date")
    return _sorted(students), _sorted(cases), _sorted(events)


def import_and_roll_back(path, county):
    """Import, note what the ledger then holds, and undo it (events cannot be deleted)."""
    try:
        with transaction.atomic():
            result = import_ledger(path, county=county)
            state = ledger_state()
            raise Rollback
    except Rollback:
        return result, state


def problems_by_row(result) -> dict[int, list[str]]:
    rows: dict[int, list[str]] = {}
    for problem in result.problems:
        rows.setdefault(problem.row, []).append(problem.message)
    return rows


# Reading the file ----------------------------------------------------------------------------------


def test_headers_are_matched_by_name_in_any_order_with_variants(area, tmp_path):
    row = ledger_row(area["school"], 1, gender="女")
    row["registry_number"] = "G" + row["id_number"]
    headers = ["reason=原因", "name=学生姓名", "dropout_date=辍学时间", "id_number=公民身份号码"]
    headers += ["registry_number=全国学籍号", "grade=就读年级", "school_code=学校代码", "gender=性别"]
    result = import_ledger(write_csv(tmp_path / "any-order.csv", [row], headers=headers), county=area["county"])
    assert result.ok, result.problems
    student = Student.objects.get()
    assert (student.name, student.registry_number) == ("学生1", row["registry_number"])


def test_headers_are_normalised_for_width_spaces_case_and_notes(area, tmp_path):
    headers = ["name= 姓 名 ", "id_number=身份证号（18位）*", "school_code=School Code", "grade=ＧＲＡＤＥ"]
    headers += ["dropout_date=辍学日期(年-月-日)", "reason=REASON"]
    path = write_csv(tmp_path / "messy.csv", [ledger_row(area["school"], 2)], headers=headers)
    result = import_ledger(path, county=area["county"])
    assert result.ok, result.problems
    assert DropoutCase.objects.count() == 1


def test_english_headers_and_english_labels_are_accepted(area, tmp_path):
    row = ledger_row(area["school"], 3, reason="Poverty", status="Returned to school", return_date="2019-09-01")
    row["placement"] = "Back into a regular class"
    result = import_ledger(write_csv(tmp_path / "en.csv", [row], language="en"), county=area["county"])
    assert result.ok, result.problems
    case = DropoutCase.objects.get()
    assert (case.reason, case.status, case.placement) == (Reason.POVERTY, Status.RETURNED, Placement.REGULAR_CLASS)


def test_a_header_row_below_a_title_row_is_found(area, tmp_path):
    path = tmp_path / "titled.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["壤塘县控辍保学台账（2019年5月）"])
    sheet.append(["姓名", "身份证号", "学校标识码", "年级", "辍学日期", "辍学原因"])
    row = ledger_row(area["school"], 4)
    sheet.append([row["name"], row["id_number"], row["school_code"], 7, "2019-04-01", "因贫"])
    workbook.save(path)
    result = import_ledger(path, county=area["county"])
    assert result.ok, result.problems
    assert result.created == 1


def test_a_missing_required_column_is_reported_and_nothing_is_read(area, tmp_path):
    row = ledger_row(area["school"], 5)
    del row["reason"]
    result = import_ledger(write_csv(tmp_path / "no-reason.csv", [row]), county=area["county"])
    assert not result.ok
    assert any("辍学原因" in problem.message for problem in result.problems)
    assert DropoutCase.objects.count() == 0


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_a_chinese_csv_in_any_accepted_encoding_imports_the_same_as_its_utf8_twin(area, tmp_path, encoding):
    rows = [
        ledger_row(
            area["school"], 6, address="四川省阿坝州壤塘县上杜柯乡", left_behind="双亲外出", registered_poor="是"
        ),
        ledger_row(area["school"], 7, status="已复学", return_date="2019年9月1日", placement="随班就读"),
    ]
    if encoding == "gb18030":
        rows[0]["name"] = "刘䶮"  # a character GBK does not have
    utf8, expected = import_and_roll_back(write_csv(tmp_path / "utf8.csv", rows), area["county"])
    assert utf8.ok, utf8.problems
    other, state = import_and_roll_back(
        write_csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding), area["county"]
    )
    assert other.ok, other.problems
    assert other.encoding == ("UTF-8 (BOM)" if encoding == "utf-8-sig" else "GBK/GB18030")
    assert state == expected
    assert len(expected[1]) == 2


# Reading cells -------------------------------------------------------------------------------------


def test_dates_are_read_in_every_accepted_form(area, tmp_path):
    forms = [
        datetime.datetime(2019, 5, 1),  # an Excel date cell
        "2019-05-01",
        "2019/5/1",
        "2019.5.1",
        "2019年5月1日",
        "20190501",
        43586,  # Excel's serial number for 2019-05-01
        "43586",
    ]
    rows = [ledger_row(area["school"], 10 + index, dropout_date=value) for index, value in enumerate(forms)]
    result = import_ledger(write_xlsx(tmp_path / "dates.xlsx", rows), county=area["county"])
    assert result.ok, result.problems
    assert set(DropoutCase.objects.values_list("dropout_date", flat=True)) == {D(2019, 5, 1)}
    assert DropoutCase.objects.count() == len(forms)


def test_a_text_that_is_not_a_date_is_reported_with_the_accepted_forms(area, tmp_path):
    rows = [
        ledger_row(area["school"], 20, dropout_date="五月一日"),
        ledger_row(area["school"], 21, dropout_date="2019-02-30"),
    ]
    result = import_ledger(write_csv(tmp_path / "bad-dates.csv", rows), county=area["county"])
    assert "2019年5月1日" in problems_by_row(result)[2][0]
    assert "does not exist" in problems_by_row(result)[3][0]


def test_an_id_number_that_arrived_as_a_number_is_refused_not_converted(area, tmp_path):
    rows = [
        ledger_row(area["school"], 30, id_number=513230200803010010),  # a number cell: Excel keeps 15 digits
        ledger_row(area["school"], 31, id_number=5.13230200803e17),
    ]
    result = import_ledger(write_xlsx(tmp_path / "numbers.xlsx", rows), county=area["county"])
    messages = problems_by_row(result)
    assert "arrived as a number" in messages[2][0]
    assert "arrived as a number" in messages[3][0]
    assert Student.objects.count() == 0


def test_an_id_number_in_scientific_notation_is_refused(area, tmp_path):
    result = import_ledger(
        write_csv(tmp_path / "sci.csv", [ledger_row(area["school"], 32, id_number="5.13230E+17")]),
        county=area["county"],
    )
    assert "number format" in problems_by_row(result)[2][0]


def test_grades_booleans_and_vocabularies_are_read_in_their_common_spellings(area, tmp_path):
    rows = [
        ledger_row(area["school"], 40, grade="初二", reason="厌学", registered_poor="√", orphan="否"),
        ledger_row(area["school"], 41, grade="三年级", reason="learning", registered_poor="yes", disability="肢体"),
    ]
    result = import_ledger(write_csv(tmp_path / "words.csv", rows), county=area["county"])
    assert result.ok, result.problems
    grades = dict(DropoutCase.objects.values_list("student__name", "grade"))
    assert grades == {"学生40": 8, "学生41": 3}
    assert set(DropoutCase.objects.values_list("reason", flat=True)) == {Reason.LEARNING}
    assert Student.objects.filter(registered_poor=True).count() == 2


# Checking rows -------------------------------------------------------------------------------------


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_bad_row_with_the_reason(area, tmp_path):
    good = ledger_row(area["school"], 50)
    bad_checksum = ledger_row(area["school"], 51)
    bad_checksum["id_number"] = bad_checksum["id_number"][:17] + ("0" if bad_checksum["id_number"][17] != "0" else "1")
    rows = [
        good,
        bad_checksum,
        ledger_row(area["school"], 52, school_code="9999999999"),
        ledger_row(area["school"], 53, dropout_date="2999-01-01"),
        ledger_row(area["school"], 54, reason="不想上"),
        ledger_row(area["school"], 55, name=""),
        ledger_row(area["school"], 56, status="已复学", return_date="2019-03-01", placement="随班就读"),
        ledger_row(area["school"], 57, status="已复学", return_date="2019-09-01"),
        ledger_row(area["school"], 58, grade=12),
        ledger_row(area["school"], 59, birth_date="2008-01-01"),
        ledger_row(area["school"], 60, registry_number="X123"),
        ledger_row(area["school"], 61, id_number="", registry_number=""),
        ledger_row(area["school"], 62, school_code=area["neighbour_school"].code),
    ]
    result = import_ledger(write_csv(tmp_path / "bad.csv", rows), county=area["county"])
    messages = problems_by_row(result)
    assert set(messages) == set(range(3, 15))  # every row but the first (row 2, the good one)
    assert "check character" in messages[3][0]
    assert "No school with the code 9999999999" in messages[4][0]
    assert "future" in messages[5][0]
    assert "Unknown value: 不想上" in messages[6][0]
    assert "required" in messages[7][0]
    assert "before the dropout date" in messages[8][0]
    assert "placed on return" in messages[9][0]
    assert "grade" in messages[10][0].lower()
    assert "does not match" in messages[11][0]
    assert "registry number" in messages[12][0]
    assert "ID number or the student registry number" in messages[13][0]
    assert "No school with the code" in messages[14][0]
    assert DropoutCase.objects.count() == 0 and Student.objects.count() == 0


def test_problems_are_reported_in_the_users_language(area, tmp_path):
    path = write_csv(tmp_path / "short-id.csv", [ledger_row(area["school"], 70, id_number="51323020090601")])
    with translation.override("zh-hans"):
        result = import_ledger(path, county=area["county"])
    assert result.problems[0].column == "身份证号"
    assert result.problems[0].message == "身份证号应为18位，此号码为14位。"
    with translation.override("en"):
        result = import_ledger(path, county=area["county"])
    assert result.problems[0].message == "A resident ID number has 18 characters; this one has 14."


def test_the_same_child_twice_in_the_file_is_reported(area, tmp_path):
    first = ledger_row(area["school"], 80)
    rows = [first, dict(first), ledger_row(area["school"], 81)]
    result = import_ledger(write_csv(tmp_path / "twice.csv", rows), county=area["county"])
    messages = problems_by_row(result)
    assert list(messages) == [3]
    assert "already in row 2" in messages[3][0]
    assert Student.objects.count() == 0


def test_the_same_child_open_twice_in_the_file_is_reported(area, tmp_path):
    first = ledger_row(area["school"], 82)
    rows = [first, {**first, "dropout_date": "2019-06-01"}]
    result = import_ledger(write_csv(tmp_path / "open-twice.csv", rows), county=area["county"])
    assert "one open case at most" in " ".join(problems_by_row(result)[3])


def test_a_child_with_an_open_case_in_another_county_is_reported(area, tmp_path):
    student = StudentFactory()
    open_case(area["neighbour_school"], student=student)
    row = ledger_row(area["school"], 90, id_number=student.id_number, name=student.name, dropout_date="2019-06-01")
    result = import_ledger(write_csv(tmp_path / "elsewhere.csv", [row]), county=area["county"])
    assert "open case in another county (Neighbour county); ask that county" in problems_by_row(result)[2][0]
    assert DropoutCase.objects.count() == 1


def test_a_case_on_another_countys_ledger_is_not_updated_from_this_county(area, tmp_path):
    student = StudentFactory()
    open_case(area["neighbour_school"], student=student, dropout_date=D(2019, 4, 1))
    row = ledger_row(area["school"], 91, id_number=student.id_number, name=student.name, dropout_date="2019-04-01")
    result = import_ledger(write_csv(tmp_path / "theirs.csv", [row]), county=area["county"])
    assert "on the ledger of another county (Neighbour county)" in problems_by_row(result)[2][0]


def test_a_new_dropout_of_a_child_another_county_holds_is_a_problem_naming_that_county(area, tmp_path):
    student = StudentFactory()
    earlier = open_case(area["neighbour_school"], student=student, dropout_date=D(2018, 9, 1))
    case_mark_returned(case=earlier, returned_on=D(2019, 1, 10), placement=Placement.REGULAR_CLASS)
    row = ledger_row(area["school"], 92, id_number=student.id_number, name="另一个名字", dropout_date="2019-06-01")
    result = import_ledger(write_csv(tmp_path / "held.csv", [row]), county=area["county"])
    assert problems_by_row(result) == {
        2: ["This child is on the ledger of another county (Neighbour county); ask that county to hand the child over."]
    }
    assert Student.objects.get().name == student.name
    assert DropoutCase.objects.count() == 1


def test_a_row_of_an_old_case_of_a_child_who_moved_on_imports_unchanged(area, tmp_path):
    """The county's own history stays importable (an export imported again) after another county took the child."""
    student = StudentFactory()
    old = open_case(area["school"], student=student, dropout_date=D(2018, 3, 1))
    case_mark_returned(case=old, returned_on=D(2018, 6, 1), placement=Placement.REGULAR_CLASS)
    open_case(area["neighbour_school"], student=student, dropout_date=D(2019, 4, 1))
    row = ledger_row(
        area["school"],
        93,
        id_number=student.id_number,
        name=student.name,
        dropout_date="2018-03-01",
        status="已复学",
        return_date="2018-06-01",
        placement="随班就读",
    )
    result = import_ledger(write_csv(tmp_path / "history.csv", [row]), county=area["county"])
    assert result.ok, result.problems
    assert (result.unchanged, result.students_updated) == (1, 0)


def test_a_dry_run_checks_everything_and_writes_nothing(area, tmp_path):
    rows = [ledger_row(area["school"], n) for n in range(100, 105)]
    result = import_ledger(write_csv(tmp_path / "dry.csv", rows), county=area["county"], dry_run=True)
    assert result.ok
    assert (result.created, result.updated, result.unchanged) == (5, 0, 0)
    assert result.events == 5
    assert (Student.objects.count(), DropoutCase.objects.count(), CaseEvent.objects.count()) == (0, 0, 0)


# Writing -------------------------------------------------------------------------------------------


def test_import_then_reimport_of_the_same_file_changes_nothing(area, tmp_path):
    closed = ClosureReason.objects.get(code="moved_away")
    rows = [
        ledger_row(area["school"], 110),
        ledger_row(area["school"], 111, status="劝返中", status_date="2019-05-01"),
        ledger_row(area["school"], 112, status="已复学", return_date="2019-09-01", placement="单独编班"),
        ledger_row(area["school"], 113, status="巩固在校", return_date="2019-09-01", status_date="2019-12-01"),
        ledger_row(area["school"], 114, status="其他销号", status_date="2019-06-01", closure_reason=closed.name),
        ledger_row(
            area["school"], 115, registry_number="L" + "1" * 18, id_number="", birth_date="2009-01-01", gender="男"
        ),
    ]
    rows[3]["placement"] = "随班就读"
    path = write_csv(tmp_path / "ledger.csv", rows)
    first = import_ledger(path, county=area["county"])
    assert first.ok, first.problems
    assert (first.created, first.updated, first.unchanged) == (6, 0, 0)
    before = ledger_state()
    versions = list(DropoutCase.objects.order_by("pk").values_list("version", flat=True))

    again = import_ledger(path, county=area["county"])
    assert again.ok, again.problems
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert again.events == 0
    assert ledger_state() == before
    assert list(DropoutCase.objects.order_by("pk").values_list("version", flat=True)) == versions


def test_imported_status_history_is_recorded_as_events_in_lifecycle_order(area, tmp_path):
    row = ledger_row(area["school"], 120, status="巩固在校", return_date="2019-09-01", status_date="2019-12-01")
    row["placement"] = "随班就读"
    result = import_ledger(write_csv(tmp_path / "retained.csv", [row]), county=area["county"])
    assert result.ok, result.problems
    case = DropoutCase.objects.get()
    assert list(case.events.values_list("from_status", "to_status", "effective_date")) == [
        ("", Status.DROPPED_OUT, D(2019, 4, 1)),
        (Status.DROPPED_OUT, Status.RETURNED, D(2019, 9, 1)),
        (Status.RETURNED, Status.RETAINED, D(2019, 12, 1)),
    ]
    assert (case.status, case.returned_on, case.struck_off_on, case.version) == (
        Status.RETAINED,
        D(2019, 9, 1),
        D(2019, 9, 1),
        3,
    )


def test_a_reimport_with_changes_updates_the_case_and_records_the_status_change(area, tmp_path, users):
    row = ledger_row(area["school"], 130)
    import_ledger(write_csv(tmp_path / "v1.csv", [row]), county=area["county"])
    changed = {**row, "grade": 8, "status": "已复学", "return_date": "2019-10-08", "placement": "随班就读"}
    result = import_ledger(write_csv(tmp_path / "v2.csv", [changed]), county=area["county"], user=users["county"])
    assert result.ok, result.problems
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    case = DropoutCase.objects.get()
    assert (case.grade, case.status, case.returned_on, case.version) == (8, Status.RETURNED, D(2019, 10, 8), 2)
    event = case.events.latest("pk")
    assert (event.from_status, event.to_status, event.recorded_by) == (
        Status.DROPPED_OUT,
        Status.RETURNED,
        users["county"],
    )


def test_a_reimport_that_puts_a_cases_reason_right_marks_its_days_for_the_totals(area, tmp_path):
    row = ledger_row(area["school"], 131)
    import_ledger(write_csv(tmp_path / "v1.csv", [row]), county=area["county"])
    case = DropoutCase.objects.get()
    # A new case moves its county's figures from its dropout date on (what its events say too).
    assert list(LedgerCorrection.objects.values_list("county", "first_day")) == [(area["county"].pk, case.dropout_date)]
    LedgerCorrection.objects.all().delete()

    again = import_ledger(write_csv(tmp_path / "v1.csv", [row]), county=area["county"])
    assert again.unchanged == 1
    assert not LedgerCorrection.objects.exists()

    other_reason = next(reason for reason in Reason.values if reason != case.reason)
    fixed = {**row, "reason": Reason(other_reason).label}
    result = import_ledger(write_csv(tmp_path / "v2.csv", [fixed]), county=area["county"])
    assert result.updated == 1, result.problems
    assert list(LedgerCorrection.objects.values_list("county", "first_day")) == [(area["county"].pk, case.dropout_date)]


def test_a_status_that_would_go_backwards_is_refused(area, tmp_path):
    student = StudentFactory()
    case = open_case(area["school"], student=student)
    case_mark_returned_on(case, D(2019, 9, 1))
    row = ledger_row(area["school"], 140, id_number=student.id_number, name=student.name, status="辍学")
    row["gender"] = "女"
    result = import_ledger(write_csv(tmp_path / "backwards.csv", [row]), county=area["county"])
    assert "cannot go from" in problems_by_row(result)[2][0]


def test_a_recorded_return_date_is_not_rewritten_by_an_import(area, tmp_path):
    student = StudentFactory()
    case_mark_returned_on(open_case(area["school"], student=student), D(2019, 9, 1))
    row = ledger_row(area["school"], 141, id_number=student.id_number, name=student.name, status="已复学")
    row.update(gender="女", return_date="2019-09-02", placement="随班就读")
    result = import_ledger(write_csv(tmp_path / "rewrite.csv", [row]), county=area["county"])
    assert "not rewritten" in problems_by_row(result)[2][0]


def test_columns_missing_from_the_file_keep_what_the_ledger_holds(area, tmp_path):
    student = StudentFactory(address="上杜柯乡", guardian_phone="13800138000")
    open_case(area["school"], student=student, dropout_date=D(2019, 4, 1), grade=7)
    row = ledger_row(area["school"], 150, id_number=student.id_number, name=student.name)
    result = import_ledger(write_csv(tmp_path / "few-columns.csv", [row]), county=area["county"])
    assert result.ok, result.problems
    assert result.unchanged == 1
    student.refresh_from_db()
    assert (student.address, student.guardian_phone) == ("上杜柯乡", "13800138000")


def test_a_new_episode_after_a_relapse_is_linked_to_the_one_before(area, tmp_path):
    base = ledger_row(area["school"], 160)
    rows = [
        {
            **base,
            "status": "再次辍学",
            "return_date": "2019-09-01",
            "placement": "随班就读",
            "status_date": "2019-11-01",
        },
        {**base, "dropout_date": "2019-11-01", "reason": "外出打工"},
    ]
    result = import_ledger(write_csv(tmp_path / "relapse.csv", rows), county=area["county"])
    assert result.ok, result.problems
    first, second = DropoutCase.objects.order_by("dropout_date")
    assert (first.status, second.status, second.previous_case_id) == (Status.RELAPSED, Status.DROPPED_OUT, first.pk)
    assert import_ledger(write_csv(tmp_path / "relapse.csv", rows), county=area["county"]).unchanged == 2


def test_an_import_continues_a_relapse_recorded_through_the_case_page(area, tmp_path):
    from students.services import case_reopen_on_relapse

    student = StudentFactory()
    case = case_mark_returned_on(open_case(area["school"], student=student), D(2019, 9, 1))
    case_reopen_on_relapse(case=case, dropout_date=D(2019, 11, 1), reason=Reason.WORK)
    row = ledger_row(area["school"], 161, id_number=student.id_number, name=student.name, gender="女")
    row.update(
        dropout_date="2019-11-01", reason="外出打工", status="已复学", return_date="2020-03-01", placement="随班就读"
    )
    result = import_ledger(write_csv(tmp_path / "continue.csv", [row]), county=area["county"])
    assert result.ok, result.problems
    assert result.updated == 1
    assert DropoutCase.objects.get(dropout_date=D(2019, 11, 1)).status == Status.RETURNED


def test_a_child_known_only_by_registry_number_is_matched_on_reimport(area, tmp_path):
    row = ledger_row(area["school"], 170, id_number="", registry_number="J" + "2" * 18, birth_date="2008-05-05")
    row["gender"] = "男"
    path = write_csv(tmp_path / "registry.csv", [row])
    assert import_ledger(path, county=area["county"]).created == 1
    assert import_ledger(path, county=area["county"]).unchanged == 1
    assert Student.objects.get().id_number is None


def test_a_masked_id_number_is_refused_with_the_reason(area, tmp_path):
    row = ledger_row(area["school"], 180, id_number="5132**********0010")
    result = import_ledger(write_csv(tmp_path / "masked.csv", [row]), county=area["county"])
    assert "masked" in problems_by_row(result)[2][0]


def test_a_generated_file_of_5000_rows_imports(area, tmp_path):
    schools = [area["school"], area["other_school"], SchoolFactory(county=area["county"])]
    reasons = ["因贫", "厌学", "上学远", "外出打工"]
    rows = []
    for n in range(5000):
        row = ledger_row(schools[n % 3], 1000 + n, reason=reasons[n % 4], grade=n % 9 + 1)
        row["dropout_date"] = (D(2019, 1, 1) + datetime.timedelta(days=n % 300)).isoformat()
        if n % 3 == 0:
            row.update(status="已复学", return_date="2020-01-15", placement="随班就读")
        rows.append(row)
    result = import_ledger(write_csv(tmp_path / "big.csv", rows), county=area["county"])
    assert result.ok, result.problems[:5]
    assert (result.rows, result.created) == (5000, 5000)
    assert DropoutCase.objects.filter(county=area["county"]).count() == 5000
    assert DropoutCase.objects.filter(status=Status.RETURNED).count() == 1667
    assert CaseEvent.objects.count() == 5000 + 1667
    assert Student.objects.filter(birth_date__gte=BIRTH).count() == 5000


def case_mark_returned_on(case, day):
    from students.services import case_mark_returned

    case_mark_returned(case=case, returned_on=day, placement=Placement.REGULAR_CLASS)
    case.refresh_from_db()
    return case
