"""The application's connections to PostgreSQL: no JIT, set where the connection is made when it goes straight to
the server, and on the server itself behind PgBouncer, which refuses startup options."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.db import connections

pytestmark = pytest.mark.django_db(databases=["default", "replica"])


@pytest.mark.parametrize("alias", ["default", "replica"])
def test_the_applications_connections_run_without_jit(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def options_with(environment: dict) -> dict:
    script = "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default']))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dropout_ledger.settings.local", **environment}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_behind_pgbouncer_no_startup_option_is_sent_and_the_server_runs_without_jit():
    pooled = options_with({"DATABASE_POOLED": "true"})
    assert "options" not in pooled.get("OPTIONS", {})
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    direct = options_with({"DATABASE_POOLED": ""})
    assert direct["OPTIONS"]["options"] == "-c jit=off"
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
    command = compose["services"]["postgres"]["command"]
    assert command[command.index("-c") + 1] == "jit=off"


def test_the_ledgers_large_tables_are_vacuumed_after_a_thousand_dead_rows():
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
            [["students_student", "students_dropoutcase", "students_caseevent", "students_persuasionvisit"]],
        )
        rows = cursor.fetchall()
    assert len(rows) == 4
    for table, options in rows:
        assert {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=1000"} <= set(options), table
