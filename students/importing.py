"""Import a county's ledger from a spreadsheet (XLSX or CSV): check every row, then write all or nothing.

The file is read within the limits of students.import_limits (a hostile file is refused as soon as the reading
meets one), its headings and values matched through the county's mapping (students.import_mapping). Then two
passes, which between them report every problem of the file at once:
1. each row is read and checked on its own (students.import_rows), the same child twice in the file included,
   whatever the other rows hold;
2. in one transaction, the rows that passed are matched to the children and cases the ledger already holds and
   checked against them (students.import_matching), even when other rows had problems; only when no row of the
   file has one, and unless it is a dry run, they are written through services.ledger_bulk_write.
A row that matches the ledger exactly changes nothing, so importing the same file twice is a no-op.

Progress is reported as rows through both the reading and the writing, so that a bar does not stand still
through the write of a large file.
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils.translation import gettext as _

from counties.models import Division

from .import_limits import FileProblem, Limits
from .import_mapping import Mapping, import_mapping_for
from .import_matching import Reconciler
from .import_problems import Problem, ProblemKind, problem_groups, row_problem
from .import_rows import PROGRESS_EVERY, Progress, read_rows
from .ledger_reading import open_sheet
from .services import ledger_bulk_write, rules_as_of_today

__all__ = ["PROGRESS_EVERY", "ImportResult", "Problem", "import_ledger"]

ANALYZE_AFTER_ROWS = 10_000  # rows written by one import after which the planner statistics are refreshed
LOCK_NAMESPACE = 5001  # pg_advisory_xact_lock(namespace, county id): one import per county at a time


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
    # What the check did not know, to be mapped (students.import_mapping): headings as the file writes them,
    # and for each column with a fixed list, its values not in it.
    unknown_headings: list[str] = field(default_factory=list)
    unknown_values: dict[str, list[str]] = field(default_factory=dict)
    stopped: bool = False  # the check stopped at the problems it keeps (IMPORT_MAX_PROBLEMS)

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
            "file_problems": sum(1 for p in self.problems if p.row is None or p.kind == ProblemKind.FILE),
        }

    def groups(self) -> list[dict]:
        return problem_groups(self.problems)


def import_ledger(
    path: str | Path,
    *,
    county: Division,
    user=None,
    dry_run: bool = False,
    filename: str = "",
    progress: Progress | None = None,
    job_id: int | None = None,
    mapping: Mapping | None = None,
    limits: Limits | None = None,
) -> ImportResult:
    """Check every row of a ledger file and, unless it is a dry run or a row has a problem, import them all.

    `filename` and `job_id` (the LedgerJob it runs for) name where each change of a child's details came from.
    `mapping` says what the county's own headings and values mean (by default, the county's saved mapping);
    `limits` what the file may hold (by default, the settings').
    """
    describe_row = _row_describer(filename or Path(path).name, job_id)
    mapping = import_mapping_for(county) if mapping is None else mapping
    with rules_as_of_today(), _no_cyclic_gc():
        return _import(
            path,
            county,
            user,
            dry_run,
            filename,
            progress or (lambda done, total: None),
            describe_row,
            mapping,
            limits or Limits.from_settings(),
        )


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
    path,
    county: Division,
    user,
    dry_run: bool,
    filename: str,
    report: Progress,
    describe_row: Callable[[int], str],
    mapping: Mapping,
    limits: Limits,
) -> ImportResult:
    result = ImportResult(dry_run=dry_run)
    # Progress in rows: each row is read, then (for an import) written; the bar moves through both.
    passes = 1 if dry_run else 2
    try:
        with open_sheet(path, filename, limits) as sheet:
            result.encoding = sheet.encoding
            rows = read_rows(
                sheet,
                county,
                result,
                lambda done, total: report(done, total * passes),
                mapping=mapping,
                limits=limits,
            )
    except FileProblem as error:
        result.problems = [Problem(None, "", "", str(error), ProblemKind.FILE)]
        return result
    if result.stopped or (result.problems and not rows):
        return result
    report(result.rows, result.rows * passes)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, county.pk])
        names = result.header_names
        reconciler = Reconciler(
            rows,
            county,
            set(names),
            lambda number, key, value, message, kind=ProblemKind.LEDGER: row_problem(
                names, number, key, value, message, kind
            ),
            describe_row,
        )
        reconciler.run()
        if result.problems or reconciler.problems:
            result.problems = sorted([*result.problems, *reconciler.problems], key=lambda p: p.row or 0)
            del result.problems[limits.problems :]
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
        rows_read = result.rows

        def written(done: int, total: int) -> None:
            report(rows_read + rows_read * done // max(total, 1), rows_read * 2)

        result.events = ledger_bulk_write(
            students=students, cases=reconciler.cases, user=user, note=note, progress=written
        )
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
