"""Verifying the whole ledger's hash chains, against a plain sequential scan of the same rows.

The product's verification (students.ledger_chain.ledger_verify, what `manage.py verify_ledger` runs: every chain
walked, every entry's hash recomputed, every link checked, the result kept) runs in a transaction that is rolled
back, so the ledger keeps no record of the benchmark's verifications.

The yardstick with the target is a sequential scan of the same tables (case events, visits, identity changes) that
reads every value of every row without hashing it: each row through `record_send`, every column in PostgreSQL's
binary form, which is the least a verification must do before it hashes (read each value, whole, detoasted, as
bytes). `count(*)` does not read the values at all (it counts tuples on the pages), and the rows as text (`t::text`,
what `SELECT *` and COPY hand out) pay for formatting dates, times and JSON as text, which a verification need not:
both are shown without a target, with COPY of every row to this process. The scans in the database run with the
verification's own planner settings (students.ledger_chain.parallel_scan), so both sides may use as many parallel
workers as the server allows.
"""

import statistics
from functools import partial
from typing import NamedTuple

from django.db import connection, transaction

from students.ledger_chain import CHAINS, ledger_verify, parallel_scan

from .progress import checkpoint
from .results import Result, at_most
from .timing import measure


class Scan(NamedTuple):
    """A scan of the same rows in the database: its figure's name, what it computes over the rows (`t`), its title."""

    name: str
    aggregate: str
    title: str


TARGET_SCAN = Scan("values", "sum(length(record_send(t)))", "sequential scan reading every value of the same rows")
SHOWN_SCANS = (
    Scan("text", "sum(length(t::text))", "sequential scan of the same rows as text"),
    Scan("count", "count(*)", "count(*) of the same rows"),
)


class RolledBack(Exception):
    pass


class _Discard:
    """A file that COPY writes into and that keeps nothing."""

    def write(self, data) -> int:
        return len(data)


def _scan(aggregate: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        parallel_scan(cursor)
        for chain in CHAINS:
            cursor.execute(f"SELECT {aggregate} FROM {chain.table} t")
            cursor.fetchone()


def _copy() -> None:
    with connection.cursor() as cursor:
        for chain in CHAINS:
            cursor.copy_expert(f"COPY {chain.table} TO STDOUT", _Discard())


def _verify(outcome: dict) -> None:
    try:
        with transaction.atomic():
            verification, broken = ledger_verify()
            outcome.update(entries=verification.entries_checked, broken=len(broken))
            raise RolledBack
    except RolledBack:
        pass


def _medians(runs: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(times) for name, times in runs.items() if times}


def collect(options: dict) -> dict:
    repeat = int(options.get("repeat", 3))
    warmup = int(options.get("warmup", 1))
    outcome: dict = {}
    actions = {f"{scan.name}_seconds": partial(_scan, scan.aggregate) for scan in (TARGET_SCAN, *SHOWN_SCANS)}
    actions["copy_seconds"] = _copy
    actions["verify_seconds"] = partial(_verify, outcome)
    # In turn, each once a round: on a shared machine a busy moment weighs on the verification and its yardsticks
    # alike, as it would not if each were timed in a block of its own.
    print("    verify_ledger, every chain, in turn with the scans of the same rows and COPY", flush=True)
    runs: dict[str, list[float]] = {name: [] for name in actions}
    for number in range(warmup + repeat):
        for name, action in actions.items():
            timing = measure(action, repeat=1, warmup=0)
            if number >= warmup:
                runs[name] += timing.runs
        if number >= warmup:
            # A worker stopped at the time limit keeps the rounds it finished.
            checkpoint({**_medians(runs), **outcome})
    figures = {**_medians(runs), **outcome}
    for scan in (TARGET_SCAN, *SHOWN_SCANS):
        print(f"      {scan.title}: {figures[f'{scan.name}_seconds'] * 1000:.0f} ms", flush=True)
    print(f"      COPY of the same rows: {figures['copy_seconds']:.2f} s", flush=True)
    print(
        f"      verify_ledger: {figures['verify_seconds']:.2f} s, {figures['entries']:,} entries, "
        f"{figures['broken']} broken links",
        flush=True,
    )
    return figures


def results(figures: dict, *, label: str) -> list[Result]:
    if "verify_seconds" not in figures:
        raise RuntimeError(f"the verification was stopped after {figures.get('minutes')} minutes, before any run")
    metric = f"verify_ledger, every chain ({label})"
    note = f"{figures['entries']:,} entries, {figures['broken']} broken links"
    verify = figures["verify_seconds"]
    rows = [
        Result(metric, verify, "s", TARGET_SCAN.title, figures[f"{TARGET_SCAN.name}_seconds"], at_most(3), note=note)
    ]
    rows += [
        Result(metric, verify, "s", scan.title, figures[f"{scan.name}_seconds"], note="shown, no target")
        for scan in SHOWN_SCANS
    ]
    rows.append(
        Result(
            metric,
            verify,
            "s",
            "COPY of the same rows to the client",
            figures["copy_seconds"],
            note="shown, no target: every value read out of the database",
        )
    )
    return rows
