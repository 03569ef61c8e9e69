"""Mixed load, soak and capacity: Locust, headless, against gunicorn with the production settings.

People in national proportions (bench/locustfile.py) work for `seconds` (10 minutes at full scale) while one
import and one export run over and over beside them, as a busy 15th of the month has them. Figures: requests
per second; p50, p95 and p99 of each kind of request; errors (target none); and the memory of the web workers
and of the database's connections at the start and at the end (target: within 10%), which a leak would grow.
The visits recorded are deleted afterwards, and the imports rolled back, so the ledger stays as seeded.
"""

import csv
import datetime
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from counties.models import Division, Role, School
from students.access import cases_visible_to
from students.choices import Status
from students.disclosure import disclosure_for
from students.exporting import export_cases
from students.models import DropoutCase

from . import databases, importing, personas, server, visits
from .results import Result, at_most

# The tables the imports write and the load's visits touch.
LEDGER_TABLES = ("students_student", "students_dropoutcase", "students_caseevent", "students_persuasionvisit")

NOTE = "benchmark soak"
PEOPLE_PER_ROLE = {"principal": 30, "county": 10}
CASES_EACH = 20
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "dropout_ledger.settings.production",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # Plain HTTP on the loopback: no redirect to HTTPS, cookies without the Secure flag.
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_COOKIES": "false",
}


def _persuading(queryset) -> list[dict]:
    cases = queryset.filter(status=Status.PERSUADING).order_by("pk")[:CASES_EACH]
    return [{"id": case.pk, "version": case.version} for case in cases]


def _person(user, **pages) -> dict:
    return {"session": visits._session_cookie(user), "csrf": get_random_string(32), **pages}


def build_plan() -> dict:
    """Who the simulated users are: sessions, landing pages and the cases they work on."""
    persuading = DropoutCase.objects.filter(status=Status.PERSUADING)
    schools = persuading.values("school_id").annotate(n=Count("pk")).order_by("-n")[: PEOPLE_PER_ROLE["principal"]]
    counties = persuading.values("county_id").annotate(n=Count("pk")).order_by("-n")[: PEOPLE_PER_ROLE["county"]]
    principals = []
    for row in schools:
        school = School.objects.get(pk=row["school_id"])
        principals.append(
            _person(
                personas.principal_of(school.pk),
                landing=reverse("reports:school", args=[school.code]),
                cases=_persuading(persuading.filter(school=school)),
            )
        )
    officials = []
    for row in counties:
        county = Division.objects.get(pk=row["county_id"])
        officials.append(
            _person(
                personas.official_of(county.pk),
                landing=reverse("reports:division", args=[county.code]),
                list=reverse("students:case-list") + "?status=persuading",
                cases=_persuading(persuading.filter(county=county)),
            )
        )
    ministry, province = personas.persona(Role.MINISTRY), personas.persona(Role.PROVINCE)
    prefectures = Division.objects.filter(parent=province.division).order_by("code")[:5]
    areas = [reverse("reports:division", args=[area.code]) for area in [province.division, *prefectures]]
    readers = [
        _person(
            ministry, landing=reverse("reports:national"), areas=areas, list=reverse("students:case-list"), cases=[]
        ),
        _person(
            province,
            landing=reverse("reports:division", args=[province.division.code]),
            areas=areas,
            list=reverse("students:case-list"),
            cases=[],
        ),
    ]
    if not principals or not officials:
        raise RuntimeError("the ledger has no case being persuaded to record visits on")
    return {
        "people": {"principal": principals, "county": officials, "reader": readers},
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "today": timezone.localdate().isoformat(),
        "note": NOTE,
    }


# --- Memory ----------------------------------------------------------------------------------------


def _private_kib(pid: int) -> int:
    """The memory a process holds alone: the pages of its private mappings (heap, stacks) that no other process
    maps, which is what a leak grows. Shared mappings are left out, even their pages only this process has touched
    so far: the database's shared buffers are bounded by its settings, however many of them a connection reads."""
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return 0
    total, shared = 0, False
    for line in lines:
        field, _, rest = line.partition(" ")
        if not field.endswith(":"):  # a mapping's header: address range, then permissions such as rw-p or rw-s
            shared = rest.split()[0].endswith("s")
        elif not shared and field in ("Private_Clean:", "Private_Dirty:"):
            total += int(rest.split()[0])
    return total


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def memory_over(master_pid: int, seconds: float, samples: int = 12) -> dict:
    """memory_mib sampled `samples` times over `seconds`, the median of each figure: a leak grows every sample,
    while what comes and goes does not weigh on it (the working memory of an import at one instant; the web's
    connections, each replaced after CONN_MAX_AGE, that grow from a few MiB over their minute)."""
    taken = []
    for number in range(samples):
        if number:
            time.sleep(seconds / (samples - 1))
        taken.append(memory_mib(master_pid))
    return {part: statistics.median(sample[part] for sample in taken) for part in taken[0]}


def memory_mib(master_pid: int) -> dict:
    """The web workers' memory, and that of the database connections serving this ledger (MiB)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    return {
        "web": sum(_private_kib(pid) for pid in [master_pid, *_children(master_pid)]) / 1024,
        "database": sum(_private_kib(pid) for pid in backends) / 1024,
        "database_connections": len(backends),
    }


# --- Background work: one import and one export, over and over ------------------------------------


def _background(stop: threading.Event, rows: int) -> tuple[list[threading.Thread], dict]:
    done = {"imports": 0, "exports": 0, "errors": []}
    official = personas.persona(Role.COUNTY)
    county = official.division
    path = importing.write_file(
        importing.generate_rows(county, rows), importing.DATA_DIR / f"soak_{county.code}_{rows}.csv"
    )

    def imports():
        try:
            while not stop.is_set():
                importing._rolled_back(
                    lambda: importing.import_ledger(path, county=county, user=official, filename=path.name)
                )
                done["imports"] += 1
        except Exception as error:  # noqa: BLE001 - reported with the figures
            done["errors"].append(f"import: {error}")
        finally:
            connections.close_all()

    def exports():
        try:
            while not stop.is_set():
                export_cases(
                    io.BytesIO(),
                    cases_visible_to(official),
                    fmt="xlsx",
                    language="zh-hans",
                    disclosure=disclosure_for(official),
                )
                done["exports"] += 1
        except Exception as error:  # noqa: BLE001
            done["errors"].append(f"export: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, daemon=True) for work in (imports, exports)]
    for thread in threads:
        thread.start()
    return threads, done


# --- The run ----------------------------------------------------------------------------------------


def _locust_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def collect(options: dict) -> dict:
    seconds = int(options.get("seconds", 600))
    users = int(options.get("users", 200))
    import_rows = int(options.get("import_rows", 10_000))
    plan = build_plan()
    started_at = timezone.now()
    work = Path(tempfile.mkdtemp(prefix="ledger-soak-"))
    plan_path = work / "plan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    # The same secret key as this process, which made the sessions; static files as a deployment collects them.
    env = {**PRODUCTION_ENV, "SECRET_KEY": settings.SECRET_KEY}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=databases.PROJECT_DIR,
        env={**databases.process_env(os.environ["DATABASE_URL"]), **env},
        check=True,
    )
    print(
        f"    {users} users for {seconds} s: {len(plan['people']['principal'])} principals' schools, "
        f"{len(plan['people']['county'])} counties' officials, ministry and province; one import and one export",
        flush=True,
    )
    stop = threading.Event()
    threads, background = [], {}
    try:
        with server.gunicorn_process(database_url=os.environ["DATABASE_URL"], env=env) as (port, master):
            threads, background = _background(stop, import_rows)
            prefix = work / "locust"
            locust = subprocess.Popen(
                [
                    sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")),
                    "--headless", "--users", str(users), "--spawn-rate", str(max(users // 10, 1)),
                    "--run-time", f"{seconds}s", "--host", f"http://{server.HOST}:{port}",
                    "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
                ],
                cwd=databases.PROJECT_DIR,
                env={**os.environ, "LEDGER_LOAD_PLAN": str(plan_path)},
            )  # fmt: skip
            # The start is sampled once every user is working and the caches are warm; the end just before the
            # run stops.
            # Each window spans the lifetime of a connection and more, so it sees the web's connections at every
            # age, as many young as old.
            warm = min(60, seconds / 3)
            window = min(settings.DATABASES["default"]["CONN_MAX_AGE"] + 15, seconds / 6)
            time.sleep(warm)
            memory_start = memory_over(master.pid, window)
            time.sleep(max(seconds - warm - 2 * window - 5, 1))
            memory_end = memory_over(master.pid, window)
            locust.wait(timeout=seconds + 120)
            stats = _locust_stats(prefix)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=600)
        removed = _remove_soak_visits(started_at - datetime.timedelta(seconds=1))
        print(f"    removed the {removed} visits the load recorded", flush=True)
        # The rolled-back imports left dead rows where the planner reads the indexes' ends: a run after this
        # one finds the ledger as seeded, whether or not the server's autovacuum is on.
        with connection.cursor() as cursor:
            for table in LEDGER_TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
    kinds = {
        row["Name"]: {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": float(row["Requests/s"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
        }
        for row in stats
    }
    return {
        "seconds": seconds,
        "users": users,
        "workers": server.default_workers(),
        "kinds": kinds,
        "memory_start": memory_start,
        "memory_end": memory_end,
        "background": background,
    }


def _remove_soak_visits(since: datetime.datetime) -> int:
    cases = DropoutCase.objects.filter(visits__notes=NOTE, visits__recorded_at__gte=since).distinct()
    return visits._remove_load_visits(list(cases), since, note=NOTE)


def results(figures: dict) -> list[Result]:
    kinds = dict(figures["kinds"])
    total = kinds.pop("Aggregated")
    label = f"mixed load, {figures['users']} users, {figures['seconds'] / 60:g} min"
    background = figures["background"]
    rows = [
        Result(
            f"{label}: throughput",
            total["rps"],
            "req/s",
            "-",
            0.0,
            note=(
                f"gunicorn, {figures['workers']} sync workers, production settings; beside them "
                f"{background.get('imports', 0)} imports and {background.get('exports', 0)} exports"
            ),
        ),
        Result(
            f"{label}: errors",
            float(total["failures"] + len(background.get("errors", []))),
            "requests",
            "-",
            0.0,
            at_most(0, of="value"),
            note="; ".join(background.get("errors", [])[:3]),
        ),
    ]
    for name, kind in sorted(kinds.items()):
        rows.append(
            Result(
                f"{label}: {name}",
                kind["p95_ms"],
                "ms p95",
                "-",
                0.0,
                note=f"p50 {kind['p50_ms']:.0f} ms, p99 {kind['p99_ms']:.0f} ms, {kind['requests']:,} requests",
            )
        )
    for part in ("web", "database"):
        start, end = figures["memory_start"][part], figures["memory_end"][part]
        rows.append(
            Result(
                f"{label}: {part} memory at the end",
                end,
                "MiB",
                "the same at the start",
                start,
                at_most(1.1),
                note=(
                    "private memory of the connections serving the ledger (their private mappings), median of twelve "
                    "samples over a connection's lifetime: "
                    f"{figures['memory_start']['database_connections']} at the start, "
                    f"{figures['memory_end']['database_connections']} at the end"
                    if part == "database"
                    else "private memory of the gunicorn master and workers (their private mappings), median of twelve "
                    "samples over a connection's lifetime"
                ),
            )
        )
    return rows
