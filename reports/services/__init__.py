"""The daily totals: computing them, publishing them, checking them.

- `runs.recompute(from_day, to_day)`: recompute and publish a range (no dates: every changed day);
  what the `recompute_totals` command and the Celery tasks do.
- `sql.REFERENCE_COUNTY_ROWS` / `sql.reference_county_rows(...)`: the same county-day figures as one
  hand-written statement, the yardstick the benchmark compares a run with.
- `checks.derive_day(day)`: a day's figures re-derived from the case events, for `check_totals`.
"""
