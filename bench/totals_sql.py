"""The hand-written baselines for the totals: one SQL statement each, computing the same figures.

Both statements write what a totals run writes: county and prefecture rows for days with an open case
or any activity, province and nation rows, and county-group rows (membership as of each day), each with
every figure of a DailyTotal and the area's baseline open count. The benchmark writes them into a
temporary table (the yardstick is the computation, not the stored table's upkeep); the tests write
them into the stored table, to compare them with what a run stores.

A case handed over between counties counts in the county that held it each day: CASES gives one row per
county that held it (a case never handed over is one row), with the days it held it open [held_from,
held_until), whether that county counts the new dropout and whether it is the last to hold it (the one
that counts the strike-off). A handover of a case already struck off (dated after the strike-off, or on
its day and decided after it was recorded) gives the receiving county no row: the child counted nowhere
by then, and the old county's row stays as if the case had never moved.
"""

from reports.models import FIGURE_COLUMNS, REASON_COLUMNS

# The figures broken down among open cases: column name -> condition on a case row `c`.
BREAKDOWN = {
    "open_male": "c.gender = 'M'",
    "open_female": "c.gender = 'F'",
    "open_primary": "c.grade <= 6",
    "open_junior": "c.grade >= 7",
    "open_poor": "c.registered_poor",
    "open_left_behind": "c.left_behind <> ''",
    "open_disabled": "c.disability <> ''",
    **{column: f"c.reason = '{reason}'" for reason, column in REASON_COLUMNS.items()},
}
ACTIVITY = ("new_count", "returned_count", "closed_count")
OPEN_FIGURES = ("open_count", *BREAKDOWN)

CASES = """
    WITH handovers AS (
        SELECT accepted.*,
               row_number() OVER w AS n, lead(handed_over_on) OVER w AS next_on,
               coalesce(lead(after_strike) OVER w, false) AS next_after_strike
        FROM (
            SELECT h.id, h.case_id, h.from_county_id, h.to_county_id, h.handed_over_on,
                   coalesce(
                       h.handed_over_on > c.struck_off_on
                       OR h.handed_over_on = c.struck_off_on AND EXISTS (
                           SELECT 1 FROM students_caseevent e
                           WHERE e.case_id = h.case_id AND e.effective_date = c.struck_off_on
                             AND e.from_status IN ('dropped_out', 'persuading')
                             AND e.to_status NOT IN ('dropped_out', 'persuading')
                             AND e.recorded_at < h.decided_at
                       ),
                       false
                   ) AS after_strike
            FROM students_handover h JOIN students_dropoutcase c ON c.id = h.case_id
            WHERE h.status = 'accepted'
        ) accepted
        WINDOW w AS (PARTITION BY case_id ORDER BY handed_over_on, id)
    )
    SELECT coalesce(h.county_id, dc.county_id) AS county_id,
           greatest(dc.dropout_date, h.seg_from) AS held_from,
           coalesce(h.seg_to, dc.struck_off_on) AS held_until,
           (h.seg_from IS NULL OR h.seg_from <= dc.dropout_date)
               AND (h.seg_to IS NULL OR h.seg_to > dc.dropout_date) AS holds_dropout,
           h.seg_to IS NULL AS holds_last,
           dc.dropout_date, dc.struck_off_on, dc.returned_on, dc.grade, dc.reason,
           s.gender, s.registered_poor, s.left_behind, s.disability
    FROM students_dropoutcase dc JOIN students_student s ON s.id = dc.student_id
    LEFT JOIN (
        -- Each accepted handover ends the giving county's hold (the first one's) and starts the receiving one's;
        -- but a handover of a case already struck off (after_strike) starts nothing and ends nothing.
        SELECT case_id, from_county_id AS county_id, NULL::date AS seg_from,
               CASE WHEN after_strike THEN NULL ELSE handed_over_on END AS seg_to
        FROM handovers WHERE n = 1
        UNION ALL
        SELECT case_id, to_county_id, handed_over_on, CASE WHEN next_after_strike THEN NULL ELSE next_on END
        FROM handovers WHERE NOT after_strike
    ) h ON h.case_id = dc.id
"""

# A county's hold on a case that touches [baseline, last]: open on one of its days, or struck off in it. A hold
# handed on before it held the case open a whole day of the range is left out (it would move +1 and -1 on one day).
HELD_IN_RANGE = (
    "held_from <= %(last)s AND (held_until IS NULL OR held_until > greatest(held_from, %(baseline)s) "
    "OR holds_last AND held_until >= %(baseline)s)"
)

MEMBER_ON_DAY = "m.valid_from <= {day} AND (m.valid_to IS NULL OR m.valid_to > {day})"


def _sum(columns, prefix: str = "") -> str:
    return ", ".join(f"sum({prefix}{column}) AS {column}" for column in columns)


def _rollup_and_insert(target: str) -> str:
    """The statement's tail: from `county_rows` and `base` (county baselines) to every level's rows."""
    figures = [column for column in FIGURE_COLUMNS if column != "baseline_open"]
    level = (
        "CASE GROUPING(county_id, prefecture_id, province_id) "
        "WHEN 0 THEN 'county' WHEN 4 THEN 'prefecture' WHEN 6 THEN 'province' ELSE 'nation' END"
    )
    division = (
        "CASE GROUPING(county_id, prefecture_id, province_id) "
        "WHEN 0 THEN county_id WHEN 4 THEN prefecture_id WHEN 6 THEN province_id END"
    )
    sets = "(day, county_id, prefecture_id, province_id), (day, prefecture_id, province_id), (day, province_id), (day)"
    base_sets = "(county_id, prefecture_id, province_id), (prefecture_id, province_id), (province_id), ()"
    columns = ", ".join(figures)
    return f"""
    , placed AS (
        SELECT r.*, dv.prefecture_id, dv.province_id
        FROM county_rows r JOIN counties_division dv ON dv.id = r.county_id
    ), rolled AS (
        SELECT day, {level} AS level, {division} AS division_id, {_sum(figures)}
        FROM placed GROUP BY GROUPING SETS ({sets})
    ), base_placed AS (
        SELECT b.county_id, b.open_count, dv.prefecture_id, dv.province_id
        FROM base b JOIN counties_division dv ON dv.id = b.county_id
    ), base_rolled AS (
        SELECT {level} AS level, {division} AS division_id, sum(open_count) AS baseline_open
        FROM base_placed GROUP BY GROUPING SETS ({base_sets})
    ), grouped AS (
        SELECT p.day, m.group_id, {_sum(figures, "p.")}
        FROM placed p JOIN counties_countygroupmembership m
          ON m.county_id = p.county_id AND {MEMBER_ON_DAY.format(day="p.day")}
        GROUP BY m.group_id, p.day
    )
    INSERT INTO {target} (day, level, division_id, group_id, baseline_open, {columns})
    SELECT r.day, r.level, r.division_id, NULL, coalesce(b.baseline_open, 0), {", ".join(f"r.{c}" for c in figures)}
    FROM rolled r LEFT JOIN base_rolled b
      ON b.level = r.level AND coalesce(b.division_id, 0) = coalesce(r.division_id, 0)
    WHERE NOT (r.level = 'prefecture' AND r.division_id IS NULL)
    UNION ALL
    SELECT g.day, 'group', NULL, g.group_id,
           coalesce((SELECT sum(b.open_count) FROM base b JOIN counties_countygroupmembership m
                     ON m.county_id = b.county_id
                     WHERE m.group_id = g.group_id AND {MEMBER_ON_DAY.format(day="g.day")}), 0),
           {", ".join(f"g.{c}" for c in figures)}
    FROM grouped g
    """


def one_night(target: str = "reports_dailytotal") -> str:
    """One day's totals (%(day)s), the baselines read from the stored rows of %(baseline)s."""
    breakdown = ", ".join(
        f"count(*) FILTER (WHERE c.is_open AND {condition}) AS {column}" for column, condition in BREAKDOWN.items()
    )
    return f"""
    WITH c AS (
        SELECT cases.*,
               (held_until IS NULL OR held_until > %(day)s) AS is_open
        FROM ({CASES}) cases
        WHERE held_from <= %(day)s
          AND (held_until IS NULL OR held_until > %(day)s OR holds_last AND held_until = %(day)s)
    ), county_rows AS (
        SELECT %(day)s::date AS day, c.county_id,
               count(*) FILTER (WHERE c.is_open) AS open_count,
               count(*) FILTER (WHERE c.holds_dropout AND c.dropout_date = %(day)s) AS new_count,
               count(*) FILTER (WHERE c.holds_last AND c.returned_on = %(day)s) AS returned_count,
               count(*) FILTER (
                   WHERE c.holds_last AND c.struck_off_on = %(day)s AND c.returned_on IS NULL
               ) AS closed_count,
               {breakdown}
        FROM c GROUP BY c.county_id
    ), base AS (
        SELECT division_id AS county_id, open_count FROM reports_dailytotal
        WHERE level = 'county' AND day = %(baseline)s
    )
    {_rollup_and_insert(target)}
    """


def full_history(target: str = "reports_dailytotal") -> str:
    """Every day from %(baseline)s to %(last)s: running sums over each county's daily changes."""
    delta = ", ".join(
        f"CASE WHEN {condition} THEN c.delta ELSE 0 END AS {column}" for column, condition in BREAKDOWN.items()
    )
    running = ", ".join(f"sum({column}) OVER w AS {column}" for column in OPEN_FIGURES)
    activity_on_first_day = ", ".join(
        f"CASE WHEN g.day = r.day THEN r.{column} ELSE 0 END AS {column}" for column in ACTIVITY
    )
    return f"""
    WITH changes AS (
        -- +1 on the day a county starts holding a case open (before the baseline: on the baseline), -1 when it
        -- stops (the case is handed on or struck off).
        SELECT county_id, greatest(held_from, %(baseline)s) AS day, 1 AS delta,
               (holds_dropout AND dropout_date >= %(baseline)s)::int AS new_count, 0 AS returned_count,
               0 AS closed_count, grade, reason, gender, registered_poor, left_behind, disability
        FROM ({CASES}) cases
        WHERE {HELD_IN_RANGE}
        UNION ALL
        SELECT county_id, held_until, -1, 0,
               (holds_last AND returned_on IS NOT NULL AND returned_on = struck_off_on)::int,
               (holds_last AND returned_on IS NULL)::int,
               grade, reason, gender, registered_poor, left_behind, disability
        FROM ({CASES}) cases
        WHERE {HELD_IN_RANGE} AND held_until <= %(last)s
    ), daily AS (
        SELECT c.county_id, c.day, sum(c.delta) AS open_count, {_sum(BREAKDOWN)},
               {_sum(ACTIVITY)}
        FROM (SELECT c.*, {delta} FROM changes c) c
        GROUP BY c.county_id, c.day
    ), running AS (
        SELECT county_id, day, lead(day, 1, %(last)s::date + 1) OVER w AS next_day, {running},
               {", ".join(ACTIVITY)}
        FROM daily WINDOW w AS (PARTITION BY county_id ORDER BY day)
    ), county_rows AS (
        -- Each change day, and the days after it up to the next change while the county has open cases.
        SELECT g.day::date AS day, r.county_id, {", ".join(f"r.{c}" for c in OPEN_FIGURES)}, {activity_on_first_day}
        FROM running r CROSS JOIN LATERAL generate_series(
            r.day, CASE WHEN r.open_count > 0 THEN r.next_day - 1 ELSE r.day END, interval '1 day'
        ) AS g(day)
    ), base AS (
        SELECT county_id, open_count FROM county_rows WHERE day = %(baseline)s
    )
    {_rollup_and_insert(target)}
    """


SCRATCH = "bench_dailytotal"


def create_scratch(cursor) -> None:
    """A temporary table shaped like the stored totals (without their id and indexes), dropped at commit.

    JIT compilation is turned off for the transaction: the planner's row estimates for these CTEs are
    far too high, so PostgreSQL would spend longer compiling the statement than running it.
    """
    cursor.execute("SET LOCAL jit = off")
    columns = ", ".join(["day", "level", "division_id", "group_id", *FIGURE_COLUMNS])
    cursor.execute(
        f"CREATE TEMPORARY TABLE {SCRATCH} ON COMMIT DROP AS SELECT {columns} FROM reports_dailytotal WITH NO DATA"
    )


def run(cursor, statement: str, params: dict, *, first_day, last_day) -> int:
    """Replace the days' stored rows with the statement's (inside the caller's transaction); the rows written."""
    cursor.execute("DELETE FROM reports_dailytotal WHERE day BETWEEN %s AND %s", [first_day, last_day])
    cursor.execute(statement, params)
    return cursor.rowcount


def one_county_day() -> str:
    """The figures of one county (%(county)s) on one day (%(day)s), and every area above it moved to match.

    What the on-commit recompute does for a write on that county-day, by hand: the county's figures from the
    cases it holds or held (its own, and those handed over to or from it), the difference from its published
    row moved onto its prefecture, province, the nation and its groups of that day, then its row replaced.
    """
    figures = [column for column in FIGURE_COLUMNS if column != "baseline_open"]
    breakdown = ", ".join(
        f"count(*) FILTER (WHERE c.is_open AND {condition}) AS {column}" for column, condition in BREAKDOWN.items()
    )
    diff = ", ".join(f"coalesce(n.{c}, 0) - coalesce(o.{c}, 0) AS {c}" for c in figures)
    return f"""
    WITH c AS (
        SELECT cases.*, (held_until IS NULL OR held_until > %(day)s) AS is_open
        FROM ({CASES}
              WHERE dc.id IN (SELECT id FROM students_dropoutcase WHERE county_id = %(county)s
                              UNION SELECT case_id FROM students_handover
                              WHERE status = 'accepted' AND %(county)s IN (from_county_id, to_county_id))) cases
        WHERE county_id = %(county)s AND held_from <= %(day)s
          AND (held_until IS NULL OR held_until > %(day)s OR holds_last AND held_until = %(day)s)
    ), n AS (
        SELECT count(*) FILTER (WHERE c.is_open) AS open_count,
               count(*) FILTER (WHERE c.holds_dropout AND c.dropout_date = %(day)s) AS new_count,
               count(*) FILTER (WHERE c.holds_last AND c.returned_on = %(day)s) AS returned_count,
               count(*) FILTER (
                   WHERE c.holds_last AND c.struck_off_on = %(day)s AND c.returned_on IS NULL
               ) AS closed_count,
               {breakdown}
        FROM c
    ), o AS (
        SELECT * FROM reports_dailytotal WHERE level = 'county' AND division_id = %(county)s AND day = %(day)s
    ), d AS (
        SELECT {diff} FROM n LEFT JOIN o ON true
    ), areas AS (
        SELECT id FROM reports_dailytotal t
        WHERE t.day = %(day)s AND (
            t.level IN ('prefecture', 'province') AND t.division_id IN (
                SELECT prefecture_id FROM counties_division WHERE id = %(county)s
                UNION ALL SELECT province_id FROM counties_division WHERE id = %(county)s)
            OR t.level = 'nation'
            OR t.level = 'group' AND t.group_id IN (
                SELECT m.group_id FROM counties_countygroupmembership m
                WHERE m.county_id = %(county)s AND {MEMBER_ON_DAY.format(day="%(day)s")}))
    ), moved AS (
        UPDATE reports_dailytotal t SET {", ".join(f"{c} = t.{c} + d.{c}" for c in figures)}
        FROM d WHERE t.id IN (SELECT id FROM areas) AND ({" OR ".join(f"d.{c} <> 0" for c in figures)})
        RETURNING 1
    )
    UPDATE reports_dailytotal t SET {", ".join(f"{c} = n.{c}" for c in figures)}
    FROM n WHERE t.level = 'county' AND t.division_id = %(county)s AND t.day = %(day)s
    """
