"""The app under gunicorn on the loopback interface, for the duration of a measurement."""

import http.client
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

from . import databases

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1) + 1


def wait_until_up(port: int, path: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode} before answering")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer on {HOST}:{port} within {timeout:.0f} s") from None
            time.sleep(0.2)


@contextmanager
def gunicorn(*, database_url: str, workers: int | None = None, probe_path: str = "/accounts/login/"):
    """Serve the app (benchmark settings and URLs) with gunicorn on 127.0.0.1; yields the port."""
    with gunicorn_process(database_url=database_url, workers=workers, probe_path=probe_path) as (port, _process):
        yield port


@contextmanager
def gunicorn_process(
    *,
    database_url: str,
    workers: int | None = None,
    probe_path: str = "/accounts/login/",
    env: dict[str, str] | None = None,
):
    """Serve the app with gunicorn on 127.0.0.1 (the benchmark's settings unless `env` names others); yields the
    port and gunicorn's master process."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "dropout_ledger.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers or default_workers()),
        "--worker-class",
        "sync",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    process = subprocess.Popen(
        command, cwd=databases.PROJECT_DIR, env={**databases.process_env(database_url), **(env or {})}
    )
    try:
        wait_until_up(port, probe_path, process=process)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
