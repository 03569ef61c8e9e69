"""Writes to one case at the same moment, from threads with connections of their own, as a busy county makes them.

Every write to a case takes the case's row lock and decides on the case as it is under the lock: a form built on
an older version is refused with a message (and nothing of it is lost), a visit to a case closed meanwhile is
refused, and nothing answers 500.
"""

import datetime
import re
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from students.choices import ResponsibleRole, Status, VisitMethod, VisitorRole, VisitOutcome
from students.models import CaseEvent, ClosureReason, PersuasionVisit, ResponsiblePersonChange
from students.services import visit_record
from tests.factories import open_case

pytestmark = pytest.mark.django_db(transaction=True)

DROPPED = datetime.date(2019, 3, 1)
STALE = "Someone else changed this case while you were editing it."
VERSION = re.compile(r'name="version" value="(\d+)"')


def run_in_threads(count: int, work) -> list:
    """Runs work(i) in `count` threads started together; returns each one's result or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - the test reports what each thread met
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_eight_saves_of_responsible_persons_at_once_one_wins_each_version_the_others_are_told(area, users):
    case = open_case(area["school"], dropout_date=DROPPED)
    url = reverse("students:case-responsible", args=[case.pk])
    clients = [signed_in(users["county"]) for _ in range(8)]

    def save(i: int) -> list[tuple[int, int, str]]:
        """Posts the thread's names, first on the version the page showed, then on each version it is shown
        after a refusal, until it is saved; returns (version sent, status, message) of every attempt."""
        attempts, version = [], case.version
        for _ in range(8):
            response = clients[i].post(
                url,
                {
                    "version": version,
                    f"name_{ResponsibleRole.PRINCIPAL}": f"校长{i}",
                    f"phone_{ResponsibleRole.PRINCIPAL}": f"1390000000{i}",
                    f"name_{ResponsibleRole.VILLAGE_HEAD}": f"村长{i}",
                },
            )
            body = response.content.decode()
            attempts.append((version, response.status_code, STALE if STALE in body else ""))
            if response.status_code != 409:
                break
            version = int(VERSION.search(body).group(1))
        return attempts

    results = run_in_threads(8, save)

    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == [], errors
    attempts = [attempt for result in results for attempt in result]
    assert {status for _version, status, _message in attempts} <= {302, 409}, attempts
    # Each version is saved once; every other form sent on it is refused with the message.
    saved_versions = sorted(version for version, status, _message in attempts if status == 302)
    assert saved_versions == list(range(1, 9))
    assert all(message == STALE for _version, status, message in attempts if status == 409)
    assert sum(1 for version, status, _message in attempts if version == 1 and status == 302) == 1
    case.refresh_from_db()
    assert case.version == 9
    # The history holds every accepted change, each from what the one before left.
    changes = list(ResponsiblePersonChange.objects.filter(case=case).order_by("at", "pk"))
    assert len(changes) == 8
    assert changes[0].changes[ResponsibleRole.PRINCIPAL][0] is None
    for before, after in zip(changes, changes[1:], strict=False):
        assert after.changes[ResponsibleRole.PRINCIPAL][0] == before.changes[ResponsibleRole.PRINCIPAL][1]
    last = changes[-1].changes[ResponsibleRole.PRINCIPAL][1]
    assert case.responsible_persons.get(role=ResponsibleRole.PRINCIPAL).name == last["name"]
    assert all(change.changed_by == users["county"] for change in changes)


@pytest.fixture
def slow_visits(monkeypatch):
    """Each visit takes a moment between its checks and its row, as a busy server's would: a check made on a copy
    read before the case was locked lets a visit through after the case is closed."""
    save = PersuasionVisit.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.05)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(PersuasionVisit, "save", slow_save)


def test_visits_posted_while_the_case_is_closed_are_never_recorded_after_the_closing_event(area, users, slow_visits):
    case = open_case(area["school"], dropout_date=DROPPED)
    visit_record(
        case=case,
        visit_date=DROPPED + datetime.timedelta(days=1),
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "王校长"}],
        method=VisitMethod.PHONE,
        outcome=VisitOutcome.REFUSED,
    )
    case.refresh_from_db()
    assert case.status == Status.PERSUADING
    reason = ClosureReason.objects.first() or ClosureReason.objects.create(code="moved", name="Moved away")
    clients = [signed_in(users["county"]) for _ in range(11)]

    def act(i: int):
        if i == 5:
            return clients[i].post(
                reverse("students:case-close", args=[case.pk]),
                {"version": case.version, "effective_date": "2019-05-01", "closure_reason": reason.pk},
            )
        return clients[i].post(
            reverse("students:case-visit", args=[case.pk]),
            {
                "version": case.version,
                "visit_date": "2019-04-02",
                "method": VisitMethod.HOME_VISIT,
                "outcome": VisitOutcome.AGREED,
                "visitor_role_0": VisitorRole.VILLAGE_CADRE,
                "visitor_name_0": f"扎西{i}",
            },
        )

    results = run_in_threads(11, act)

    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == [], errors
    assert results[5].status_code == 302
    closing = CaseEvent.objects.get(case=case, to_status=Status.CLOSED)
    visits = PersuasionVisit.objects.filter(case=case)
    assert [visit.pk for visit in visits if visit.recorded_at > closing.recorded_at] == []
    for i, response in enumerate(results):
        if i == 5:
            continue
        assert response.status_code in (200, 302), (i, response.status_code)
        if response.status_code == 200:
            assert "Visits are recorded on open cases only." in response.content.decode()
    recorded = sum(1 for i, response in enumerate(results) if i != 5 and response.status_code == 302)
    assert visits.count() == recorded + 1


def test_first_visits_posted_at_once_on_a_fresh_case_are_all_recorded_with_one_status_change(area, users):
    case = open_case(area["school"], dropout_date=DROPPED)
    url = reverse("students:case-visit", args=[case.pk])
    clients = [signed_in(users["county"]) for _ in range(8)]

    def post(i: int) -> int:
        return (
            clients[i]
            .post(
                url,
                {
                    "version": case.version,
                    "visit_date": "2019-03-05",
                    "method": VisitMethod.HOME_VISIT,
                    "outcome": VisitOutcome.REFUSED,
                    "visitor_role_0": VisitorRole.PRINCIPAL,
                    "visitor_name_0": f"王校长{i}",
                    "notes": f"Visit {i}",
                },
            )
            .status_code
        )

    assert run_in_threads(8, post) == [302] * 8
    assert PersuasionVisit.objects.filter(case=case).count() == 8
    assert list(CaseEvent.objects.filter(case=case).values_list("to_status", flat=True).order_by("pk")) == [
        Status.DROPPED_OUT,
        Status.PERSUADING,
    ]
