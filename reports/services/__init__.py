"""The daily totals: computing them, publishing them, checking them.

- `runs.recompute(from_day, to_day)`: recompute and publish a range (no dates: every changed day);
  what the `recompute_totals` command and the Celery tasks do.
- `sql.REFERENCE_COUNTY_ROWS` / `sql.reference_county_rows(...)`: the same county-day figures as one
  plain hand-written statement (a county x day grid with a window sum), to check or time a run against.
- `checks.derive_day(day)`: a day's figures re-derived from the case events, for `check_totals`.
"""
