"""The monthly sign-off's workflow (reports.services.signoff): the county signs, the prefecture and the province
accept or send back with a note; each step is kept with who and when; what is signed is frozen, and a back-dated
event recorded afterwards is a correction against it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from counties.models import Role
from reports import signoff
from reports.models import MonthSignOff, SignOffAction, SignOffStatus, SignOffStep
from reports.selectors import Area, period_figures
from reports.services import touched
from reports.services.signoff import month_accept, month_send_back, month_sign
from students.choices import HandoverReason, Placement, VisitMethod, VisitorRole, VisitOutcome
from students.handover import handover_accept, handover_request
from students.services import case_mark_returned, visit_record
from tests.database import as_owner
from tests.factories import CountyFactory, SchoolFactory, UserFactory, open_case

from .signoff_support import DAY, published_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(settings, area):
    return published_ledger(settings, area)


def test_the_county_signs_the_months_figures_as_the_dashboards_compute_them(area, users, ledger):
    county = area["county"]
    sign_off = month_sign(county=county, month=ledger.month, user=users["county"])

    published = period_figures([Area.of_division(county)], ledger.month, signoff.month_end(ledger.month))[0]
    assert sign_off.figures == signoff.figures_as_stored(published)
    assert (sign_off.figures["open_count"], sign_off.figures["returned_count"]) == (2, 1)
    assert (sign_off.status, sign_off.signed_by) == (SignOffStatus.SIGNED, users["county"])
    step = sign_off.steps.get()
    assert (step.action, step.by, step.figures) == (SignOffAction.SIGN, users["county"], sign_off.figures)
    assert timezone.now() - step.at < datetime.timedelta(minutes=1)


def test_the_prefecture_then_the_province_accept_and_the_chain_keeps_who_and_when(area, users, ledger):
    county, month = area["county"], ledger.month
    month_sign(county=county, month=month, user=users["county"])
    assert (
        month_accept(county=county, month=month, user=users["prefecture"]).status == SignOffStatus.PREFECTURE_ACCEPTED
    )
    assert month_accept(county=county, month=month, user=users["province"]).status == SignOffStatus.ACCEPTED

    steps = list(MonthSignOff.objects.get(county=county, month=month).steps.values_list("action", "by"))
    assert steps == [
        (SignOffAction.SIGN, users["county"].pk),
        (SignOffAction.PREFECTURE_ACCEPT, users["prefecture"].pk),
        (SignOffAction.PROVINCE_ACCEPT, users["province"].pk),
    ]
    assert signoff.state_of(SignOffStatus.ACCEPTED, month, timezone.localdate()) == signoff.State.SIGNED


def test_the_prefecture_sends_back_with_a_note_and_the_county_signs_again(area, users, ledger):
    county, month = area["county"], ledger.month
    first = month_sign(county=county, month=month, user=users["county"]).signed_at
    sent_back = month_send_back(county=county, month=month, user=users["prefecture"], note="  Check the returns.  ")
    assert sent_back.status == SignOffStatus.SENT_BACK
    with pytest.raises(ValidationError, match="not waiting for you"):
        month_accept(county=county, month=month, user=users["province"])

    again = month_sign(county=county, month=month, user=users["county"])
    assert again.status == SignOffStatus.SIGNED and again.signed_at > first
    steps = list(again.steps.values_list("action", "by", "note"))
    assert steps == [
        (SignOffAction.SIGN, users["county"].pk, ""),
        (SignOffAction.SEND_BACK, users["prefecture"].pk, "Check the returns."),
        (SignOffAction.SIGN, users["county"].pk, ""),
    ]


def test_the_province_sends_back_what_the_prefecture_accepted(area, users, ledger):
    county, month = area["county"], ledger.month
    month_sign(county=county, month=month, user=users["county"])
    month_accept(county=county, month=month, user=users["prefecture"])
    assert month_send_back(county=county, month=month, user=users["province"], note="Wrong").status == "sent_back"
    assert signoff.next_role(SignOffStatus.SENT_BACK, county) == Role.COUNTY


def test_sending_back_needs_a_note(area, users, ledger):
    month_sign(county=area["county"], month=ledger.month, user=users["county"])
    with pytest.raises(ValidationError) as refused:
        month_send_back(county=area["county"], month=ledger.month, user=users["prefecture"], note="   ")
    assert "note" in refused.value.message_dict
    assert MonthSignOff.objects.get().status == SignOffStatus.SIGNED


def test_each_step_waits_for_the_one_before(area, users, ledger):
    county, month = area["county"], ledger.month
    with pytest.raises(ValidationError, match="not signed this month yet"):
        month_accept(county=county, month=month, user=users["prefecture"])
    month_sign(county=county, month=month, user=users["county"])
    with pytest.raises(ValidationError, match="not waiting for you"):
        month_accept(county=county, month=month, user=users["province"])  # the prefecture comes first
    with pytest.raises(ValidationError, match="not waiting for you"):
        month_sign(county=county, month=month, user=users["county"])  # signed already
    assert MonthSignOff.objects.get().steps.count() == 1


@pytest.mark.parametrize("role", ["prefecture", "province", "ministry", "admin", "principal", "neighbour_county"])
def test_only_the_countys_own_official_signs(area, users, ledger, role):
    with pytest.raises(PermissionDenied):
        month_sign(county=area["county"], month=ledger.month, user=users[role])
    assert not MonthSignOff.objects.exists()


@pytest.mark.parametrize("role", ["county", "neighbour_county", "ministry", "admin"])
def test_only_the_prefecture_and_the_province_accept(area, users, ledger, role):
    month_sign(county=area["county"], month=ledger.month, user=users["county"])
    with pytest.raises(PermissionDenied):
        month_accept(county=area["county"], month=ledger.month, user=users[role])
    with pytest.raises(PermissionDenied):
        month_send_back(county=area["county"], month=ledger.month, user=users[role], note="No")
    assert MonthSignOff.objects.get().status == SignOffStatus.SIGNED


def test_staff_of_another_prefecture_or_province_cannot_accept(area, users, ledger):
    far = area["far"]
    month_sign(county=area["county"], month=ledger.month, user=users["county"])
    for outsider in (
        UserFactory(role=Role.PREFECTURE, division=far.prefecture),
        UserFactory(role=Role.PROVINCE, division=far.province),
    ):
        with pytest.raises(PermissionDenied):
            month_accept(county=area["county"], month=ledger.month, user=outsider)


def test_a_county_without_a_prefecture_goes_straight_to_the_province(area, users, ledger):
    direct = CountyFactory(parent=area["province"], prefecture=None)
    official = UserFactory(role=Role.COUNTY, division=direct)
    month_sign(county=direct, month=ledger.month, user=official)
    with pytest.raises(PermissionDenied):
        month_accept(county=direct, month=ledger.month, user=users["prefecture"])
    assert month_accept(county=direct, month=ledger.month, user=users["province"]).status == SignOffStatus.ACCEPTED


def test_a_month_that_has_not_ended_cannot_be_signed(area, users, ledger):
    this_month = timezone.localdate().replace(day=1)
    with pytest.raises(ValidationError, match="has not ended yet"):
        month_sign(county=area["county"], month=this_month, user=users["county"])


def test_a_month_without_published_totals_cannot_be_signed(area, users, ledger):
    before = signoff.previous_month(ledger.earlier)  # before the baseline: no totals
    with pytest.raises(ValidationError, match="not all computed yet"):
        month_sign(county=area["county"], month=before, user=users["county"])


def test_months_before_the_first_month_are_not_signed(settings, area, users, ledger):
    settings.SIGN_OFF_FIRST_MONTH = ledger.month.strftime("%Y-%m")
    with pytest.raises(ValidationError, match="are not signed"):
        month_sign(county=area["county"], month=ledger.earlier, user=users["county"])
    assert signoff.months_shown(timezone.localdate()) == [ledger.month]


def test_no_month_before_the_ledger_opened_is_due(settings, ledger):
    settings.SIGN_OFF_MONTHS_SHOWN = 5
    assert signoff.months_shown(timezone.localdate()) == [ledger.month, ledger.earlier]


def test_the_due_day_is_a_setting(settings, ledger):
    settings.SIGN_OFF_DUE_DAY = 10
    due = signoff.due_date(ledger.month)
    assert (due.day, due.month) == (10, signoff.next_month(ledger.month).month)
    assert signoff.state_of(SignOffStatus.SIGNED, ledger.month, due) == signoff.State.PENDING
    assert signoff.state_of(SignOffStatus.SIGNED, ledger.month, due + DAY) == signoff.State.OVERDUE
    assert signoff.state_of(None, ledger.month, due + DAY) == signoff.State.OVERDUE
    assert signoff.state_of(SignOffStatus.ACCEPTED, ledger.month, due + DAY) == signoff.State.SIGNED


def test_the_steps_cannot_be_changed_or_removed_by_the_application(area, users, ledger):
    step = month_sign(county=area["county"], month=ledger.month, user=users["county"]).steps.get()
    for write in (lambda: SignOffStep.objects.filter(pk=step.pk).update(note="x"), step.delete):
        with pytest.raises(DatabaseError), transaction.atomic():
            write()


def test_not_even_the_databases_owner_changes_or_removes_a_step(area, users, ledger):
    step = month_sign(county=area["county"], month=ledger.month, user=users["county"]).steps.get()
    with as_owner():
        for write in (lambda: SignOffStep.objects.filter(pk=step.pk).update(note="x"), step.delete):
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                write()


# Corrections --------------------------------------------------------------------------------------------------


def test_a_back_dated_return_after_sign_off_shows_as_a_correction_and_leaves_the_signed_figure(area, users, ledger):
    county, month = area["county"], ledger.month
    sign_off = month_sign(county=county, month=month, user=users["county"])
    signed = dict(sign_off.figures)
    case = ledger.cases["later_returned"]

    event = case_mark_returned(
        case=case, returned_on=month + 20 * DAY, placement=Placement.REGULAR_CLASS, user=users["county"]
    )
    run = touched.touched_recompute()  # what the write asks for once it commits

    assert run is not None and run.from_day == month + 20 * DAY
    now = period_figures([Area.of_division(county)], month, signoff.month_end(month))[0]
    assert (now.open_count, now.returned_count) == (signed["open_count"] - 1, signed["returned_count"] + 1)
    sign_off.refresh_from_db()
    assert sign_off.figures == signed
    assert sign_off.status == SignOffStatus.SIGNED

    (correction,) = signoff.corrections(users["county"], sign_off)
    assert correction.event == event
    assert (correction.child, correction.by, correction.what) == (
        "桑青卓玛",
        users["county"].get_full_name() or users["county"].username,
        "Returned to school",
    )
    assert signoff.correction_counts(users["county"], county, [sign_off]) == {month: 1}


def test_a_correction_names_the_child_as_the_disclosure_rule_allows(area, users, ledger):
    sign_off = month_sign(county=area["county"], month=ledger.month, user=users["county"])
    case_mark_returned(
        case=ledger.cases["later_returned"], returned_on=ledger.month + 20 * DAY, placement=Placement.REGULAR_CLASS
    )
    assert [c.child for c in signoff.corrections(users["prefecture"], sign_off)] == ["桑**"]
    assert [c.child for c in signoff.corrections(users["county"], sign_off)] == ["桑青卓玛"]
    # A county official elsewhere cannot read the case at all.
    assert signoff.corrections(users["neighbour_county"], sign_off) == []


def test_what_is_not_a_correction(area, users, ledger):
    county, month = area["county"], ledger.month
    sign_off = month_sign(county=county, month=month, user=users["county"])
    # Recorded after the signature but dated after the month; a first visit, which moves no figure; a case of the
    # neighbour county dated in the month.
    case_mark_returned(
        case=ledger.cases["throughout"], returned_on=timezone.localdate(), placement=Placement.REGULAR_CLASS
    )
    visit_record(
        case=ledger.cases["later_returned"],
        visit_date=month + 3 * DAY,
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "Wang"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
    )
    case_mark_returned(case=ledger.cases["neighbour"], returned_on=month + 2 * DAY, placement=Placement.REGULAR_CLASS)
    assert signoff.corrections(users["admin"], sign_off) == []


def test_a_case_opened_late_with_a_dropout_date_in_the_month_is_a_correction(area, users, ledger):
    sign_off = month_sign(county=area["county"], month=ledger.month, user=users["county"])
    late = open_case(SchoolFactory(county=area["county"]), dropout_date=ledger.month + 9 * DAY)
    (correction,) = signoff.corrections(users["admin"], sign_off)
    assert (correction.event.case, correction.what) == (late, "New case")


def test_a_back_dated_handover_is_a_correction_of_both_counties_and_later_events_only_of_the_receiver(
    area, users, ledger
):
    home, neighbour, month = area["county"], area["neighbour"], ledger.month
    home_month = month_sign(county=home, month=month, user=users["county"])
    neighbour_month = month_sign(county=neighbour, month=month, user=users["neighbour_county"])
    case = ledger.cases["later_returned"]
    handover = handover_request(
        case=case, to_county=neighbour, reason=HandoverReason.MOVED_WITH_PARENTS, user=users["county"]
    )
    handover_accept(
        handover=handover,
        user=users["neighbour_county"],
        to_school=area["neighbour_school"],
        handed_over_on=month + 10 * DAY,
    )
    case.refresh_from_db()
    case_mark_returned(case=case, returned_on=month + 15 * DAY, placement=Placement.REGULAR_CLASS)

    assert [c.what for c in signoff.corrections(users["admin"], home_month)] == ["Handed over"]
    assert [c.what for c in signoff.corrections(users["admin"], neighbour_month)] == [
        "Handed over",
        "Returned to school",
    ]
