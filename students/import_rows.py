"""The import's first pass: each row of a ledger file read and checked on its own.

The rule functions are those the forms use (student_clean, case_open_problems, effective_date_problems,
status_details_problems, lifecycle), plus what only a file can get wrong: a number where an ID should be text,
a date that is not a date, a formula saved without its result, a value not in its column's list (nor in the
county's mapping, students.import_mapping), a row for another county (its county column or its school code),
the same child with the same dropout date twice. Every row is checked, whatever the rows before it held, so
that a check reports every problem of the file at once, up to the problems it keeps (students.import_limits).
"""

import datetime
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from counties.models import Division, School

from .choices import ETHNICITIES, Status
from .identifiers import id_birth_date, id_gender
from .import_limits import Limits
from .import_mapping import Mapping, match_headings, suggest
from .import_problems import Problem, ProblemKind, language, row_problem
from .ledger_columns import (
    BY_KEY,
    CHECKED_COLUMNS,
    CHOICES,
    COLUMNS,
    Kind,
    header_index,
    label,
    normalise,
    vocabulary,
)
from .ledger_reading import (
    CellError,
    FormulaWithoutValue,
    Sheet,
    find_header,
    formula_problem,
    read_bool,
    read_date,
    read_grade,
    read_id,
    text_value,
)
from .lifecycle import TRANSITIONS
from .models import ClosureReason, DropoutCase, Student
from .services import (
    STUDENT_DATA_FIELDS,
    CaseStep,
    StudentData,
    case_open_problems,
    effective_date_problems,
    status_details_problems,
    student_clean,
)

Progress = Callable[[int, int], None]

# A child's details besides the identifiers the import finds children by.
STUDENT_FIELDS = tuple(name for name in STUDENT_DATA_FIELDS if name not in ("id_number", "registry_number"))
CASE_FIELDS = ("school_id", "grade", "reason", "reason_detail")
PROGRESS_EVERY = 2000
UNKNOWN_VALUES_OFFERED = 50  # distinct unknown values of one column offered for mapping


@dataclass(eq=False)
class Row:
    number: int
    student: StudentData
    child: str
    school_id: int
    grade: int
    dropout_date: datetime.date
    reason: str
    reason_detail: str
    status: str  # "" when the file leaves the status blank
    status_date: datetime.date | None
    return_date: datetime.date | None
    placement: str
    closure_reason_id: int | None


def status_path(from_status: str, to_status: str) -> list[str] | None:
    """The shortest chain of allowed changes (lifecycle.TRANSITIONS) from one status to another."""
    if from_status == to_status:
        return []
    seen, frontier = {from_status: []}, [from_status]
    while frontier:
        following = []
        for status in frontier:
            for nxt in sorted(TRANSITIONS[status]):
                if nxt not in seen:
                    seen[nxt] = [*seen[status], nxt]
                    if nxt == to_status:
                        return seen[nxt]
                    following.append(nxt)
        frontier = following
    return None


def _max_lengths() -> dict[str, int]:
    lengths = {name: Student._meta.get_field(name).max_length for name in STUDENT_FIELDS}
    lengths["reason_detail"] = DropoutCase._meta.get_field("reason_detail").max_length
    return {name: length for name, length in lengths.items() if length}


class RowChecker:
    """Reads and checks one row at a time; knows the county's schools and the closure reasons."""

    def __init__(self, positions: dict[str, int], headers: dict[str, str], county: Division, mapping: Mapping):
        self.positions = {key: pos for key, pos in positions.items() if BY_KEY[key].imported}
        self.headers = headers
        self.county = county
        self.schools = dict(School.objects.filter(county=county).values_list("code", "pk"))
        self.county_spellings = county_spellings(county) if "county" in self.positions else set()
        closure_reasons = closure_reason_spellings()
        mapped = mapping.value_index("closure_reason").items()
        self.closure_reasons = {
            **closure_reasons,
            **{text: closure_reasons[normalise(code)] for text, code in mapped if normalise(code) in closure_reasons},
        }
        self.vocabularies = {key: {**vocabulary(key), **mapping.value_index(key)} for key in VOCABULARIES}
        # Values not in a column's list, and how often each came: what the check offers to map.
        self.unknown_values: dict[str, Counter] = defaultdict(Counter)
        self.lengths = _max_lengths()
        self.readers = [(key, position, self.reader(key)) for key, position in self.positions.items()]
        self.registry_owner: dict[str, str] = {}

    def problem(self, number: int, key: str, cell, message: str, kind: str) -> Problem:
        return row_problem(self.headers, number, key, cell, message, kind)

    def check(self, number: int, cells: list) -> tuple[Row | None, list[Problem], tuple | None]:
        """The row read and checked on its own: the Row (None when it has a problem), its problems, and the
        (child, dropout date) it is about when those could be read, whatever else is wrong with it."""
        problems: list[Problem] = []
        failed: set[str] = set()
        values: dict = {}
        size = len(cells)
        for key, position, read in self.readers:
            cell = cells[position] if position < size else None
            try:
                if type(cell) is FormulaWithoutValue:
                    raise formula_problem(cell)
                values[key] = read(cell)
            except CellError as error:
                if type(cell) is FormulaWithoutValue:
                    kind = ProblemKind.FORMULA
                elif isinstance(error, UnknownValue):
                    kind = ProblemKind.UNKNOWN_VALUE
                else:
                    kind = ProblemKind.UNREADABLE
                problems.append(self.problem(number, key, cell, str(error), kind))
                failed.add(key)
                values[key] = None
        positions = self.positions

        def raw(key: str):
            position = positions.get(key)
            return cells[position] if position is not None and position < size else None

        def fail(key: str, message: str, kind: str) -> None:
            problems.append(self.problem(number, key, raw(key), message, kind))
            failed.add(key)

        for key in ("name", "school_code", "grade", "dropout_date", "reason"):
            if key in self.positions and values.get(key) in (None, "") and key not in failed:
                fail(key, _("This field is required."), ProblemKind.REQUIRED)
        id_number = values.get("id_number") or ""
        registry_number = values.get("registry_number") or ""
        if not id_number and not registry_number and not {"id_number", "registry_number"} & failed:
            fail("id_number", _("Give the resident ID number or the student registry number."), ProblemKind.REQUIRED)
        birth_date = values.get("birth_date")
        gender = values.get("gender") or ""
        if len(id_number) == 18 and id_number[:17].isdigit():
            with suppress(ValueError):
                birth_date = birth_date or id_birth_date(id_number)
            gender = gender or id_gender(id_number)
        no_id = not id_number and "id_number" not in failed  # an unreadable ID number is its own problem
        if not birth_date and no_id and "birth_date" not in failed:
            fail("birth_date", _("The birth date is required when there is no ID number."), ProblemKind.REQUIRED)
        if not gender and no_id and "gender" not in failed:
            fail("gender", _("The gender is required when there is no ID number."), ProblemKind.REQUIRED)
        for key, length in self.lengths.items():
            value = values.get(key)
            if isinstance(value, str) and len(value) > length:
                fail(key, _("At most %(count)d characters.") % {"count": length}, ProblemKind.IDENTITY)
                values[key] = value[:length]

        student = StudentData(
            name=values.get("name") or "",
            gender=gender,
            birth_date=birth_date,
            id_number=id_number,
            registry_number=registry_number,
            ethnicity=values.get("ethnicity") or "01",
            hukou_place=values.get("hukou_place") or "",
            address=values.get("address") or "",
            guardian_name=values.get("guardian_name") or "",
            guardian_phone=values.get("guardian_phone") or "",
            registered_poor=bool(values.get("registered_poor")),
            left_behind=values.get("left_behind") or "",
            migrant=bool(values.get("migrant")),
            orphan=bool(values.get("orphan")),
            unsupported=bool(values.get("unsupported")),
            disability=values.get("disability") or "",
        )
        if student.name or id_number or registry_number:
            try:
                student_clean(student)
            except ValidationError as error:
                already = set(failed)
                for key, messages in error.message_dict.items():
                    column = key if key in BY_KEY else "name"
                    if column not in already:
                        for message in messages:
                            fail(column, message, ProblemKind.IDENTITY)

        school_code = values.get("school_code") or ""
        school_id = self.schools.get(school_code)
        if school_code and school_id is None:
            fail(
                "school_code",
                _("No school with the code %(code)s in %(county)s.")
                % {"code": school_code, "county": self.county.name},
                ProblemKind.SCHOOL,
            )
        county_cell = values.get("county") or ""
        if county_cell and normalise(county_cell) not in self.county_spellings:
            fail(
                "county",
                _("This row is for another county (%(value)s); this file is imported into the ledger of %(county)s.")
                % {"value": county_cell, "county": self.county.name},
                ProblemKind.SCHOOL,
            )
        grade = values.get("grade")
        dropout_date = values.get("dropout_date")
        if grade is not None and dropout_date is not None:
            for key, messages in case_open_problems(grade=grade, dropout_date=dropout_date).items():
                for message in messages:
                    fail(key, message, ProblemKind.CASE)
        if dropout_date and birth_date and dropout_date < birth_date:
            fail("dropout_date", _("The dropout date is before the birth date."), ProblemKind.CASE)

        status = values.get("status") or ""
        status_date = values.get("status_date")
        return_date = values.get("return_date")
        placement = values.get("placement") or ""
        closure_reason_id = values.get("closure_reason")
        if status and dropout_date:
            problems.extend(
                self._check_status(
                    number, raw, status, dropout_date, status_date, return_date, placement, closure_reason_id
                )
            )
        child = id_number or self.registry_owner.get(registry_number) or f"R:{registry_number}"
        if id_number and registry_number:
            self.registry_owner.setdefault(registry_number, id_number)
        key = (child, dropout_date) if (id_number or registry_number) and dropout_date else None
        if problems:
            return None, problems, key
        return (
            Row(
                number=number,
                student=student,
                child=child,
                school_id=school_id,
                grade=grade,
                dropout_date=dropout_date,
                reason=values["reason"],
                reason_detail=values.get("reason_detail") or "",
                status=status,
                status_date=status_date,
                return_date=return_date,
                placement=placement,
                closure_reason_id=closure_reason_id,
            ),
            [],
            key,
        )

    def _check_status(self, number, raw, status, dropout_date, status_date, return_date, placement, closure_reason_id):
        """The status a row gives must be reachable from a fresh dropout, with its dates in order."""
        problems = []
        steps = target_steps(status, dropout_date, status_date, return_date, placement, closure_reason_id)
        last = dropout_date
        for step in steps:
            if step.effective_date is None:
                key = "return_date" if step.to_status == Status.RETURNED else "status_date"
                problems.append(
                    self.problem(
                        number,
                        key,
                        raw(key),
                        _("Say when: the status “%(status)s” needs a date.") % {"status": Status(step.to_status).label},
                        ProblemKind.STATUS,
                    )
                )
                break
            key = "return_date" if step.to_status == Status.RETURNED else "status_date"
            for message in effective_date_problems(day=step.effective_date, dropout_date=dropout_date, last_date=last):
                problems.append(self.problem(number, key, raw(key), message, ProblemKind.STATUS))
            details = status_details_problems(
                to_status=step.to_status, placement=step.placement, closure_reason_id=step.closure_reason_id
            )
            for key, messages in details.items():
                for message in messages:
                    problems.append(self.problem(number, key, raw(key), message, ProblemKind.STATUS))
            last = step.effective_date
        return problems

    def reader(self, key: str) -> Callable:
        """The function that reads a cell of column `key`. Repeated values are looked up once."""
        kind = BY_KEY[key].kind
        if kind == Kind.TEXT:
            return text_value
        if kind == Kind.ID:
            return read_id
        if kind == Kind.CODE:
            return lambda cell: unicodedata.normalize("NFKC", text_value(cell)).replace(" ", "")
        if kind == Kind.DATE:
            return _remembering(read_date)
        if kind == Kind.BOOL:
            return _remembering(read_bool)
        if kind == Kind.GRADE:
            return _remembering(read_grade)
        if key == "closure_reason":
            return _remembering(self.read_closure_reason)
        words = self.vocabularies[key]

        def read_choice(cell):
            text = text_value(cell)
            if not text:
                return ""
            found = words.get(normalise(text))
            if found is None:
                self.unknown_values[key][text] += 1
                raise UnknownValue(
                    _("Unknown value: %(value)s. Accepted: %(accepted)s.") % {"value": text, "accepted": accepted(key)}
                )
            return found

        return _remembering(read_choice)

    def read_closure_reason(self, cell) -> int | None:
        text = text_value(cell)
        if not text:
            return None
        found = self.closure_reasons.get(normalise(text))
        if found is None:
            self.unknown_values["closure_reason"][text] += 1
            raise UnknownValue(_("Unknown closure reason: %(value)s.") % {"value": text})
        return found


class UnknownValue(CellError):
    """A value not in its column's list (nor in the county's mapping): the check offers to map it."""


VOCABULARIES = ("gender", "ethnicity", "left_behind", "disability", "reason", "status", "placement")


def closure_reason_spellings() -> dict[str, int]:
    """Every spelling of the closure reasons (code, Chinese and English names), normalised, to its id."""
    spellings: dict[str, int] = {}
    for pk, code, name, name_en in ClosureReason.objects.values_list("pk", "code", "name", "name_en"):
        for spelling in (code, name, name_en):
            if spelling:
                spellings.setdefault(normalise(spelling), pk)
    return spellings


COUNTY_SUFFIXES = ("自治县", "自治旗", "县", "区", "市", "旗")


def county_spellings(county: Division) -> set[str]:
    """How a county column may name the county: its code, its name with or without 县 (区, 市, ...), with its
    province's and prefecture's names before it. Normalised as `normalise` leaves them."""
    names = {county.name}
    for suffix in COUNTY_SUFFIXES:
        if county.name.endswith(suffix) and len(county.name) > len(suffix) + 1:
            names.add(county.name.removesuffix(suffix))
            break
    parents = [area.name for area in (county.province, county.prefecture) if area is not None and area.pk != county.pk]
    names |= {"".join([*parents, county.name]), "".join([*parents[-1:], county.name])}
    return {county.code} | {normalise(name) for name in names}


def _remembering(read: Callable) -> Callable:
    """`read`, remembering its answer for each cell value seen (ledgers repeat the same few values)."""
    seen: dict = {}

    def remembered(cell):
        try:
            return seen[cell]
        except KeyError:
            value = seen[cell] = read(cell)  # a CellError is raised again for each bad cell
            return value
        except TypeError:  # an unhashable cell
            return read(cell)

    return remembered


def accepted(key: str) -> str:
    """The labels a vocabulary column accepts, in the user's language, for the problem report."""
    if key == "ethnicity":
        return _("a 2-digit code or the group's name (汉族, 01, ...)")
    return ", ".join(label(key, value, language()) for value in CHOICES[key][0].values if value)


def target_steps(status, dropout_date, status_date, return_date, placement, closure_reason_id) -> list[CaseStep]:
    """The status changes after the dropout that lead to `status`, dated from the row's columns."""
    path = status_path(Status.DROPPED_OUT, status) or []
    return [_step(to, dropout_date, status_date, return_date, placement, closure_reason_id) for to in path]


def _step(to_status, dropout_date, status_date, return_date, placement, closure_reason_id) -> CaseStep:
    if to_status == Status.RETURNED:
        day = return_date
    elif to_status == Status.PERSUADING:
        day = status_date or dropout_date
    else:
        day = status_date
    return CaseStep(to_status, day, placement, closure_reason_id)


def read_rows(
    sheet: Sheet, county: Division, result, report: Progress, *, mapping: Mapping, limits: Limits
) -> list[Row]:
    """Check every row of the sheet on its own; the rows without a problem. Problems, the columns as the file
    names them, the headings and values the check does not know, go into `result` (an ImportResult)."""
    known = header_index()
    header_row, header_cells = find_header(
        sheet.rows, lambda cells: len(match_headings(cells, known, mapping).positions)
    )
    match = match_headings(header_cells, known, mapping)
    result.header_names = match.names
    for text in match.twice:
        result.problems.append(
            Problem(header_row, text, text, _("This column is given twice: keep only one of them."), ProblemKind.FILE)
        )
    missing = [column for column in COLUMNS if column.required and column.key not in match.positions]
    if "id_number" not in match.positions and "registry_number" not in match.positions:
        missing.append(BY_KEY["id_number"])
    for column in missing:
        result.problems.append(
            Problem(
                header_row,
                column.header(language()),
                "",
                _("The file has no column “%(name)s”.") % {"name": column.zh},
                ProblemKind.FILE,
            )
        )
    result.unknown_headings = match.unknown
    if match.unknown:
        result.warnings.append(_("Columns not read: %(names)s.") % {"names": ", ".join(match.unknown)})
    if match.ignored:
        result.warnings.append(
            _("Columns not read, as the county's mapping says: %(names)s.") % {"names": ", ".join(match.ignored)}
        )
    if result.problems:
        return []
    checker = RowChecker(match.positions, match.names, county, mapping)
    rows: list[Row] = []
    total = max(sheet.total - header_row, 1)
    first_row_of: dict[tuple, int] = {}
    for number, cells in sheet.rows:
        if not any(cell not in (None, "") and str(cell).strip() for cell in cells):
            continue
        result.rows += 1
        row, problems, key = checker.check(number, cells)
        if key is not None and key in first_row_of:
            problems.append(
                row_problem(
                    match.names,
                    number,
                    "id_number",
                    key[0].removeprefix("R:"),
                    _("The same child with the same dropout date is already in row %(row)d.")
                    % {"row": first_row_of[key]},
                    ProblemKind.DUPLICATE,
                )
            )
        elif key is not None:
            first_row_of[key] = number
        if problems:
            result.problems.extend(problems)
        else:
            rows.append(row)
        if len(result.problems) >= limits.problems:
            del result.problems[limits.problems :]
            result.stopped = True
            result.problems.append(
                Problem(
                    None,
                    "",
                    "",
                    _(
                        "The check stopped at row %(row)s: it keeps %(count)s problems at most. Correct these and "
                        "check the file again."
                    )
                    % {"row": number, "count": f"{limits.problems:,}"},
                    ProblemKind.FILE,
                )
            )
            break
        if result.rows % PROGRESS_EVERY == 0:
            report(result.rows, max(total, result.rows))
    result.unknown_values = {
        key: [text for text, _count in counter.most_common(UNKNOWN_VALUES_OFFERED)]
        for key, counter in checker.unknown_values.items()
    }
    if not result.rows:
        result.problems.append(Problem(None, "", "", _("The file has a header but no rows."), ProblemKind.FILE))
    return rows


# What the check did not know, offered for mapping ------------------------------------------------------


def mappable_fields() -> list[tuple[str, str]]:
    """(key, name in the user's language) of every column a heading may be mapped to."""
    return [(column.key, column.header(language())) for column in (*COLUMNS, *CHECKED_COLUMNS) if column.imported]


def mappable_codes(key: str) -> list[tuple[str, str]]:
    """(code, label in the user's language) of every value a cell of column `key` may be mapped to."""
    if key == "closure_reason":
        field = "name_en" if language() == "en" else "name"
        return list(ClosureReason.objects.order_by("pk").values_list("code", field))
    if key == "ethnicity":
        return [(code, en if language() == "en" else zh) for code, zh, en in ETHNICITIES]
    return [(value, label(key, value, language())) for value in CHOICES[key][0].values if value]


def _spellings(key: str) -> dict[str, str]:
    if key == "closure_reason":
        by_pk = dict(ClosureReason.objects.values_list("pk", "code"))
        return {spelling: by_pk[pk] for spelling, pk in closure_reason_spellings().items()}
    return vocabulary(key)


def mapping_offer(unknown_headings: list[str], unknown_values: dict[str, list[str]]) -> dict:
    """Each heading and value the check did not know, with the field or code most like it (or none).

    {"headings": [{"text", "suggested"}], "values": {key: [{"text", "suggested"}]}}
    """
    known = {spelling: key for spelling, key in header_index().items() if BY_KEY[key].imported}
    return {
        "headings": [{"text": text, "suggested": suggest(text, known, header=True)} for text in unknown_headings],
        "values": {
            key: [{"text": text, "suggested": suggest(text, _spellings(key))} for text in texts]
            for key, texts in unknown_values.items()
        },
    }
