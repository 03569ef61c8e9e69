"""Reading an XLSX workbook as a stream of rows, within limits (students.import_limits).

openpyxl reads the workbook's structure (its sheets, styles and dates); the parts that grow with the data are
read here, through a ZIP whose unpacking is counted (CappedZipFile):
- the shared strings, kept as one string and an array of offsets: a list of millions of small strings would take
  ten times the memory of their text;
- each worksheet, parsed row by row with openpyxl's own cell parser, yielding only the cells the file holds, so
  a cell at the far right of the sheet or a row a million rows down costs nothing until the limits refuse it;
- a formula cell saved without its result (openpyxl writes them so, as do some converters) becomes a
  FormulaWithoutValue naming the cell, never a blank.

It leans on three of openpyxl's internals (ExcelReader, WorkSheetParser, a read-only sheet's source), pinned with
openpyxl's version in requirements.txt.
"""

import io
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from xml.etree.ElementTree import ParseError, iterparse

from django.utils.translation import gettext as _
from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import FORMULA_TAG, ROW_TAG, WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from .import_limits import CappedZipFile, FileProblem, Limits

STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
SHEET_DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"


class FormulaWithoutValue(str):
    """A formula cell saved without its result. Its text is the formula, so that a reader taking it for text
    reads something, never a silent blank; the ledger's readers refuse it, naming the cell."""

    coordinate: str

    def __new__(cls, formula: str, coordinate: str) -> "FormulaWithoutValue":
        cell = super().__new__(cls, "=" + (formula or "").lstrip("="))
        cell.coordinate = coordinate
        return cell


class SharedStrings:
    """A workbook's shared strings in one string and an array of where each ends."""

    def __init__(self, source, limits: Limits):
        text = io.StringIO()
        ends = array("Q", [0])
        events = iterparse(source, events=("start", "end"))
        root = None
        for event, node in events:
            if root is None:
                root = node
            if event == "end" and node.tag == STRING_TAG:
                value = Text.from_tree(node).content.replace("x005F_", "")
                if len(value) > limits.cell_chars:
                    raise FileProblem(
                        _("The file holds a text of %(length)s characters; a cell may hold at most %(limit)s.")
                        % {"length": f"{len(value):,}", "limit": f"{limits.cell_chars:,}"}
                    )
                text.write(value)
                ends.append(ends[-1] + len(value))
                root.clear()  # the strings read so far, kept above only as `text`
        self.text = text.getvalue()
        self.ends = ends

    def __len__(self) -> int:
        return len(self.ends) - 1

    def __getitem__(self, index: int) -> str:
        return self.text[self.ends[index] : self.ends[index + 1]]


class _Reader(ExcelReader):
    """openpyxl's reader (read-only, cached values) over a counted ZIP, with the compact shared strings."""

    def __init__(self, handle, limits: Limits):  # in place of ExcelReader's, which opens a ZIP of its own
        self.limits = limits
        self.archive = CappedZipFile(handle, limits)  # refuses the declared sizes before anything is unpacked
        self.valid_files = self.archive.namelist()
        self.read_only = True
        self.keep_vba = False
        self.data_only = True
        self.keep_links = False
        self.rich_text = False
        self.shared_strings = []

    def read_strings(self):
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as source:
                self.shared_strings = SharedStrings(source, self.limits)


def open_workbook(handle, limits: Limits):
    """The workbook in `handle`, refused as soon as it passes the unpacked size; its worksheets read-only."""
    reader = _Reader(handle, limits)
    reader.read()
    return reader.wb


class _Parser(WorkSheetParser):
    def rows(self) -> Iterator[tuple[int, list[dict]]]:
        """The sheet's rows, each let go of once parsed (openpyxl's parse keeps every row element it read,
        emptied, and the dimensions of every row: for a sheet of millions of empty rows, gigabytes)."""
        sheet_data = None
        for event, element in iterparse(self.source, events=("start", "end")):
            if event == "start":
                if element.tag == SHEET_DATA_TAG:
                    sheet_data = element
            elif element.tag == ROW_TAG:
                row = self.parse_row(element)
                self.row_dimensions.clear()
                if sheet_data is not None:
                    sheet_data.clear()
                yield row
            elif element.tag == SHEET_DATA_TAG:
                return

    def parse_cell(self, element):
        cell = super().parse_cell(element)
        if cell["value"] is None:
            formula = element.find(FORMULA_TAG)
            if formula is not None:
                coordinate = f"{get_column_letter(cell['column'])}{cell['row']}"
                cell["value"] = FormulaWithoutValue(formula.text or "", coordinate)
        return cell


def _parser(sheet, source) -> _Parser:
    workbook = sheet.parent
    return _Parser(
        source,
        sheet._shared_strings,
        data_only=True,
        epoch=workbook.epoch,
        date_formats=workbook._date_formats,
        timedelta_formats=workbook._timedelta_formats,
    )


@contextmanager
def _unreadable_as_file_problem() -> Iterator[None]:
    """A part that is not what it claims (truncated, not XML, failing its checksum) is a problem with the file."""
    try:
        yield
    except (zipfile.BadZipFile, ParseError, ValueError, KeyError, EOFError, zlib.error) as error:
        raise FileProblem(
            _("The file could not be opened as an Excel workbook (%(error)s).") % {"error": error}
        ) from None


def worksheet_rows(sheet, limits: Limits) -> Iterator[tuple[int, list]]:
    """(row number, cell values) for each row of the sheet with a value, numbered as the spreadsheet shows them.

    Only cells with a value count: a row is as long as its last such cell. A value past the column limit
    refuses the file here, before a list of that length is made.
    """
    with _unreadable_as_file_problem(), sheet._get_source() as source:
        for number, cells in _parser(sheet, source).rows():
            values: list = []
            for cell in cells:
                value = cell["value"]
                if value is None or value == "":
                    continue
                column = cell["column"]
                if column > limits.columns:
                    raise limits.too_many_columns(_("Row %(row)s") % {"row": number})
                if column > len(values):
                    values.extend([None] * (column - len(values)))
                values[column - 1] = value
            if values:
                yield number, values


def declared_rows(sheet, limits: Limits) -> int:
    """The data rows the sheet's dimension declares (for progress; never trusted as a limit), 1 at least."""
    with _unreadable_as_file_problem(), sheet._get_source() as source:
        boundaries = _parser(sheet, source).parse_dimensions()
    if not boundaries:
        return 1
    return max(1, min(boundaries[3] or 1, limits.rows + 1) - 1)
