"""The production shape in docker-compose.yml scales out on parts made for it: web replicas behind the proxy,
PgBouncer in front of PostgreSQL, a worker service per Celery queue. CI also validates the file with
docker-compose itself (.ci/run)."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings

from dropout_ledger import devstack

COMPOSE = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker-live", "worker-totals", "worker-jobs", "worker", "beat"]


def queues_of(command: list[str]) -> set[str]:
    return set(command[command.index("--queues") + 1].split(","))


def routed_queues() -> set[str]:
    return {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}


def test_every_task_is_routed_to_a_queue_that_a_worker_service_takes():
    from celery import current_app

    current_app.loader.import_default_modules()
    tasks = {name for name in current_app.tasks if name.startswith(("reports.", "students."))}
    assert tasks, "no task found"
    taken = set().union(*(queues_of(SERVICES[name]["command"]) for name in SERVICES if name.startswith("worker")))
    assert routed_queues() <= taken
    for task in tasks:
        queue = settings.CELERY_TASK_ROUTES.get(task, {"queue": settings.CELERY_TASK_DEFAULT_QUEUE})["queue"]
        assert queue in taken, task


def test_each_worker_service_takes_one_queue_so_an_import_cannot_hold_up_the_night():
    workers = [name for name in SERVICES if name.startswith("worker")]
    assert sorted(len(queues_of(SERVICES[name]["command"])) for name in workers) == [1] * len(workers)
    assert {"totals", "jobs", "live"} <= set().union(*(queues_of(SERVICES[n]["command"]) for n in workers))


def test_make_run_has_one_worker_for_every_queue():
    worker = list(devstack.server_commands(8000)["worker"])
    assert routed_queues() <= queues_of(worker)


def test_web_replicas_publish_no_host_port_and_the_proxy_reaches_them_by_name():
    assert "ports" not in SERVICES["web"]
    assert SERVICES["proxy"]["ports"]
    conf = (Path(settings.BASE_DIR) / "deploy/nginx/default.conf").read_text()
    assert "server web:8000 resolve" in conf


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_application_reaches_postgresql_through_pgbouncer_in_transaction_mode(service):
    environment = {**COMPOSE["x-app"]["environment"], **SERVICES[service].get("environment", {})}
    assert "@pgbouncer:6432/" in environment["DATABASE_URL"]
    assert environment["DATABASE_POOLED"] == "true"
    assert SERVICES["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"


def test_migrations_go_straight_to_postgresql_as_the_owner():
    url = SERVICES["migrate"]["environment"]["DATABASE_URL"]
    assert url.startswith("postgres://ledger_owner:") and "@postgres:5432/" in url
