"""Computing, publishing and reconciling the daily totals (the steps a run is made of).

What is stored (see also DailyTotal's docstring):
- For every county and every day from the ledger's baseline date (settings.LEDGER_BASELINE_DATE) to
  the day of the run: open cases at the end of the day, new dropouts that day (dropout_date = d),
  returns that day (struck off on d by a return: the case has returned_on), other closures that
  day (closure_reason set, struck off on d), and the open count broken down by gender, grade band
  (1-6, 7-9), registered-poor, left-behind (either kind), disability (any) and reason. A case handed
  over to another county counts in the county that held it that day: the old one before the handover
  date, the new one from it; the handover itself is neither a new dropout nor a closure.
- The same figures for every prefecture, province, the nation and every county group (a group sums
  the counties that are its members on that day), stored per level so that a page view reads one
  row per area and day and never sums counties.
- A county or prefecture row is written only when the area has an open case or any new dropout,
  return or closure that day; readers treat a missing row as all zeros. Nation, province and group
  rows are written for every day, zeros included, so their series never have gaps.
- baseline_open on every row is the area's open count at the end of the baseline date; for a group,
  the sum over the counties that are members on the row's day.

The breakdowns use each child's flags as they are when the day is computed: the ledger keeps no
history of flag corrections, so a corrected flag shows in past days once those days are recomputed
(`recompute_totals --from DATE`), and in today's figures at the next run.
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import FIGURE_COLUMNS
from . import sql

LEVEL_INDEX = {"nation": 0, "province": 1, "county": 2}
# nation = sum of provinces = sum of counties, for every figure; the baseline is checked for
# provinces only (county rows are omitted on days when a county has nothing open).
CHECKED_FIGURES = [name for name in FIGURE_COLUMNS if name != "baseline_open"]


# How long publication waits for ledger writes in progress before giving up (and retrying later).
LOCK_WAIT = "10s"
# Memory for each sort or hash of a run's statements (its own transactions only).
WORK_MEM = "256MB"


class ReconciliationError(Exception):
    """The totals just computed do not add up; they are not published."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def baseline_date() -> datetime.date:
    """The day the ledger opened: the first day with totals, and the day decreases are measured from."""
    value = settings.LEDGER_BASELINE_DATE
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


def today() -> datetime.date:
    return timezone.localdate()


def _execute(statement: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def tune_session() -> None:
    """Settings for the run's big statements, for the current transaction only.

    A full-history run aggregates millions of rows: give its sorts and hashes room in memory, and
    skip JIT compilation, which costs more than it saves on these plans (seconds on a small night).
    The totals are derived data, so the commit does not wait for the WAL to reach the disk: after a
    crash in that instant the run and its totals are lost together, and the next run redoes them.
    """
    with connection.cursor() as cursor:
        cursor.execute(TUNE_SESSION)


TUNE_SESSION = f"SET LOCAL work_mem = '{WORK_MEM}'; SET LOCAL jit = off; SET LOCAL synchronous_commit = off"
# The lock every publication takes (lock_publication).
LOCK_PUBLICATION = "SELECT pg_advisory_xact_lock(hashtext('reports.totals.publish'))"


def stage_counties(
    *, run_id: int, from_day: datetime.date, to_day: datetime.date, province_id: int | None = None
) -> int:
    """Compute the county rows of [from_day, to_day] (of one province, or all) into the run's staging.

    Call inside a transaction. Each step is staged once (runs.run_stage records it in the same
    transaction); the last day is staged inside the publishing transaction.
    """
    if from_day > to_day:
        return 0
    params = {"run": run_id, "from": from_day, "to": to_day, "baseline": baseline_date(), "province": province_id}
    by_province = province_id is not None
    if from_day == to_day:
        return _execute(sql.one_day_county_rows_sql(province_filter=by_province), params)
    return _execute(sql.county_rows_sql(province_filter=by_province), params)


def stage_rollups(*, run_id: int, from_day: datetime.date, to_day: datetime.date, range_start: datetime.date) -> int:
    """Roll the run's staged county rows of [from_day, to_day] up to prefectures, provinces, nation, groups.

    Call inside the publishing transaction (a failed attempt leaves no roll-ups behind).
    `range_start` is the first day of the whole run: when it is the baseline date, the baselines
    come from the run's own rows for that day, else from the published ones.
    """
    if from_day > to_day:
        return 0
    params = {"run": run_id, "from": from_day, "to": to_day, "baseline": baseline_date(), "range_start": range_start}
    with bulk_joins():
        return _execute(sql.ROLLUP_ROWS, params)


@dataclass
class Applied:
    written: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.written + self.deleted

    def __iadd__(self, other: "Applied") -> "Applied":
        self.written += other.written
        self.deleted += other.deleted
        return self


def apply_staged(*, run_id: int, from_day: datetime.date, to_day: datetime.date) -> Applied:
    """Make the published rows of [from_day, to_day] equal the run's staged rows, writing only differences.

    Call inside the publishing transaction.
    """
    if from_day > to_day:
        return Applied()
    params = {"run": run_id, "from": from_day, "to": to_day}
    with bulk_joins():
        deleted = _execute(sql.DELETE_VANISHED, params)
        written = _execute(sql.MERGE_STAGED, params)
    return Applied(written=written, deleted=deleted)


@contextmanager
def bulk_joins():
    """Plan the enclosed statements' joins as hash joins.

    They join whole sets (a run's staged rows with each other and with the published rows, area x
    day grids with sums), where the planner's estimates are poor (CTEs, staged rows not analysed,
    an empty table before the first backfill): a nested loop, or a merge join filtering on its
    second key, grows with the square of the rows, and a merge join's sorts spill to disk where a
    hash fits in memory. Even for a single night the hash plans are the quicker ones.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = on; SET LOCAL enable_mergejoin = on")


def vacuum_staging() -> None:
    """Give back the space of the staged rows a big run dropped, so later runs do not scan it.

    VACUUM cannot run inside a transaction: when called inside one (tests), it leaves the job to
    autovacuum.
    """
    if connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM reports_stagedtotal")


def analyze(table: str) -> None:
    """Refresh the planner's statistics of a totals table (after writing many rows into it)."""
    assert table in ("reports_stagedtotal", "reports_dailytotal")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def live_open_count() -> int:
    """Cases open right now, counted by status (independently of the dates the totals use)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.LIVE_OPEN_COUNT)
        return cursor.fetchone()[0]


def reconcile(*, from_day: datetime.date, to_day: datetime.date, live_open: int | None = None) -> list[str]:
    """Every way the published totals of [from_day, to_day] fail to add up, in words (empty: they do).

    - each day has a national row, and nation = sum of provinces = sum of counties, figure by figure
      (the baseline: nation = sum of provinces);
    - the national open count moves only by the day's activity: open(d) = open(d-1) + new - returned
      - closed, from the day before the range (already published) to its last day;
    - with `live_open`, the last day's national open count equals it.
    """
    if from_day > to_day:
        return []
    problems: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(sql.LEVEL_SUMS, {"from": from_day, "to": to_day})
        sums: dict[datetime.date, list] = {}
        for day, level, _count, *figures in cursor.fetchall():
            row = dict(zip(FIGURE_COLUMNS, figures, strict=True))
            sums.setdefault(day, [None, None, None])[LEVEL_INDEX[level]] = row
    zero = dict.fromkeys(FIGURE_COLUMNS, 0)
    day = from_day
    previous_open = None
    if from_day > baseline_date():
        previous_open = _published_nation_open(from_day - datetime.timedelta(days=1))
    while day <= to_day:
        nation, provinces, counties = sums.get(day, [None, None, None])
        if nation is None:
            problems.append(_("%(day)s: no national row.") % {"day": day})
            previous_open = None
            day += datetime.timedelta(days=1)
            continue
        provinces = provinces or zero
        counties = counties or zero
        for name in CHECKED_FIGURES:
            if not nation[name] == provinces[name] == counties[name]:
                problems.append(
                    _("%(day)s: %(figure)s is %(nation)s for the nation, %(provinces)s summed over provinces, "
                      "%(counties)s summed over counties.")
                    % {"day": day, "figure": name, "nation": nation[name], "provinces": provinces[name],
                       "counties": counties[name]}
                )  # fmt: skip
        if nation["baseline_open"] != provinces["baseline_open"]:
            problems.append(
                _("%(day)s: the baseline is %(nation)s for the nation, %(provinces)s summed over provinces.")
                % {"day": day, "nation": nation["baseline_open"], "provinces": provinces["baseline_open"]}
            )
        if previous_open is not None:
            expected = previous_open + nation["new_count"] - nation["returned_count"] - nation["closed_count"]
            if nation["open_count"] != expected:
                problems.append(
                    _("%(day)s: the national open count is %(open)s, but the day before's %(previous)s plus the "
                      "day's new dropouts less its returns and closures makes %(expected)s.")
                    % {"day": day, "open": nation["open_count"], "previous": previous_open, "expected": expected}
                )  # fmt: skip
        previous_open = nation["open_count"]
        day += datetime.timedelta(days=1)
    if live_open is not None:
        stored = sums.get(to_day, [None])[0]
        if stored is not None and stored["open_count"] != live_open:
            problems.append(
                _("%(day)s: the national open count is %(stored)s, but %(live)s cases are open in the ledger.")
                % {"day": to_day, "stored": stored["open_count"], "live": live_open}
            )
    return problems


def _published_nation_open(day: datetime.date) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT open_count FROM reports_dailytotal WHERE level = 'nation' AND day = %s", [day])
        row = cursor.fetchone()
    return row[0] if row else None


def lock_ledger_writes() -> None:
    """Hold back writes to the cases until the publishing transaction ends.

    Today's figures and the live count are then read from one state of the ledger, so a case
    changed while the run publishes cannot make reconciliation fail. Writers wait for well under a
    second: only today's figures are computed after this point. If a long write (an import) holds
    the cases for more than LOCK_WAIT, this gives up (OperationalError; the task retries later)
    rather than queue every other writer behind it.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
        cursor.execute("LOCK TABLE students_dropoutcase IN SHARE MODE")


def lock_publication() -> None:
    """One run publishes at a time (a transaction-level advisory lock)."""
    with connection.cursor() as cursor:
        cursor.execute(LOCK_PUBLICATION)


def delete_before(day: datetime.date) -> int:
    """Drop published rows before `day` (after the baseline date was moved later)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM reports_dailytotal WHERE day < %s", [day])
        return cursor.rowcount
