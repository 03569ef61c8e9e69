"""The read replica's router, run with a second database alias (a mirror of the test database, settings/test.py).

Which connection a query used is told by the connection's own query log: the replica alias has a connection
of its own, on the same database, so everything committed is there to read from it.
"""

import datetime

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dropout_ledger.db_router import STICKY_COOKIE, PrimaryReplicaRouter, reads_from_replica
from students.models import DropoutCase
from tests.factories import open_case

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(autouse=True)
def replica_reads(settings):
    settings.DATABASE_REPLICA_READS = True


def queries_on(alias: str, work) -> list[str]:
    with CaptureQueriesContext(connections[alias]) as captured:
        work()
    return [query["sql"] for query in captured.captured_queries]


def case_table_queries(alias: str, work) -> list[str]:
    return [sql for sql in queries_on(alias, work) if "students_dropoutcase" in sql]


def test_outside_a_request_everything_reads_the_primary(area):
    open_case(area["school"])
    assert case_table_queries("replica", lambda: list(DropoutCase.objects.all())) == []


def test_a_read_only_block_reads_the_replica_until_it_writes(area):
    case = open_case(area["school"])
    with reads_from_replica():
        assert case_table_queries("replica", lambda: DropoutCase.objects.get(pk=case.pk))
        DropoutCase.objects.filter(pk=case.pk).update(grade=8)
        # From its first write on, the block reads what it wrote: the primary.
        assert case_table_queries("replica", lambda: DropoutCase.objects.get(pk=case.pk)) == []


def test_reads_inside_a_transaction_stay_on_the_primary(area):
    case = open_case(area["school"])
    with reads_from_replica(), transaction.atomic():
        assert case_table_queries("replica", lambda: DropoutCase.objects.get(pk=case.pk)) == []


def test_sessions_are_always_read_from_the_primary_and_writing_one_pins_nothing():
    from django.contrib.sessions.models import Session

    router = PrimaryReplicaRouter()
    with reads_from_replica():
        assert router.db_for_read(Session) == "default"
        router.db_for_write(Session)
        assert router.db_for_read(DropoutCase) == "replica"


def test_migrations_run_on_the_primary_only():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate("default", "students") and not router.allow_migrate("replica", "students")


def test_a_dashboard_reads_the_replica_and_a_form_sent_keeps_the_browser_on_the_primary(client, users, area):
    case = open_case(area["school"], dropout_date=datetime.date(2019, 3, 1))
    client.force_login(users["county"])
    case_list = reverse("students:case-list")

    assert case_table_queries("replica", lambda: client.get(case_list))

    response = client.post(
        reverse("students:case-visit", args=[case.pk]),
        {
            "version": case.version,
            "visit_date": "2019-03-05",
            "method": "home_visit",
            "outcome": "refused",
            "visitor_role_0": "principal",
            "visitor_name_0": "王校长",
        },
    )
    assert response.status_code == 302
    assert STICKY_COOKIE in response.cookies
    # The page the form leads back to, and what follows for a while, read what was just saved.
    assert case_table_queries("replica", lambda: client.get(response["Location"])) == []
    assert case_table_queries("replica", lambda: client.get(case_list)) == []


def test_without_a_replica_nothing_changes(client, users, area, settings):
    settings.DATABASE_REPLICA_READS = False
    open_case(area["school"])
    client.force_login(users["county"])
    assert case_table_queries("replica", lambda: client.get(reverse("students:case-list"))) == []
