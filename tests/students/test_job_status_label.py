"""A check that found problems in a file is not listed as a success: its user has a file to correct."""

import pytest
from django.urls import reverse
from django.utils import translation

from students.models import JobKind, JobStatus, LedgerJob

pytestmark = pytest.mark.django_db


def import_job(users, area, *, dry_run: bool, problems: int) -> LedgerJob:
    return LedgerJob.objects.create(
        kind=JobKind.IMPORT,
        status=JobStatus.SUCCEEDED,
        requested_by=users["county"],
        county=area["county"],
        params={"dry_run": dry_run, "filename": f"ledger-{problems}.xlsx"},
        counts={"rows": 40, "problems": problems, "bad_rows": min(problems, 5)},
        report={"problems": [], "warnings": []},
    )


def test_the_recent_imports_list_a_check_with_problems_as_such(client, users, area):
    import_job(users, area, dry_run=True, problems=7)
    import_job(users, area, dry_run=True, problems=0)
    client.force_login(users["county"])
    page = client.get(reverse("students:import-upload", args=[area["county"].code])).content.decode()
    assert "ledger-7.xlsx</a>" in page and "Check found problems" in page
    assert "Check finished" in page  # the clean one
    assert "Succeeded" not in page


def test_the_job_page_and_its_status_say_the_check_found_problems(client, users, area):
    job = import_job(users, area, dry_run=True, problems=7)
    client.force_login(users["county"])
    assert "Check found problems" in client.get(reverse("students:job-detail", args=[job.pk])).content.decode()
    assert client.get(reverse("students:job-status", args=[job.pk])).json()["status_label"] == "Check found problems"


def test_each_outcome_has_its_own_label(users, area):
    with translation.override("en"):
        assert import_job(users, area, dry_run=False, problems=3).status_label.startswith("Import found problems")
        assert import_job(users, area, dry_run=False, problems=0).status_label == "Import finished"
        export = LedgerJob.objects.create(kind=JobKind.EXPORT, status=JobStatus.SUCCEEDED, requested_by=users["county"])
        assert export.status_label == "Succeeded"
        assert "Succeeded" not in str(import_job(users, area, dry_run=True, problems=7))
