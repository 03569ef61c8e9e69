"""Reading ledger spreadsheets: XLSX (students.xlsx_reading) or CSV in UTF-8, GBK or GB18030, and their cells.

Files are read as streams, within the limits of students.import_limits: a file past one is refused as soon as
the reading meets it, never read whole. Cells are read strictly: an ID number that arrived as a number is an
error that says so, never a silently converted value; a formula saved without its result is an error naming
the cell, never a blank; dates are read in the forms county offices write them.
"""

import codecs
import csv
import datetime
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from .import_limits import FileProblem, Limits
from .ledger_columns import NO, YES, match_headers, normalise
from .spreadsheets import unescape
from .xlsx_reading import FormulaWithoutValue, declared_rows, open_workbook, worksheet_rows

EXCEL_EPOCH = datetime.date(1899, 12, 30)


class CellError(Exception):
    pass


def formula_problem(cell: FormulaWithoutValue) -> CellError:
    """What a row's problem says of a formula cell saved without its result: the cell, and what to do."""
    return CellError(
        _(
            "Cell %(cell)s holds a formula (%(formula)s) saved without its result. Open the file in Excel or WPS "
            "and save it again, or paste the values in place of the formulas."
        )
        % {"cell": cell.coordinate, "formula": str.__str__(cell)}
    )


# Reading files ---------------------------------------------------------------------------------------


@dataclass
class Sheet:
    rows: Iterator[tuple[int, list]]
    total: int
    encoding: str = ""


def _limited(rows: Iterator[tuple[int, list]], limits: Limits) -> Iterator[tuple[int, list]]:
    """The rows, refused as soon as one passes a limit: rows with content, columns with content, a cell's length."""
    seen = 0
    for number, cells in rows:
        while cells and cells[-1] in (None, ""):
            cells.pop()
        if not cells:
            yield number, cells
            continue
        seen += 1
        if seen > limits.rows + 1:  # the header, then the rows
            raise limits.too_many_rows()
        if len(cells) > limits.columns:
            raise limits.too_many_columns(_("Row %(row)s") % {"row": number})
        for position, cell in enumerate(cells):
            if type(cell) is str and len(cell) > limits.cell_chars:
                raise limits.cell_too_long(f"{get_column_letter(position + 1)}{number}", len(cell))
        yield number, cells


def _detect_encoding(path: Path) -> tuple[str, str, int]:
    """The codec and name of a CSV file's text encoding, and its number of lines, read in chunks (one pass each)."""
    with open(path, "rb") as handle:
        start = handle.read(4)
    if start.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", "UTF-8 (BOM)")]
    elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", "UTF-16")]
    else:
        # GB18030 is a superset of GBK (the same bytes mean the same characters): one decoder reads both,
        # and reads correctly the rare characters in names that GBK lacks (䶮, 𬌗).
        candidates = [("utf-8", "UTF-8"), ("gb18030", "GBK/GB18030")]
    for codec, name in candidates:
        decoder = codecs.getincrementaldecoder(codec)()
        lines = 0
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                    lines += chunk.count(b"\n")
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return codec, name, lines
    raise FileProblem(_("The file's text encoding is not UTF-8, GBK or GB18030. Save it as CSV (UTF-8) or XLSX."))


def _bounded_lines(handle, longest: int) -> Iterator[str]:
    """The file's lines, none longer than `longest` characters: a line of hundreds of megabytes is never read whole."""
    number = 0
    while line := handle.readline(longest + 1):
        number += 1
        if len(line) > longest and not line.endswith("\n"):
            raise FileProblem(
                _("Line %(line)s is longer than %(limit)s characters: this is not a ledger file.")
                % {"line": number, "limit": f"{longest:,}"}
            )
        yield line


@contextmanager
def _csv_sheet(path: Path, limits: Limits) -> Iterator[Sheet]:
    if path.stat().st_size > limits.unpacked_bytes:
        raise limits.too_large()
    codec, name, lines = _detect_encoding(path)
    with open(path, encoding=codec, newline="") as handle:
        longest = limits.columns * (limits.cell_chars + 3) + 2
        first_line = handle.readline(longest)
        delimiter = max((",", "\t", ";"), key=first_line.count)
        handle.seek(0)
        reader = csv.reader(_bounded_lines(handle, longest), delimiter=delimiter)

        def rows() -> Iterator[tuple[int, list]]:
            try:
                yield from enumerate(reader, start=1)
            except csv.Error as error:
                raise FileProblem(
                    _("Row %(row)s cannot be read as CSV (%(error)s).") % {"row": reader.line_num, "error": error}
                ) from None

        yield Sheet(_limited(rows(), limits), lines, name)


@contextmanager
def open_sheet(path: str | Path, name: str = "", limits: Limits | None = None) -> Iterator[Sheet]:
    """The rows of an XLSX (first sheet with ledger headers) or CSV file, numbered as the spreadsheet shows.

    A file past one of the limits (students.import_limits, the settings' by default) raises FileProblem as soon as
    the reading meets it.
    """
    limits = limits or Limits.from_settings()
    suffix = Path(name or str(path)).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        with _xlsx_sheet(Path(path), limits) as sheet:
            yield sheet
    elif suffix in (".csv", ".txt"):
        with _csv_sheet(Path(path), limits) as sheet:
            yield sheet
    elif suffix == ".xls":
        raise FileProblem(_("Old Excel files (.xls) cannot be read: save the file as .xlsx or .csv."))
    else:
        raise FileProblem(_("Upload an .xlsx or a .csv file."))


@contextmanager
def _xlsx_sheet(path: Path, limits: Limits) -> Iterator[Sheet]:
    with open(path, "rb") as handle:
        try:
            workbook = open_workbook(handle, limits)
        except FileProblem:
            raise
        except Exception as error:
            raise FileProblem(
                _("The file could not be opened as an Excel workbook (%(error)s).") % {"error": error}
            ) from None
        try:
            sheet = _pick_worksheet(workbook, limits)
            yield Sheet(_limited(worksheet_rows(sheet, limits), limits), declared_rows(sheet, limits))
        finally:
            workbook.close()


def _pick_worksheet(workbook, limits: Limits):
    for sheet in workbook.worksheets:
        for number, cells in _limited(worksheet_rows(sheet, limits), limits):
            if len(match_headers(cells)[0]) >= 3:
                return sheet
            if number >= 10:
                break
    return workbook.worksheets[0]


def find_header(rows: Iterator[tuple[int, list]], recognised: Callable[[list], int] | None = None) -> tuple[int, list]:
    """The first row (of the first ten) that names at least three of the ledger's columns (`recognised`: how many
    a row names, by default the ledger's own spellings)."""
    recognised = recognised or (lambda cells: len(match_headers(cells)[0]))
    for number, cells in rows:
        if recognised(cells) >= 3:
            return number, cells
        if number >= 10:
            break
    raise FileProblem(
        _("No header row found: one of the first ten rows must name the ledger's columns (姓名, 身份证号, ...).")
    )


# Reading cells ---------------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)
_AS_DECIMAL = re.compile(r"^\d+\.0+$")
_DATE_SEPARATED = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,5}(?:\.\d+)?$")
_GRADE = re.compile(r"^(?:(\d)|([一二三四五六七八九]))\s*年级$|^初([一二三])$|^(\d)$")
CHINESE_DIGITS = "一二三四五六七八九"


def text_value(cell) -> str:
    if type(cell) is str:
        text = cell.strip()
    elif cell is None:
        return ""
    elif isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))
    elif isinstance(cell, datetime.datetime):
        text = cell.date().isoformat()
    else:
        text = str(cell).strip()
    return unescape(text)  # an exported cell kept from running as a formula reads as it was written


def read_id(cell) -> str:
    if type(cell) is FormulaWithoutValue:
        raise formula_problem(cell)
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        raise CellError(
            _(
                "This number arrived as a number (%(value)s), not as text, so its last digits may be lost. "
                "Format the column as text and type the number again."
            )
            % {"value": cell}
        )
    text = text_value(cell)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.replace(" ", "").upper()
    if _SCIENTIFIC.match(text) or _AS_DECIMAL.match(text):
        raise CellError(
            _(
                "This number arrived in number format (%(value)s), so its last digits are lost. "
                "Format the column as text and type the number again."
            )
            % {"value": text}
        )
    if "*" in text:
        raise CellError(
            _("This number is masked. An export made for a role that does not see identifiers cannot be imported.")
        )
    return text


def _serial_date(number: float) -> datetime.date:
    if not 1 <= number < 2958466:
        raise CellError(_("%(value)s is not a date.") % {"value": number})
    return EXCEL_EPOCH + datetime.timedelta(days=int(number))


def read_date(cell) -> datetime.date | None:
    if type(cell) is FormulaWithoutValue:
        raise formula_problem(cell)
    if cell is None or cell == "":
        return None
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return _serial_date(cell)
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    if not text:
        return None
    match = _DATE_SEPARATED.match(text) or _DATE_COMPACT.match(text)
    if match:
        try:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise CellError(_("The date %(value)s does not exist.") % {"value": text}) from None
    if _SERIAL.match(text):
        return _serial_date(float(text))
    raise CellError(
        _("%(value)s is not a date. Write dates as 2019-05-01, 2019/5/1, 2019年5月1日 or 20190501.") % {"value": text}
    )


def read_bool(cell) -> bool:
    if type(cell) is FormulaWithoutValue:
        raise formula_problem(cell)
    if isinstance(cell, bool):
        return cell
    text = normalise(text_value(cell))
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError(_("Write 是 or 否 (yes or no)."))


def read_grade(cell) -> int | None:
    if type(cell) is FormulaWithoutValue:
        raise formula_problem(cell)
    text = unicodedata.normalize("NFKC", text_value(cell)).replace(" ", "")
    if not text:
        return None
    match = _GRADE.match(text)
    if match:
        if match[1] or match[4]:
            grade = int(match[1] or match[4])
        elif match[2]:
            grade = CHINESE_DIGITS.index(match[2]) + 1
        else:
            grade = CHINESE_DIGITS.index(match[3]) + 7
        if 1 <= grade <= 9:
            return grade
    raise CellError(_("The grade must be 1 to 9 (or 七年级, 初一, ...)."))
