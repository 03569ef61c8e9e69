"""The two database roles: an owner that runs migrations, and the application's role that serves requests.

The owner owns every table, trigger and function, so only it can alter or disable the triggers that keep the
ledger's history append-only. The application's role (settings.DATABASE_APP_ROLE) is no superuser and owns
nothing: after every migration the owner grants it reading and writing rows, and takes back UPDATE, DELETE and
TRUNCATE on the append-only tables, which are found by their triggers (named ``*_append_only``), so a new
append-only table is covered by the migration that adds its trigger.
"""

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg2 import sql

APPEND_ONLY_TRIGGER_SUFFIX = "_append_only"
# PostgreSQL 17 added MAINTAIN: ANALYZE and VACUUM after large writes, without ownership. Earlier servers
# skip the application's ANALYZE with a warning and leave it to autovacuum.
MAINTAIN_SINCE = 170000


def append_only_tables(connection: BaseDatabaseWrapper) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND t.tgname LIKE %s ORDER BY 1",
            ["%" + APPEND_ONLY_TRIGGER_SUFFIX],
        )
        return [name for (name,) in cursor.fetchall()]


def _value(connection: BaseDatabaseWrapper, query: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def grant_application_rights(connection: BaseDatabaseWrapper, role: str, *, may_truncate: bool = False) -> None:
    """Gives `role` what the application needs on every table of the schema, and no more.

    `may_truncate` is for the test suite only: its transactional tests empty every table between tests.
    """
    role_name = sql.Identifier(role)
    table_rights = "SELECT, INSERT, UPDATE, DELETE" + (", TRUNCATE" if may_truncate else "")
    if connection.pg_version >= MAINTAIN_SINCE:
        table_rights += ", MAINTAIN"
    schema = sql.Identifier(_value(connection, "SELECT current_schema()"))
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role_name),
        sql.SQL(f"GRANT {table_rights} ON ALL TABLES IN SCHEMA {{}} TO {{}}").format(schema, role_name),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, role_name),
    ]
    refused = "UPDATE, DELETE" if may_truncate else "UPDATE, DELETE, TRUNCATE"
    statements += [
        sql.SQL(f"REVOKE {refused} ON {{}} FROM {{}}").format(sql.Identifier(table), role_name)
        for table in append_only_tables(connection)
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def grant_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate: the owner, having migrated, grants the application's role its rights on what now exists."""
    role = settings.DATABASE_APP_ROLE
    if not role:
        return
    connection = connections[using]
    if _value(connection, "SELECT current_user") == role:
        # The application's role itself (a flush in the tests emits post_migrate): it has nothing to grant.
        return
    grant_application_rights(connection, role)
