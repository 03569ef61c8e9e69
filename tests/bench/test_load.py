import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from bench.load import Request, run_load, status_in


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def tiny_app(environ, start_response):
    if environ["PATH_INFO"] == "/fail":
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"broken"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok:" + body]


@pytest.fixture
def tiny_server():
    server = make_server("127.0.0.1", 0, tiny_app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_load_generator_counts_answered_requests_and_latencies(tiny_server):
    result = run_load(
        "127.0.0.1", tiny_server, lambda client, sent: Request("POST", "/ok", b"x"), clients=4, duration=1.0
    )
    assert result.errors == 0
    assert result.requests == len(result.latencies) > 0
    assert result.throughput > 0
    assert 0 < result.p50_ms <= result.p99_ms


def test_load_generator_stops_at_the_request_bound(tiny_server):
    result = run_load(
        "127.0.0.1", tiny_server, lambda client, sent: Request("GET", "/ok"), clients=3, duration=30, max_requests=25
    )
    assert result.requests == 25


def test_answers_that_fail_the_check_are_counted_as_errors(tiny_server):
    def every_third_fails(client, sent):
        return Request("GET", "/fail" if sent % 3 == 0 else "/ok")

    result = run_load(
        "127.0.0.1", tiny_server, every_third_fails, clients=2, duration=30, max_requests=30, check=status_in(200)
    )
    assert result.requests == 30
    assert result.errors > 0
    assert len(result.latencies) == 30 - result.errors
    assert result.error_samples[0].startswith("HTTP 500 GET /fail")


def test_each_client_builds_its_own_requests(tiny_server):
    seen = []
    lock = threading.Lock()

    def record(client, sent):
        with lock:
            seen.append((client, sent))
        return Request("GET", "/ok")

    run_load("127.0.0.1", tiny_server, record, clients=3, duration=30, max_requests=30)
    clients = {client for client, _ in seen}
    assert clients <= {0, 1, 2}
    for client in clients:
        sent = sorted(s for c, s in seen if c == client)
        assert sent == list(range(len(sent)))


def test_unreachable_server_is_reported_as_errors_not_raised():
    from bench.server import free_port

    result = run_load("127.0.0.1", free_port(), lambda c, s: Request("GET", "/"), clients=2, duration=5, max_requests=6)
    assert result.errors == 6
    assert result.latencies == []


def test_load_is_only_sent_to_loopback():
    with pytest.raises(ValueError):
        run_load("10.0.0.1", 80, lambda c, s: Request("GET", "/"), clients=1, duration=1)
