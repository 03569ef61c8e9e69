"""A small closed-loop load generator: N clients, each sending its next request when the last one answered.

Traffic goes only to a loopback address, and every run is bounded both in time and in request count.
"""

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .timing import percentile

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict
    body: bytes


# Builds the request a client sends: given the client's number and its request count so far.
RequestFactory = Callable[[int, int], Request]
# Decides whether an answer counts as a success.
Check = Callable[[Response], bool]


def status_in(*statuses: int) -> Check:
    return lambda response: response.status in statuses


@dataclass
class LoadResult:
    clients: int
    duration: float
    latencies: list[float]
    errors: int
    error_samples: list[str]

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def throughput(self) -> float:
        """Successful requests per second."""
        return len(self.latencies) / self.duration if self.duration else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.50) * 1000.0 if self.latencies else 0.0

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000.0 if self.latencies else 0.0


class _Counter:
    def __init__(self, limit: int):
        self.limit = limit
        self.issued = 0
        self.lock = threading.Lock()

    def take(self) -> int | None:
        with self.lock:
            if self.issued >= self.limit:
                return None
            self.issued += 1
            return self.issued


def run_load(
    host: str,
    port: int,
    make_request: RequestFactory,
    *,
    clients: int = 32,
    duration: float = 20.0,
    max_requests: int = 200_000,
    check: Check | None = None,
    timeout: float = 30.0,
) -> LoadResult:
    """Run `clients` concurrent clients against host:port for at most `duration` seconds and `max_requests`."""
    if host not in LOOPBACK:
        raise ValueError(f"load is only sent to a loopback address, not {host!r}")
    if clients < 1 or duration <= 0 or max_requests < 1:
        raise ValueError("clients, duration and max_requests must be positive")
    check = check or status_in(200)
    counter = _Counter(max_requests)
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    error_samples: list[str] = []
    start_gate = threading.Event()
    deadline = [0.0]

    def record_error(message: str) -> None:
        with lock:
            errors[0] += 1
            if len(error_samples) < 5:
                error_samples.append(message)

    def client(number: int) -> None:
        connection = None
        sent = 0
        mine: list[float] = []
        start_gate.wait()
        while time.perf_counter() < deadline[0] and counter.take() is not None:
            request = make_request(number, sent)
            sent += 1
            begun = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(host, port, timeout=timeout)
                connection.request(request.method, request.path, body=request.body or None, headers=request.headers)
                raw = connection.getresponse()
                body = raw.read()
                response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, body)
                if raw.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                if connection is not None:
                    connection.close()
                connection = None
                record_error(f"{type(error).__name__}: {error}")
                continue
            elapsed = time.perf_counter() - begun
            if check(response):
                mine.append(elapsed)
            else:
                record_error(f"HTTP {response.status} {request.method} {request.path}: {body[:200]!r}")
        if connection is not None:
            connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + duration
    start_gate.set()
    for thread in threads:
        thread.join(duration + timeout + 5)
    elapsed = time.perf_counter() - started
    return LoadResult(clients, elapsed, latencies, errors[0], error_samples)
