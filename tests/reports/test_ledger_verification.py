"""The ledger's hash chains verified every night, the result on the totals runs page and in the admin."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from counties.models import Role
from reports import tasks
from students.choices import VisitMethod, VisitorRole, VisitOutcome
from students.ledger_chain import ledger_verify
from students.models import LedgerVerification, VerificationTrigger
from students.services import visit_record
from tests.factories import UserFactory, open_case

pytestmark = pytest.mark.django_db


def visit(case, day=datetime.date(2019, 6, 1)):
    return visit_record(
        case=case,
        visit_date=day,
        visitors=[{"role": VisitorRole.CLASS_TEACHER, "name": "Teacher Li"}],
        method=VisitMethod.PHONE,
        outcome=VisitOutcome.REFUSED,
    )


def test_the_nightly_run_verifies_the_chains_that_gained_entries_since_the_last_verification(area):
    case = open_case(area["school"])
    other = open_case(area["far_school"])

    first = LedgerVerification.objects.get(pk=tasks.verify_ledger_nightly.delay().get())

    # The first night: everything recorded since the beginning of yesterday.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert timezone.localtime(first.since).date() == yesterday
    assert (first.trigger, first.ok, first.entries_checked) == (VerificationTrigger.NIGHTLY, True, 2)

    visit(case)
    second = LedgerVerification.objects.get(pk=tasks.verify_ledger_nightly.delay().get())

    assert second.since == first.started_at
    # The case's two events and its visit; nothing of the other case.
    assert second.entries_checked == 3
    assert list(second.counties.values_list("county_id", flat=True)) == [case.county_id]
    assert other.county_id != case.county_id


def test_the_verification_is_scheduled_every_night():
    task = PeriodicTask.objects.get(task="reports.tasks.verify_ledger_nightly")
    assert task.enabled and task.crontab is not None
    assert (task.crontab.day_of_week, task.crontab.day_of_month, task.crontab.month_of_year) == ("*", "*", "*")
    assert str(task.crontab.timezone) == "Asia/Shanghai"


def test_the_runs_page_shows_the_latest_verification(client, users, area):
    visit(open_case(area["school"]))
    ledger_verify()
    client.force_login(users["admin"])

    content = client.get(reverse("reports:runs")).content.decode()

    assert "Ledger verification" in content
    assert "3 entries of the history checked." in content
    assert "Every chain holds" in content


def test_the_runs_page_names_the_broken_links_of_the_latest_verification(client, users, area):
    LedgerVerification.objects.create(started_at=timezone.now(), trigger=VerificationTrigger.NIGHTLY, ok=True)
    LedgerVerification.objects.create(
        started_at=timezone.now(),
        finished_at=timezone.now(),
        trigger=VerificationTrigger.NIGHTLY,
        entries_checked=1200,
        broken_count=1,
        broken_links=[
            {
                "table": "students_persuasionvisit",
                "id": 41,
                "chain": 7,
                "position": 3,
                "county": area["county"].code,
                "county_name": area["county"].name,
                "problems": ["missing"],
            }
        ],
    )
    client.force_login(users["admin"])

    content = client.get(reverse("reports:runs")).content.decode()

    assert "1,200 entries of the history checked." in content
    assert "1 broken link in the ledger" in content
    home = f"Home county {area['county'].code}"
    assert f"persuasion visit #41 (case #7, entry 3; {home}): entries missing before it" in content


def test_the_admin_lists_the_last_verification_of_each_county(client, area):
    open_case(area["school"])
    open_case(area["far_school"])
    everywhere, _ = ledger_verify()
    far_only, _ = ledger_verify(county=area["far"])
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:students_countyverification_changelist"))

    assert response.status_code == 200
    shown = {(result.county_id, result.verification_id) for result in response.context_data["cl"].result_list}
    assert shown == {(area["county"].pk, everywhere.pk), (area["far"].pk, far_only.pk)}


def test_only_those_who_may_see_the_admin_see_the_verifications(client, users, area):
    open_case(area["school"])
    ledger_verify()
    official = users["county"]
    official.is_staff = True
    official.save()
    client.force_login(official)

    for name in ("admin:students_countyverification_changelist", "admin:students_ledgerverification_changelist"):
        assert client.get(reverse(name)).status_code != 200
