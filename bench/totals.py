"""One night's totals recompute, the on-commit recompute of one county-day (bench.touched) and the
full-history backfill, against one hand-written SQL statement each.

The product's runs go through reports.services.runs.recompute (compute, stage, reconcile, publish);
the yardsticks are the statements in bench.totals_sql, computing the same figures for the same days
into a temporary table, in a transaction that is rolled back.
"""

import datetime
import time

from django.db import connection, transaction

from reports.models import AreaLevel, DailyTotal
from reports.services.runs import recompute
from reports.services.totals import baseline_date, today

from . import totals_sql, touched
from .progress import checkpoint
from .results import Result, at_most
from .timing import measure


class RolledBack(Exception):
    pass


def _statement(statement: str, params: dict) -> dict[datetime.date, int]:
    """Run a yardstick statement, undo it; the national open count it computed for each day."""
    nation: dict[datetime.date, int] = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            totals_sql.create_scratch(cursor)
            cursor.execute(statement, params)
            cursor.execute(
                f"SELECT day, open_count FROM {totals_sql.SCRATCH} WHERE level = %s", [AreaLevel.NATION.value]
            )
            nation.update(cursor.fetchall())
            raise RolledBack
    except RolledBack:
        pass
    return nation


def _disagreements(computed: dict[datetime.date, int], first: datetime.date, last: datetime.date) -> list[str]:
    stored = dict(
        DailyTotal.objects.filter(level=AreaLevel.NATION, day__range=(first, last)).values_list("day", "open_count")
    )
    return [
        f"{day}: stored {stored.get(day)}, statement {computed.get(day)}"
        for day in sorted(set(stored) | set(computed))
        if stored.get(day, 0) != computed.get(day, 0)
    ]


def collect(options: dict) -> dict:
    """The yardsticks first, then the product's runs, saving each figure as it is taken."""
    repeat = int(options.get("repeat", 5))
    backfill_repeat = int(options.get("backfill_repeat", 3))
    warmup = int(options.get("warmup", 1))
    baseline, last = baseline_date(), today()
    night = last - datetime.timedelta(days=1)
    days = (last - baseline).days + 1
    figures = {"night": night.isoformat(), "baseline": baseline.isoformat(), "last": last.isoformat()}

    print(f"    one night ({night}): hand-written statement", flush=True)
    statement, outcome = totals_sql.one_night(totals_sql.SCRATCH), {}
    params = {"day": night, "baseline": baseline}
    timing = measure(lambda: outcome.update(_statement(statement, params)), repeat=repeat, warmup=warmup)
    figures["night_sql_seconds"] = timing.median
    figures["night_disagreements"] = _disagreements(outcome, night, night)
    print(f"      {timing.median * 1000:.0f} ms", flush=True)
    print(f"    full history ({baseline} to {last}, {days:,} days): hand-written statement", flush=True)
    statement, outcome = totals_sql.full_history(totals_sql.SCRATCH), {}
    params = {"baseline": baseline, "last": last}
    timing = measure(lambda: outcome.update(_statement(statement, params)), repeat=backfill_repeat, warmup=warmup)
    figures["backfill_sql_seconds"] = timing.median
    figures["backfill_disagreements"] = _disagreements(outcome, baseline, last)
    print(f"      {timing.median:.1f} s", flush=True)
    checkpoint(figures)

    print(f"    one night ({night}): recompute", flush=True)
    timing = measure(lambda: recompute(night, night), repeat=repeat, warmup=warmup)
    figures["night_seconds"] = timing.median
    print(f"      {timing.median * 1000:.0f} ms", flush=True)
    checkpoint(figures)
    figures.update(touched.collect(repeat=repeat, warmup=warmup))
    figures["backfill_started_at"] = time.time()
    checkpoint(figures)
    print("    full history: recompute", flush=True)
    timing = measure(lambda: recompute(baseline, last), repeat=backfill_repeat, warmup=warmup)
    figures["backfill_seconds"] = timing.median
    print(f"      {timing.median:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE reports_dailytotal")
    return figures


def _agreement(disagreements: list[str]) -> str:
    if not disagreements:
        return "national open counts agree with the stored totals"
    return f"{len(disagreements)} days disagree with the stored totals, e.g. {disagreements[0]}"


def results(figures: dict, *, label: str) -> list[Result]:
    if "night_seconds" not in figures:
        raise RuntimeError(f"the totals measurement was stopped after {figures.get('minutes')} minutes, before any run")
    backfill_note = f"{figures['baseline']} to {figures['last']}; {_agreement(figures['backfill_disagreements'])}"
    if "backfill_seconds" in figures:
        backfill = figures["backfill_seconds"]
    else:
        # Stopped at the time limit: the runs took at least as long as they had been going.
        backfill = figures["stopped_at"] - figures["backfill_started_at"]
        backfill_note = (
            f"stopped at the {figures['minutes']:g}-minute limit before a run finished: the figure is a lower bound; "
            + backfill_note
        )
    return [
        Result(
            f"totals, one night ({label})",
            figures["night_seconds"] * 1000,
            "ms",
            "one hand-written SQL statement",
            figures["night_sql_seconds"] * 1000,
            at_most(1.5),
            note=f"{figures['night']}; {_agreement(figures['night_disagreements'])}",
        ),
        *touched.results(figures, label=label),
        Result(
            f"totals, full-history backfill ({label})",
            backfill,
            "s",
            "one hand-written SQL statement",
            figures["backfill_sql_seconds"],
            at_most(1.5),
            note=backfill_note,
        ),
    ]
