"""The mixed load's plan (who the simulated people are) stays within each one's scope, the locustfile reads it,
and the figures become results with their targets."""

import datetime
import mmap
import os

import pytest
from django.test import Client
from django.utils import timezone

from bench import soak
from counties.models import Role
from students.access import cases_editable_by
from students.services import visit_record
from tests.factories import UserFactory, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def persuading(area):
    UserFactory(role=Role.MINISTRY)
    UserFactory(role=Role.PROVINCE, division=area["province"])
    UserFactory(role=Role.COUNTY, division=area["county"])
    cases = [open_case(school, dropout_date=timezone.localdate() - datetime.timedelta(days=30)) for school in (
        area["school"], area["school"], area["neighbour_school"])]  # fmt: skip
    for case in cases:
        visit_record(
            case=case,
            visit_date=timezone.localdate(),
            visitors=[{"role": "principal", "name": "王"}],
            method="home_visit",
            outcome="refused",
        )
    return cases


def test_each_simulated_person_works_on_cases_they_may_write_to_and_their_session_signs_them_in(persuading):
    plan = soak.build_plan()

    for role in ("principal", "county"):
        for person in plan["people"][role]:
            client = Client()
            client.cookies[plan["session_cookie"]] = person["session"]
            response = client.get(person["landing"])
            assert response.status_code == 200, person["landing"]
            user = response.wsgi_request.user
            editable = set(cases_editable_by(user).values_list("pk", flat=True))
            assert {case["id"] for case in person["cases"]} <= editable and person["cases"]
    assert {person["landing"] for person in plan["people"]["reader"]} >= {"/national/"}


def test_the_figures_become_results_with_no_errors_and_flat_memory_as_targets():
    kind = {"requests": 10, "failures": 0, "rps": 2.0, "p50_ms": 100.0, "p95_ms": 200.0, "p99_ms": 300.0}
    figures = {
        "seconds": 600,
        "users": 200,
        "workers": 5,
        "kinds": {"principal: school page": kind, "Aggregated": {**kind, "failures": 1}},
        "memory_start": {"web": 100.0, "database": 50.0, "database_connections": 8},
        "memory_end": {"web": 105.0, "database": 60.0, "database_connections": 8},
        "background": {"imports": 3, "exports": 9, "errors": []},
    }
    rows = {row.metric.split(": ", 1)[1]: row for row in soak.results(figures)}

    assert rows["errors"].value == 1 and rows["errors"].meets is False
    assert rows["principal: school page"].value == 200.0
    assert rows["web memory at the end"].meets is True
    assert rows["database memory at the end"].meets is False  # 1.2 times the start


def test_a_processs_private_memory_grows_with_what_it_allocates_and_not_with_shared_pages_it_touches():
    before = soak._private_kib(os.getpid())
    held = bytearray(32 * 1024 * 1024)  # written, so its pages are the process's own
    grown = soak._private_kib(os.getpid())
    shared = mmap.mmap(-1, 32 * 1024 * 1024, flags=mmap.MAP_SHARED)
    shared.write(b"x" * len(shared))  # touched by this process alone, but a shared mapping
    after_shared = soak._private_kib(os.getpid())
    assert grown - before >= 30 * 1024
    assert after_shared - grown < 4 * 1024
    del held
    shared.close()
