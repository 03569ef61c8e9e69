"""The benchmark's entry point: build (or reuse) the two ledgers, run every measurement, print and save.

Each ledger is a database of its own, derived from DATABASE_URL. Measurements run in worker processes
bound to one ledger each (`bench.worker`); this process pairs their figures into results.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import databases
from .results import Result, format_table, write_json

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
GROUP_ORDER = ["pages", "totals", "import", "visits", "verify", "rosters", "load"]


@dataclass(frozen=True)
class Scale:
    """How big the ledgers are and how long each measurement runs."""

    name: str
    large_cases: int
    small_cases: int
    page_rounds: int
    page_warmup: int
    page_repeat: int
    totals_repeat: int
    backfill_repeat: int
    import_rows: int
    import_repeat: int
    load_seconds: float
    minutes_per_group: float
    load_clients: int = 32
    # Recording visits: rounds of the minimal insert and the real view, alternating, the median of each kept.
    load_rounds: int = 3
    verify_repeat: int = 3
    # The mixed load and soak (bench/soak.py): how long, how many simulated people.
    soak_seconds: int = 600
    soak_users: int = 200
    # The roster comparison (bench/rosters.py): children of the generated county.
    roster_children: int = 100_000


SCALES = {
    "full": Scale(
        "full",
        large_cases=600_000,
        small_cases=6_000,
        page_rounds=3,
        page_warmup=3,
        page_repeat=7,
        totals_repeat=5,
        backfill_repeat=3,
        import_rows=100_000,
        import_repeat=3,
        load_seconds=20.0,
        minutes_per_group=60,
    ),
    "small": Scale(
        "small",
        large_cases=20_000,
        small_cases=6_000,
        page_rounds=2,
        page_warmup=2,
        page_repeat=5,
        totals_repeat=3,
        backfill_repeat=1,
        import_rows=10_000,
        import_repeat=2,
        load_seconds=8.0,
        load_rounds=1,
        minutes_per_group=15,
        soak_seconds=60,
        soak_users=40,
        roster_children=10_000,
    ),
}


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _load() -> str:
    """The machine's load averages: figures taken on a busy machine are noisy, and this says so."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def say(message: str) -> None:
    print(message, flush=True)


def run_worker(ledger: databases.Ledger, group: str, options: dict, *, minutes: float) -> dict:
    """Run one measurement group in a process bound to the ledger's database; its raw figures.

    A worker still running after `minutes` is stopped, with the statements it left running.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    try:
        command = [
            sys.executable,
            "-m",
            "bench.worker",
            group,
            "--out",
            str(out),
            "--options",
            json.dumps({**options, "label": ledger.label, "cases": ledger.cases}),
        ]
        # Its own process group: on a timeout, whatever it started (gunicorn) is stopped with it.
        worker = subprocess.Popen(
            command, cwd=databases.PROJECT_DIR, env=databases.process_env(ledger.url), start_new_session=True
        )
        try:
            returncode = worker.wait(timeout=minutes * 60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            databases.cancel_statements(ledger.url)
            databases.fail_unfinished_runs(ledger.url)
            partial = out.read_text(encoding="utf-8") if out.exists() else ""
            if partial:
                # The figures taken before the limit, and when the worker was stopped.
                return {**json.loads(partial), "stopped_at": time.time(), "minutes": minutes}
            raise RuntimeError(
                f"the {group} measurement on the {ledger.label} ledger did not finish within {minutes:g} minutes"
            ) from None
        except KeyboardInterrupt:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait()
            raise
        if returncode != 0:
            raise RuntimeError(f"the {group} measurement on the {ledger.label} ledger failed")
        return json.loads(out.read_text(encoding="utf-8"))
    finally:
        out.unlink(missing_ok=True)


def measure_group(group: str, scale: Scale, large: databases.Ledger, small: databases.Ledger) -> list[Result]:
    if group == "pages":
        from . import pages

        # Rounds alternate between the ledgers, so a busy moment on the machine weighs on both alike.
        options = {"warmup": scale.page_warmup, "repeat": scale.page_repeat}
        rounds: dict[str, list[dict]] = {large.label: [], small.label: []}
        for number in range(1, scale.page_rounds + 1):
            for ledger in (large, small):
                say(f"measuring pages on the {ledger.label} ledger (round {number} of {scale.page_rounds})")
                rounds[ledger.label].append(run_worker(ledger, "pages", options, minutes=scale.minutes_per_group))
        return pages.results(
            pages.merge(rounds[large.label]),
            pages.merge(rounds[small.label]),
            large_label=large.label,
            small_label=small.label,
        )
    if group == "totals":
        from . import totals

        say(f"measuring the totals on the {large.label} ledger")
        figures = run_worker(
            large,
            "totals",
            {"repeat": scale.totals_repeat, "backfill_repeat": scale.backfill_repeat},
            minutes=scale.minutes_per_group,
        )
        return totals.results(figures, label=large.label)
    if group == "import":
        from . import importing

        say(f"measuring the import on the {large.label} ledger")
        figures = run_worker(
            large, "import", {"rows": scale.import_rows, "repeat": scale.import_repeat}, minutes=scale.minutes_per_group
        )
        return importing.results(figures)
    if group == "visits":
        from . import visits

        say(f"measuring concurrent visit recording on the {large.label} ledger")
        figures = run_worker(
            large,
            "visits",
            {"seconds": scale.load_seconds, "clients": scale.load_clients, "rounds": scale.load_rounds},
            minutes=scale.minutes_per_group,
        )
        return visits.results(figures)
    if group == "verify":
        from . import verification

        say(f"measuring verify_ledger on the {large.label} ledger")
        figures = run_worker(large, "verify", {"repeat": scale.verify_repeat}, minutes=scale.minutes_per_group)
        return verification.results(figures, label=large.label)
    if group == "rosters":
        from . import rosters

        say(f"measuring the roster comparison on the {large.label} ledger")
        figures = run_worker(
            large,
            "rosters",
            {"children": scale.roster_children, "repeat": scale.import_repeat},
            minutes=scale.minutes_per_group,
        )
        return rosters.results(figures)
    if group == "load":
        from . import soak

        say(f"mixed load and soak on the {large.label} ledger for {scale.soak_seconds / 60:g} minutes")
        figures = run_worker(
            large,
            "load",
            {"seconds": scale.soak_seconds, "users": scale.soak_users, "import_rows": scale.import_rows},
            minutes=scale.minutes_per_group + scale.soak_seconds / 60,
        )
        return soak.results(figures)
    raise ValueError(group)


def seeding_results(ledgers: list[databases.Ledger]) -> list[Result]:
    """Seeding time, for the record (no target: the issue asks for minutes, not hours)."""
    rows = []
    for ledger in ledgers:
        if ledger.seed_seconds is None:
            continue
        rows.append(
            Result(
                metric=f"seed_demo --cases {ledger.cases} ({ledger.label})",
                value=ledger.seed_seconds,
                unit="s",
                baseline="-",
                baseline_value=0.0,
                note="reused from an earlier run" if ledger.reused else "",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Measure the ledger at national scale.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full", help="full: 600,000 cases; small: 20,000")
    parser.add_argument("--rebuild", action="store_true", help="seed the ledgers again even if they are ready")
    parser.add_argument("--seed", type=int, default=2019, help="random seed for seed_demo (default 2019)")
    parser.add_argument("--only", action="append", choices=GROUP_ORDER, help="run only these measurement groups")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the results JSON")
    args = parser.parse_args(argv)
    # Stopped from outside (make's devstack on exit): unwind, so the workers are stopped too.
    signal.signal(signal.SIGTERM, _interrupt)

    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        parser.error("DATABASE_URL must name the project's database; the benchmark databases are derived from it")
    scale = SCALES[args.scale]
    # Results are built from Django's models' vocabulary; this process itself never queries.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", databases.SETTINGS)
    import django

    django.setup()
    started = time.perf_counter()
    large = databases.Ledger(
        f"{databases.size_label(scale.large_cases)}",
        scale.large_cases,
        args.seed,
        databases.bench_url(base_url, scale.large_cases),
    )
    small = databases.Ledger(
        f"{databases.size_label(scale.small_cases)}",
        scale.small_cases,
        args.seed,
        databases.bench_url(base_url, scale.small_cases),
    )
    say(f"preparing the ledgers ({args.scale} scale); load average {_load()}")
    for ledger in (large, small):
        databases.prepare(ledger, rebuild=args.rebuild, say=say)

    results = seeding_results([large, small])
    failures = []
    for group in args.only or GROUP_ORDER:
        try:
            results += measure_group(group, scale, large, small)
        except Exception as error:  # one failed group must not lose the others' figures
            failures.append(f"{group}: {error}")
            say(f"!! {group} failed: {error}")
    write_json(results, args.output)
    say("")
    say(format_table(results))
    say("")
    say(f"results written to {args.output} in {time.perf_counter() - started:.0f} s; load average {_load()}")
    for failure in failures:
        say(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
