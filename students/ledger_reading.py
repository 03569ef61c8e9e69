"""Reading ledger spreadsheets: XLSX (openpyxl, read-only) or CSV in UTF-8, GBK or GB18030, and their cells.

Cells are read strictly: an ID number that arrived as a number is an error that says so, never a
silently converted value; dates are read in the forms county offices write them.
"""

import codecs
import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from django.utils.translation import gettext as _

from .ledger_columns import NO, YES, match_headers, normalise
from .spreadsheets import unescape

EXCEL_EPOCH = datetime.date(1899, 12, 30)


class FileProblem(Exception):
    """The file as a whole cannot be read as a ledger (no header, wrong type, unknown encoding)."""


class CellError(Exception):
    pass


# Reading files ---------------------------------------------------------------------------------------


@dataclass
class Sheet:
    rows: Iterator[tuple[int, list]]
    total: int
    encoding: str = ""


def decode(raw: bytes) -> tuple[str, str]:
    """The text of a CSV file and the name of its encoding: UTF-8 (with or without BOM), GBK or GB18030."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8 (BOM)"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    # GB18030 is a superset of GBK (the same bytes mean the same characters): one decoder reads both,
    # and reads correctly the rare characters in names that GBK lacks (䶮, 𬌗).
    for encoding, name in (("utf-8", "UTF-8"), ("gb18030", "GBK/GB18030")):
        try:
            return raw.decode(encoding), name
        except UnicodeDecodeError:
            continue
    raise FileProblem(_("The file's text encoding is not UTF-8, GBK or GB18030. Save it as CSV (UTF-8) or XLSX."))


def _csv_sheet(raw: bytes) -> Sheet:
    text, encoding = decode(raw)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return Sheet(((number, row) for number, row in enumerate(reader, start=1)), len(lines), encoding)


@contextmanager
def open_sheet(path: str | Path, name: str = "") -> Iterator[Sheet]:
    """The rows of an XLSX (first sheet with ledger headers) or CSV file, numbered as the spreadsheet shows."""
    suffix = Path(name or str(path)).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as error:
            raise FileProblem(
                _("The file could not be opened as an Excel workbook (%(error)s).") % {"error": error}
            ) from None
        try:
            sheet = _pick_worksheet(workbook)
            total = max((sheet.max_row or 1) - 1, 1)
            rows = ((number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1))
            yield Sheet(rows, total)
        finally:
            workbook.close()
    elif suffix in (".csv", ".txt"):
        yield _csv_sheet(Path(path).read_bytes())
    elif suffix == ".xls":
        raise FileProblem(_("Old Excel files (.xls) cannot be read: save the file as .xlsx or .csv."))
    else:
        raise FileProblem(_("Upload an .xlsx or a .csv file."))


def _pick_worksheet(workbook):
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(max_row=10, values_only=True):
            if len(match_headers(list(row))[0]) >= 3:
                return sheet
    return workbook.worksheets[0]


def find_header(rows: Iterator[tuple[int, list]]) -> tuple[int, list]:
    """The first row (of the first ten) that names at least three of the ledger's columns."""
    for number, cells in rows:
        if len(match_headers(cells)[0]) >= 3:
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
    if isinstance(cell, bool):
        return cell
    text = normalise(text_value(cell))
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError(_("Write 是 or 否 (yes or no)."))


def read_grade(cell) -> int | None:
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
