"""The benchmark's own databases: named after the project's database, created, migrated and seeded once.

Each ledger lives in a database of its own, e.g. `ledger_bench_600k` beside `ledger`. A seeded database
carries a marker (a comment on the database) saying how many cases and which seed it holds, so a second
run reuses it instead of seeding 600,000 cases again.
"""

import json
import os
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

PROJECT_DIR = Path(__file__).resolve().parent.parent
SETTINGS = "bench.settings"
MARKER_VERSION = 1


def size_label(cases: int) -> str:
    """600000 -> "600k", 6000 -> "6k", 1500 -> "1500"."""
    return f"{cases // 1000}k" if cases % 1000 == 0 else str(cases)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def bench_url(base_url: str, cases: int) -> str:
    """The URL of the benchmark database holding `cases` cases, derived from the project's database URL."""
    name = database_name(base_url)
    if not name.endswith("_bench"):
        name += "_bench"
    return with_database(base_url, f"{name}_{size_label(cases)}")


def _connect(url: str):
    parts = urlsplit(url)
    connection = psycopg2.connect(
        dbname=database_name(url),
        user=parts.username or None,
        password=parts.password or None,
        host=parts.hostname or None,
        port=parts.port or None,
    )
    connection.autocommit = True
    return connection


def _maintenance(url: str):
    return _connect(with_database(url, "postgres"))


def database_exists(url: str) -> bool:
    with closing(_maintenance(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)])
        return cursor.fetchone() is not None


def create_database(url: str, *, drop_first: bool = False) -> None:
    name = sql.Identifier(database_name(url))
    connection = _maintenance(url)
    try:
        with connection.cursor() as cursor:
            if drop_first:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    finally:
        connection.close()


def read_marker(url: str) -> dict | None:
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
            )
            (comment,) = cursor.fetchone()
    finally:
        connection.close()
    try:
        marker = json.loads(comment or "")
    except ValueError:
        return None
    return marker if isinstance(marker, dict) else None


def write_marker(url: str, marker: dict) -> None:
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(database_name(url)), sql.Literal(json.dumps(marker, sort_keys=True))
                )
            )
    finally:
        connection.close()


def count_cases(url: str) -> int:
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('students_dropoutcase') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute("SELECT count(*) FROM students_dropoutcase")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def cancel_statements(url: str) -> int:
    """Cancel the statements still running in a benchmark database (left behind by a stopped worker)."""
    with closing(_maintenance(url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database_name(url)],
        )
        return cursor.fetchone()[0]


def fail_unfinished_runs(url: str) -> int:
    """Record totals runs left running by a stopped worker as failed, as the product does for dead runs."""
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE reports_totalsrun SET status = 'failed', finished_at = now(), "
                "error = 'Stopped by the benchmark at its time limit.' WHERE status IN ('queued', 'running')"
            )
            return cursor.rowcount
    finally:
        connection.close()


def analyse(url: str) -> None:
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()


def marker_matches(marker: dict | None, *, cases: int, seed: int) -> bool:
    """Whether a database's marker says it was fully seeded (totals included) with these cases and seed."""
    return bool(
        marker
        and marker.get("version") == MARKER_VERSION
        and marker.get("cases") == cases
        and marker.get("seed") == seed
        and marker.get("complete") is True
    )


def process_env(url: str) -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_manage(url: str, *args: str, prefix: str = "") -> float:
    """Run a management command against the database at `url`, its output shown as it goes; the seconds taken."""
    command = [sys.executable, str(PROJECT_DIR / "manage.py"), *args]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=process_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert process.stdout is not None
    for line in process.stdout:
        print(f"{prefix}{line.rstrip()}", flush=True)
    if process.wait() != 0:
        raise RuntimeError(f"`manage.py {' '.join(args)}` failed with exit code {process.returncode}")
    return time.perf_counter() - started


@dataclass
class Ledger:
    """One benchmark ledger: its size, seed and database, and how long building it took."""

    label: str
    cases: int
    seed: int
    url: str
    seed_seconds: float | None = None
    totals_seconds: float | None = None
    reused: bool = False

    @property
    def name(self) -> str:
        return database_name(self.url)


def seeded_only(marker: dict | None, *, cases: int, seed: int) -> bool:
    """Whether a database was seeded with these cases and seed but its totals were never finished."""
    return bool(
        marker
        and marker.get("version") == MARKER_VERSION
        and marker.get("cases") == cases
        and marker.get("seed") == seed
        and marker.get("seeded") is True
        and marker.get("complete") is not True
    )


def _marker(ledger: Ledger, *, complete: bool) -> dict:
    marker = {
        "version": MARKER_VERSION,
        "cases": ledger.cases,
        "seed": ledger.seed,
        "seeded": True,
        "complete": complete,
        "seed_seconds": round(ledger.seed_seconds or 0.0, 2),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if ledger.totals_seconds is not None:
        marker["totals_seconds"] = round(ledger.totals_seconds, 2)
    return marker


def prepare(ledger: Ledger, *, rebuild: bool = False, say=print) -> Ledger:
    """Make sure the ledger's database exists, is migrated, seeded at its size and seed, with totals.

    A ledger seeded by an earlier run that stopped before its totals were done is not seeded again.
    """
    prefix = f"    [{ledger.label}] "
    exists = database_exists(ledger.url)
    marker = read_marker(ledger.url) if exists and not rebuild else None
    seeded = exists and count_cases(ledger.url) > 0
    if seeded and marker_matches(marker, cases=ledger.cases, seed=ledger.seed):
        say(f"  {ledger.label}: reusing {ledger.name} ({ledger.cases:,} cases, seed {ledger.seed})")
        run_manage(ledger.url, "migrate", "--noinput", "-v", "0", prefix=prefix)
        ledger.seed_seconds = marker.get("seed_seconds")
        ledger.totals_seconds = marker.get("totals_seconds")
        ledger.reused = True
        return ledger
    if seeded and seeded_only(marker, cases=ledger.cases, seed=ledger.seed):
        say(f"  {ledger.label}: {ledger.name} is seeded; its totals were not finished")
        run_manage(ledger.url, "migrate", "--noinput", "-v", "0", prefix=prefix)
        ledger.seed_seconds = marker.get("seed_seconds")
        ledger.reused = True
    else:
        say(f"  {ledger.label}: building {ledger.name} ({ledger.cases:,} cases, seed {ledger.seed})")
        create_database(ledger.url, drop_first=exists)
        run_manage(ledger.url, "migrate", "--noinput", "-v", "0", prefix=prefix)
        say(f"  {ledger.label}: seeding {ledger.cases:,} cases")
        ledger.seed_seconds = run_manage(
            ledger.url, "seed_demo", "--cases", str(ledger.cases), "--seed", str(ledger.seed), prefix=prefix
        )
        say(f"  {ledger.label}: seeded in {ledger.seed_seconds:.1f} s")
        write_marker(ledger.url, _marker(ledger, complete=False))
    # As autovacuum would, before anything is measured: planner statistics of the freshly filled tables.
    analyse(ledger.url)
    say(f"  {ledger.label}: computing the totals")
    ledger.totals_seconds = run_manage(ledger.url, "recompute_totals", prefix=prefix)
    say(f"  {ledger.label}: totals computed in {ledger.totals_seconds:.1f} s")
    analyse(ledger.url)
    write_marker(ledger.url, _marker(ledger, complete=True))
    return ledger
