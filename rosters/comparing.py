"""The comparison itself, set-based in SQL: the rosters' rows are staged with COPY, then joined.

Rows of two rosters are one child when they share
- the resident ID number (a G registry number carries it: rosters.reading fills it in from one), or
- the student registry number, or
- where they share no identifier of one kind (one row has only an ID number, the other only a J or L registry
  number, or neither has any), name, birth date and gender: the name as it sounds, as the duplicate matcher
  compares names (students.duplicates.name_key: 张伟 and 張偉 alike).
Each rule is an anti-join of its own (NOT EXISTS over one index), so PostgreSQL answers each with a hash join,
never a scan per row.

The groups of candidates:
- never enrolled: a child of the household register, of compulsory-school age on the comparison's day (6 to 15),
  in no row of the registry roster;
- dropped out: a child of the registry roster in no row of the attendance roster;
- an open case of the county whose child is in the poor-household roster but not flagged as registered-poor, and
  an open case flagged but in no row of that roster.
A child who already has an open case on the ledger is not listed as never enrolled or dropped out: by the county's
open cases (staged as rows of kind "ledger", so the name rule applies to them too) and, by identifier, any
county's.
"""

import datetime

from django.db import connection

from students.choices import OPEN_STATUSES
from students.duplicates import name_key
from students.models import DropoutCase
from students.services import copy_rows

from .models import Candidate, CandidateGroup, CandidateStatus, RosterKind, RosterRow

LEDGER = "ledger"
ROW_COLUMNS = (
    "comparison_id",
    "kind",
    "row",
    "name",
    "name_key",
    "gender",
    "birth_date",
    "id_number",
    "registry_number",
    "address",
    "school_code",
    "grade",
    "student_id",
    "case_id",
    "registered_poor",
)
ROWS = RosterRow._meta.db_table
CANDIDATES = Candidate._meta.db_table


def stage_roster(comparison_id: int, kind: str, entries) -> None:
    """COPY a roster's checked rows (rosters.reading.RosterEntry) into the staging table."""
    with connection.cursor() as cursor:
        copy_rows(
            cursor,
            ROWS,
            ROW_COLUMNS,
            ((comparison_id, kind, *entry.copy_values(), None, None, None) for entry in entries),
        )


def stage_ledger(comparison_id: int, county_id: int) -> int:
    """Stage the county's open cases' children (kind "ledger"), with their names as they sound."""
    cases = (
        DropoutCase.objects.filter(county_id=county_id, status__in=OPEN_STATUSES)
        .values_list(
            "pk",
            "student_id",
            "student__name",
            "student__gender",
            "student__birth_date",
            "student__id_number",
            "student__registry_number",
            "student__registered_poor",
        )
        .order_by("pk")
    )
    rows = [
        (comparison_id, LEDGER, 0, name, "", gender, born, id_number, registry, "", "", None)
        + (student_id, case_id, poor)
        for case_id, student_id, name, gender, born, id_number, registry, poor in cases.iterator(chunk_size=5000)
    ]
    with connection.cursor() as cursor:
        copy_rows(cursor, ROWS, ROW_COLUMNS, rows)
    return len(rows)


def _same_child(target: str, source: str) -> list[str]:
    """The three rules, each a condition of its own, that a row `target` is the child of row `source`."""
    return [
        f"{target}.id_number = {source}.id_number",
        f"{target}.registry_number = {source}.registry_number",
        f"{target}.name_key = {source}.name_key AND {target}.birth_date = {source}.birth_date"
        f" AND {target}.gender = {source}.gender AND {source}.name_key <> ''"
        f" AND ({source}.id_number IS NULL OR {target}.id_number IS NULL)"
        f" AND ({source}.registry_number IS NULL OR {target}.registry_number IS NULL)",
    ]


def _in_no_row_of(kind: str, source: str = "s") -> str:
    """A condition: row `source` is the child of no row of roster `kind` (of the same comparison)."""
    return " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {ROWS} t WHERE t.comparison_id = {source}.comparison_id"
        f" AND t.kind = '{kind}' AND {rule})"
        for rule in _same_child("t", source)
    )


OPEN = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
# No open case anywhere on the ledger, by identifier (the county's own open cases are staged and matched by name).
NOT_ON_LEDGER_ELSEWHERE = f"""
    NOT EXISTS (SELECT 1 FROM students_student st JOIN students_dropoutcase dc ON dc.student_id = st.id
                WHERE st.id_number = s.id_number AND dc.status IN ({OPEN}))
    AND NOT EXISTS (SELECT 1 FROM students_student st JOIN students_dropoutcase dc ON dc.student_id = st.id
                    WHERE st.registry_number = s.registry_number AND dc.status IN ({OPEN}))
"""

NEW_CHILD = f"""
    INSERT INTO {CANDIDATES} (comparison_id, "group", status, source_kind, source_row, matched_by, matched_row,
        name, gender, birth_date, id_number, registry_number, address, school_code, grade, student_id, case_id,
        dismiss_reason, note)
    SELECT s.comparison_id, %(group)s, '{CandidateStatus.OPEN}', s.kind, s.row, '', NULL,
        s.name, s.gender, s.birth_date, COALESCE(s.id_number, ''), COALESCE(s.registry_number, ''), s.address,
        s.school_code, s.grade, NULL, NULL, '', ''
    FROM {ROWS} s
    WHERE s.comparison_id = %(comparison)s AND s.kind = %(source)s {{extra}}
      AND {_in_no_row_of("{target}")}
      AND {_in_no_row_of(LEDGER)}
      AND {NOT_ON_LEDGER_ELSEWHERE}
"""

SCHOOL_AGE = """
    AND (s.birth_date IS NULL
         OR (s.birth_date <= %(as_of)s::date - interval '6 years'
             AND s.birth_date > %(as_of)s::date - interval '16 years'))
"""

# For each open case's child, the poor-household roster's row it matches: the first rule that matches, then the
# first row. Each rule is a join of its own, so each is a hash join over the whole roster.
POOR_MATCHES = f"""
    SELECT DISTINCT ON (staged) staged, row, rule FROM (
        SELECT s.id AS staged, t.row, 1 AS priority, 'id_number' AS rule
        FROM {ROWS} s JOIN {ROWS} t ON {_same_child("t", "s")[0]}
        WHERE s.comparison_id = %(comparison)s AND s.kind = '{LEDGER}'
          AND t.comparison_id = %(comparison)s AND t.kind = '{RosterKind.POOR}'
        UNION ALL
        SELECT s.id, t.row, 2, 'registry_number'
        FROM {ROWS} s JOIN {ROWS} t ON {_same_child("t", "s")[1]}
        WHERE s.comparison_id = %(comparison)s AND s.kind = '{LEDGER}'
          AND t.comparison_id = %(comparison)s AND t.kind = '{RosterKind.POOR}'
        UNION ALL
        SELECT s.id, t.row, 3, 'name'
        FROM {ROWS} s JOIN {ROWS} t ON {_same_child("t", "s")[2]}
        WHERE s.comparison_id = %(comparison)s AND s.kind = '{LEDGER}'
          AND t.comparison_id = %(comparison)s AND t.kind = '{RosterKind.POOR}'
    ) matches ORDER BY staged, priority, row
"""

OPEN_CASE = f"""
    INSERT INTO {CANDIDATES} (comparison_id, "group", status, source_kind, source_row, matched_by, matched_row,
        name, gender, birth_date, id_number, registry_number, address, school_code, grade, student_id, case_id,
        dismiss_reason, note)
    SELECT s.comparison_id, %(group)s, '{CandidateStatus.OPEN}', {{source_kind}}, {{source_row}}, {{matched_by}},
        {{source_row}}, st.name, st.gender, st.birth_date, COALESCE(st.id_number, ''),
        COALESCE(st.registry_number, ''), st.address, sc.code, dc.grade, st.id, dc.id, '', ''
    FROM {ROWS} s
    JOIN students_student st ON st.id = s.student_id
    JOIN students_dropoutcase dc ON dc.id = s.case_id
    JOIN counties_school sc ON sc.id = dc.school_id
    {{join}}
    WHERE s.comparison_id = %(comparison)s AND s.kind = '{LEDGER}' AND {{where}}
"""

POOR_NOT_FLAGGED = OPEN_CASE.format(
    source_kind=f"'{RosterKind.POOR}'",
    source_row="m.row",
    matched_by="m.rule",
    join=f"JOIN ({POOR_MATCHES}) m ON m.staged = s.id",
    where="NOT s.registered_poor",
)
FLAGGED_NOT_POOR = OPEN_CASE.format(
    source_kind="''",
    source_row="NULL",
    matched_by="''",
    join="",
    where=f"s.registered_poor AND {_in_no_row_of(RosterKind.POOR)}",
)


# A registry row may give the registry number alone: the child's details are the household register's, when it has
# them.
DETAILS_FROM_HOUSEHOLD = f"""
    UPDATE {CANDIDATES} c
    SET name = h.name, gender = h.gender, birth_date = h.birth_date, address = h.address
    FROM {ROWS} h
    WHERE c.comparison_id = %(comparison)s AND c."group" = %(group)s AND c.name = ''
      AND h.comparison_id = c.comparison_id AND h.kind = '{RosterKind.HOUSEHOLD}' AND h.id_number = c.id_number
"""


def _unmatched(source: str) -> str:
    """Rows of roster `source` that no row of roster %(target)s matches by an identifier."""
    rules = _same_child("t", "s")[:2]
    absent = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {ROWS} t WHERE t.comparison_id = s.comparison_id AND t.kind = %(target)s"
        f" AND {rule})"
        for rule in rules
    )
    columns = "s.id, s.birth_date, s.gender, s.id_number, s.registry_number"
    return f"SELECT {columns} FROM {ROWS} s WHERE s.comparison_id = %(comparison)s" + (
        f" AND s.kind = '{source}' AND {absent}"
    )


# The rows the name rule may match: those of the source roster no identifier matched, and the rows of the rosters
# they are compared with that the rule could pair with one of them (born the same day, the same gender, and no
# identifier of a kind both give). The others need no name key.
NEEDING_KEYS = f"""
    WITH unmatched AS ({{unmatched}})
    SELECT r.id, r.name FROM unmatched u JOIN {ROWS} r ON r.id = u.id WHERE r.name <> ''
    UNION
    SELECT t.id, t.name FROM {ROWS} t
    JOIN unmatched u ON u.birth_date = t.birth_date AND u.gender = t.gender
        AND (u.id_number IS NULL OR t.id_number IS NULL) AND (u.registry_number IS NULL OR t.registry_number IS NULL)
    WHERE t.comparison_id = %(comparison)s AND t.kind IN (%(target)s, %(also)s) AND t.name <> ''
"""


def name_key_pairs(kinds: set[str]) -> list[tuple[str, str, str]]:
    """The rosters the name rule compares, as (source, target, also) for name_keys_fill."""
    pairs = []
    if {RosterKind.HOUSEHOLD, RosterKind.REGISTRY} <= kinds:
        pairs.append((RosterKind.HOUSEHOLD, RosterKind.REGISTRY, LEDGER))
    if {RosterKind.REGISTRY, RosterKind.ATTENDANCE} <= kinds:
        pairs.append((RosterKind.REGISTRY, RosterKind.ATTENDANCE, LEDGER))
    if RosterKind.POOR in kinds:
        pairs.append((LEDGER, RosterKind.POOR, RosterKind.POOR))
    return pairs


def name_keys_fill(comparison_id: int, pairs: list[tuple[str, str, str]]) -> int:
    """Give the rows the name rule may match their name as it sounds (students.duplicates.name_key); how many.

    The name's pinyin is the slow part of a comparison, so it is worked out only where an identifier found no
    match: for each pair (source, target, also), the source's unmatched rows and the target's (and `also`'s) rows
    of the same birth date and gender.
    """
    rows: dict[int, str] = {}
    with connection.cursor() as cursor:
        for source, target, also in pairs:
            sql = NEEDING_KEYS.format(unmatched=_unmatched(source))
            cursor.execute(sql, {"comparison": comparison_id, "target": target, "also": also})
            rows.update(cursor.fetchall())
        if not rows:
            return 0
        cursor.execute("CREATE TEMPORARY TABLE roster_name_keys (id integer PRIMARY KEY, key text) ON COMMIT DROP")
        copy_rows(cursor, "roster_name_keys", ("id", "key"), ((pk, name_key(name)) for pk, name in rows.items()))
        cursor.execute(
            f"UPDATE {ROWS} r SET name_key = k.key FROM roster_name_keys k WHERE r.id = k.id AND r.comparison_id = %s",
            [comparison_id],
        )
        cursor.execute("DROP TABLE roster_name_keys")
    return len(rows)


def candidates_find(comparison_id: int, kinds: set[str], as_of: datetime.date) -> dict[str, int]:
    """Insert the candidates of every group the staged rosters allow; returns how many, per group."""
    counts = {}
    params = {"comparison": comparison_id, "as_of": as_of}
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ROWS}")
    name_keys_fill(comparison_id, name_key_pairs(kinds))
    with connection.cursor() as cursor:
        if {RosterKind.HOUSEHOLD, RosterKind.REGISTRY} <= kinds:
            sql = NEW_CHILD.format(target=RosterKind.REGISTRY, extra=SCHOOL_AGE)
            cursor.execute(sql, {**params, "group": CandidateGroup.NEVER_ENROLLED, "source": RosterKind.HOUSEHOLD})
            counts[CandidateGroup.NEVER_ENROLLED] = cursor.rowcount
        if {RosterKind.REGISTRY, RosterKind.ATTENDANCE} <= kinds:
            sql = NEW_CHILD.format(target=RosterKind.ATTENDANCE, extra="")
            cursor.execute(sql, {**params, "group": CandidateGroup.DROPPED_OUT, "source": RosterKind.REGISTRY})
            counts[CandidateGroup.DROPPED_OUT] = cursor.rowcount
            if RosterKind.HOUSEHOLD in kinds:
                cursor.execute(DETAILS_FROM_HOUSEHOLD, {**params, "group": CandidateGroup.DROPPED_OUT})
        if RosterKind.POOR in kinds:
            cursor.execute(POOR_NOT_FLAGGED, {**params, "group": CandidateGroup.POOR_NOT_FLAGGED})
            counts[CandidateGroup.POOR_NOT_FLAGGED] = cursor.rowcount
            cursor.execute(FLAGGED_NOT_POOR, {**params, "group": CandidateGroup.FLAGGED_NOT_POOR})
            counts[CandidateGroup.FLAGGED_NOT_POOR] = cursor.rowcount
    return counts


def staged_rows_remove(comparison_id: int) -> None:
    """The rosters' rows are children's data: once compared, only the candidates are kept."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ROWS} WHERE comparison_id = %s", [comparison_id])
