"""What is due (students.worklist): the rules, in Python and in SQL, and who sees whose work."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from counties.models import Role
from students import worklist
from students.access import cases_visible_to
from students.choices import HandoverReason, Status
from students.handover import handover_accept, handover_request
from students.models import ClosureReason, DropoutCase
from students.services import case_change_status, case_reopen_on_relapse
from tests.case_steps import days_ago, returned, visit
from tests.factories import UserFactory, open_case

pytestmark = pytest.mark.django_db


def due_ids(user, section: str) -> list[int]:
    today = timezone.localdate()
    cases = cases_visible_to(user)
    queryset = {
        worklist.FOLLOW_UPS: worklist.follow_ups_due,
        worklist.NO_VISIT: worklist.no_visit,
        worklist.RETENTION: worklist.retention_checks_due,
    }[section](cases, today)
    return list(queryset.values_list("pk", flat=True))


# --- Retention checks: the rule, and the same rule in SQL ------------------------------------------------------

# (returned days ago, checks days ago) -> the state of the 30-day and the 90-day check.
RETENTION_CASES = [
    ((10, ()), ("upcoming", "upcoming")),
    ((30, ()), ("due", "upcoming")),  # due on its day
    ((35, (4,)), ("done", "upcoming")),  # checked on day 31
    ((35, (10,)), ("done", "upcoming")),  # checked on day 25: within the week before the due date
    ((35, (20,)), ("due", "upcoming")),  # checked on day 15: too early to count
    ((100, (70,)), ("done", "due")),  # the 90-day check is due
    ((100, (70, 9)), ("done", "done")),
    ((100, (5,)), ("done", "done")),  # one late check counts for every due date before it
    ((150, ()), ("lapsed", "due")),  # the 30-day check lapsed 30 days ago, the 90-day one is due
    ((200, ()), ("lapsed", "lapsed")),  # a return long ago expects no check any more
    ((180, ()), ("lapsed", "due")),  # the last day a check is listed: 90 days after its due date
]


@pytest.mark.parametrize(("history", "states"), RETENTION_CASES)
def test_retention_checks_are_due_30_and_90_days_after_return_until_they_lapse(history, states):
    back, checks = history
    today = timezone.localdate()
    found = worklist.retention_checks(days_ago(back), [days_ago(n) for n in checks], today)
    assert [check.state for check in found] == list(states)
    assert [check.due_on for check in found] == [days_ago(back) + datetime.timedelta(d) for d in (30, 90)]


def test_the_sql_rule_lists_the_cases_the_python_rule_finds_due(area, users):
    cases = {}
    for n, ((back, checks), states) in enumerate(RETENTION_CASES):
        case = returned(
            open_case(area["school"], dropout_date=days_ago(back + 30 + n)),
            days_ago(back),
            [days_ago(c) for c in checks],
        )
        cases[case.pk] = states
    due = worklist.retention_checks_due(DropoutCase.objects.all(), timezone.localdate())
    found = {case.pk: case.retention_check for case in due}
    expected = {
        pk: (90 if states[1] == "due" else 30) for pk, states in cases.items() if "due" in states
    }  # the latest check due
    assert found == expected


@override_settings(RETENTION_CHECK_DAYS=(14, 60), RETENTION_CHECK_LISTED_DAYS=30)
def test_the_due_days_and_the_cut_off_are_settings(area):
    two_weeks = returned(open_case(area["school"], dropout_date=days_ago(100)), days_ago(15))
    returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(95))  # both lapsed
    assert [
        (c.pk, c.retention_check) for c in worklist.retention_checks_due(DropoutCase.objects.all(), days_ago(0))
    ] == [(two_weeks.pk, 14)]


def test_a_child_returned_in_2019_is_not_due_a_check_today(area):
    returned(open_case(area["school"], dropout_date=datetime.date(2019, 3, 1)), datetime.date(2019, 6, 1))
    assert worklist.retention_checks_due(DropoutCase.objects.all(), timezone.localdate()).count() == 0


def test_a_relapsed_or_closed_case_is_due_no_check(area):
    case = returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(40))
    case_reopen_on_relapse(case=case, dropout_date=days_ago(5), reason="poverty", grade=7)
    assert due_ids(UserFactory(role=Role.PRINCIPAL, school=area["school"]), worklist.RETENTION) == []


@pytest.fixture
def far_official(area):
    return UserFactory(role=Role.COUNTY, division=area["far"])


def hand_over(case, area, far_official, county_official, day):
    handover = handover_request(case=case, to_county=area["county"], reason=HandoverReason.OTHER, user=far_official)
    handover_accept(handover=handover, to_school=area["school"], handed_over_on=day, user=county_official)
    case.refresh_from_db()
    return case


def test_a_handover_of_a_returned_child_is_not_a_return(area, users, far_official):
    case = returned(open_case(area["far_school"], dropout_date=days_ago(100)), days_ago(40))
    hand_over(case, area, far_official, users["county"], days_ago(5))
    assert case.events.filter(from_status=Status.RETURNED, to_status=Status.RETURNED).exists()
    # Due 30 days after the return, not after the handover; now in the receiving county's list.
    found = worklist.retention_checks_due(cases_visible_to(users["county"]), timezone.localdate())
    assert [(c.pk, c.retention_check) for c in found] == [(case.pk, 30)]
    assert due_ids(far_official, worklist.RETENTION) == []


def test_a_handover_of_a_child_checked_at_30_days_is_not_a_retention_check(area, users, far_official):
    case = returned(open_case(area["far_school"], dropout_date=days_ago(200)), days_ago(100), checks=[days_ago(70)])
    hand_over(case, area, far_official, users["county"], days_ago(5))
    # The 30-day check and the handover both keep the status "returned"; only the check counts.
    assert case.events.filter(from_status=Status.RETURNED, to_status=Status.RETURNED).count() == 2
    assert [
        c.state for c in worklist.retention_checks(case.returned_on, worklist.case_check_dates(case), days_ago(0))
    ] == [
        "done",
        "due",
    ]
    assert due_ids(users["county"], worklist.RETENTION) == [case.pk]


# --- Visits ------------------------------------------------------------------------------------------------------


def test_follow_ups_are_due_from_the_date_the_latest_visit_set(area, users):
    today_case = open_case(area["school"], dropout_date=days_ago(40))
    visit(today_case, days_ago(10), next_follow_up=days_ago(0))
    late = open_case(area["school"], dropout_date=days_ago(40))
    visit(late, days_ago(10), next_follow_up=days_ago(3))
    tomorrow = open_case(area["school"], dropout_date=days_ago(40))
    visit(tomorrow, days_ago(10), next_follow_up=days_ago(-1))
    visited_since = open_case(area["school"], dropout_date=days_ago(40))
    visit(visited_since, days_ago(10), next_follow_up=days_ago(3))
    visit(visited_since, days_ago(2))  # the latest visit set no date
    closed = open_case(area["school"], dropout_date=days_ago(40))
    visit(closed, days_ago(10), next_follow_up=days_ago(3))
    case_change_status(
        case=closed,
        to_status=Status.CLOSED,
        effective_date=days_ago(1),
        closure_reason=ClosureReason.objects.get(code="unable_to_study"),
    )
    assert due_ids(users["principal"], worklist.FOLLOW_UPS) == [late.pk, today_case.pk]


def test_open_cases_with_no_visit_for_30_days_are_listed_once(area, users):
    never = open_case(area["school"], dropout_date=days_ago(40))
    stale = open_case(area["school"], dropout_date=days_ago(60))
    visit(stale, days_ago(31))
    open_case(area["school"], dropout_date=days_ago(20))  # on the ledger for less than 30 days
    recent = open_case(area["school"], dropout_date=days_ago(60))
    visit(recent, days_ago(29))
    follow_up = open_case(area["school"], dropout_date=days_ago(60))
    visit(follow_up, days_ago(40), next_follow_up=days_ago(5))  # a follow-up due: listed there only
    assert due_ids(users["principal"], worklist.NO_VISIT) == [never.pk, stale.pk]
    assert due_ids(users["principal"], worklist.FOLLOW_UPS) == [follow_up.pk]
    counts = worklist.due_counts(users["principal"], timezone.localdate())
    assert counts == {"follow_ups": 1, "no_visit": 2, "retention": 0, "handovers": 0, "spot_checks": 0}


# --- Whose work ----------------------------------------------------------------------------------------------------


def test_a_principal_counts_only_their_schools_work_and_the_county_all_of_its_schools(area, users):
    open_case(area["school"], dropout_date=days_ago(40))
    open_case(area["other_school"], dropout_date=days_ago(40))
    returned(open_case(area["other_school"], dropout_date=days_ago(100)), days_ago(35))
    open_case(area["neighbour_school"], dropout_date=days_ago(40))
    today = timezone.localdate()
    assert worklist.due_counts(users["principal"], today) == {
        "follow_ups": 0,
        "no_visit": 1,
        "retention": 0,
        "handovers": 0,
        "spot_checks": 0,
    }
    assert worklist.due_counts(users["other_principal"], today)["retention"] == 1
    assert worklist.due_counts(users["county"], today) == {
        "follow_ups": 0,
        "no_visit": 2,
        "retention": 1,
        "handovers": 0,
        "spot_checks": 0,
    }


def test_only_county_officials_and_principals_have_a_work_list(users):
    assert {role for role, user in users.items() if worklist.has_work_list(user)} == {
        "county",
        "neighbour_county",
        "principal",
        "other_principal",
    }
    assert not worklist.has_work_list(UserFactory(role=Role.ADMIN, is_superuser=True))
