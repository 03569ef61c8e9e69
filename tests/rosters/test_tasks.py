"""The comparison's job: sent once committed, waiting while the queue is down, run once, failed when lost."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from rosters import services, tasks
from rosters.models import Candidate, RosterComparison, RosterKind
from students.models import JobStatus
from tests.rosters.helpers import AS_OF, county

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def start(area, users, capture) -> RosterComparison:
    generated = county(area, children=20)
    files = {
        kind: SimpleUploadedFile(f"{kind}.csv", generated.csv_bytes(kind))
        for kind in (RosterKind.HOUSEHOLD, RosterKind.REGISTRY)
    }
    with capture(execute=True):
        comparison = services.comparison_start(
            county=area["county"], as_of=AS_OF, files=files, user=users["county"], language="en"
        )
    comparison.refresh_from_db()
    return comparison


def test_a_comparison_waits_while_the_queue_is_down_and_the_sweep_sends_it(
    area, users, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks, "send", lambda task, *args: False)
    comparison = start(area, users, django_capture_on_commit_callbacks)
    assert (comparison.status, comparison.sent_at) == (JobStatus.QUEUED, None)
    assert "Waiting for the task queue" in comparison.status_label
    monkeypatch.undo()
    tasks.sweep_comparisons()
    comparison.refresh_from_db()
    assert comparison.status == JobStatus.SUCCEEDED and comparison.sent_at is not None
    assert Candidate.objects.filter(comparison=comparison).count() == 1


def test_a_comparison_delivered_twice_runs_once(area, users, django_capture_on_commit_callbacks):
    comparison = start(area, users, django_capture_on_commit_callbacks)
    listed = Candidate.objects.filter(comparison=comparison).count()
    tasks.run_comparison(comparison.pk)
    assert Candidate.objects.filter(comparison=comparison).count() == listed == 1


def test_a_comparison_whose_worker_was_lost_is_failed_by_its_page_and_by_the_sweep(
    client, area, users, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks, "send", lambda task, *args: False)
    lost, also_lost = (start(area, users, django_capture_on_commit_callbacks) for _ in range(2))
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    RosterComparison.objects.filter(pk__in=[lost.pk, also_lost.pk]).update(
        status=JobStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago
    )
    client.force_login(users["county"])
    page = client.get(reverse("rosters:comparison-detail", args=[lost.pk])).content.decode()
    assert "Stopped before finishing" in page
    assert tasks.sweep_comparisons() == 1
    also_lost.refresh_from_db()
    assert also_lost.status == JobStatus.FAILED


def test_a_comparison_of_rosters_that_cannot_be_compared_is_refused(area, users):
    generated = county(area, children=5)
    files = {RosterKind.ATTENDANCE: SimpleUploadedFile("a.csv", generated.csv_bytes(RosterKind.ATTENDANCE))}
    with pytest.raises(services.ValidationError):
        services.comparison_start(county=area["county"], as_of=AS_OF, files=files, user=users["county"])
    assert not RosterComparison.objects.exists()
