"""The import's second pass: the rows that passed their own checks, matched to the children and cases the ledger
holds (children by ID or registry number, cases by child and dropout date), checked against them (a child another
county holds, an open case in another county, a status that would go backwards, recorded history that differs,
the same child twice) and planned as the writes services.ledger_bulk_write makes.

A child is one record for the whole country: a row may change the details of a child the importing county
holds (students.access.may_change_identity); a row that would change a child another county holds, or open a
case for them, is a problem naming that county only.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from counties.models import Division

from .access import holding_case_of
from .choices import OPEN_STATUSES, Status
from .import_problems import Problem, ProblemKind, language
from .import_rows import CASE_FIELDS, STUDENT_FIELDS, Row, _step, status_path, target_steps
from .ledger_columns import label
from .lifecycle import check_transition
from .services import STUDENT_DATA_FIELDS, BulkCase, BulkStudent, CaseStep, held_elsewhere_message


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
                        kind=ProblemKind.DUPLICATE,
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
                        kind=ProblemKind.DUPLICATE,
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
                        kind=ProblemKind.DUPLICATE,
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
                % {"placement": label("placement", ledger.placement, language())}
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
