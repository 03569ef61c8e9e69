"""The suite's two database roles: it runs as the application's role; maintenance steps act as the owner."""

import contextlib

from django.db import connection


@contextlib.contextmanager
def as_owner():
    """Acts as the owner of the test database (its user) for the block, then as the application's role again.

    For what only the owner may do: seeding (it drops and re-creates constraints, restarts sequences), and
    writing behind the application's back. Inside a test's transaction the rollback restores the role too.
    """
    role = connection.settings_dict["OPTIONS"].get("assume_role")
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    try:
        yield
    finally:
        if role:
            with connection.cursor() as cursor:
                cursor.execute(f'SET ROLE "{role}"')
