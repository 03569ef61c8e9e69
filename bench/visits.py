"""Recording a visit under concurrent load, against a minimal view that inserts one row.

The app runs under gunicorn on 127.0.0.1; 32 clients, each signed in as the county official, post
visits to open cases of their county for a bounded time. The visits made are deleted afterwards, so the
ledger stays as seeded: visits are append-only, and the benchmark, which runs as the database's owner, lifts
that for the one transaction that deletes them (the application's role could not).
"""

import datetime
import os
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from counties.models import Role
from students.choices import OPEN_STATUSES, Status, VisitMethod, VisitorRole, VisitOutcome
from students.models import DropoutCase, PersuasionVisit

from . import load, personas, server
from .results import Result, at_least, at_most

NOTE = "benchmark load"
VISIT_URL_NAME = "students:case-visit"


def _target_cases(user, limit: int) -> list[DropoutCase]:
    """Open cases the user may write to; cases already being persuaded first (a visit changes nothing else)."""
    cases = DropoutCase.objects.filter(county_id=user.division_id, status__in=OPEN_STATUSES)
    chosen = list(cases.filter(status=Status.PERSUADING).order_by("pk")[:limit])
    if len(chosen) < limit:
        chosen += list(cases.filter(status=Status.DROPPED_OUT).order_by("pk")[: limit - len(chosen)])
    return chosen


def county_official_with_open_cases():
    """The demo county official if their county has open cases, else an official of the county with most."""
    user = personas.persona(Role.COUNTY)
    if DropoutCase.objects.open().filter(county_id=user.division_id).exists():
        return user
    busiest = DropoutCase.objects.open().values("county_id").annotate(n=Count("pk")).order_by("-n").first()
    if busiest is None:
        raise RuntimeError("the ledger has no open case to record a visit on")
    return personas.official_of(busiest["county_id"])


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _request_factory(path_for, session: str, body_for):
    csrf = get_random_string(32)
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "Content-Type": "application/x-www-form-urlencoded",
    }

    def make(client_number: int, sent: int) -> load.Request:
        body = urlencode({"csrfmiddlewaretoken": csrf, **body_for(client_number, sent)}).encode()
        return load.Request("POST", path_for(client_number), body, headers)

    return make


def _is_success(response: load.Response) -> bool:
    """2xx, or a redirect that is not to the sign-in page (a form shown again with errors is a 200 with errors)."""
    if response.status in (301, 302, 303):
        return "/accounts/login/" not in response.headers.get("location", "")
    return 200 <= response.status < 300


def collect(options: dict) -> dict:
    seconds = float(options.get("seconds", 20.0))
    clients = int(options.get("clients", 32))
    rounds = int(options.get("rounds", 1))
    warmup = float(options.get("warmup_seconds", 3.0))
    user = county_official_with_open_cases()
    cases = _target_cases(user, clients)
    session = _session_cookie(user)
    today = timezone.localdate()
    started_at = timezone.now()
    print(f"    {len(cases)} open cases in {user.division}, {clients} clients, {seconds:.0f} s per run", flush=True)

    def case_for(client_number: int) -> DropoutCase:
        return cases[client_number % len(cases)]

    def visit_body(client_number: int, sent: int) -> dict:
        return {
            "version": str(case_for(client_number).version),
            "visit_date": today.isoformat(),
            "method": VisitMethod.PHONE,
            "outcome": VisitOutcome.REFUSED,
            "notes": NOTE,
            "visitor_role_0": VisitorRole.CLASS_TEACHER,
            "visitor_name_0": "Class teacher",
        }

    real = _request_factory(lambda n: reverse(VISIT_URL_NAME, args=[case_for(n).pk]), session, visit_body)
    minimal = _request_factory(
        lambda n: reverse("bench-insert", args=[case_for(n).pk]), session, lambda n, sent: {"notes": NOTE}
    )
    figures: dict[str, list] = {"record": [], "minimal": []}
    try:
        with server.gunicorn(database_url=os.environ["DATABASE_URL"]) as port:
            for factory in (minimal, real):
                load.run_load(server.HOST, port, factory, clients=clients, duration=warmup, check=_is_success)
            for round_number in range(rounds):
                for name, factory in (("minimal", minimal), ("record", real)):
                    print(f"    round {round_number + 1}/{rounds}: {name}", flush=True)
                    result = load.run_load(
                        server.HOST, port, factory, clients=clients, duration=seconds, check=_is_success
                    )
                    figures[name].append(
                        {
                            "throughput": result.throughput,
                            "p50_ms": result.p50_ms,
                            "p99_ms": result.p99_ms,
                            "requests": result.requests,
                            "errors": result.errors,
                            "error_samples": result.error_samples,
                        }
                    )
                    print(
                        f"      {result.throughput:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                        f"p99 {result.p99_ms:.1f} ms, {result.errors} errors",
                        flush=True,
                    )
    finally:
        removed = _remove_load_visits(cases, started_at - datetime.timedelta(seconds=1))
        print(f"    removed the {removed} visits the load recorded", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE students_persuasionvisit")
    return {"clients": clients, "seconds": seconds, "workers": server.default_workers(), **figures}


def _remove_load_visits(cases: list[DropoutCase], since: datetime.datetime, *, note: str = NOTE) -> int:
    """Delete the visits the load recorded, with the append-only trigger lifted for this transaction only.

    They are the last entries of their cases' chains of visits, so every chain still holds without them.
    """
    table = PersuasionVisit._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        removed, _ = PersuasionVisit.objects.filter(case__in=cases, notes=note, recorded_at__gte=since).delete()
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
    return removed


def _median_run(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda run: run["throughput"])
    return ordered[len(ordered) // 2]


def results(figures: dict) -> list[Result]:
    record = _median_run(figures["record"])
    minimal = _median_run(figures["minimal"])
    label = f"record a visit, {figures['clients']} clients"
    errors = sum(run["errors"] for run in figures["record"])
    baseline_errors = sum(run["errors"] for run in figures["minimal"])
    samples = [sample for run in figures["record"] for sample in run["error_samples"]]
    return [
        Result(
            f"{label}: throughput",
            record["throughput"],
            "req/s",
            "minimal one-row insert view",
            minimal["throughput"],
            at_least(0.6),
            note=f"gunicorn, {figures['workers']} sync workers, {figures['seconds']:.0f} s per run",
        ),
        Result(f"{label}: p50", record["p50_ms"], "ms", "minimal view p50", minimal["p50_ms"]),
        Result(f"{label}: p99", record["p99_ms"], "ms", "minimal view p99", minimal["p99_ms"], at_most(2)),
        Result(
            f"{label}: errors",
            float(errors),
            "requests",
            "minimal insert view errors",
            float(baseline_errors),
            at_most(0, of="value"),
            note="; ".join(samples[:3]),
        ),
    ]
