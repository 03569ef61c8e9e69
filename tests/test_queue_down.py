"""Sending work while Redis is really down, and after it is back, and a worker killed mid-run: a Redis server of
the test's own is stopped and started again, with Celery sending for real (not eagerly) to it and a real worker
taking from it.

A totals run started while Redis is down is recorded, the user is told at once, and nothing is sent; once
Redis is back, the sweep sends it and its message is in the queue for a worker to take.
"""

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import time

import kombu.pools
import pytest
import redis
from celery import current_app
from django.db import connection
from django.urls import reverse

from dropout_ledger import devstack
from reports import tasks
from reports.models import RunStatus, StagedTotal, TotalsRun
from reports.services import runs
from tests.factories import UserFactory, open_case

pytestmark = pytest.mark.django_db


class RedisServer:
    def __init__(self):
        self.port = devstack.find_free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [str(devstack.redis_server_path()), "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not devstack.redis_ping(self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


def _fresh_pools() -> None:
    """Drop Celery's and kombu's connection and producer pools (closing their connections): the next send, eager
    ones too, which also take a producer, connects to the broker as configured now."""
    if current_app._pool is not None:
        current_app._pool.force_close_all()
    current_app._pool = None
    current_app.amqp._producer_pool = None
    kombu.pools.reset()


@pytest.fixture
def real_broker(settings):
    """Celery sending to a Redis server of the test's own, for real, for this test only."""
    server = RedisServer()
    server.start()
    conf = current_app.conf
    saved = conf.broker_url, conf.result_backend, conf.task_always_eager
    conf.broker_url, conf.result_backend, conf.task_always_eager = server.url, server.url, False
    _fresh_pools()
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()
        conf.broker_url, conf.result_backend, conf.task_always_eager = saved
        _fresh_pools()


def test_a_run_started_while_redis_is_down_is_kept_the_user_told_and_it_is_sent_when_redis_is_back(client, real_broker):
    client.force_login(UserFactory(role="admin"))
    real_broker.stop()

    response = client.post(reverse("reports:run-start"), follow=True, HTTP_ACCEPT_LANGUAGE="en")

    run = TotalsRun.objects.get()
    assert "cannot be reached: it will start when the queue is back" in response.content.decode()
    assert (run.status, run.sent_at) == (RunStatus.QUEUED, None)

    real_broker.start()
    tasks.sweep_totals_runs()

    run.refresh_from_db()
    assert run.sent_at is not None
    waiting = redis.Redis.from_url(real_broker.url).llen("totals")
    assert waiting == 1  # start_totals_run, in the totals queue, for a worker to take


@contextlib.contextmanager
def real_worker(broker: RedisServer):
    """A Celery worker process on the test database, taking every queue from the test's Redis."""
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dropout_ledger", "worker", "--pool", "solo",
         "--queues", ",".join(devstack.QUEUES), "--loglevel", "WARNING"],
        env={**os.environ, "DATABASE_URL": url, "REDIS_URL": broker.url,
             "DJANGO_SETTINGS_MODULE": "dropout_ledger.settings.test"},
        start_new_session=True,
    )  # fmt: skip
    try:
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def wait_for(condition, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_stages_a_run_province_by_province_and_publishes_it(real_broker, area):
    open_case(area["school"], dropout_date=datetime.date(2019, 4, 1))
    with real_worker(real_broker):
        run = runs.run_request(trigger=runs.Trigger.COMMAND)
        assert tasks.run_send(run.pk)
        wait_for(lambda: not TotalsRun.objects.get(pk=run.pk).is_active, "the run to finish")
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.steps_done == run.steps_total > 1 and run.generation is not None


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_with_sigkill_mid_run_is_noticed_by_the_heartbeat_and_its_staging_dropped(
    real_broker, owner_connection, settings, area
):
    """A real Celery worker runs a totals run; its publication waits for the publication lock, which the test
    holds; the worker is killed with SIGKILL there. The run stops beating, and the sweep fails it and drops its
    staged rows, minutes before any time limit (here, at once: TOTALS_STOPPED_AFTER_SECONDS is 1)."""
    open_case(area["school"], dropout_date=datetime.date(2019, 4, 1))
    with owner_connection.cursor() as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('reports.totals.publish'))")
        with real_worker(real_broker) as worker:
            run = runs.run_request(trigger=runs.Trigger.COMMAND, from_day=datetime.date(2026, 1, 1))
            assert tasks.run_send(run.pk)

            def staged() -> bool:
                current = TotalsRun.objects.get(pk=run.pk)
                return current.steps_total > 0 and current.steps_done >= current.steps_total - 1

            wait_for(staged, "the run to be staged")
            time.sleep(1)  # the publication is waiting for the lock
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        holder.execute("ROLLBACK")

    assert StagedTotal.objects.filter(run_id=run.pk).exists()
    assert TotalsRun.objects.get(pk=run.pk).status == RunStatus.RUNNING  # as the killed worker left it
    settings.TOTALS_STOPPED_AFTER_SECONDS = 1
    time.sleep(1.1)
    assert tasks.sweep_totals_runs() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error.startswith("Stopped before finishing")
    assert not StagedTotal.objects.filter(run_id=run.pk).exists()
