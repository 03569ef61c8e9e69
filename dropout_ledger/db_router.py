"""Reads from a PostgreSQL replica when one is configured; writes, and the reads that follow them, on the primary.

With DATABASE_REPLICA_URL set (settings), the pages that only read (a GET or HEAD: dashboards, lists, case pages,
exports asked for on a page) read from the replica, unless:
- the request writes (the access log of a case page, say): from its first write on it reads from the primary too;
- the same browser wrote a moment ago (a form sent, then the page it redirects to): a cookie keeps its reads
  on the primary for REPLICA_STICKY_SECONDS, longer than the replica's usual lag, so a user sees what they saved;
- the read is inside a transaction (a service deciding under a lock reads what it is about to change).
Everything outside a request (Celery tasks, commands, migrations) reads and writes the primary. Sessions and
sign-in throttling are always read from the primary: a session written a moment ago must be found.
"""

import contextlib
import contextvars

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
STICKY_COOKIE = "ledger_primary"
ALWAYS_PRIMARY = {"sessions", "axes", "django_celery_beat"}

_may_use_replica = contextvars.ContextVar("may_use_replica", default=False)
_wrote = contextvars.ContextVar("wrote", default=False)


def replica_configured() -> bool:
    return bool(getattr(settings, "DATABASE_REPLICA_READS", False)) and REPLICA in settings.DATABASES


@contextlib.contextmanager
def reads_from_replica():
    """Within the block, reads that nothing pins to the primary go to the replica (when one is configured)."""
    allowed, wrote = _may_use_replica.set(True), _wrote.set(False)
    try:
        yield
    finally:
        _may_use_replica.reset(allowed)
        _wrote.reset(wrote)


def wrote_in_block() -> bool:
    return _wrote.get()


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _may_use_replica.get()
            and not _wrote.get()
            and model._meta.app_label not in ALWAYS_PRIMARY
            and replica_configured()
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        if model._meta.app_label not in ALWAYS_PRIMARY:  # a session touched on every request is no write of theirs
            _wrote.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    """Lets a GET or HEAD read from the replica, unless this browser wrote a moment ago; marks one that writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        if request.method in ("GET", "HEAD") and STICKY_COOKIE not in request.COOKIES:
            with reads_from_replica():
                response = self.get_response(request)
                wrote = wrote_in_block()
        else:
            wrote = request.method not in ("GET", "HEAD", "OPTIONS")
            response = self.get_response(request)
        if wrote:
            response.set_cookie(
                STICKY_COOKIE,
                "1",
                max_age=settings.REPLICA_STICKY_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
