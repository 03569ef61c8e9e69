"""The problems a check of a ledger file finds: each with its row, its column as the file names it, the value, the
message and its kind; grouped by kind with counts for the job's page; all of them kept in a report file.

The report is a file (Django's default storage, under MEDIA_ROOT): one JSON object a line, written as the check
ends, read back a page at a time for the job's page and whole for the downloads. The job's row keeps only the
groups and the counts, so that the page and its progress polls stay small however many problems a file has.
"""

import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.core.files import File
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .ledger_columns import BY_KEY

# The first this many problems are listed in full on the job's page; the report file holds every one.
PROBLEMS_LISTED = 1000


class ProblemKind:
    FILE = "file"  # the file as a whole: unreadable, past a limit, a heading missing or given twice
    UNREADABLE = "unreadable"  # a cell that is not what its column holds (a date that is not one, a number as ID)
    UNKNOWN_VALUE = "unknown_value"  # a value not in the column's list (and not mapped)
    FORMULA = "formula"  # a formula saved without its result
    REQUIRED = "required"
    IDENTITY = "identity"  # the child's details: ID check character, birth date against the ID, lengths
    SCHOOL = "school"  # a school not in the county, a row for another county
    CASE = "case"  # the dropout: grade, dates
    STATUS = "status"  # the status and its dates, placement, closure
    DUPLICATE = "duplicate"  # the same child twice in the file
    LEDGER = "ledger"  # what the ledger already holds: another county's child or case, recorded history


KIND_LABELS = {
    ProblemKind.FILE: _("The file"),
    ProblemKind.UNREADABLE: _("Cells that cannot be read"),
    ProblemKind.UNKNOWN_VALUE: _("Values not in the list"),
    ProblemKind.FORMULA: _("Formulas without a saved result"),
    ProblemKind.REQUIRED: _("Required cells left blank"),
    ProblemKind.IDENTITY: _("The child's details"),
    ProblemKind.SCHOOL: _("School or county"),
    ProblemKind.CASE: _("Grade and dropout date"),
    ProblemKind.STATUS: _("Status and its dates"),
    ProblemKind.DUPLICATE: _("The same child twice in the file"),
    ProblemKind.LEDGER: _("Against the ledger"),
}


@dataclass
class Problem:
    row: int | None
    column: str
    value: str
    message: str
    kind: str = ProblemKind.FILE

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message, "kind": self.kind}


def language() -> str:
    """The language of the ledger's column names for the user: "en" or "zh"."""
    return "en" if (get_language() or "").startswith("en") else "zh"


def column_name(header_names: dict[str, str], key: str) -> str:
    """A column as the file names it; a column the file lacks by the template's name, saying the file lacks it."""
    named = header_names.get(key)
    if named:
        return named
    return str(_("%(column)s (not in the file)")) % {"column": BY_KEY[key].header(language())}


def row_problem(header_names: dict[str, str], number: int, key: str, value, message: str, kind: str) -> Problem:
    return Problem(number, column_name(header_names, key), "" if value is None else str(value), message, kind)


def problem_groups(problems: Iterable[Problem]) -> list[dict]:
    """The problems by kind and column, most frequent first: [{"kind", "label", "column", "count", "example"}]."""
    counts: Counter = Counter()
    examples: dict[tuple[str, str], str] = {}
    for problem in problems:
        key = (problem.kind, problem.column)
        counts[key] += 1
        examples.setdefault(key, problem.message)
    return [
        {
            "kind": kind,
            "label": str(KIND_LABELS.get(kind, kind)),
            "column": column,
            "count": count,
            "example": examples[(kind, column)],
        }
        for (kind, column), count in counts.most_common()
    ]


# The report file ---------------------------------------------------------------------------------------


def report_save(field_file, problems: list[Problem], name: str) -> None:
    """Write every problem to the job's report file (a FileField), one JSON object a line; not saved to the row."""
    with tempfile.TemporaryFile() as out:
        for problem in problems:
            out.write(json.dumps(problem.as_dict(), ensure_ascii=False).encode("utf-8") + b"\n")
        out.seek(0)
        field_file.save(name, File(out), save=False)


def report_problems(field_file, *, limit: int | None = None) -> Iterator[dict]:
    """The problems in a report file, in their order, the first `limit` only when given: read as a stream."""
    if not field_file:
        return iter(())
    return islice(_read_lines(field_file), limit)


def _read_lines(field_file) -> Iterator[dict]:
    with field_file.open("rb") as handle:
        for line in handle:
            yield json.loads(line)
