"""Writing spreadsheets (CSV and XLSX): every file the product writes, ledger exports and problem reports alike,
goes through here, so that no cell a user or an uploaded file supplied runs as a formula when the file is opened.

The rule, as OWASP's advice on CSV injection gives it:
- a text cell that starts with a character a spreadsheet reads as the start of a formula (= + - @), or with a tab,
  carriage return or line feed (which some spreadsheets skip before reading one), gets a leading apostrophe (`escape`);
  a cell that already starts with apostrophes before one of those characters gets one more, so that the import,
  which removes one apostrophe again (`unescape`), reads back exactly what was written;
- every CSV cell is quoted, so a separator inside a value (a ";" where Excel's list separator is ";") cannot
  start a new cell with the rest of the value;
- an XLSX cell is never a formula: escaped text is written with the text type.
"""

import csv
import datetime
import re
from collections.abc import Iterable, Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

DATE_FORMAT = "yyyy-mm-dd"
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E6F0FA")

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_LIVE = re.compile("'*[" + re.escape("".join(FORMULA_START)) + "]")
_FIRST = frozenset((*FORMULA_START, "'"))  # a quick look at the first character spares most cells the pattern


def escape(value):
    """A cell value that no spreadsheet runs as a formula; values other than text are returned as they are."""
    if isinstance(value, str) and value[:1] in _FIRST and _LIVE.match(value):
        return "'" + value
    return value


def unescape(text: str) -> str:
    """The text `escape` was given, from what it returned: the import reads exported cells back with it."""
    if text[:1] == "'" and _LIVE.match(text, 1):
        return text[1:]
    return text


# CSV --------------------------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return escape(value)


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """CSV text, line by line, for a streamed response: UTF-8 with a BOM, which Excel opens correctly."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield "\ufeff" + writer.writerow([_csv_value(value) for value in header])
    for row in rows:
        yield writer.writerow([_csv_value(value) for value in row])


def write_csv(target, header: list[str], rows: Iterable[list]) -> None:
    """Write CSV bytes (UTF-8 with BOM) to a binary file object."""
    for line in csv_lines(header, rows):
        target.write(line.encode("utf-8"))


# XLSX -------------------------------------------------------------------------------------------------


def write_xlsx(target, header: list[str], rows: Iterable[list], *, title: str, widths: list[int] | None = None) -> None:
    """A one-sheet workbook written row by row (openpyxl write-only), with real date cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([_header_cell(sheet, text) for text in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(target)


def _header_cell(sheet, text: str):
    cell = WriteOnlyCell(sheet, value=escape(text))
    cell.font = BOLD
    cell.fill = HEADER_FILL
    return cell


def _xlsx_cell(sheet, value):
    """A value for the write-only sheet: a date cell for a date, text that cannot be a formula for text."""
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    escaped = escape(value)
    if escaped is not value:
        cell = WriteOnlyCell(sheet, value=escaped)
        cell.data_type = "s"  # text, whatever openpyxl would guess from its first character
        return cell
    return value
