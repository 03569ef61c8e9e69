import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, ProgrammingError, transaction

from students.choices import IdentitySource, Placement, Reason, Status, VisitMethod, VisitorRole, VisitOutcome
from students.models import CaseEvent, ClosureReason, IdentityChange
from students.services import (
    StaleCaseError,
    StudentData,
    case_change_status,
    case_mark_returned,
    case_open,
    case_reopen_on_relapse,
    visit_record,
)
from tests.database import as_owner
from tests.factories import StudentFactory, make_id_number, open_case

pytestmark = pytest.mark.django_db
D = datetime.date


def visit(case, day=D(2019, 6, 1), user=None):
    return visit_record(
        case=case,
        visit_date=day,
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "Principal Wang"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
        user=user,
    )


def test_opening_a_case_records_the_first_event(area):
    case = open_case(area["school"])
    assert case.status == Status.DROPPED_OUT
    assert case.county == area["county"]
    assert list(case.events.values_list("from_status", "to_status")) == [("", Status.DROPPED_OUT)]


def test_a_child_can_have_only_one_open_case(area):
    student = StudentFactory()
    open_case(area["school"], student=student)
    with pytest.raises(ValidationError, match="already has an open case"):
        open_case(area["far_school"], student=student)


def test_a_child_another_county_holds_is_refused_naming_only_that_county(area, users):
    student = StudentFactory(name="杨卓玛", address="Far county, Far town, 3 Main Street")
    earlier = open_case(area["far_school"], student=student, dropout_date=D(2018, 9, 1))
    case_mark_returned(case=earlier, returned_on=D(2019, 1, 10), placement=Placement.REGULAR_CLASS)
    data = StudentData(name="桑青卓玛", gender="F", birth_date=student.birth_date, id_number=student.id_number)
    with pytest.raises(ValidationError) as error:
        case_open(
            student=data,
            school=area["school"],
            grade=5,
            dropout_date=D(2019, 3, 1),
            reason=Reason.WORK,
            user=users["county"],
        )
    assert error.value.code == "held_elsewhere"
    assert error.value.messages == [
        "This child is on the ledger of another county (Far county); ask that county to hand the child over."
    ]
    student.refresh_from_db()
    assert student.name == "杨卓玛"
    assert not IdentityChange.objects.exists()


def test_a_known_childs_typed_details_are_applied_as_a_recorded_correction(area, users):
    student = StudentFactory(name="杨卓玛", guardian_name="杨建国")
    earlier = open_case(area["school"], student=student, dropout_date=D(2018, 9, 1))
    case_mark_returned(case=earlier, returned_on=D(2019, 1, 10), placement=Placement.REGULAR_CLASS)
    data = StudentData(name="杨卓玛", gender="F", birth_date=student.birth_date, id_number=student.id_number)
    data.guardian_phone = "13900004444"
    case = case_open(
        student=data,
        school=area["school"],
        grade=5,
        dropout_date=D(2019, 3, 1),
        reason=Reason.WORK,
        user=users["county"],
    )
    assert case.student_id == student.pk
    student.refresh_from_db()
    assert (student.guardian_name, student.guardian_phone) == ("杨建国", "13900004444")  # blank kept, typed applied
    change = IdentityChange.objects.get()
    assert (change.source, change.changed_by, change.changes) == (
        IdentitySource.FORM,
        users["county"],
        {"guardian_phone": ["", "13900004444"]},
    )


def test_new_student_with_bad_id_is_refused_with_reason(area):
    data = StudentData(name="张三", gender="M", birth_date=D(2008, 1, 1), id_number="110105194912310021")
    with pytest.raises(ValidationError) as error:
        case_open(student=data, school=area["school"], grade=5, dropout_date=D(2019, 1, 1), reason=Reason.WORK)
    assert "id_number" in error.value.message_dict


def test_birth_date_must_match_the_id_number(area):
    number = make_id_number("513230", D(2008, 1, 1), 11)
    data = StudentData(name="张三", gender="M", birth_date=D(2008, 1, 2), id_number=number)
    with pytest.raises(ValidationError) as error:
        case_open(student=data, school=area["school"], grade=5, dropout_date=D(2019, 1, 1), reason=Reason.WORK)
    assert "birth_date" in error.value.message_dict


def test_first_visit_moves_case_to_being_persuaded(area):
    case = open_case(area["school"])
    visit(case)
    case.refresh_from_db()
    assert case.status == Status.PERSUADING
    assert case.visits.count() == 1


def test_return_strikes_the_case_off_with_placement(area):
    case = open_case(area["school"])
    case_mark_returned(case=case, returned_on=D(2019, 9, 1), placement=Placement.REGULAR_CLASS)
    case.refresh_from_db()
    assert (case.status, case.struck_off_on, case.placement) == (
        Status.RETURNED,
        D(2019, 9, 1),
        Placement.REGULAR_CLASS,
    )


def test_return_needs_a_placement(area):
    case = open_case(area["school"])
    with pytest.raises(ValidationError) as error:
        case_mark_returned(case=case, returned_on=D(2019, 9, 1), placement="")
    assert "placement" in error.value.message_dict


def test_closing_needs_a_reason(area):
    case = open_case(area["school"])
    with pytest.raises(ValidationError):
        case_change_status(case=case, to_status=Status.CLOSED, effective_date=D(2019, 9, 1))
    reason = ClosureReason.objects.get(code="unable_to_study")
    case_change_status(case=case, to_status=Status.CLOSED, effective_date=D(2019, 9, 1), closure_reason=reason)
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.closure_reason == reason


@pytest.mark.parametrize(
    ("path", "forbidden"),
    [
        ([], Status.RETAINED),
        ([], Status.RELAPSED),
        ([Status.RETURNED], Status.PERSUADING),
        ([Status.RETURNED], Status.DROPPED_OUT),
        ([Status.RETURNED, Status.RETAINED], Status.RETURNED),
    ],
)
def test_forbidden_transitions_are_refused(area, path, forbidden):
    case = open_case(area["school"])
    for step in path:
        case_change_status(case=case, to_status=step, effective_date=D(2019, 9, 1), placement=Placement.REGULAR_CLASS)
    with pytest.raises(ValidationError, match="cannot go from"):
        case_change_status(case=case, to_status=forbidden, effective_date=D(2019, 10, 1))


def test_effective_date_cannot_go_backwards_or_into_the_future(area):
    case = open_case(area["school"], dropout_date=D(2019, 4, 1))
    with pytest.raises(ValidationError):
        case_mark_returned(case=case, returned_on=D(2019, 3, 1), placement=Placement.REGULAR_CLASS)
    with pytest.raises(ValidationError):
        case_mark_returned(
            case=case, returned_on=D.today() + datetime.timedelta(days=2), placement=Placement.REGULAR_CLASS
        )


def test_relapse_ends_the_episode_and_opens_a_new_one(area):
    case = open_case(area["school"])
    case_mark_returned(case=case, returned_on=D(2019, 9, 1), placement=Placement.REGULAR_CLASS)
    new_case = case_reopen_on_relapse(case=case, dropout_date=D(2020, 3, 1), reason=Reason.WORK)
    case.refresh_from_db()
    assert case.status == Status.RELAPSED
    assert new_case.previous_case == case
    assert new_case.status == Status.DROPPED_OUT
    assert new_case.student == case.student


def test_stale_form_is_refused(area):
    case = open_case(area["school"])
    loaded_version = case.version
    visit(case)  # a colleague's visit moved it to "being persuaded"
    with pytest.raises(StaleCaseError):
        case_mark_returned(
            case=case, returned_on=D(2019, 9, 1), placement=Placement.REGULAR_CLASS, expected_version=loaded_version
        )


def test_status_is_always_the_last_event(area):
    case = open_case(area["school"])
    visit(case)
    case_mark_returned(case=case, returned_on=D(2019, 9, 1), placement=Placement.SEPARATE_CLASS)
    case_change_status(case=case, to_status=Status.RETAINED, effective_date=D(2019, 10, 1))
    case.refresh_from_db()
    assert case.events.order_by("effective_date", "pk").last().to_status == case.status == Status.RETAINED


def test_events_cannot_be_edited_or_deleted(area):
    """The application's role has no right to; and the trigger refuses even the owner."""
    event = open_case(area["school"]).events.get()
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).delete()
    with as_owner():
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            CaseEvent.objects.filter(pk=event.pk).update(note="rewritten")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            CaseEvent.objects.filter(pk=event.pk).delete()


def test_principal_cannot_write_to_another_schools_case(area, users):
    case = open_case(area["other_school"])
    with pytest.raises(PermissionDenied):
        visit(case, user=users["principal"])


def test_ministry_cannot_write(area, users):
    case = open_case(area["school"])
    with pytest.raises(PermissionDenied):
        visit(case, user=users["ministry"])


def test_county_official_writes_in_own_county_only(area, users):
    visit(open_case(area["school"]), user=users["county"])
    with pytest.raises(PermissionDenied):
        visit(open_case(area["neighbour_school"]), user=users["county"])
