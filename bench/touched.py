"""The on-commit recompute of one county-day, against its hand-written SQL.

The product's side is reports.services.touched.touched_recompute, run after a write on the busiest
county (the one with most open cases on the last day with totals) was recorded for that day: it
takes the waiting correction, computes the county's rows, moves the areas above it, reconciles and
records its run. The yardstick is bench.totals_sql.one_county_day: the same county-day figures and
the same moves in one statement, in a transaction that is rolled back. Nothing changed in the ledger,
so both find the published figures right; the corrections and runs the measurement records are
deleted afterwards, so the ledger stays as seeded.
"""

from django.db import connection, transaction
from django.db.models import Max

from reports.models import AreaLevel, DailyTotal, TotalsRun
from reports.services.runs import Trigger
from reports.services.touched import touched_recompute
from students.models import LedgerCorrection

from . import totals_sql
from .results import Result, at_most
from .timing import measure


class RolledBack(Exception):
    pass


def _by_hand(params: dict) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(totals_sql.one_county_day(), params)
            raise RolledBack
    except RolledBack:
        pass


def collect(repeat: int, warmup: int) -> dict:
    day = DailyTotal.objects.filter(level=AreaLevel.NATION).aggregate(day=Max("day"))["day"]
    busiest = (
        DailyTotal.objects.filter(level=AreaLevel.COUNTY, day=day)
        .order_by("-open_count", "division_id")
        .values("division_id")
        .first()
    )
    county = busiest["division_id"]
    figures = {"touched_day": day.isoformat(), "touched_county": county}

    print(f"    one county-day (county {county}, {day}): hand-written statement", flush=True)
    timing = measure(lambda: _by_hand({"county": county, "day": day}), repeat=repeat, warmup=warmup)
    figures["touched_sql_seconds"] = timing.median
    print(f"      {timing.median * 1000:.1f} ms", flush=True)

    print("    one county-day: on-commit recompute", flush=True)
    first_run = TotalsRun.objects.aggregate(last=Max("pk"))["last"] or 0
    first_correction = LedgerCorrection.objects.aggregate(last=Max("pk"))["last"] or 0
    try:
        timing = measure(
            touched_recompute,
            repeat=repeat,
            warmup=warmup,
            before_each=lambda: LedgerCorrection.objects.create(county_id=county, first_day=day),
        )
        runs = TotalsRun.objects.filter(pk__gt=first_run, trigger=Trigger.WRITE)
        figures["touched_rows_written"] = sum(runs.values_list("rows_written", flat=True))
    finally:
        TotalsRun.objects.filter(pk__gt=first_run, trigger=Trigger.WRITE).delete()
        LedgerCorrection.objects.filter(pk__gt=first_correction).delete()
    figures["touched_seconds"] = timing.median
    print(f"      {timing.median * 1000:.1f} ms", flush=True)
    return figures


def results(figures: dict, *, label: str) -> list[Result]:
    if "touched_seconds" not in figures:
        return []
    return [
        Result(
            f"totals, on-commit recompute of one county-day ({label})",
            figures["touched_seconds"] * 1000,
            "ms",
            "its hand-written SQL statement",
            figures["touched_sql_seconds"] * 1000,
            at_most(2),
            note=(
                f"county {figures['touched_county']} (most open cases), {figures['touched_day']}; "
                f"{figures['touched_rows_written']} rows changed (the ledger did not change)"
            ),
        )
    ]
