"""The rosters' spreadsheet headings: a table of aliases per kind of roster.

Each roster kind names the columns it reads, each with its Chinese and English heading and the variants county
offices and the registry systems write. Headings are compared as the ledger import compares them
(students.ledger_columns.normalise_header: width, case, spaces, notes in brackets and the required-marker
ignored), and a `mapping` of a county's own headings to column keys (heading -> key) extends the table, so a
roster laid out by another office is read without editing it.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from students.ledger_columns import BY_KEY, Kind, normalise_header

from .models import RosterKind


@dataclass(frozen=True)
class RosterColumn:
    key: str
    kind: str = Kind.TEXT
    extra: tuple[str, ...] = ()

    @property
    def headings(self) -> tuple[str, ...]:
        """Every heading accepted: the ledger's own for the same field (when it has one), then the extras."""
        ledger = BY_KEY.get(self.key)
        own = (ledger.zh, ledger.en, *ledger.variants) if ledger is not None else ()
        return (self.key, *own, *self.extra)

    @property
    def label(self) -> str:
        ledger = BY_KEY.get(self.key)
        return str(LABELS.get(self.key) or (ledger.zh if ledger else self.key))


NAME = RosterColumn("name", extra=("儿童姓名", "适龄儿童姓名"))
GENDER = RosterColumn("gender", Kind.CHOICE)
BIRTH_DATE = RosterColumn("birth_date", Kind.DATE)
ID_NUMBER = RosterColumn("id_number", Kind.ID, extra=("儿童身份证号", "学生身份证号", "身份证"))
REGISTRY_NUMBER = RosterColumn("registry_number", Kind.ID, extra=("学籍辅号", "学籍主号"))
ADDRESS = RosterColumn("address", extra=("户籍地址", "户口地址", "居住地址"))
SCHOOL_CODE = RosterColumn("school_code", Kind.CODE, extra=("在读学校标识码", "就读学校标识码"))
GRADE = RosterColumn("grade", Kind.GRADE, extra=("在读年级", "当前年级"))

LABELS = {
    "name": _("Name"),
    "gender": _("Gender"),
    "birth_date": _("Birth date"),
    "id_number": _("Resident ID number"),
    "registry_number": _("Student registry number"),
    "address": _("Address"),
    "school_code": _("School code"),
    "grade": _("Grade"),
}

# Per kind: the columns read, and the identifying columns of which a row must have one (or a name, birth date
# and gender to be matched by).
COLUMNS: dict[str, tuple[RosterColumn, ...]] = {
    RosterKind.HOUSEHOLD: (NAME, ID_NUMBER, GENDER, BIRTH_DATE, ADDRESS, REGISTRY_NUMBER),
    RosterKind.REGISTRY: (REGISTRY_NUMBER, ID_NUMBER, NAME, GENDER, BIRTH_DATE, SCHOOL_CODE, GRADE),
    RosterKind.ATTENDANCE: (SCHOOL_CODE, ID_NUMBER, REGISTRY_NUMBER, NAME, GENDER, BIRTH_DATE, GRADE),
    RosterKind.POOR: (ID_NUMBER, NAME, GENDER, BIRTH_DATE, ADDRESS),
}


def heading_index(kind: str, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Every heading accepted for a kind of roster, normalised, to its column key; `mapping` first, so a county's
    own headings win over the table's."""
    keys = {column.key for column in COLUMNS[kind]}
    index = {normalise_header(heading): key for heading, key in (mapping or {}).items() if key in keys}
    for column in COLUMNS[kind]:
        for heading in column.headings:
            index.setdefault(normalise_header(heading), column.key)
    return index


def match_headings(kind: str, cells: list, mapping: dict[str, str] | None = None) -> dict[str, int]:
    """Column keys to positions, for a row of headings (the first of two headings naming one column wins)."""
    index = heading_index(kind, mapping)
    positions: dict[str, int] = {}
    for position, cell in enumerate(cells):
        key = index.get(normalise_header(cell)) if cell not in (None, "") else None
        if key is not None:
            positions.setdefault(key, position)
    return positions


def identifies(positions: dict[str, int]) -> bool:
    """Whether a row of headings names enough to find a child by: an identifier, or name and birth date."""
    return "id_number" in positions or "registry_number" in positions or {"name", "birth_date"} <= set(positions)
