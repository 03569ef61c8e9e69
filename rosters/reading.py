"""Reading a roster file: the ledger import's reader and cell checks, with the roster's own headings.

A roster is read with the ledger's reader (students.ledger_reading: XLSX, or CSV in UTF-8, GBK or GB18030; an ID
number that arrived as a number, a masked number, a date that is not one are problems), its headings matched
through rosters.columns. Each row is checked as the import checks a child (an ID number that fails its check,
a registry number of the wrong shape, a birth date or gender that disagrees with the ID number, a child twice),
and every problem of the file is reported at once, by row. A G registry number carries the ID number: a row that
gives only it is matched by that ID number too.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from students.identifiers import id_birth_date, id_gender, validate_id_number, validate_registry_number
from students.importing import Problem
from students.ledger_columns import Kind, normalise, vocabulary
from students.ledger_reading import CellError, FileProblem, open_sheet, read_date, read_grade, read_id, text_value

from .columns import COLUMNS, LABELS, identifies, match_headings

HEADER_ROWS = 10
PROGRESS_EVERY = 5000


@dataclass
class RosterEntry:
    row: int
    name: str = ""
    gender: str = ""
    birth_date: datetime.date | None = None
    id_number: str | None = None
    registry_number: str | None = None
    address: str = ""
    school_code: str = ""
    grade: int | None = None

    def copy_values(self) -> tuple:
        """The entry as RosterRow's columns after comparison and kind (rosters.comparing.ROW_COLUMNS)."""
        return (
            self.row,
            self.name,
            "",  # filled in by the comparison, for the rows the name rule may match (rosters.comparing)
            self.gender,
            self.birth_date,
            self.id_number,
            self.registry_number,
            self.address,
            self.school_code,
            self.grade,
        )


@dataclass
class Roster:
    kind: str
    entries: list[RosterEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    encoding: str = ""


def _find_headings(kind: str, rows, mapping) -> dict[str, int]:
    for number, cells in rows:
        positions = match_headings(kind, cells, mapping)
        if identifies(positions):
            return positions
        if number >= HEADER_ROWS:
            break
    names = "、".join(str(column.label) for column in COLUMNS[kind][:4])
    raise FileProblem(
        _("No heading row found: one of the first ten rows must name the roster's columns (%(names)s, ...).")
        % {"names": names}
    )


def _blank(cells: list) -> bool:
    return not any(cell is not None and (type(cell) is not str or cell.strip()) for cell in cells)


def _shown(cell) -> str:
    """A cell as a problem report quotes it: a number as it arrived, anything else as text."""
    return str(cell) if isinstance(cell, (int, float)) else text_value(cell)


def _cell(cells: list, positions: dict[str, int], key: str):
    position = positions.get(key)
    return cells[position] if position is not None and position < len(cells) else None


def _read(entry: RosterEntry, key: str, cell) -> None:
    kind = KIND_OF[key]
    if kind == Kind.ID:
        value = read_id(cell)
        if value:
            (validate_id_number if key == "id_number" else validate_registry_number)(value)
        setattr(entry, key, value or None)
    elif kind == Kind.DATE:
        entry.birth_date = read_date(cell)
    elif kind == Kind.GRADE:
        entry.grade = read_grade(cell)
    elif kind == Kind.CHOICE:
        text = text_value(cell)
        if text:
            value = vocabulary("gender").get(normalise(text))
            if value is None:
                raise CellError(_("Write 男 or 女 (male or female)."))
            entry.gender = value
    else:
        setattr(entry, key, text_value(cell)[: 200 if key == "address" else 50])


KIND_OF = {column.key: column.kind for columns in COLUMNS.values() for column in columns}


def _agree(entry: RosterEntry, problems: list[Problem], cells: list, positions: dict[str, int]) -> None:
    """The checks across a row's cells: what the ID number says against what the row says."""
    if entry.id_number is None and entry.registry_number and entry.registry_number.startswith("G"):
        entry.id_number = entry.registry_number[1:]
    if entry.id_number:
        born, gender = id_birth_date(entry.id_number), id_gender(entry.id_number)
        if entry.birth_date and entry.birth_date != born:
            message = _("The birth date does not match the one in the ID number (%(date)s).") % {
                "date": born.isoformat()
            }
            shown = _shown(_cell(cells, positions, "birth_date"))
            problems.append(Problem(entry.row, str(LABELS["birth_date"]), shown, message))
        if entry.gender and entry.gender != gender:
            message = _("The gender does not match the ID number.")
            shown = _shown(_cell(cells, positions, "gender"))
            problems.append(Problem(entry.row, str(LABELS["gender"]), shown, message))
        entry.birth_date, entry.gender = born, gender
    if not entry.id_number and not entry.registry_number and not (entry.name and entry.birth_date):
        problems.append(
            Problem(
                entry.row,
                "",
                "",
                _("The row names no child: give the ID number, the registry number, or the name and birth date."),
            )
        )


def read_roster(
    path,
    *,
    kind: str,
    filename: str = "",
    mapping: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Roster:
    """Every row of a roster file, checked; `problems` lists everything wrong with it, by row."""
    roster = Roster(kind)
    try:
        with open_sheet(path, filename) as sheet:
            roster.encoding = sheet.encoding
            positions = _find_headings(kind, sheet.rows, mapping)
            columns = list(positions.items())
            seen: dict[tuple[str, str], int] = {}
            for number, cells in sheet.rows:
                if _blank(cells):
                    continue
                entry = RosterEntry(number)
                bad = False
                for key, position in columns:
                    cell = cells[position] if position < len(cells) else None
                    try:
                        _read(entry, key, cell)
                    except (CellError, ValidationError) as error:
                        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                        roster.problems.append(Problem(number, str(LABELS[key]), _shown(cell), message))
                        bad = True
                if not bad:
                    _agree(entry, roster.problems, cells, positions)
                for key in ("id_number", "registry_number"):
                    value = getattr(entry, key)
                    if value and (key, value) in seen:
                        message = _("This child is in the roster twice (also in row %(row)s).") % {
                            "row": seen[(key, value)]
                        }
                        roster.problems.append(Problem(number, str(LABELS[key]), value, message))
                    elif value:
                        seen[(key, value)] = number
                roster.entries.append(entry)
                if progress is not None and len(roster.entries) % PROGRESS_EVERY == 0:
                    progress(len(roster.entries), sheet.total)
    except FileProblem as error:
        roster.problems.append(Problem(None, "", "", str(error)))
    return roster
