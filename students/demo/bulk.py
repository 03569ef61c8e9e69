"""Loading millions of rows quickly: foreign keys and plain indexes are set aside during the load.

PostgreSQL checks a foreign key row by row (a deferred trigger per inserted row, each locking the row
it points at) and updates every index row by row. Dropped before the load and re-created after it, in
the same transaction, each foreign key is validated by one join and each index is built by one sort.
The schema afterwards is exactly what it was (the definitions are read back from the catalogue); if
anything fails, the transaction rolls the drops back. Primary keys and unique indexes stay in place,
so they keep checking the loaded rows (one ID number per child, one open case per child), and so do
partial indexes, whose predicate would not read back in exactly the form the migration wrote.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def constraints_deferred(cursor, tables: list[str]) -> Iterator[None]:
    """Drop the foreign keys and plain indexes of `tables` for the duration; re-create them after."""
    quote = connection.ops.quote_name
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
        [tables],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _name, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
