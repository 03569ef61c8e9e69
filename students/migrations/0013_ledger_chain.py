"""The ledger's history is chained: each case event, visit and identity change carries the hash of its content and
of the entry before it, written by the database in the inserting transaction (students.ledger_chain).

A chain is a case's events, a case's visits, or a child's identity changes. A BEFORE INSERT trigger locks the
chain's owner (the case's or the child's row), reads the chain's last entry, and writes the new entry's position,
the previous entry's hash and SHA-256(previous hash || content). Every writer chains alike: the services, COPY
(which sees the rows it has already sent), the demo seed. Two writers of one chain wait for each other instead of
forking it, and the unique (owner, position) index would refuse a fork anyway. Writers of different chains never
wait for each other.

Entries already in the ledger are chained here in the order they were recorded (by id), one statement per table.
Visits become append-only like events and identity changes.
"""

import django.db.models.deletion
from django.db import migrations, models

import students.models

# table, the column naming the chain's owner, the owner's table, the content serialized canonically.
CHAINS = [
    (
        "students_caseevent",
        "case_id",
        "students_dropoutcase",
        """int8send(e.id) || int8send(e.case_id) || ledger_text(e.from_status) || ledger_text(e.to_status)
        || date_send(e.effective_date) || timestamptz_send(e.recorded_at) || ledger_optional(int8send(e.recorded_by_id))
        || ledger_text(e.placement) || ledger_optional(int8send(e.closure_reason_id)) || ledger_text(e.note)""",
    ),
    (
        "students_persuasionvisit",
        "case_id",
        "students_dropoutcase",
        """int8send(e.id) || int8send(e.case_id) || date_send(e.visit_date) || ledger_text(e.visitors::text)
        || ledger_text(e.method) || ledger_text(e.outcome) || ledger_text(e.notes)
        || ledger_optional(date_send(e.next_follow_up)) || timestamptz_send(e.recorded_at)
        || ledger_optional(int8send(e.recorded_by_id))""",
    ),
    (
        "students_identitychange",
        "student_id",
        "students_student",
        """int8send(e.id) || int8send(e.student_id) || ledger_optional(int8send(e.changed_by_id))
        || timestamptz_send(e.at) || ledger_text(e.source) || ledger_text(e.detail) || ledger_text(e.changes::text)""",
    ),
]

# The serialization is the same whatever the session's settings (time zone, date style, client encoding): numbers,
# dates and times in PostgreSQL's binary wire format (a time is microseconds since 2000-01-01 UTC), text and JSON
# (jsonb's own canonical text) in UTF-8 ended by a zero byte, which text cannot hold; an optional value is marked
# present or absent. The functions are plain SQL, so a query inlines them.
HELPERS = r"""
CREATE FUNCTION ledger_entry_hash(previous bytea, content bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT sha256(coalesce(previous, '') || content) $$;
CREATE FUNCTION ledger_text(value text) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT convert_to(value, 'UTF8') || '\x00'::bytea $$;
CREATE FUNCTION ledger_optional(value bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce('\x01'::bytea || value, '\x00'::bytea) $$;
"""

DROP_HELPERS = """
DROP FUNCTION IF EXISTS ledger_entry_hash(bytea, bytea);
DROP FUNCTION IF EXISTS ledger_text(text);
DROP FUNCTION IF EXISTS ledger_optional(bytea);
"""

CHAIN = """
CREATE FUNCTION {table}_content(e {table}) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT {content} $$;

CREATE FUNCTION {table}_chain() RETURNS trigger AS $$
DECLARE
    last_position integer;
    last_hash bytea;
BEGIN
    -- The owner's row stays locked until this transaction ends, so the chain's next writer waits here and then
    -- reads this entry as the last. A row lock, not an advisory lock: a bulk load chains many thousands of
    -- owners in one transaction, and as many advisory locks would exhaust the server's lock table.
    PERFORM 1 FROM {owner} WHERE id = NEW.{key} FOR NO KEY UPDATE;
    SELECT chain_position, entry_hash INTO last_position, last_hash
        FROM {table} WHERE {key} = NEW.{key} ORDER BY chain_position DESC LIMIT 1;
    NEW.chain_position := coalesce(last_position, 0) + 1;
    NEW.previous_hash := last_hash;
    NEW.entry_hash := ledger_entry_hash(last_hash, {table}_content(NEW));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_chain BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_chain();
"""

DROP_CHAIN = """
DROP TRIGGER IF EXISTS {table}_chain ON {table};
DROP FUNCTION IF EXISTS {table}_chain();
DROP FUNCTION IF EXISTS {table}_content({table});
"""

# The running hash of each chain in one pass: an aggregate whose step is the entry hash, over the chain's rows.
BACKFILL = """
UPDATE {table} t
SET chain_position = chained.position, previous_hash = chained.previous_hash, entry_hash = chained.entry_hash
FROM (
    SELECT id, position, entry_hash, lag(entry_hash) OVER (PARTITION BY chain ORDER BY position) AS previous_hash
    FROM (
        SELECT id, {key} AS chain, row_number() OVER running AS position,
               ledger_chain_backfill({table}_content(e)) OVER running AS entry_hash
        FROM {table} e
        WINDOW running AS (PARTITION BY {key} ORDER BY id ROWS UNBOUNDED PRECEDING)
    ) walked
) chained
WHERE t.id = chained.id;
"""

VISITS_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION students_persuasionvisit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'persuasion visits are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER students_persuasionvisit_append_only
    BEFORE UPDATE OR DELETE ON students_persuasionvisit
    FOR EACH ROW EXECUTE FUNCTION students_persuasionvisit_append_only();
"""

DROP_VISITS_APPEND_ONLY = """
DROP TRIGGER IF EXISTS students_persuasionvisit_append_only ON students_persuasionvisit;
DROP FUNCTION IF EXISTS students_persuasionvisit_append_only();
"""


def _backfill_sql() -> str:
    statements = ["CREATE AGGREGATE ledger_chain_backfill(bytea) (SFUNC = ledger_entry_hash, STYPE = bytea);"]
    for table, key, _owner, _content in CHAINS:
        # Events and identity changes refuse updates; the owner running this migration lifts that for the backfill.
        guarded = table != "students_persuasionvisit"
        if guarded:
            statements.append(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only;")
        statements.append(BACKFILL.format(table=table, key=key))
        if guarded:
            statements.append(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only;")
    statements.append("DROP AGGREGATE ledger_chain_backfill(bytea);")
    return "\n".join(statements)


def _chain_field_operations(model_name: str) -> list:
    return [
        migrations.AddField(
            model_name=model_name,
            name="chain_position",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="position in the chain"),
        ),
        migrations.AddField(
            model_name=model_name,
            name="previous_hash",
            field=students.models.HashField(blank=True, null=True, verbose_name="previous entry's hash"),
        ),
        migrations.AddField(
            model_name=model_name,
            name="entry_hash",
            field=students.models.HashField(default=b"", verbose_name="hash"),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("counties", "0002_school_name_index"),
        ("students", "0012_responsible_person_changes"),
    ]

    operations = [
        *_chain_field_operations("caseevent"),
        *_chain_field_operations("persuasionvisit"),
        *_chain_field_operations("identitychange"),
        migrations.RunSQL(HELPERS, DROP_HELPERS),
        *(
            migrations.RunSQL(
                CHAIN.format(table=table, key=key, owner=owner, content=content), DROP_CHAIN.format(table=table)
            )
            for table, key, owner, content in CHAINS
        ),
        migrations.RunSQL(_backfill_sql(), migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="caseevent",
            constraint=models.UniqueConstraint(fields=("case", "chain_position"), name="one_event_per_chain_position"),
        ),
        migrations.AddConstraint(
            model_name="persuasionvisit",
            constraint=models.UniqueConstraint(fields=("case", "chain_position"), name="one_visit_per_chain_position"),
        ),
        migrations.AddConstraint(
            model_name="identitychange",
            constraint=models.UniqueConstraint(
                fields=("student", "chain_position"), name="one_identity_change_per_chain_position"
            ),
        ),
        migrations.RunSQL(VISITS_APPEND_ONLY, DROP_VISITS_APPEND_ONLY),
        migrations.CreateModel(
            name="LedgerVerification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("started_at", models.DateTimeField(verbose_name="started at")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                (
                    "trigger",
                    models.CharField(
                        choices=[("nightly", "nightly"), ("command", "by command")],
                        max_length=10,
                        verbose_name="started",
                    ),
                ),
                ("since", models.DateTimeField(blank=True, null=True, verbose_name="entries recorded since")),
                ("entries_checked", models.PositiveBigIntegerField(default=0, verbose_name="entries checked")),
                ("broken_count", models.PositiveIntegerField(default=0, verbose_name="broken links")),
                ("broken_links", models.JSONField(blank=True, default=list, verbose_name="broken links found")),
                ("ok", models.BooleanField(default=False, verbose_name="intact")),
                (
                    "county",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="counties.division",
                        verbose_name="county",
                    ),
                ),
            ],
            options={
                "verbose_name": "ledger verification",
                "verbose_name_plural": "ledger verifications",
                "ordering": ["-started_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="CountyVerification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("entries_checked", models.PositiveBigIntegerField(default=0, verbose_name="entries checked")),
                ("broken_count", models.PositiveIntegerField(default=0, verbose_name="broken links")),
                (
                    "county",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="counties.division",
                        verbose_name="county",
                    ),
                ),
                (
                    "verification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="counties",
                        to="students.ledgerverification",
                        verbose_name="verification",
                    ),
                ),
            ],
            options={
                "verbose_name": "verification of a county",
                "verbose_name_plural": "last verification per county",
                "ordering": ["county__code"],
                "indexes": [models.Index(fields=["county", "-verification"], name="county_verification_latest")],
                "constraints": [
                    models.UniqueConstraint(fields=("verification", "county"), name="one_result_per_county")
                ],
            },
        ),
    ]
