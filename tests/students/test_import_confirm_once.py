"""One import per check: a second "Import now" (a second click, a second tab, two at once) shows the first."""

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from students.models import DropoutCase, JobKind, JobStatus, LedgerJob
from tests.students.ledger_files import ledger_row, write_csv
from tests.students.test_import_jobs import upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def checked(client, area, users, tmp_path, capture) -> LedgerJob:
    client.force_login(users["county"])
    path = write_csv(tmp_path / "ledger.csv", [ledger_row(area["school"], n) for n in range(3)])
    upload(client, area["county"], path, capture)
    return LedgerJob.objects.get()


def test_a_second_confirmation_shows_the_first_import(
    client, area, users, tmp_path, django_capture_on_commit_callbacks
):
    check = checked(client, area, users, tmp_path, django_capture_on_commit_callbacks)
    url = reverse("students:import-confirm", args=[check.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url)
    imports = LedgerJob.objects.filter(params__dry_run=False)
    assert imports.count() == 1
    assert first.url == second.url == reverse("students:job-detail", args=[imports.get().pk])
    assert imports.get().checked_by == check
    assert DropoutCase.objects.count() == 3
    page = client.get(reverse("students:job-detail", args=[check.pk])).content.decode()
    assert "This file was imported: see the import" in page


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_start_one_import(area, users, tmp_path, django_capture_on_commit_callbacks):
    client = Client()
    check = checked(client, area, users, tmp_path, django_capture_on_commit_callbacks)
    url = reverse("students:import-confirm", args=[check.pk])
    barrier = threading.Barrier(2)
    answers = []

    def confirm():
        other = Client()
        other.force_login(users["county"])
        barrier.wait()
        try:
            answers.append(other.post(url).url)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    imports = LedgerJob.objects.filter(kind=JobKind.IMPORT, params__dry_run=False)
    assert imports.count() == 1
    assert answers == [reverse("students:job-detail", args=[imports.get().pk])] * 2
    assert imports.get().status in (JobStatus.SUCCEEDED, JobStatus.QUEUED, JobStatus.RUNNING)
