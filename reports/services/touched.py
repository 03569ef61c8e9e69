"""The on-commit recompute: the published totals of the counties a write touched, within a minute.

Every write that moves the figures records, per county it touches, the first day it changes
(students.models.LedgerCorrection, through students.services.correction_record), and asks on commit
for this recompute (reports.tasks.recompute_touched_soon: debounced, so a burst of writes makes one
run). The run, in one transaction under the lock every publication takes (totals.lock_publication):
- takes the counties not yet recomputed and, for all of them, the days from the earliest first day to
  the last day with published totals (days not published yet are the nightly run's);
- computes those counties' rows for those days with the nightly run's own statement (sql.county_rows_sql,
  restricted to the cases they hold or held);
- moves every area above them (prefecture, province, nation, and the groups each county belongs to on
  each day) by the difference between the new county rows and the published ones, so the roll-ups cost
  what the touched counties cost, not the whole country; then replaces the county rows;
- reconciles the days it wrote (as a run does), stamps the corrections recomputed and records itself
  as a TotalsRun started by a write (Trigger.WRITE), whose finish time the dashboards show.
The nightly run stays the full reconciliation: it recomputes every day changed since the last one from
the ledger, whatever was recomputed here, and hands back to this recompute the corrections recorded
while it ran (runs.run_publish), since it staged past days before taking the lock.
"""

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import FIGURE_COLUMNS, AreaLevel, DailyTotal, RunStatus, TotalsRun
from . import sql
from .runs import Trigger
from .totals import LOCK_PUBLICATION, TUNE_SESSION, ReconciliationError, baseline_date, reconcile

# The figures moved by a difference (a county's baseline moves the areas' baselines separately).
_MOVED = [name for name in FIGURE_COLUMNS if name != "baseline_open"]
# Reconciliation looks at no more than this many days back from the last one a run wrote.
RECONCILE_DAYS = 31


def lock_wait() -> str:
    """How long the recompute waits for a publication in progress (the nightly's) before retrying later.

    settings.TOTALS_TOUCHED_LOCK_WAIT (a PostgreSQL interval, default '120s').
    """
    return getattr(settings, "TOTALS_TOUCHED_LOCK_WAIT", "120s")


def _cells() -> str:
    new_minus_old = ", ".join(f"COALESCE(n.{name}, 0) - COALESCE(o.{name}, 0) AS {name}" for name in _MOVED)
    zeros = ", ".join(f"0 AS {name}" for name in _MOVED)
    return f"""
    new AS (
        SELECT division_id AS county_id, day, {", ".join(FIGURE_COLUMNS)} FROM reports_stagedtotal
        WHERE run_id = %(run)s AND level = 'county'
    ),
    old AS (
        SELECT division_id AS county_id, day, {", ".join(FIGURE_COLUMNS)} FROM reports_dailytotal
        WHERE level = 'county' AND division_id = ANY(%(counties)s) AND day BETWEEN %(from)s AND %(to)s
    ),
    baseline_moves AS (
        SELECT COALESCE(n.county_id, o.county_id) AS county_id,
               COALESCE(n.open_count, 0) - COALESCE(o.open_count, 0) AS change
        FROM (SELECT * FROM new WHERE day = %(baseline)s) n
        FULL JOIN (SELECT * FROM old WHERE day = %(baseline)s) o ON o.county_id = n.county_id
        WHERE %(from)s = %(baseline)s
    ),
    cells AS (
        SELECT COALESCE(n.county_id, o.county_id) AS county_id, COALESCE(n.day, o.day) AS day,
               {new_minus_old}, 0 AS baseline_open
        FROM new n FULL JOIN old o ON o.county_id = n.county_id AND o.day = n.day
        UNION ALL
        SELECT b.county_id, d.day::date, {zeros}, b.change
        FROM baseline_moves b CROSS JOIN generate_series(%(from)s::date, %(to)s::date, interval '1 day') AS d(day)
        WHERE b.change <> 0
    ),
    placed AS (
        SELECT cells.*, d.prefecture_id, d.province_id
        FROM cells JOIN counties_division d ON d.id = cells.county_id
    )"""


_ALL = [*_MOVED, "baseline_open"]
_COLUMNS = ", ".join(_ALL)
_SUMS = ", ".join(f"sum({name})::int" for name in _ALL)
_ANY_MOVE = " OR ".join(f"sum({name}) <> 0" for name in _ALL)

# The difference each area above the touched counties moves by, per day, into the run's staging
# (levels other than 'county'). A group moves by its member counties of that day (a county listed
# twice in one group on a day counts once, as in sql.ROLLUP_ROWS).
AREA_MOVES = f"""
    INSERT INTO reports_stagedtotal (run_id, level, division_id, group_id, day, {_COLUMNS})
    WITH {_cells()}
    SELECT %(run)s, level, division_id, group_id, day, {_SUMS}
    FROM (
        SELECT 'prefecture' AS level, prefecture_id AS division_id, NULL::bigint AS group_id, day, {_COLUMNS}
        FROM placed WHERE prefecture_id IS NOT NULL
        UNION ALL
        SELECT 'province', province_id, NULL, day, {_COLUMNS} FROM placed
        UNION ALL
        SELECT 'nation', NULL, NULL, day, {_COLUMNS} FROM placed
        UNION ALL
        SELECT 'group', NULL, m.group_id, p.day, {", ".join(f"p.{name}" for name in _ALL)}
        FROM placed p
        JOIN LATERAL (
            SELECT DISTINCT group_id FROM counties_countygroupmembership
            WHERE county_id = p.county_id AND valid_from <= p.day AND (valid_to IS NULL OR valid_to > p.day)
        ) m ON true
    ) moves
    GROUP BY level, division_id, group_id, day
    HAVING {_ANY_MOVE}
"""

# A prefecture row appears when its first county row of a day does (its baseline: its open count on
# the baseline date, as published, plus any move of it); nation, province and group rows exist for
# every published day.
APPLY_AREA_MOVES = f"""
    MERGE INTO reports_dailytotal t
    USING (
        SELECT s.*, COALESCE(pb.open_count, 0) AS published_baseline
        FROM reports_stagedtotal s
        LEFT JOIN reports_dailytotal pb
          ON s.level = 'prefecture' AND pb.level = 'prefecture' AND pb.division_id = s.division_id
             AND pb.day = %(baseline)s
        WHERE s.run_id = %(run)s AND s.level <> 'county'
    ) s
    ON t.level = s.level AND t.day = s.day
       AND COALESCE(t.division_id, t.group_id, 0) = COALESCE(s.division_id, s.group_id, 0)
       AND t.day BETWEEN %(from)s AND %(to)s
    WHEN MATCHED THEN
        UPDATE SET {", ".join(f"{name} = t.{name} + s.{name}" for name in _ALL)}
    WHEN NOT MATCHED AND s.level = 'prefecture' THEN
        INSERT (level, division_id, group_id, day, {_COLUMNS})
        VALUES (s.level, s.division_id, NULL, s.day,
                {", ".join(f"s.{name}" for name in _MOVED)}, s.published_baseline + s.baseline_open)
"""

# As in a run: a prefecture has a row only on days with an open case or any activity.
DROP_EMPTY_PREFECTURES = """
    DELETE FROM reports_dailytotal t
    WHERE t.level = 'prefecture' AND t.day BETWEEN %(from)s AND %(to)s
      AND t.division_id IN (SELECT prefecture_id FROM counties_division WHERE id = ANY(%(counties)s))
      AND t.open_count = 0 AND t.new_count = 0 AND t.returned_count = 0 AND t.closed_count = 0
"""

TAKE_CORRECTIONS = """
    UPDATE students_ledgercorrection SET recomputed_at = %(at)s
    WHERE recomputed_at IS NULL AND county_id IS NOT NULL
    RETURNING county_id, first_day
"""

DROP_VANISHED_COUNTY_ROWS = """
    DELETE FROM reports_dailytotal t
    WHERE t.level = 'county' AND t.division_id = ANY(%(counties)s) AND t.day BETWEEN %(from)s AND %(to)s
      AND NOT EXISTS (
          SELECT 1 FROM reports_stagedtotal s
          WHERE s.run_id = %(run)s AND s.level = 'county' AND s.division_id = t.division_id AND s.day = t.day
      )
"""


# The touched counties' rows made equal to the staged ones, writing only those that differ (as sql.MERGE_STAGED,
# matched on the county and day, so that only their rows are read).
MERGE_COUNTY_ROWS = f"""
    MERGE INTO reports_dailytotal t
    USING (SELECT * FROM reports_stagedtotal WHERE run_id = %(run)s AND level = 'county') s
    ON t.division_id = s.division_id AND t.day = s.day AND t.division_id = ANY(%(counties)s)
       AND t.day BETWEEN %(from)s AND %(to)s
    WHEN MATCHED AND ({", ".join(f"t.{name}" for name in FIGURE_COLUMNS)})
                     IS DISTINCT FROM ({", ".join(f"s.{name}" for name in FIGURE_COLUMNS)}) THEN
        UPDATE SET {", ".join(f"{name} = s.{name}" for name in FIGURE_COLUMNS)}
    WHEN NOT MATCHED THEN
        INSERT (level, division_id, group_id, day, {", ".join(FIGURE_COLUMNS)})
        VALUES (s.level, s.division_id, NULL, s.day, {", ".join(f"s.{name}" for name in FIGURE_COLUMNS)})
"""


def _execute(statement: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _tune_and_wait_for_publication() -> None:
    """The run's session settings (totals.tune_session), then the lock every publication takes
    (totals.lock_publication), waiting no longer than lock_wait(): one round trip, as the recompute of a
    county-day takes a few milliseconds."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{TUNE_SESSION}; SELECT set_config('lock_timeout', %s, true); {LOCK_PUBLICATION};"
            " SELECT set_config('lock_timeout', '0', true)",
            [lock_wait()],
        )


# Drops the run's staging and records its success, numbered as the latest publication (runs.superseding_run).
FINISH = """
    WITH cleared AS (DELETE FROM reports_stagedtotal WHERE run_id = %(run)s)
    UPDATE reports_totalsrun
    SET status = 'succeeded', finished_at = %(now)s, progress = 100, steps_done = 1, days_written = %(days)s,
        rows_written = %(rows)s, message = %(message)s,
        generation = (SELECT COALESCE(MAX(generation), 0) + 1 FROM reports_totalsrun)
    WHERE id = %(run)s
    RETURNING generation
"""


def touched_recompute() -> TotalsRun | None:
    """Recompute and publish the days of the counties that writes touched since the last recompute.

    None when there was nothing to do (no correction waiting, or none on a published day). Raises
    ReconciliationError (the run is recorded as failed, nothing is published, the corrections stay
    waiting) and OperationalError when a publication in progress holds the lock too long.
    """
    started_at = timezone.now()
    try:
        with transaction.atomic():
            _tune_and_wait_for_publication()
            return _recompute(started_at)
    except ReconciliationError as error:
        TotalsRun.objects.create(
            trigger=Trigger.WRITE,
            status=RunStatus.FAILED,
            started_at=started_at,
            finished_at=timezone.now(),
            error=(_("The totals do not add up; the previous totals stay published.") + "\n" + str(error))[:10000],
        )
        raise


def _recompute(started_at: datetime.datetime) -> TotalsRun | None:
    # Recompute runs wait for each other (the lock above): the corrections taken here are no one else's.
    with connection.cursor() as cursor:
        cursor.execute(TAKE_CORRECTIONS, {"at": started_at})
        waiting = cursor.fetchall()
    if not waiting:
        return None
    first_day = baseline_date()
    last_day = DailyTotal.objects.filter(level=AreaLevel.NATION).aggregate(day=Max("day"))["day"]
    from_day = max(min(day for _county, day in waiting), first_day)
    if last_day is None or from_day > last_day:
        return None  # nothing published yet on those days: the nightly run computes them
    counties = sorted({county for county, _day in waiting})
    run = TotalsRun.objects.create(
        trigger=Trigger.WRITE,
        status=RunStatus.RUNNING,
        started_at=started_at,
        from_day=from_day,
        to_day=last_day,
        baseline_date=first_day,
        steps_total=1,
    )
    params = {"run": run.pk, "from": from_day, "to": last_day, "baseline": first_day, "counties": counties}
    county_rows = sql.one_day_county_rows_sql if from_day == last_day else sql.county_rows_sql
    _execute(county_rows(province_filter=False, county_filter=True), params)
    _execute(AREA_MOVES, params)
    moved = _execute(APPLY_AREA_MOVES, params)
    moved += _execute(DROP_EMPTY_PREFECTURES, params)
    moved += _execute(DROP_VANISHED_COUNTY_ROWS, params)
    moved += _execute(MERGE_COUNTY_ROWS, params)
    problems = reconcile(
        from_day=max(from_day, last_day - datetime.timedelta(days=RECONCILE_DAYS - 1)), to_day=last_day
    )
    if problems:
        raise ReconciliationError(problems)
    run.status, run.finished_at, run.progress, run.steps_done = RunStatus.SUCCEEDED, timezone.now(), 100, 1
    run.days_written, run.rows_written = (last_day - from_day).days + 1, moved
    run.message = _("After ledger changes: %(counties)s counties, %(days)s days recomputed, %(rows)s rows changed.") % {
        "counties": len(counties),
        "days": run.days_written,
        "rows": moved,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            FINISH,
            {**params, "now": run.finished_at, "days": run.days_written, "rows": moved, "message": run.message},
        )
        (run.generation,) = cursor.fetchone()
    return run
