"""A heartbeat for long background work (totals runs, import and export jobs): a sign of life written every few
seconds while a worker works, from a thread with its own connection, so that work whose worker was killed is
recognised within minutes by the silence, not hours later by a time limit."""

import contextlib
import threading

from django.db import connection, connections

BEAT = """
    UPDATE {table} SET heartbeat_at = now()
    WHERE id = (SELECT id FROM {table} WHERE id = %(pk)s AND status = 'running' FOR UPDATE SKIP LOCKED)
"""


def beat(table: str, pk: int) -> None:
    """A sign of life for the row, if it is running. Skipped while the work's own transaction holds the row:
    that transaction is the sign."""
    with connection.cursor() as cursor:
        cursor.execute(BEAT.format(table=table), {"pk": pk})


@contextlib.contextmanager
def keep_alive(table: str, pk: int, every: float):
    """Beats for the row every `every` seconds while the block runs, also while one long statement runs."""
    stop = threading.Event()

    def beating() -> None:
        try:
            while not stop.wait(every):
                beat(table, pk)
        finally:
            connections.close_all()

    beat(table, pk)
    thread = threading.Thread(target=beating, name=f"{table}-{pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
