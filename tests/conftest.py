import os
import socket
from urllib.parse import urlsplit

import psycopg2
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.utils import translation

from counties.models import Role
from dropout_ledger.database_roles import grant_application_rights

from .browser import browser, chromium_missing_reason, page, phone, phone_zh  # noqa: F401 - browser fixtures
from .database import as_owner
from .factories import CountyFactory, PrefectureFactory, SchoolFactory, UserFactory


def _redis_missing_reason() -> str | None:
    url = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=2).close()
    except OSError as error:
        return f"Redis does not answer at {url.hostname}:{url.port or 6379} ({error}); set REDIS_URL or use make test"
    return None


def _flushes_the_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    if "live_server" in fixtures or "transactional_db" in fixtures:
        return True
    return bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Tests that flush the database (transactional ones, browser tests among them) run last of all.

    A flush also empties the rows the migrations put in (closure reasons, the nightly schedule); pytest-django
    runs tests without a db marker after the transactional ones, and some of those reach the database through
    a module-scoped fixture and need those rows.
    """
    flushing = [item for item in items if _flushes_the_database(item)]
    if flushing:
        items[:] = [item for item in items if not _flushes_the_database(item)] + flushing


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test that needs a browser or a service that is absent skips on a laptop, but fails in CI (CI=true)."""
    checks = {"browser": chromium_missing_reason, "redis": _redis_missing_reason}
    for marker, missing_reason in checks.items():
        if item.get_closest_marker(marker) is None:
            continue
        reason = missing_reason()
        if reason is None:
            continue
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"{reason}. In CI nothing is skipped for want of a browser or service.", pytrace=False)
        pytest.skip(reason)


# The role the suite runs as when DATABASE_APP_ROLE does not name one (make test's embedded server does).
TEST_APP_ROLE = "ledger_app"


def _app_role_ensure(role: str) -> None:
    """The application's role exists, and the suite's own user (the owner) may act as it."""
    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
            cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [role])
            if not cursor.fetchone()[0]:
                cursor.execute(f'GRANT "{role}" TO current_user')
        except DatabaseError as error:
            pytest.exit(
                f"The tests run as the application's database role {role!r}, which could not be set up "
                f"({error.__class__.__name__}: {str(error).strip()}). Create it and grant it to the user of "
                f"DATABASE_URL (CREATE ROLE {role}; GRANT {role} TO <user>), or use make test.",
                returncode=3,
            )


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache: a test's database is rolled back after it, its cached pages are not,
    and a later test whose rows carry the same ids would be served them."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the default language. A request for a Chinese page leaves Chinese active in the
    thread after it (Django's LocaleMiddleware activates a language and leaves it), and a later test that
    reads a message outside a request would read it in Chinese."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The suite runs as the application's database role, as the web app does in production.

    The test database is created and migrated by the user of DATABASE_URL, its owner; then every connection
    takes the application's role (SET ROLE, Django's assume_role), which may read and write rows but may not
    alter a table, disable a trigger, or update and delete the ledger's history. The one right added for the
    tests is TRUNCATE, with which the transactional tests empty the tables between tests.
    """
    role = settings.DATABASE_APP_ROLE or TEST_APP_ROLE
    options = connection.settings_dict.setdefault("OPTIONS", {})
    with django_db_blocker.unblock():
        _app_role_ensure(role)
        grant_application_rights(connection, role, may_truncate=True)
        options["assume_role"] = role
        connection.close()
    yield
    with django_db_blocker.unblock():
        # The owner drops the test database.
        options.pop("assume_role", None)
        connections.close_all()


@pytest.fixture
def database_owner(db):
    """The test acts as the database's owner, as the maintenance commands (seeding, the benchmark) do."""
    with as_owner():
        yield


@pytest.fixture
def owner_connection(django_db_blocker):
    """A separate connection to the test database as its owner: what someone with the owner's password, or
    behind the application's back, can do. It sees only what the tests committed (transaction=True)."""
    params = connection.get_connection_params()
    params.pop("assume_role", None)
    with django_db_blocker.unblock():
        owner = psycopg2.connect(**{key: value for key, value in params.items() if key != "cursor_factory"})
    owner.autocommit = True
    yield owner
    owner.close()


@pytest.fixture
def area():
    """Two counties in one prefecture, a third in another province; a school in each of the first two."""
    prefecture = PrefectureFactory()
    home = CountyFactory(parent=prefecture, name="Home county")
    neighbour = CountyFactory(parent=prefecture, name="Neighbour county")
    far = CountyFactory(name="Far county")
    return {
        "province": prefecture.province,
        "prefecture": prefecture,
        "county": home,
        "neighbour": neighbour,
        "far": far,
        "school": SchoolFactory(county=home, name="Home school"),
        "other_school": SchoolFactory(county=home, name="Other school, same county"),
        "neighbour_school": SchoolFactory(county=neighbour, name="Neighbour school"),
        "far_school": SchoolFactory(county=far, name="Far school"),
    }


@pytest.fixture
def users(area):
    return {
        "ministry": UserFactory(role=Role.MINISTRY),
        "province": UserFactory(role=Role.PROVINCE, division=area["province"]),
        "prefecture": UserFactory(role=Role.PREFECTURE, division=area["prefecture"]),
        "county": UserFactory(role=Role.COUNTY, division=area["county"]),
        "neighbour_county": UserFactory(role=Role.COUNTY, division=area["neighbour"]),
        "principal": UserFactory(role=Role.PRINCIPAL, school=area["school"]),
        "other_principal": UserFactory(role=Role.PRINCIPAL, school=area["other_school"]),
        "admin": UserFactory(role=Role.ADMIN),
    }
