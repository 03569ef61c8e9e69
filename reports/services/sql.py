"""The SQL that computes the daily totals, set-based, in PostgreSQL.

Every statement takes named parameters (psycopg `%(name)s`). Days are `date` values; a range is
inclusive at both ends. "Open at the end of day d" is, here as everywhere in the product:
dropout_date <= d AND (struck_off_on IS NULL OR struck_off_on > d).

How a range of days is computed (COUNTY_ROWS): each case that overlaps the range becomes two moves,
+1 on the day it enters the range open (its dropout date, or the first day of the range) and -1 on
the day it is struck off; the moves are summed per county and day, and a running sum over each
county's days gives its open count (and breakdowns) after every day on which something moved. Each
such row then stands for every day until the county's next move, so the statement emits a row per
county-day without ever building a grid of every county times every day, and never joins cases to
days (the "interval join" that makes a naive backfill slow).

A case handed over between counties (students.handover) counts in the county that held it on each day:
its accepted handovers split it into segments, one per holding county (`segments`): the old county holds
it on the days before handed_over_on, the new one from that day on. Each segment enters the moves like a
case of its own, +1 when it starts holding the case open (the dropout date, the handover date or the
first day of the range) and -1 when it stops (the next handover date, or the strike-off for the last
segment). Only the segment holding the case on its dropout date counts the new dropout, and only the last
one the return or closure (a handover is dated on or after the case's latest event, so every strike-off
falls in the last segment): a handover is neither. A handover of a case already struck off (a child back
in school in one county, taken over by another where they dropped out again) begins no segment: the case
counted nowhere after its strike-off, and no day's figures change. A case never handed over is one segment,
its county's, so it costs one probe into a hash of the few accepted handovers.

A single night is counted directly instead (one_day_county_rows_sql): the same rows, fewer steps.

REFERENCE_COUNTY_ROWS is the same county-day computation written the plain way, as one hand-written
SELECT over a full county x day grid with a window sum over daily deltas: the tests check the
product's statements against it, and it can be timed beside a run.
"""

from django.db import connection

from students.choices import OPEN_STATUSES, Gender, HandoverStatus, Reason

from ..models import FIGURE_COLUMNS

OPEN = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)

# The figures that are counts of open cases: summed by the running sum (everything but the day's
# activity counts and the baseline).
OPEN_FIGURES = [c for c in FIGURE_COLUMNS if c not in ("new_count", "returned_count", "closed_count", "baseline_open")]

# How each open-count breakdown is read from one case (c: the case, s: its student), as 0 or 1.
BREAKDOWNS = {
    "open_count": "1",
    "open_male": f"(s.gender = '{Gender.MALE.value}')::int",
    "open_female": f"(s.gender = '{Gender.FEMALE.value}')::int",
    "open_primary": "(c.grade <= 6)::int",
    "open_junior": "(c.grade >= 7)::int",
    "open_poor": "s.registered_poor::int",
    "open_left_behind": "(s.left_behind <> '')::int",
    "open_disabled": "(s.disability <> '')::int",
    **{f"open_reason_{reason.value}": f"(c.reason = '{reason.value}')::int" for reason in Reason},
}
assert set(BREAKDOWNS) == set(OPEN_FIGURES)

STAGED_COLUMNS = ", ".join(["run_id", "level", "division_id", "group_id", "day", *FIGURE_COLUMNS])
FIGURES = ", ".join(FIGURE_COLUMNS)


# The counties that held each handed-over case, and from when to when: one row per segment, `seg_from`
# NULL for the first (from the dropout), `seg_to` NULL for the last (to the strike-off, or still open).
# Handovers of a case follow each other in date order (students.handover), several on one day in id order.
#
# A handover of a case already struck off (`after_strike`: dated after its strike-off, or on that day and
# decided after the strike-off was recorded) moves a child who counts nowhere any more: the segment it
# begins holds nothing, so it is left out, and the segment before it is the last (it counts the strike-off).
# Every handover after such a one is one too (a struck-off case stays struck off), so the ones left out are
# always the last few, and a case handed over only after its strike-off is one segment, its old county's.
# A handover on the strike-off day decided before the strike-off was recorded moved the open case, which was
# then struck off in the receiving county: that one counts.
SEGMENTS_CTE = f"""
    handed AS MATERIALIZED (
        SELECT case_id, from_county_id, to_county_id, handed_over_on, after_strike,
               row_number() OVER w AS n, lead(handed_over_on) OVER w AS next_on,
               COALESCE(lead(after_strike) OVER w, false) AS next_after_strike
        FROM (
            SELECT h.id, h.case_id, h.from_county_id, h.to_county_id, h.handed_over_on,
                   COALESCE(
                       h.handed_over_on > dc.struck_off_on
                       OR h.handed_over_on = dc.struck_off_on AND EXISTS (
                           SELECT 1 FROM students_caseevent e
                           WHERE e.case_id = h.case_id AND e.effective_date = dc.struck_off_on
                             AND e.from_status IN ({OPEN}) AND e.to_status NOT IN ({OPEN})
                             AND e.recorded_at < h.decided_at
                       ),
                       false
                   ) AS after_strike
            FROM students_handover h
            JOIN students_dropoutcase dc ON dc.id = h.case_id
            WHERE h.status = '{HandoverStatus.ACCEPTED.value}'
        ) accepted
        WINDOW w AS (PARTITION BY case_id ORDER BY handed_over_on, id)
    ),
    segments AS (
        SELECT case_id, from_county_id AS county_id, NULL::date AS seg_from,
               CASE WHEN after_strike THEN NULL ELSE handed_over_on END AS seg_to
        FROM handed WHERE n = 1
        UNION ALL
        SELECT case_id, to_county_id, handed_over_on, CASE WHEN next_after_strike THEN NULL ELSE next_on END
        FROM handed WHERE NOT after_strike
    )"""

# Read from a case `c` LEFT JOINed to its segments `g`: the county holding it, and the days it holds it
# open [enter, leave) (leave NULL: still open).
HOLDER = "COALESCE(g.county_id, c.county_id)"
ENTER = "GREATEST(c.dropout_date, g.seg_from)"
LEAVE = "COALESCE(g.seg_to, c.struck_off_on)"
IS_LAST = "g.seg_to IS NULL"
# Whether this segment holds the case on its dropout date (it then counts the new dropout).
HOLDS_DROPOUT = (
    "((g.seg_from IS NULL OR g.seg_from <= c.dropout_date) AND (g.seg_to IS NULL OR g.seg_to > c.dropout_date))"
)


def _in_province(province_filter: bool) -> str:
    if not province_filter:
        return ""
    return f"AND {HOLDER} IN (SELECT id FROM counties_division WHERE province_id = %(province)s)"


def _in_counties(county_filter: bool) -> str:
    """Only the counties %(counties)s (an array of ids; the on-commit recompute, reports.services.touched).

    The cases they hold now are found through the case's county, those they held before a handover
    through the handovers, so the statement reads only their cases.
    """
    if not county_filter:
        return ""
    return f"""AND {HOLDER} = ANY(%(counties)s)
          AND c.id IN (
              SELECT id FROM students_dropoutcase WHERE county_id = ANY(%(counties)s)
              UNION ALL
              SELECT case_id FROM students_handover
              WHERE status = '{HandoverStatus.ACCEPTED.value}'
                AND (from_county_id = ANY(%(counties)s) OR to_county_id = ANY(%(counties)s))
          )"""


def _cases_cte(*, province_filter: bool, county_filter: bool = False) -> str:
    """Each county's hold on a case (a segment) that is open on some day of [from, to] or ends in it, with the
    case's 0/1 attributes."""
    attributes = ",\n           ".join(f"{expr} AS {name}" for name, expr in BREAKDOWNS.items())
    return f"""
    {SEGMENTS_CTE},
    cases AS (
        SELECT {HOLDER} AS county_id, {ENTER} AS enter_on, {LEAVE} AS leave_on,
               {HOLDS_DROPOUT}::int AS holds_dropout,
               ({IS_LAST} AND c.returned_on IS NOT NULL)::int AS by_return,
               ({IS_LAST} AND c.returned_on IS NULL AND c.closure_reason_id IS NOT NULL)::int AS by_closure,
               {attributes}
        FROM students_dropoutcase c
        JOIN students_student s ON s.id = c.student_id
        LEFT JOIN segments g ON g.case_id = c.id
        WHERE c.dropout_date <= %(to)s
          AND (c.struck_off_on IS NULL OR c.struck_off_on >= %(from)s)
          AND (g.seg_from IS NULL OR g.seg_from <= %(to)s)
          AND (g.seg_to IS NULL OR g.seg_to >= %(from)s)
          {_in_province(province_filter)}
          {_in_counties(county_filter)}
    )"""


def _moves_ctes() -> str:
    """`daily`: per county and day, the change in every open figure and the day's activity.

    A segment that holds the case open for no whole day (two handovers on one day, or one on the dropout
    date) moves +1 and -1 on the same day, which cancel.
    """
    plus = ", ".join(f"{name}" for name in OPEN_FIGURES)
    minus = ", ".join(f"-{name}" for name in OPEN_FIGURES)
    sums = ", ".join(f"sum({name})::int AS {name}" for name in OPEN_FIGURES)
    return f"""
    moves AS (
        SELECT county_id, GREATEST(enter_on, %(from)s::date) AS day,
               (holds_dropout = 1 AND enter_on >= %(from)s)::int AS new_count, 0 AS returned_count,
               0 AS closed_count, {plus}
        FROM cases
        UNION ALL
        SELECT county_id, leave_on, 0, by_return, by_closure, {minus}
        FROM cases
        WHERE leave_on <= %(to)s
    ),
    daily AS (
        SELECT county_id, day, sum(new_count)::int AS new_count, sum(returned_count)::int AS returned_count,
               sum(closed_count)::int AS closed_count, {sums}
        FROM moves
        GROUP BY county_id, day
    )"""


def county_rows_sql(*, province_filter: bool, county_filter: bool = False) -> str:
    """INSERT into the staging table the county rows of [from, to] for one run.

    Parameters: run, from, to, baseline (the baseline date; the range never starts before it) and,
    with `province_filter`, province; with `county_filter`, counties. Counties with nothing open and no
    activity get no row.
    Baselines come from this statement's own rows when the range starts on the baseline date, else
    from the published county rows of the baseline date (which only a range starting there changes).
    """
    running = ", ".join(f"sum({name}) OVER w AS {name}" for name in OPEN_FIGURES)
    out = []
    for name in FIGURE_COLUMNS:
        if name in ("new_count", "returned_count", "closed_count"):
            out.append(f"CASE WHEN g.i = 0 THEN r.{name} ELSE 0 END")
        elif name == "baseline_open":
            out.append("COALESCE(b.open_count, 0)")
        else:
            out.append(f"r.{name}")
    return f"""
    INSERT INTO reports_stagedtotal ({STAGED_COLUMNS})
    WITH {_cases_cte(province_filter=province_filter, county_filter=county_filter)},
    {_moves_ctes()},
    running AS (
        SELECT county_id, day, new_count, returned_count, closed_count, {running},
               LEAD(day) OVER w AS next_day
        FROM daily
        WINDOW w AS (PARTITION BY county_id ORDER BY day)
    ),
    baselines AS (
        SELECT county_id, open_count FROM running
        WHERE %(from)s = %(baseline)s AND day = %(baseline)s
        UNION ALL
        SELECT division_id, open_count FROM reports_dailytotal
        WHERE %(from)s > %(baseline)s AND level = 'county' AND day = %(baseline)s
    )
    SELECT %(run)s, 'county', r.county_id, NULL, r.day + g.i, {", ".join(out)}
    FROM running r
    CROSS JOIN LATERAL generate_series(
        0, CASE WHEN r.open_count > 0 THEN COALESCE(r.next_day, %(to)s + 1) - r.day - 1 ELSE 0 END
    ) AS g(i)
    LEFT JOIN baselines b ON b.county_id = r.county_id
    WHERE r.open_count > 0 OR r.new_count > 0 OR r.returned_count > 0 OR r.closed_count > 0
    """


def one_day_county_rows_sql(*, province_filter: bool, county_filter: bool = False) -> str:
    """INSERT into the staging table the county rows of the single day %(from)s (= %(to)s).

    The same rows as county_rows_sql for a range of one day, counted directly (a night's run), each case
    in the county holding it that day.
    """
    is_open = f"({LEAVE} IS NULL OR {LEAVE} > %(from)s)"
    counts = {
        **{name: f"COALESCE(sum({expr}) FILTER (WHERE {is_open}), 0)::int" for name, expr in BREAKDOWNS.items()},
        "new_count": "count(*) FILTER (WHERE c.dropout_date = %(from)s)::int",
        "returned_count": (
            f"count(*) FILTER (WHERE c.struck_off_on = %(from)s AND {IS_LAST} AND c.returned_on IS NOT NULL)::int"
        ),
        "closed_count": (
            f"count(*) FILTER (WHERE c.struck_off_on = %(from)s AND {IS_LAST} AND c.returned_on IS NULL "
            "AND c.closure_reason_id IS NOT NULL)::int"
        ),
    }
    out = [
        "CASE WHEN %(from)s = %(baseline)s THEN d.open_count ELSE COALESCE(b.open_count, 0) END"
        if name == "baseline_open"
        else f"d.{name}"
        for name in FIGURE_COLUMNS
    ]
    # Only the segment holding the case at the end of the day: one that ends that day holds nothing then.
    return f"""
    INSERT INTO reports_stagedtotal ({STAGED_COLUMNS})
    WITH {SEGMENTS_CTE},
    day_counts AS (
        SELECT {HOLDER} AS county_id, {", ".join(f"{expr} AS {name}" for name, expr in counts.items())}
        FROM students_dropoutcase c
        JOIN students_student s ON s.id = c.student_id
        LEFT JOIN segments g ON g.case_id = c.id
        WHERE c.dropout_date <= %(from)s
          AND (c.struck_off_on IS NULL OR c.struck_off_on >= %(from)s)
          AND (g.seg_from IS NULL OR g.seg_from <= %(from)s)
          AND (g.seg_to IS NULL OR g.seg_to > %(from)s)
          {_in_province(province_filter)}
          {_in_counties(county_filter)}
        GROUP BY 1
    )
    SELECT %(run)s, 'county', d.county_id, NULL, %(from)s::date, {", ".join(out)}
    FROM day_counts d
    LEFT JOIN reports_dailytotal b ON b.level = 'county' AND b.division_id = d.county_id AND b.day = %(baseline)s
    WHERE d.open_count > 0 OR d.new_count > 0 OR d.returned_count > 0 OR d.closed_count > 0
    """


CLEAR_STAGED_RUN = "DELETE FROM reports_stagedtotal WHERE run_id = %(run)s"


# --- Roll-ups: from the run's staged county rows of [from, to] to every other level ---------------

_ROLLED_FIGURES = [name for name in FIGURE_COLUMNS if name != "baseline_open"]
_SUMS = ", ".join(f"sum({name})::int AS {name}" for name in _ROLLED_FIGURES)
_FILLED = ", ".join(
    "COALESCE(b.baseline_open, 0)" if name == "baseline_open" else f"COALESCE(a.{name}, 0)" for name in FIGURE_COLUMNS
)
# Which grouping set a row of GROUPING SETS ((prefecture_id, day), (province_id, day), (day)) belongs to.
_ROLLED_LEVEL = (
    "CASE GROUPING(prefecture_id, province_id) WHEN 1 THEN 'prefecture' WHEN 2 THEN 'province' ELSE 'nation' END"
)
_ROLLED_AREA = "CASE GROUPING(prefecture_id, province_id) WHEN 1 THEN prefecture_id WHEN 2 THEN province_id END"

# Every roll-up of the run's staged county rows of [from, to], in one statement (one pass over them):
# - prefectures: only where the prefecture has county rows (the same rule as counties);
# - provinces and the nation: every province, every day, zeros included;
# - county groups: every group, every day, over the counties that are members on that day. A group's
#   baseline on a day is the baseline of the counties that are its members on that day, so that the
#   decrease compares the same counties.
# County baselines come from the run's own rows of the baseline date when the run starts there
# (%(range_start)s), else from the published ones.
ROLLUP_ROWS = f"""
    INSERT INTO reports_stagedtotal ({STAGED_COLUMNS})
    WITH county_baselines AS (
        SELECT division_id AS county_id, open_count FROM reports_stagedtotal
        WHERE %(range_start)s = %(baseline)s AND run_id = %(run)s AND level = 'county' AND day = %(baseline)s
        UNION ALL
        SELECT division_id, open_count FROM reports_dailytotal
        WHERE %(range_start)s > %(baseline)s AND level = 'county' AND day = %(baseline)s
          AND division_id IN (SELECT county_id FROM counties_countygroupmembership)
    ),
    area_baselines AS (
        SELECT * FROM (
            SELECT {_ROLLED_LEVEL} AS level, {_ROLLED_AREA} AS area_id, sum(cb.open_count)::int AS baseline_open
            FROM reports_stagedtotal cb JOIN counties_division d ON d.id = cb.division_id
            WHERE cb.run_id = %(run)s AND cb.level = 'county' AND cb.day = %(baseline)s
            GROUP BY GROUPING SETS ((prefecture_id), (province_id), ())
        ) own
        WHERE %(range_start)s = %(baseline)s
        UNION ALL
        SELECT level, division_id, open_count FROM reports_dailytotal
        WHERE %(range_start)s > %(baseline)s AND day = %(baseline)s AND level IN ('prefecture', 'province', 'nation')
    ),
    days AS (
        SELECT (%(from)s::date + i) AS day FROM generate_series(0, %(to)s::date - %(from)s::date) AS i
    ),
    counties AS NOT MATERIALIZED (
        SELECT s.*, d.prefecture_id, d.province_id
        FROM reports_stagedtotal s
        JOIN counties_division d ON d.id = s.division_id
        WHERE s.run_id = %(run)s AND s.level = 'county' AND s.day BETWEEN %(from)s AND %(to)s
    ),
    rolled AS MATERIALIZED (
        SELECT {_ROLLED_LEVEL} AS level, {_ROLLED_AREA} AS area_id, day, {_SUMS}
        FROM counties
        GROUP BY GROUPING SETS ((prefecture_id, day), (province_id, day), (day))
    ),
    members AS (
        SELECT DISTINCT m.group_id, m.county_id, days.day
        FROM counties_countygroupmembership m
        JOIN days ON m.valid_from <= days.day AND (m.valid_to IS NULL OR m.valid_to > days.day)
    ),
    group_sums AS (
        SELECT m.group_id, m.day, {_SUMS}
        FROM members m JOIN counties c ON c.division_id = m.county_id AND c.day = m.day
        GROUP BY m.group_id, m.day
    ),
    group_baselines AS (
        SELECT m.group_id, m.day, sum(cb.open_count)::int AS baseline_open
        FROM members m JOIN county_baselines cb ON cb.county_id = m.county_id
        GROUP BY m.group_id, m.day
    )
    SELECT %(run)s, 'prefecture', a.area_id, NULL::bigint, a.day, {_FILLED}
    FROM rolled a
    LEFT JOIN area_baselines b ON b.level = 'prefecture' AND b.area_id = a.area_id
    WHERE a.level = 'prefecture' AND a.area_id IS NOT NULL
    UNION ALL
    SELECT %(run)s, 'province', p.id, NULL::bigint, days.day, {_FILLED}
    FROM counties_division p
    CROSS JOIN days
    LEFT JOIN rolled a ON a.level = 'province' AND a.area_id = p.id AND a.day = days.day
    LEFT JOIN area_baselines b ON b.level = 'province' AND b.area_id = p.id
    WHERE p.level = 'province'
    UNION ALL
    SELECT %(run)s, 'nation', NULL::bigint, NULL::bigint, days.day, {_FILLED}
    FROM days
    LEFT JOIN rolled a ON a.level = 'nation' AND a.day = days.day
    LEFT JOIN area_baselines b ON b.level = 'nation'
    UNION ALL
    SELECT %(run)s, 'group', NULL::bigint, g.id, days.day, {_FILLED}
    FROM counties_countygroup g
    CROSS JOIN days
    LEFT JOIN group_sums a ON a.group_id = g.id AND a.day = days.day
    LEFT JOIN group_baselines b ON b.group_id = g.id AND b.day = days.day
"""


# --- Publication: make DailyTotal for [from, to] equal the run's staged rows ----------------------
# Only rows that differ are written, so re-running a night changes nothing, and readers' cached
# pages and the table's indexes are left alone where nothing moved.

_KEY_T = "t.level, t.day, COALESCE(t.division_id, t.group_id, 0)"
_KEY_S = "s.level, s.day, COALESCE(s.division_id, s.group_id, 0)"
_LEVELS = "('nation', 'province', 'prefecture', 'county', 'group')"

DELETE_VANISHED = f"""
    DELETE FROM reports_dailytotal t
    WHERE t.level IN {_LEVELS} AND t.day BETWEEN %(from)s AND %(to)s
      AND NOT EXISTS (
          SELECT 1 FROM reports_stagedtotal s
          WHERE s.run_id = %(run)s AND ({_KEY_S}) = ({_KEY_T})
      )
"""

# Inserts the staged rows the table lacks and updates those that differ; the count is of rows written.
# (The day range on the target side repeats what matching the day implies, so that the planner reads
# the table through its (level, day) index.)
MERGE_STAGED = f"""
    MERGE INTO reports_dailytotal t
    USING (
        SELECT * FROM reports_stagedtotal WHERE run_id = %(run)s AND day BETWEEN %(from)s AND %(to)s
    ) s
    ON ({_KEY_T}) = ({_KEY_S}) AND t.level IN {_LEVELS} AND t.day BETWEEN %(from)s AND %(to)s
    WHEN MATCHED AND ({", ".join(f"t.{name}" for name in FIGURE_COLUMNS)})
                     IS DISTINCT FROM ({", ".join(f"s.{name}" for name in FIGURE_COLUMNS)}) THEN
        UPDATE SET {", ".join(f"{name} = s.{name}" for name in FIGURE_COLUMNS)}
    WHEN NOT MATCHED THEN
        INSERT (level, division_id, group_id, day, {FIGURES})
        VALUES (s.level, s.division_id, s.group_id, s.day, {", ".join(f"s.{name}" for name in FIGURE_COLUMNS)})
"""

# --- Reconciliation ---------------------------------------------------------------------------------

LEVEL_SUMS = f"""
    SELECT day, level, count(*), {", ".join(f"sum({name})" for name in FIGURE_COLUMNS)}
    FROM reports_dailytotal
    WHERE level IN ('nation', 'province', 'county') AND day BETWEEN %(from)s AND %(to)s
    GROUP BY day, level
"""

LIVE_OPEN_COUNT = f"SELECT count(*) FROM students_dropoutcase WHERE status IN ({OPEN})"


# --- The plain hand-written statement -----------------------------------------------------------------------

REFERENCE_COUNTY_ROWS = f"""
    WITH {_cases_cte(province_filter=False)},
    {_moves_ctes()},
    grid AS (
        SELECT d.id AS county_id, (%(from)s::date + i) AS day
        FROM counties_division d CROSS JOIN generate_series(0, %(to)s::date - %(from)s::date) AS i
        WHERE d.level = 'county'
    ),
    series AS (
        SELECT grid.county_id, grid.day,
               COALESCE(daily.new_count, 0) AS new_count,
               COALESCE(daily.returned_count, 0) AS returned_count,
               COALESCE(daily.closed_count, 0) AS closed_count,
               {", ".join(f"sum(COALESCE(daily.{n}, 0)) OVER w AS {n}" for n in OPEN_FIGURES)}
        FROM grid LEFT JOIN daily ON daily.county_id = grid.county_id AND daily.day = grid.day
        WINDOW w AS (PARTITION BY grid.county_id ORDER BY grid.day)
    ),
    baselines AS (
        SELECT county_id, count(*) AS open_count FROM cases
        WHERE enter_on <= %(baseline)s AND (leave_on IS NULL OR leave_on > %(baseline)s)
        GROUP BY county_id
    )
    SELECT series.county_id, series.day,
           {", ".join("COALESCE(b.open_count, 0)" if n == "baseline_open" else f"series.{n}" for n in FIGURE_COLUMNS)}
    FROM series LEFT JOIN baselines b ON b.county_id = series.county_id
    WHERE series.open_count > 0 OR series.new_count > 0 OR series.returned_count > 0 OR series.closed_count > 0
"""


def reference_county_rows(from_day, to_day, baseline_day) -> list[tuple]:
    """Run the plain reference statement: (county_id, day, *FIGURE_COLUMNS) for every county-day row.

    `from_day` must be the baseline date for the baselines to be right (the cases CTE only holds
    cases open on some day of the range).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            REFERENCE_COUNTY_ROWS + " ORDER BY series.county_id, series.day",
            {"from": from_day, "to": to_day, "baseline": baseline_day},
        )
        return cursor.fetchall()
