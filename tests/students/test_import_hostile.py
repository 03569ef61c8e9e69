"""Hostile ledger files, each built here: refused early, with a message naming the limit, at little cost."""

import io
import struct
import time
import tracemalloc
import zipfile

import openpyxl
import pytest

from students.import_problems import ProblemKind
from students.importing import import_ledger
from students.models import Student
from tests.students.ledger_files import ledger_row, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
ROW = b'<row><c t="inlineStr"><is><t>AAAA</t></is></c><c><v>1</v></c><c><v>2</v></c></row>'


def sheet_xml(rows: int) -> bytes:
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    return head + b"<sheetData>" + ROW * rows + b"</sheetData></worksheet>"


def workbook_with_sheet(path, sheet: bytes | None = None, *, declare: int | None = None):
    """A real workbook whose first sheet is replaced by `sheet` (deflated); `declare` rewrites the unpacked size its
    ZIP entry declares, as a forged file would."""
    source = io.BytesIO()
    openpyxl.Workbook().save(source)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet is not None:
                data = sheet
            bomb.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    if declare is not None:
        _declare_size(path, "xl/worksheets/sheet1.xml", declare)
    return path


def _declare_size(path, name: str, size: int) -> None:
    """Rewrite the unpacked size an entry declares, in its central directory record."""
    content = bytearray(path.read_bytes())
    encoded = name.encode()
    at = content.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", content, at + 28)[0]
        if bytes(content[at + 46 : at + 46 + name_length]) == encoded:
            struct.pack_into("<I", content, at + 24, size)
        at = content.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(content))


def refused(path, county, **kwargs):
    """Import the file, measuring the CPU time and the memory Python allocated; the result and both figures."""
    tracemalloc.start()
    started = time.process_time()
    try:
        result = import_ledger(path, county=county, **kwargs)
        seconds = time.process_time() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, seconds, peak


def test_a_zip_bomb_of_a_few_kilobytes_is_refused_at_once_and_cheaply(area, tmp_path):
    """16 KB of XLSX that would unpack to 100,000 rows: what the issue measured at 700,000 problems."""
    path = workbook_with_sheet(tmp_path / "bomb.xlsx", sheet_xml(100_000))
    assert path.stat().st_size < 32 * 1024
    result, seconds, peak = refused(path, area["county"])
    assert [p.kind for p in result.problems] == [ProblemKind.FILE]
    assert "ZIP bomb" in result.problems[0].message
    # Generous bounds: refusing reads the ZIP's directory only, in milliseconds and kilobytes.
    assert seconds < 1.0
    assert peak < 200 * MB


def test_a_zip_that_declares_more_than_the_unpacked_limit_is_refused_before_unpacking(area, tmp_path, settings):
    settings.IMPORT_MAX_UNPACKED_MB = 10
    path = workbook_with_sheet(tmp_path / "declared.xlsx", declare=4_000_000_000)
    result, seconds, peak = refused(path, area["county"])
    assert result.problems[0].message.startswith("The file unpacks to more than 10 MB")
    assert seconds < 1.0 and peak < 200 * MB


def test_a_zip_whose_entries_unpack_past_the_limit_is_refused_as_it_is_read(area, tmp_path, settings):
    """Parts that declare their sizes honestly and pack like a spreadsheet, together past the limit."""
    settings.IMPORT_MAX_UNPACKED_MB = 1
    rows = [ledger_row(area["school"], n, address=f"{n:07d}" * 25) for n in range(6000)]
    path = write_xlsx(tmp_path / "large.xlsx", rows)
    result, _seconds, _peak = refused(path, area["county"])
    assert result.problems[0].message.startswith("The file unpacks to more than 1 MB")
    assert Student.objects.count() == 0


def test_a_zip_that_lies_about_its_sizes_is_refused_not_read_further(area, tmp_path):
    path = workbook_with_sheet(tmp_path / "liar.xlsx", sheet_xml(2000), declare=1000)
    result, seconds, _peak = refused(path, area["county"])
    assert [p.kind for p in result.problems] == [ProblemKind.FILE]
    assert seconds < 1.0


def test_the_unpacked_counter_stops_a_part_as_soon_as_it_passes_its_share(settings):
    from students.import_limits import CappedZipFile, FileProblem, Limits

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.xml", b"x" * (3 * MB))
    limits = Limits(unpacked_bytes=5 * MB, rows=10, columns=10, cell_chars=10, problems=10)
    archive = CappedZipFile(packed, limits)
    archive.count(4 * MB)  # another part already unpacked
    with pytest.raises(FileProblem, match="more than 5 MB"), archive.open("a.xml") as entry:
        while entry.read(64 * 1024):
            pass


def test_more_rows_than_the_limit_is_refused_naming_the_limit(area, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 5
    rows = [ledger_row(area["school"], n) for n in range(6)]
    for write in (write_csv, write_xlsx):
        path = write(tmp_path / f"rows.{'csv' if write is write_csv else 'xlsx'}", rows)
        result = import_ledger(path, county=area["county"])
        assert [p.message for p in result.problems] == [
            "The file has more than 5 rows, the most a ledger file may hold. Split it (by school, say)."
        ]
    five = write_csv(tmp_path / "five.csv", rows[:5])
    assert import_ledger(five, county=area["county"]).ok


def test_a_cell_far_to_the_right_is_refused_naming_its_row(area, tmp_path, settings):
    path = tmp_path / "wide.xlsx"
    row = ledger_row(area["school"], 1)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "身份证号", "学校标识码", "年级", "辍学日期", "辍学原因"])
    sheet.append([row["name"], row["id_number"], row["school_code"], 7, "2019-04-01", "因贫"])
    sheet.cell(row=2, column=16384, value="x")  # XFD2: Excel's last column
    workbook.save(path)
    result = import_ledger(path, county=area["county"])
    assert result.problems[0].message.startswith("Row 2 goes past column 100")
    settings.IMPORT_MAX_COLUMNS = 5
    csv_path = write_csv(tmp_path / "wide.csv", [ledger_row(area["school"], 2)])
    assert "past column 5" in import_ledger(csv_path, county=area["county"]).problems[0].message


def test_a_cell_longer_than_the_limit_is_refused_naming_the_cell(area, tmp_path, settings):
    settings.IMPORT_MAX_CELL_CHARS = 500
    rows = [ledger_row(area["school"], 1), ledger_row(area["school"], 2, address="村" * 501)]
    for write in (write_csv, write_xlsx):
        path = write(tmp_path / f"long.{'csv' if write is write_csv else 'xlsx'}", rows)
        message = import_ledger(path, county=area["county"]).problems[0].message
        assert "501 characters; a cell may hold at most 500" in message, message


def test_a_csv_of_one_endless_line_is_refused_without_reading_it_whole(area, tmp_path):
    path = tmp_path / "endless.csv"
    with open(path, "wb") as out:
        out.write("姓名,身份证号,学校标识码,年级,辍学日期,辍学原因\n".encode())
        for _ in range(40):
            out.write(b"A" * MB)  # 40 MB without a line break
    result, _seconds, peak = refused(path, area["county"])
    assert "longer than" in result.problems[0].message
    assert peak < 200 * MB


def test_a_check_keeps_the_problems_up_to_the_limit_and_says_where_it_stopped(area, tmp_path, settings):
    settings.IMPORT_MAX_PROBLEMS = 3
    rows = [ledger_row(area["school"], n, grade=12) for n in range(10)]
    result = import_ledger(write_csv(tmp_path / "many.csv", rows), county=area["county"], dry_run=True)
    assert [p.row for p in result.problems] == [2, 3, 4, None]
    assert result.problems[-1].message == (
        "The check stopped at row 4: it keeps 3 problems at most. Correct these and check the file again."
    )


def test_a_formula_saved_without_its_result_is_a_problem_naming_the_cell(area, tmp_path):
    """openpyxl (and some converters) save formulas without a cached value: never read as a blank."""
    path = tmp_path / "formulas.xlsx"
    good = ledger_row(area["school"], 1)
    other = ledger_row(area["school"], 2)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "身份证号", "学校标识码", "年级", "辍学日期", "辍学原因"])
    sheet.append([good["name"], good["id_number"], good["school_code"], 7, "2019-04-01", "因贫"])
    sheet.append(["=A2", other["id_number"], other["school_code"], 7, "2019-04-01", "因贫"])
    sheet.append([other["name"] + "b", '=CONCATENATE("5132",B2)', other["school_code"], 7, "2019-04-01", "因贫"])
    workbook.save(path)
    result = import_ledger(path, county=area["county"])
    problems = {p.row: p for p in result.problems}
    assert set(problems) == {3, 4}
    assert problems[3].kind == problems[4].kind == ProblemKind.FORMULA
    assert problems[3].column == "姓名" and problems[3].message.startswith("Cell A3 holds a formula (=A2)")
    assert "required" not in problems[3].message
    assert problems[4].message.startswith("Cell B4 holds a formula")
    assert Student.objects.count() == 0


def test_the_default_limits_read_a_file_within_them(area, tmp_path):
    rows = [ledger_row(area["school"], n) for n in range(20)]
    assert import_ledger(write_xlsx(tmp_path / "fine.xlsx", rows), county=area["county"]).created == 20
