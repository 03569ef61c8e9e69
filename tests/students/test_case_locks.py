"""Every write to a case decides on the case as it is under its row lock, never on the caller's copy.

A page loads a case, and a colleague changes it before the form comes back: the copy the view holds is older than
the ledger. Each test here hands a service such a copy (read before the change) and checks the service refuses
what the case as it is now does not allow. tests/students/test_case_write_races.py makes the same moments with
threads.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from counties.models import Role
from students.choices import HandoverReason, HandoverStatus, Status, VisitMethod, VisitorRole, VisitOutcome
from students.handover import handover_accept, handover_claim, handover_request
from students.models import ClosureReason, DropoutCase, Handover, PersuasionVisit
from students.services import case_change_status, case_held, visit_record
from tests.factories import UserFactory, open_case

pytestmark = pytest.mark.django_db

DROPPED = timezone.localdate() - datetime.timedelta(days=60)


@pytest.fixture
def case(area):
    """A case being persuaded: a visit to it is one more row, without a status change."""
    case = open_case(area["school"], dropout_date=DROPPED)
    record_visit(case)
    case.refresh_from_db()
    return case


def copy_of(case: DropoutCase) -> DropoutCase:
    return DropoutCase.objects.select_related("school", "county", "student").get(pk=case.pk)


def record_visit(case: DropoutCase, user=None) -> PersuasionVisit:
    return visit_record(
        case=case,
        visit_date=DROPPED + datetime.timedelta(days=2),
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "王校长"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.AGREED,
        user=user,
    )


def test_a_visit_on_a_copy_read_before_the_case_was_closed_is_refused(case, users):
    before = copy_of(case)
    case_change_status(
        case=case,
        to_status=Status.CLOSED,
        effective_date=DROPPED + datetime.timedelta(days=10),
        closure_reason=ClosureReason.objects.first(),
    )

    with pytest.raises(ValidationError) as refused:
        record_visit(before, users["county"])

    assert "Visits are recorded on open cases only." in refused.value.messages
    assert PersuasionVisit.objects.filter(case=case).count() == 1


def test_a_visit_on_a_copy_read_before_the_case_moved_away_is_refused(case, area, users):
    before = copy_of(case)
    moved(case, area, users)

    with pytest.raises(PermissionDenied):
        record_visit(before, users["county"])

    assert PersuasionVisit.objects.filter(case=case).count() == 1


def moved(case, area, users) -> DropoutCase:
    """The case handed over from the home county to the neighbour county."""
    neighbour = UserFactory(role=Role.COUNTY, division=area["neighbour"])
    handover = handover_request(
        case=case, to_county=area["neighbour"], reason=HandoverReason.MOVED_WITH_PARENTS, user=users["county"]
    )
    handover_accept(handover=handover, to_school=area["neighbour_school"], user=neighbour)
    case.refresh_from_db()
    return case


def test_a_handover_asked_on_a_copy_read_before_the_case_moved_away_is_refused(case, area, users):
    before = copy_of(case)
    moved(case, area, users)

    with pytest.raises(PermissionDenied):
        handover_request(
            case=before, to_county=area["far"], reason=HandoverReason.MOVED_WITH_PARENTS, user=users["county"]
        )

    assert not Handover.objects.filter(case=case, status=HandoverStatus.PENDING).exists()


def test_a_claim_on_a_copy_read_before_the_case_came_to_the_claiming_county_is_refused(case, area, users):
    before = copy_of(case)
    moved(case, area, users)
    neighbour = UserFactory(role=Role.COUNTY, division=area["neighbour"])

    with pytest.raises(ValidationError):
        handover_claim(case=before, reason=HandoverReason.MOVED_WITH_PARENTS, user=neighbour)

    assert not Handover.objects.filter(case=case, status=HandoverStatus.PENDING).exists()


def test_services_inside_a_held_case_decide_on_the_held_copy_without_reading_it_again(
    case, users, django_assert_num_queries
):
    official = users["county"]
    # The visit's insert only: no read of the case, no savepoint.
    with case_held(official, case.pk) as held, django_assert_num_queries(1):
        record_visit(held, user=official)
    assert PersuasionVisit.objects.filter(case=case).count() == 2


def test_a_service_refused_inside_a_held_case_rolls_back_the_whole_action(case, users):
    official = users["county"]
    with pytest.raises(ValidationError), case_held(official, case.pk) as held:
        record_visit(held, user=official)
        case_change_status(case=held, to_status=Status.DROPPED_OUT, effective_date=DROPPED, user=official)
    # The visit written before the refusal is gone with it, and the connection goes on working.
    assert PersuasionVisit.objects.filter(case=case).count() == 1
    assert DropoutCase.objects.get(pk=case.pk).status == Status.PERSUADING


@pytest.mark.parametrize("role", ["neighbour_county", "other_principal", "prefecture", "ministry"])
def test_a_held_case_is_read_through_the_users_write_scope(case, users, role):
    with pytest.raises(Http404), case_held(users[role], case.pk):
        pass
