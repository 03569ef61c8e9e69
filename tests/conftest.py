import os
import socket
from urllib.parse import urlsplit

import pytest

from counties.models import Role

from .browser import browser, chromium_missing_reason, page  # noqa: F401 - fixtures for @pytest.mark.browser
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
