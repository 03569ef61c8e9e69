"""Import a county's ledger from a spreadsheet (XLSX or CSV): check every row, then write all or nothing.

The import runs in two passes over the file's rows:
1. each row is read and checked on its own, with the rule functions the forms use (student_clean,
   case_open_problems, effective_date_problems, status_details_problems, lifecycle) plus what only a
   file can get wrong (a number where an ID should be text, a date that is not a date, a child twice,
   a row for another county: its county column or its school code);
2. in one transaction, the rows are matched to the children and cases the ledger already holds
   (children by ID or registry number, cases by child and dropout date), checked against them
   (a child another county holds, an open case in another county, a status that would go backwards,
   recorded history that differs), and, unless it is a dry run, written through services.ledger_bulk_write.
A row that matches the ledger exactly changes nothing, so importing the same file twice is a no-op.

A child is one record for the whole country: a row may change the details of a child the importing county
holds (students.access.may_change_identity), each change recorded with the file and row it came from; a row
that would change a child another county holds, or open a case for them, is a problem naming that county only.
"""

import datetime
import gc
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from counties.models import Division, School

from .access import holding_case_of
from .choices import OPEN_STATUSES, Status
from .identifiers import id_birth_date, id_gender
from .ledger_columns import BY_KEY, CHOICES, COLUMNS, Kind, label, match_headers, normalise, vocabulary
from .ledger_reading import (
    CellError,
    FileProblem,
    Sheet,
    find_header,
    open_sheet,
    read_bool,
    read_date,
    read_grade,
    read_id,
    text_value,
)
from .lifecycle import TRANSITIONS, check_transition
from .models import ClosureReason, DropoutCase, Student
from .services import (
    STUDENT_DATA_FIELDS,
    BulkCase,
    BulkStudent,
    CaseStep,
    StudentData,
    case_open_problems,
    effective_date_problems,
    held_elsewhere_message,
    ledger_bulk_write,
    rules_as_of_today,
    status_details_problems,
    student_clean,
)

Progress = Callable[[int, int], None]

# A child's details besides the identifiers the import finds children by.
STUDENT_FIELDS = tuple(name for name in STUDENT_DATA_FIELDS if name not in ("id_number", "registry_number"))
CASE_FIELDS = ("school_id", "grade", "reason", "reason_detail")
PROGRESS_EVERY = 2000
ANALYZE_AFTER_ROWS = 10_000  # rows written by one import after which the planner statistics are refreshed
LOCK_NAMESPACE = 5001  # pg_advisory_xact_lock(namespace, county id): one import per county at a time


@dataclass
class Problem:
    row: int | None
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}


@dataclass
class ImportResult:
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    students_created: int = 0
    students_updated: int = 0
    events: int = 0
    encoding: str = ""
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    header_names: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "students_created": self.students_created,
            "students_updated": self.students_updated,
            "events": self.events,
            "problems": len(self.problems),
            "bad_rows": len({p.row for p in self.problems if p.row is not None}),
        }


# Checking rows ---------------------------------------------------------------------------------------


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

    def __init__(self, positions: dict[str, int], headers: dict[str, str], county: Division):
        self.positions = {key: pos for key, pos in positions.items() if BY_KEY[key].imported}
        self.headers = headers
        self.county = county
        self.schools = dict(School.objects.filter(county=county).values_list("code", "pk"))
        self.county_spellings = county_spellings(county) if "county" in self.positions else set()
        self.closure_reasons: dict[str, int] = {}
        for pk, code, name, name_en in ClosureReason.objects.values_list("pk", "code", "name", "name_en"):
            for spelling in (code, name, name_en):
                if spelling:
                    self.closure_reasons.setdefault(normalise(spelling), pk)
        self.vocabularies = {
            key: vocabulary(key)
            for key in ("gender", "ethnicity", "left_behind", "disability", "reason", "status", "placement")
        }
        self.lengths = _max_lengths()
        self.readers = [(key, position, self.reader(key)) for key, position in self.positions.items()]
        self.first_row_of: dict[tuple[str, datetime.date], int] = {}
        self.registry_owner: dict[str, str] = {}

    def problem(self, number: int, key: str, cell, message: str) -> Problem:
        return _row_problem(self.headers, number, key, cell, message)

    def check(self, number: int, cells: list) -> tuple[Row | None, list[Problem]]:
        problems: list[Problem] = []
        values: dict = {}
        size = len(cells)
        for key, position, read in self.readers:
            cell = cells[position] if position < size else None
            try:
                values[key] = read(cell)
            except CellError as error:
                problems.append(self.problem(number, key, cell, str(error)))
                values[key] = None
        positions = self.positions

        def raw(key: str):
            position = positions.get(key)
            return cells[position] if position is not None and position < size else None

        def fail(key: str, message: str) -> None:
            problems.append(self.problem(number, key, raw(key), message))

        for key in ("name", "school_code", "grade", "dropout_date", "reason"):
            if (
                key in self.positions
                and values.get(key) in (None, "")
                and not any(p.column == self.headers.get(key) for p in problems)
            ):
                fail(key, _("This field is required."))
        id_number = values.get("id_number") or ""
        registry_number = values.get("registry_number") or ""
        if (
            not id_number
            and not registry_number
            and not {"id_number", "registry_number"} & self._failed(problems, number)
        ):
            fail("id_number", _("Give the resident ID number or the student registry number."))
        birth_date = values.get("birth_date")
        gender = values.get("gender") or ""
        if len(id_number) == 18 and id_number[:17].isdigit():
            with suppress(ValueError):
                birth_date = birth_date or id_birth_date(id_number)
            gender = gender or id_gender(id_number)
        if not birth_date and not id_number and "birth_date" not in self._failed(problems, number):
            fail("birth_date", _("The birth date is required when there is no ID number."))
        if not gender and not id_number and "gender" not in self._failed(problems, number):
            fail("gender", _("The gender is required when there is no ID number."))
        for key, length in self.lengths.items():
            value = values.get(key)
            if isinstance(value, str) and len(value) > length:
                fail(key, _("At most %(count)d characters.") % {"count": length})
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
                failed = self._failed(problems, number)
                for key, messages in error.message_dict.items():
                    column = key if key in BY_KEY else "name"
                    if column not in failed:
                        for message in messages:
                            fail(column, message)

        school_code = values.get("school_code") or ""
        school_id = self.schools.get(school_code)
        if school_code and school_id is None:
            fail(
                "school_code",
                _("No school with the code %(code)s in %(county)s.")
                % {"code": school_code, "county": self.county.name},
            )
        county_cell = values.get("county") or ""
        if county_cell and normalise(county_cell) not in self.county_spellings:
            fail(
                "county",
                _("This row is for another county (%(value)s); this file is imported into the ledger of %(county)s.")
                % {"value": county_cell, "county": self.county.name},
            )
        grade = values.get("grade")
        dropout_date = values.get("dropout_date")
        if grade is not None and dropout_date is not None:
            for key, messages in case_open_problems(grade=grade, dropout_date=dropout_date).items():
                for message in messages:
                    fail(key, message)
        if dropout_date and birth_date and dropout_date < birth_date:
            fail("dropout_date", _("The dropout date is before the birth date."))

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
        if problems:
            return None, problems
        child = id_number or self.registry_owner.get(registry_number) or f"R:{registry_number}"
        if id_number and registry_number:
            self.registry_owner.setdefault(registry_number, id_number)
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
        )

    def _failed(self, problems: list[Problem], number: int) -> set[str]:
        headers = {p.column for p in problems if p.row == number}
        return {key for key in BY_KEY if (self.headers.get(key) or BY_KEY[key].header(_language())) in headers}

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
                    )
                )
                break
            key = "return_date" if step.to_status == Status.RETURNED else "status_date"
            for message in effective_date_problems(day=step.effective_date, dropout_date=dropout_date, last_date=last):
                problems.append(self.problem(number, key, raw(key), message))
            details = status_details_problems(
                to_status=step.to_status, placement=step.placement, closure_reason_id=step.closure_reason_id
            )
            for key, messages in details.items():
                for message in messages:
                    problems.append(self.problem(number, key, raw(key), message))
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
                raise CellError(
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
            raise CellError(_("Unknown closure reason: %(value)s.") % {"value": text})
        return found


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
    return ", ".join(label(key, value, _language()) for value in CHOICES[key][0].values if value)


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


# Matching rows to the ledger ---------------------------------------------------------------------------


@dataclass
class LedgerCase:
    pk: int
    student_id: int
    county_id: int
    county_name: str
    school_id: int
    grade: int
    dropout_date: datetime.date
    reason: str
    reason_detail: str
    status: str
    struck_off_on: datetime.date | None
    returned_on: datetime.date | None
    placement: str
    closure_reason_id: int | None
    version: int
    has_relapse_case: bool
    last_date: datetime.date | None = None


def _load_students(rows: list[Row]) -> tuple[dict[str, dict], dict[str, dict]]:
    ids = list({row.student.id_number for row in rows if row.student.id_number})
    registries = list({row.student.registry_number for row in rows if row.student.registry_number})
    by_id, by_registry = {}, {}
    columns = ("id", "id_number", "registry_number", *STUDENT_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM students_student WHERE id_number = ANY(%s) OR registry_number = ANY(%s)",
            [ids, registries],
        )
        for values in cursor.fetchall():
            student = dict(zip(columns, values, strict=True))
            if student["id_number"]:
                by_id[student["id_number"]] = student
            if student["registry_number"]:
                by_registry[student["registry_number"]] = student
    return by_id, by_registry


def _load_cases(student_ids: list[int]) -> dict[int, list[LedgerCase]]:
    cases: dict[int, list[LedgerCase]] = defaultdict(list)
    if not student_ids:
        return cases
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.id, c.student_id, c.county_id, d.name, c.school_id, c.grade, c.dropout_date, c.reason,
                   c.reason_detail, c.status, c.struck_off_on, c.returned_on, c.placement, c.closure_reason_id,
                   c.version, EXISTS (SELECT 1 FROM students_dropoutcase n WHERE n.previous_case_id = c.id),
                   (SELECT max(e.effective_date) FROM students_caseevent e WHERE e.case_id = c.id)
            FROM students_dropoutcase c JOIN counties_division d ON d.id = c.county_id
            WHERE c.student_id = ANY(%s)
            """,
            [student_ids],
        )
        for values in cursor.fetchall():
            case = LedgerCase(*values)
            cases[case.student_id].append(case)
    return cases


class Reconciler:
    """Matches checked rows to the ledger and plans the writes; reports what the ledger forbids."""

    def __init__(
        self,
        rows: list[Row],
        county: Division,
        present: set[str],
        problem: Callable[..., Problem],
        describe_row: Callable[[int], str] = str,
    ):
        self.rows = rows
        # Only the columns the file has are compared and updated; the others keep what the ledger holds.
        self.kept_student_fields = [
            name for name in STUDENT_FIELDS if name not in present and name not in ("gender", "birth_date")
        ]
        self.keeps_reason_detail = "reason_detail" not in present
        self.county = county
        self.problem = problem
        self.describe_row = describe_row  # the why of the identity changes a row makes (IdentityChange.detail)
        self.problems: list[Problem] = []
        self.students: dict[str, BulkStudent] = {}
        self.cases: list[BulkCase] = []
        self.outcome: dict[Row, str] = {}

    def run(self) -> None:
        by_id, by_registry = _load_students(self.rows)
        existing_student = {}
        for row in self.rows:
            found = self._match_student(row, by_id, by_registry)
            if found is not False:
                existing_student[row] = found
        ledger_cases = _load_cases(list({s["id"] for s in existing_student.values() if s}))
        by_child: dict[str, list[Row]] = defaultdict(list)
        for row in self.rows:
            if row in existing_student:
                by_child[row.child].append(row)
        for child, rows in by_child.items():
            self._plan_child(child, rows, existing_student[rows[0]], ledger_cases)

    def _match_student(self, row: Row, by_id, by_registry):
        """The ledger's record of the row's child (None for a new child), or False after a problem."""
        data = row.student
        found_by_id = by_id.get(data.id_number) if data.id_number else None
        found_by_registry = by_registry.get(data.registry_number) if data.registry_number else None
        if found_by_id and found_by_registry and found_by_id["id"] != found_by_registry["id"]:
            self.problems.append(
                self.problem(
                    row.number,
                    "registry_number",
                    data.registry_number,
                    _("This registry number belongs to another child in the ledger than the ID number."),
                )
            )
            return False
        found = found_by_id or found_by_registry
        if found and data.id_number and found["id_number"] and found["id_number"] != data.id_number:
            self.problems.append(
                self.problem(
                    row.number,
                    "id_number",
                    data.id_number,
                    _("The ledger holds this registry number with a different ID number."),
                )
            )
            return False
        if found and data.registry_number and found["registry_number"] not in (None, "", data.registry_number):
            self.problems.append(
                self.problem(
                    row.number,
                    "registry_number",
                    data.registry_number,
                    _("The ledger holds this ID number with a different registry number."),
                )
            )
            return False
        return found

    def _plan_child(self, child: str, rows: list[Row], found: dict | None, ledger_cases) -> None:
        first = rows[0]
        for row in rows[1:]:
            differs = [name for name in STUDENT_FIELDS if getattr(row.student, name) != getattr(first.student, name)]
            if differs:
                self.problems.append(
                    self.problem(
                        row.number,
                        differs[0],
                        getattr(row.student, differs[0]),
                        _("Row %(row)d gives different details for the same child.") % {"row": first.number},
                    )
                )
                return
        data = first.student
        if found is None:
            student = BulkStudent(data)
        else:
            # Completed from the ledger on a copy: the row keeps only what the file gave, all that a problem may
            # repeat of it (the ledger's record may be another county's).
            data = replace(data)
            current = {
                **found,
                "id_number": found["id_number"] or "",
                "registry_number": found["registry_number"] or "",
            }
            for name in self.kept_student_fields:
                setattr(data, name, current[name])
            changed = any(getattr(data, name) != current[name] for name in STUDENT_FIELDS)
            data.id_number = data.id_number or current["id_number"]
            data.registry_number = data.registry_number or current["registry_number"]
            changed = (
                changed or data.id_number != current["id_number"] or data.registry_number != current["registry_number"]
            )
            before = {name: found[name] for name in STUDENT_DATA_FIELDS}
            student = BulkStudent(
                data, pk=found["id"], changed=changed, before=before, detail=self.describe_row(first.number)
            )
        self.students[child] = student
        existing = {case.dropout_date: case for case in ledger_cases.get(found["id"], [])} if found else {}
        if found is not None and self._held_elsewhere(rows, student, existing, ledger_cases.get(found["id"], [])):
            return
        planned: list[tuple[Row, BulkCase]] = []
        seen: dict[datetime.date, Row] = {}
        for row in sorted(rows, key=lambda r: r.dropout_date):
            if row.dropout_date in seen:
                self.problems.append(
                    self.problem(
                        row.number,
                        "id_number",
                        _identifier(row),
                        _("The same child with the same dropout date is already in row %(row)d.")
                        % {"row": seen[row.dropout_date].number},
                    )
                )
                continue
            seen[row.dropout_date] = row
            case = self._plan_case(row, student, existing.get(row.dropout_date))
            if case is not None:
                planned.append((row, case))
        if len(planned) != len(rows):
            return
        if not self._one_open_case(rows, planned, existing, student):
            return
        linked = {case.pk for case in existing.values() if case.has_relapse_case}
        previous: BulkCase | LedgerCase | None = None
        episodes = sorted(
            [(case.dropout_date, "ledger", case) for case in existing.values() if case.dropout_date not in seen]
            + [(case.dropout_date, "file", case) for _row, case in planned],
            key=lambda item: item[0],
        )
        for _day, origin, case in episodes:
            relapsed = previous is not None and _final_status(previous) == Status.RELAPSED
            if origin == "file" and case.pk is None and relapsed and (previous.pk is None or previous.pk not in linked):
                case.previous_case = previous if isinstance(previous, BulkCase) else previous.pk
            previous = case
        for row, case in planned:
            self.cases.append(case)
            if case.pk is None:
                self.outcome[row] = "created"
            elif case.changed or case.steps or student.changed:
                self.outcome[row] = "updated"
            else:
                self.outcome[row] = "unchanged"

    def _held_elsewhere(
        self, rows: list[Row], student: BulkStudent, existing: dict[datetime.date, LedgerCase], cases: list[LedgerCase]
    ) -> bool:
        """Whether another county holds the child (students.access.may_change_identity) and a row would change
        them or open a case for them. Each such row is a problem that names that county, and nothing else of it.

        A row of one of the importing county's own older cases, which leaves the child as the ledger holds them,
        is the county's own history and goes on; a row of another county's case is _plan_case's problem.
        """
        holder = holding_case_of(cases)
        if holder is None or holder.county_id == self.county.pk:
            return False
        refused = [
            row
            for row in rows
            if row.dropout_date not in existing
            or (student.changed and existing[row.dropout_date].county_id == self.county.pk)
        ]
        message = held_elsewhere_message(holder.county_name, open_case=holder.status in OPEN_STATUSES)
        for row in refused:
            self.problems.append(self.problem(row.number, "id_number", _identifier(row), message))
        return bool(refused)

    def _one_open_case(self, rows, planned, existing, student) -> bool:
        """A child has one open case at most, anywhere: the rule case_open enforces, after the file applies."""
        file_days = {row.dropout_date for row in rows}
        open_after = [(row, case) for row, case in planned if _final_status(case) in OPEN_STATUSES]
        open_elsewhere = [
            case for case in existing.values() if case.dropout_date not in file_days and case.status in OPEN_STATUSES
        ]
        if open_after and open_elsewhere:
            row = open_after[0][0]
            other = open_elsewhere[0]
            if other.county_id != self.county.pk:
                # Another county's case: its name, so the user knows whom to ask, and nothing else of it.
                message = _(
                    "This child already has an open case in another county (%(county)s); ask that county to hand "
                    "the case over."
                ) % {"county": other.county_name}
            else:
                message = _(
                    "This child already has an open case in %(county)s (dropped out on %(date)s) that the file does "
                    "not list."
                ) % {"county": other.county_name, "date": other.dropout_date.isoformat()}
            self.problems.append(self.problem(row.number, "id_number", _identifier(row), message))
            return False
        if len(open_after) > 1:
            for row, _case in open_after[1:]:
                self.problems.append(
                    self.problem(
                        row.number,
                        "status",
                        row.status,
                        _("The same child is open in row %(row)d too; a child has one open case at most.")
                        % {"row": open_after[0][0].number},
                    )
                )
            return False
        return True

    def _plan_case(self, row: Row, student: BulkStudent, ledger: LedgerCase | None) -> BulkCase | None:
        case = BulkCase(
            student=student,
            school_id=row.school_id,
            county_id=self.county.pk,
            grade=row.grade,
            dropout_date=row.dropout_date,
            reason=row.reason,
            reason_detail=row.reason_detail,
        )
        if ledger is None:
            status = row.status or Status.DROPPED_OUT
            case.steps = [
                CaseStep(Status.DROPPED_OUT, row.dropout_date),
                *target_steps(
                    status, row.dropout_date, row.status_date, row.return_date, row.placement, row.closure_reason_id
                ),
            ]
            return case
        if ledger.county_id != self.county.pk:
            self.problems.append(
                self.problem(
                    row.number,
                    "school_code",
                    "",
                    _(
                        "This case is on the ledger of another county (%(county)s); leave it out of this file, "
                        "or ask that county to hand the case over."
                    )
                    % {"county": ledger.county_name},
                )
            )
            return None
        for name in ("pk", "status", "struck_off_on", "returned_on", "placement", "closure_reason_id", "version"):
            setattr(case, name, getattr(ledger, name))
        case.last_date = ledger.last_date
        if self.keeps_reason_detail:
            case.reason_detail = ledger.reason_detail
        case.changed = any(getattr(case, name) != getattr(ledger, name) for name in CASE_FIELDS)
        try:
            case.steps = self._steps_from(ledger, row)
        except ValidationError as error:
            key = "status"
            for message in error.messages:
                self.problems.append(self.problem(row.number, key, row.status, message))
            return None
        return case

    def _steps_from(self, ledger: LedgerCase, row: Row) -> list[CaseStep]:
        """The changes that take a case from what the ledger records to what the row says."""
        target = row.status
        current = ledger.status
        if not target or (current == Status.PERSUADING and target == Status.DROPPED_OUT):
            return []  # no status given, or "dropped out" said of a case already being persuaded: both still open
        past_return = current in (Status.RETURNED, Status.RETAINED, Status.RELAPSED)
        if past_return and row.return_date and row.return_date != ledger.returned_on:
            raise ValidationError(
                _("The ledger records the return on %(date)s; recorded history is not rewritten by an import.")
                % {"date": ledger.returned_on}
            )
        if past_return and row.placement and row.placement != ledger.placement:
            raise ValidationError(
                _(
                    "The ledger records the placement as “%(placement)s”; "
                    "recorded history is not rewritten by an import."
                )
                % {"placement": label("placement", ledger.placement, _language())}
            )
        if current == target:
            if target == Status.CLOSED and (
                (row.status_date and row.status_date != ledger.struck_off_on)
                or (row.closure_reason_id and row.closure_reason_id != ledger.closure_reason_id)
            ):
                raise ValidationError(
                    _("The ledger records the closure on %(date)s; recorded history is not rewritten by an import.")
                    % {"date": ledger.struck_off_on}
                )
            if target in (Status.RETAINED, Status.RELAPSED) and row.status_date and row.status_date != ledger.last_date:
                if target == Status.RETAINED and row.status_date > ledger.last_date:
                    return [CaseStep(Status.RETAINED, row.status_date)]  # a later retention check
                raise ValidationError(
                    _("The ledger records this status from %(date)s; recorded history is not rewritten by an import.")
                    % {"date": ledger.last_date}
                )
            return []
        path = status_path(current, target)
        if path is None:
            check_transition(current, target)
        return [
            _step(to, row.dropout_date, row.status_date, row.return_date, row.placement, row.closure_reason_id)
            for to in path
        ]


def _identifier(row: Row) -> str:
    """The identifier a row gave: what a problem about the row's child shows of them."""
    return row.student.id_number or row.student.registry_number


def _final_status(case: "BulkCase | LedgerCase") -> str:
    steps = getattr(case, "steps", None)
    return steps[-1].to_status if steps else case.status


def _language() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "").startswith("en") else "zh"


# The import ------------------------------------------------------------------------------------------


def import_ledger(
    path: str | Path,
    *,
    county: Division,
    user=None,
    dry_run: bool = False,
    filename: str = "",
    progress: Progress | None = None,
    job_id: int | None = None,
) -> ImportResult:
    """Check every row of a ledger file and, unless it is a dry run or a row has a problem, import them all.

    `filename` and `job_id` (the LedgerJob it runs for) name where each change of a child's details came from.
    """
    describe_row = _row_describer(filename or Path(path).name, job_id)
    with rules_as_of_today(), _no_cyclic_gc():
        return _import(path, county, user, dry_run, filename, progress or (lambda done, total: None), describe_row)


def _row_describer(filename: str, job_id: int | None) -> Callable[[int], str]:
    """The why of an identity change an import makes: the job, the file and the row."""
    if job_id is None:
        template = _("Import of %(file)s, row %(row)d")
    else:
        template = _("Import job %(job)d, %(file)s, row %(row)d")
    return lambda row: template % {"job": job_id, "file": filename, "row": row}


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: it would rescan the growing row objects again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(
    path, county: Division, user, dry_run: bool, filename: str, report: Progress, describe_row: Callable[[int], str]
) -> ImportResult:
    result = ImportResult(dry_run=dry_run)
    try:
        with open_sheet(path, filename) as sheet:
            result.encoding = sheet.encoding
            rows = _read_rows(sheet, county, result, report)
    except FileProblem as error:
        result.problems.append(Problem(None, "", "", str(error)))
        return result
    if result.problems:
        return result
    report(result.rows, result.rows)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, county.pk])
        reconciler = Reconciler(
            rows,
            county,
            set(result.header_names),
            lambda *args: _row_problem(result.header_names, *args),
            describe_row,
        )
        reconciler.run()
        if reconciler.problems:
            result.problems = sorted(reconciler.problems, key=lambda p: p.row or 0)
            return result
        for outcome in reconciler.outcome.values():
            setattr(result, outcome, getattr(result, outcome) + 1)
        students = list(reconciler.students.values())
        result.students_created = sum(1 for s in students if s.pk is None)
        result.students_updated = sum(1 for s in students if s.pk is not None and s.changed)
        if dry_run:
            result.events = sum(len(case.steps) for case in reconciler.cases)
            return result
        note = _("Imported from the ledger file %(name)s.") % {"name": filename or Path(path).name}
        result.events = ledger_bulk_write(students=students, cases=reconciler.cases, user=user, note=note)
    if result.created + result.events >= ANALYZE_AFTER_ROWS:
        _refresh_planner_statistics()
    return result


def _refresh_planner_statistics() -> None:
    """Tell PostgreSQL's planner how big the tables now are.

    Until autovacuum gets to it, the planner keeps the table sizes it knew before a large import;
    on a ledger that was nearly empty it would then plan the next import's lookups (and the case
    lists) as scans of tiny tables, which on 100,000 rows take minutes instead of a second.
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE students_student, students_dropoutcase, students_caseevent")


def _row_problem(header_names: dict[str, str], number: int, key: str, value, message: str) -> Problem:
    column = header_names.get(key) or BY_KEY[key].header(_language())
    return Problem(number, column, "" if value is None else str(value), message)


def _read_rows(sheet: Sheet, county: Division, result: ImportResult, report: Progress) -> list[Row]:
    header_row, header_cells = find_header(sheet.rows)
    positions, unknown, twice = match_headers(header_cells)
    header_names = {key: str(header_cells[pos]).strip() for key, pos in positions.items()}
    result.header_names = header_names
    for text in twice:
        result.problems.append(Problem(header_row, text, text, _("This column is given twice: keep only one of them.")))
    missing = [column for column in COLUMNS if column.required and column.key not in positions]
    if "id_number" not in positions and "registry_number" not in positions:
        missing.append(BY_KEY["id_number"])
    for column in missing:
        result.problems.append(
            Problem(
                header_row,
                column.header(_language()),
                "",
                _("The file has no column “%(name)s”.") % {"name": column.zh},
            )
        )
    if unknown:
        result.warnings.append(_("Columns not read: %(names)s.") % {"names": ", ".join(unknown)})
    if result.problems:
        return []
    checker = RowChecker(positions, header_names, county)
    rows: list[Row] = []
    total = max(sheet.total - header_row, 1)
    seen_keys: dict[tuple[str, datetime.date], int] = {}
    for number, cells in sheet.rows:
        if not any(cell not in (None, "") and str(cell).strip() for cell in cells):
            continue
        result.rows += 1
        row, problems = checker.check(number, cells)
        if problems:
            result.problems.extend(problems)
        else:
            key = (row.child, row.dropout_date)
            if key in seen_keys:
                result.problems.append(
                    _row_problem(
                        header_names,
                        number,
                        "id_number",
                        row.student.id_number or row.student.registry_number,
                        _("The same child with the same dropout date is already in row %(row)d.")
                        % {"row": seen_keys[key]},
                    )
                )
            else:
                seen_keys[key] = number
                rows.append(row)
        if result.rows % PROGRESS_EVERY == 0:
            report(result.rows, max(total, result.rows))
    if not result.rows:
        result.problems.append(Problem(None, "", "", _("The file has a header but no rows.")))
    return rows
