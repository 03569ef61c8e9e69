"""Sending work while Redis is really down, and after it is back: a Redis server of the test's own is stopped and
started again, with Celery sending for real (not eagerly) to it.

A totals run started while Redis is down is recorded, the user is told at once, and nothing is sent; once
Redis is back, the sweep sends it and its message is in the queue for a worker to take.
"""

import subprocess
import time

import pytest
import redis
from celery import current_app
from django.urls import reverse

from dropout_ledger import devstack
from reports import tasks
from reports.models import RunStatus, TotalsRun
from tests.factories import UserFactory

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


@pytest.fixture
def real_broker(settings):
    """Celery sending to a Redis server of the test's own, for real, for this test only."""
    server = RedisServer()
    server.start()
    conf = current_app.conf
    saved = conf.broker_url, conf.task_always_eager
    current_app.pool.force_close_all()
    conf.broker_url, conf.task_always_eager = server.url, False
    current_app._pool = None
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()
        current_app.pool.force_close_all()
        conf.broker_url, conf.task_always_eager = saved
        current_app._pool = None


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
