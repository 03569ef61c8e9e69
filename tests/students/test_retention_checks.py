"""Retention checks as issue work describes them: the school records "still in school" with the date it saw the
child, or a relapse that opens a new case; a check overdue is on the work list and the county's dashboard; and a
child counts as retained only once the last configured check (90 days) is done."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils.html import strip_tags

from students import worklist
from students.choices import Status
from students.forms import ChangeStatusForm
from students.models import DropoutCase
from students.services import case_record_retention_check
from tests.case_steps import days_ago, returned
from tests.factories import StudentFactory, open_case

pytestmark = pytest.mark.django_db


def _retained_in_case_list(client) -> int:
    return client.get(reverse("students:case-list"), {"status": Status.RETAINED}).context["paginator"].count


def test_a_90_day_retention(client, users, area):
    case = returned(
        open_case(area["school"], student=StudentFactory(name="桑青卓玛"), dropout_date=days_ago(130)), days_ago(100)
    )
    client.force_login(users["principal"])
    detail = reverse("students:case-detail", args=[case.pk])
    check = reverse("students:case-retention-check", args=[case.pk])

    # The 30-day check, seen on day 31: recorded with that date, and the child is not yet retained.
    client.post(check, {"version": case.version, "checked_on": days_ago(69).isoformat(), "note": "在班上"})
    case.refresh_from_db()
    event = case.events.order_by("pk").last()
    assert (event.from_status, event.to_status, event.effective_date) == (
        Status.RETURNED,
        Status.RETURNED,
        days_ago(69),
    )
    assert case.status == Status.RETURNED
    assert [
        c.state for c in worklist.retention_checks(case.returned_on, worklist.case_check_dates(case), days_ago(0))
    ] == [
        "done",
        "due",
    ]
    assert _retained_in_case_list(client) == 0

    # The 90-day check is due: on the work list and on the county's dashboard.
    work = " ".join(strip_tags(client.get(reverse("students:work-list")).content.decode()).split())
    assert "90-day check due" in work
    client.force_login(users["county"])
    dashboard = client.get(reverse("reports:division", args=[area["county"].code]))
    assert [row["case"].pk for row in dashboard.context["ledger"]["retention"].cases] == [case.pk]

    # Seen again today: now the child counts as retained, everywhere retained children are counted.
    client.force_login(users["principal"])
    response = client.post(check, {"version": case.version, "checked_on": days_ago(0).isoformat(), "note": "仍在校"})
    assert response.status_code == 302 and response["Location"] == detail
    case.refresh_from_db()
    assert case.status == Status.RETAINED
    assert worklist.retention_checks_due(DropoutCase.objects.filter(pk=case.pk), days_ago(0)).count() == 0
    assert _retained_in_case_list(client) == 1


def test_one_late_check_after_the_last_due_date_retains_the_child(area):
    case = returned(open_case(area["school"], dropout_date=days_ago(130)), days_ago(100))
    case_record_retention_check(case=case, checked_on=days_ago(5))
    case.refresh_from_db()
    assert case.status == Status.RETAINED


def test_a_check_within_the_week_before_the_last_due_date_retains_the_child(area):
    case = returned(open_case(area["school"], dropout_date=days_ago(130)), days_ago(100))
    case_record_retention_check(case=case, checked_on=days_ago(100 - 84))
    case.refresh_from_db()
    assert case.status == Status.RETAINED


@override_settings(RETENTION_CHECK_DAYS=(30, 90, 180))
def test_retained_follows_the_last_configured_check(area):
    case = returned(open_case(area["school"], dropout_date=days_ago(230)), days_ago(200), checks=[days_ago(170)])
    case_record_retention_check(case=case, checked_on=days_ago(110))
    case.refresh_from_db()
    assert case.status == Status.RETURNED  # the 90-day check is not the last one any more
    case_record_retention_check(case=case, checked_on=days_ago(20))
    case.refresh_from_db()
    assert case.status == Status.RETAINED


def test_the_status_form_cannot_mark_a_child_retained(client, users, area):
    case = returned(open_case(area["school"], dropout_date=days_ago(130)), days_ago(100))
    assert Status.RETAINED not in ChangeStatusForm.next_statuses(case)
    client.force_login(users["county"])
    response = client.post(
        reverse("students:case-status", args=[case.pk]),
        {"version": case.version, "to_status": Status.RETAINED, "effective_date": days_ago(60).isoformat()},
    )
    assert response.status_code == 200  # the form comes back with its error
    case.refresh_from_db()
    assert case.status == Status.RETURNED and not case.events.filter(to_status=Status.RETAINED).exists()


def test_the_school_records_a_relapse_which_opens_a_new_case(client, users, area):
    case = returned(open_case(area["school"], dropout_date=days_ago(130)), days_ago(100), checks=[days_ago(69)])
    client.force_login(users["principal"])
    response = client.post(
        reverse("students:case-relapse", args=[case.pk]),
        {"version": case.version, "dropout_date": days_ago(3).isoformat(), "reason": "work", "grade": 8, "note": ""},
    )
    case.refresh_from_db()
    new = case.student.cases.get(previous_case=case)
    assert response["Location"] == reverse("students:case-detail", args=[new.pk])
    assert case.status == Status.RELAPSED and new.status == Status.DROPPED_OUT and new.dropout_date == days_ago(3)


def test_a_check_before_the_last_change_is_refused_and_changes_nothing(area):
    case = returned(open_case(area["school"], dropout_date=days_ago(130)), days_ago(100), checks=[days_ago(60)])
    with pytest.raises(ValidationError, match="before the last recorded change"):
        case_record_retention_check(case=case, checked_on=days_ago(65))
    case.refresh_from_db()
    assert case.status == Status.RETURNED and case.events.count() == 3
