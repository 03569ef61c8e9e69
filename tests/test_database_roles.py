"""The application's database role may read and write rows, and nothing that could rewrite history unseen.

The suite itself runs as that role (tests/conftest.py), so every other test shows the application needs no more.
"""

import datetime

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from counties.models import Role
from dropout_ledger.database_roles import append_only_tables, grant_after_migrate, grant_application_rights
from reports.models import MonthSignOff, SignOffStep
from students.choices import Line, ResponsibleRole, VisitMethod, VisitorRole, VisitOutcome
from students.services import case_set_responsible_persons, student_update, visit_record
from tests.database import as_owner
from tests.factories import UserFactory, open_case

pytestmark = pytest.mark.django_db

LEDGER_HISTORY = {"students_caseevent", "students_identitychange"}


def _one(query: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


def _execute(statement: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.rowcount


def _role() -> str:
    return connection.settings_dict["OPTIONS"]["assume_role"]


def test_the_suite_acts_as_a_role_that_is_no_superuser_and_owns_nothing():
    user, superuser, bypass_rls = _one(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    owned = _one(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    )

    assert user == _role()
    assert (superuser, bypass_rls) == (False, False)
    assert owned == (0,)


def test_the_ledger_history_is_found_as_append_only():
    assert set(append_only_tables(connection)) >= LEDGER_HISTORY


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE {table} DISABLE TRIGGER USER",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "DROP TRIGGER {table}_append_only ON {table}",
        "DROP TABLE {table}",
        "ALTER TABLE {table} OWNER TO CURRENT_USER",
    ],
)
def test_the_application_role_cannot_alter_or_disable_the_history_triggers(statement):
    for table in append_only_tables(connection):
        with pytest.raises(ProgrammingError, match="must be owner|permission denied"), transaction.atomic():
            _execute(statement.format(table=table))


@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
def test_the_application_role_may_not_update_or_delete_history(statement):
    for table in append_only_tables(connection):
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            _execute(statement.format(table=table))


def _sign_off_step(county) -> SignOffStep:
    """A county's month signed, as reports.services.signoff records it."""
    official, now = UserFactory(role=Role.COUNTY, division=county), timezone.now()
    sign_off = MonthSignOff.objects.create(
        county=county, month=datetime.date(2019, 6, 1), status="signed", figures={}, signed_at=now, signed_by=official
    )
    return SignOffStep.objects.create(sign_off=sign_off, action="sign", by=official, at=now)


def test_the_owner_is_refused_too_while_the_triggers_stand(area):
    case = open_case(area["school"], dropout_date=datetime.date(2019, 4, 1))
    visit_record(
        case=case,
        visit_date=datetime.date(2019, 4, 3),
        visitors=[{"role": VisitorRole.CLASS_TEACHER, "name": "王老师"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
    )
    student_update(student=case.student, changes={"address": "另一个村"})
    case_set_responsible_persons(
        case=case,
        persons=[{"line": Line.GOVERNMENT, "role": ResponsibleRole.VILLAGE_HEAD, "name": "李村长", "phone": ""}],
    )
    _sign_off_step(area["county"])
    with as_owner():
        for table in append_only_tables(connection):
            # A row must exist for a row trigger to fire: an empty table is no proof.
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                if not _execute(f"UPDATE {table} SET id = id WHERE id = (SELECT min(id) FROM {table})"):
                    raise AssertionError(f"{table} has no row to try")


def test_production_rights_allow_rows_and_refuse_truncate_and_history_rewrites():
    """What a migration grants outside the tests (they add TRUNCATE, to empty tables between tests)."""
    role = _role()
    with as_owner():
        grant_application_rights(connection, role, may_truncate=False)
        with connection.cursor() as cursor:
            cursor.execute(f'REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM "{role}"')
        grant_application_rights(connection, role, may_truncate=False)

        def allowed(table: str, right: str) -> bool:
            return _one("SELECT has_table_privilege(%s, %s, %s)", [role, table, right])[0]

        for table in append_only_tables(connection):
            assert (allowed(table, "SELECT"), allowed(table, "INSERT")) == (True, True)
            assert (allowed(table, "UPDATE"), allowed(table, "DELETE"), allowed(table, "TRUNCATE")) == (
                False,
                False,
                False,
            )
        for table in ("students_dropoutcase", "students_student", "counties_user"):
            assert [allowed(table, right) for right in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")] == [
                True,
                True,
                True,
                True,
                False,
            ]
        # The rollback at the end of the test restores the suite's grants.


def test_migrate_grants_the_configured_role_its_rights_on_new_tables():
    role = _role()
    with as_owner():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE students_added_later (id bigint)")
        assert not _one("SELECT has_table_privilege(%s, 'students_added_later', 'INSERT')", [role])[0]
        with override_settings(DATABASE_APP_ROLE=role):
            grant_after_migrate(sender=None, using="default")
        assert _one("SELECT has_table_privilege(%s, 'students_added_later', 'INSERT')", [role])[0]


def test_migrate_without_a_configured_role_grants_nothing():
    with as_owner():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE students_added_later (id bigint)")
        with override_settings(DATABASE_APP_ROLE=""):
            grant_after_migrate(sender=None, using="default")
        assert not _one("SELECT has_table_privilege(%s, 'students_added_later', 'INSERT')", [_role()])[0]
