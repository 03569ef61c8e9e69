"""Handing a case between counties: the services' rules, who sees what of it, and the screens.

Personas: the holding county (the far county, in another province), the receiving county (home), a third
county (the neighbour), the provinces and the ministry watching, a principal, an administrator.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from counties.models import Role
from students.choices import (
    HandoverReason,
    HandoverStatus,
    Line,
    Placement,
    ResponsibleRole,
    Status,
    VisitMethod,
    VisitorRole,
    VisitOutcome,
)
from students.handover import (
    handover_accept,
    handover_cancel,
    handover_claim,
    handover_claim_by_identifier,
    handover_decline,
    handover_request,
)
from students.models import CaseEvent, Handover, LedgerCorrection, ResponsiblePerson
from students.services import case_mark_returned, case_set_responsible_persons, visit_record
from tests.factories import CountyFactory, ProvinceFactory, SchoolFactory, UserFactory, student_with_identifiers
from tests.factories import open_case as factory_open_case

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
NOTE = "家长带孩子到壤塘县务工，联系电话13908370099。"


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - n * DAY


@pytest.fixture
def people(area, users):
    """The far county's official, and a province that has nothing to do with the handover."""
    return {
        **users,
        "far_county": UserFactory(role=Role.COUNTY, division=area["far"]),
        "far_province": UserFactory(role=Role.PROVINCE, division=area["far"].province),
        "other_province": UserFactory(role=Role.PROVINCE, division=ProvinceFactory()),
    }


@pytest.fixture
def child(area):
    return student_with_identifiers(
        area["far"].code, 1, name="桑青卓玛", guardian_name="泽仁多吉", village="德格", migrant=True
    )


@pytest.fixture
def case(area, child):
    """An open case of the far county with a history: its opening, a visit (being persuaded), its people."""
    case = factory_open_case(area["far_school"], student=child, dropout_date=days_ago(60))
    visit_record(
        case=case,
        visit_date=days_ago(50),
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "白玛校长"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.NOT_FOUND,
        notes="家中无人，邻居说全家已外出务工。",
    )
    case_set_responsible_persons(
        case=case,
        persons=[
            {"line": Line.EDUCATION, "role": ResponsibleRole.PRINCIPAL, "name": "白玛校长", "phone": "13800000001"},
            {"line": Line.GOVERNMENT, "role": ResponsibleRole.VILLAGE_HEAD, "name": "贡布", "phone": "13800000002"},
            {"line": Line.EDUCATION, "role": ResponsibleRole.PARENT, "name": "泽仁多吉", "phone": "13908370001"},
        ],
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def pending(case, area, people):
    return handover_request(
        case=case, to_county=area["county"], reason=HandoverReason.MOVED_WITH_PARENTS, note=NOTE,
        user=people["far_county"],
    )  # fmt: skip


def accept(handover, area, people, **kwargs):
    return handover_accept(handover=handover, to_school=area["school"], user=people["county"], **kwargs)


# --- The services ---------------------------------------------------------------------------------------


def test_the_holding_county_asks_and_the_case_stays_until_the_other_accepts(pending, case, area):
    case.refresh_from_db()
    assert (pending.status, pending.from_county, pending.to_county) == ("pending", area["far"], area["county"])
    assert not pending.requested_by_receiver
    assert case.county == area["far"]


def test_on_acceptance_the_case_moves_with_its_whole_history_and_new_people(pending, case, area, people):
    events_before = list(case.events.values_list("pk", flat=True))
    visits_before = list(case.visits.values_list("pk", flat=True))
    version = case.version

    handover = accept(
        pending,
        area,
        people,
        handed_over_on=days_ago(10),
        persons=[{"line": Line.EDUCATION, "role": ResponsibleRole.PRINCIPAL, "name": "王校长", "phone": ""}],
    )

    case.refresh_from_db()
    assert (case.county, case.school, case.status) == (area["county"], area["school"], Status.PERSUADING)
    assert case.version == version + 1
    assert handover.status == HandoverStatus.ACCEPTED and handover.handed_over_on == days_ago(10)
    assert list(case.visits.values_list("pk", flat=True)) == visits_before
    moved = case.events.exclude(pk__in=events_before).get()
    assert (moved.from_status, moved.to_status, moved.effective_date) == ("persuading", "persuading", days_ago(10))
    assert area["far"].name in moved.note and area["county"].name in moved.note
    people_now = dict(ResponsiblePerson.objects.filter(case=case).values_list("role", "name"))
    # The receiving county's principal; the parent moved with the child; the old village head is history.
    assert people_now == {ResponsibleRole.PRINCIPAL: "王校长", ResponsibleRole.PARENT: "泽仁多吉"}
    assert "白玛校长 13800000001" in handover.decision_note and "贡布" in handover.decision_note
    assert LedgerCorrection.objects.filter(first_day=days_ago(10)).exists()


def test_a_status_change_cannot_be_dated_before_the_handover(pending, case, area, people):
    accept(pending, area, people, handed_over_on=days_ago(10))
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        case_mark_returned(
            case=case, returned_on=days_ago(11), placement=Placement.REGULAR_CLASS, user=people["county"]
        )
    case_mark_returned(case=case, returned_on=days_ago(9), placement=Placement.REGULAR_CLASS, user=people["county"])


@pytest.mark.parametrize(
    ("day", "field"),
    [(-1, "handed_over_on"), (61, "handed_over_on"), (51, "handed_over_on")],
    ids=["future", "before-the-dropout", "before-the-last-event"],
)
def test_the_handover_date_is_not_in_the_future_nor_before_the_case_history(pending, area, people, day, field):
    with pytest.raises(ValidationError) as error:
        accept(pending, area, people, handed_over_on=days_ago(day))
    assert field in error.value.message_dict
    pending.refresh_from_db()
    assert pending.status == HandoverStatus.PENDING


def test_the_receiving_school_must_be_in_the_receiving_county(pending, area, people):
    with pytest.raises(ValidationError):
        handover_accept(handover=pending, to_school=area["neighbour_school"], user=people["county"])


@pytest.mark.parametrize("role", ["county", "neighbour_county", "principal", "province", "ministry"])
def test_only_the_holding_countys_officials_and_administrators_may_offer_a_case(case, area, people, role):
    with pytest.raises(PermissionDenied):
        handover_request(case=case, to_county=area["county"], reason=HandoverReason.OTHER, user=people[role])


@pytest.mark.parametrize("role", ["far_county", "neighbour_county", "principal", "province", "ministry"])
def test_only_the_other_side_may_accept_or_decline(pending, area, people, role):
    with pytest.raises(PermissionDenied):
        handover_accept(handover=pending, to_school=area["school"], user=people[role])
    with pytest.raises(PermissionDenied):
        handover_decline(handover=pending, user=people[role])


def test_the_asking_side_may_withdraw_and_the_other_may_not(pending, people):
    with pytest.raises(PermissionDenied):
        handover_cancel(handover=pending, user=people["county"])
    assert handover_cancel(handover=pending, user=people["far_county"]).status == HandoverStatus.CANCELLED


def test_a_decided_handover_cannot_be_decided_again(pending, area, people):
    handover_decline(handover=pending, user=people["county"], note="孩子不在本县。")
    with pytest.raises(ValidationError):
        accept(pending, area, people)
    with pytest.raises(ValidationError):
        handover_cancel(handover=pending, user=people["far_county"])


def test_a_case_waits_for_one_handover_at_a_time_and_only_the_case_holding_the_child_moves(pending, case, area, people):
    with pytest.raises(ValidationError):
        handover_request(case=case, to_county=area["neighbour"], reason=HandoverReason.OTHER, user=people["admin"])
    handover_decline(handover=pending, user=people["county"])
    case_mark_returned(case=case, returned_on=days_ago(10), placement=Placement.REGULAR_CLASS)
    case.refresh_from_db()
    # Back in school, with no case open anywhere: this case still holds the child, and may move.
    offered = handover_request(
        case=case, to_county=area["neighbour"], reason=HandoverReason.OTHER, user=people["far_county"]
    )
    handover_cancel(handover=offered, user=people["far_county"])
    # Once the child has a newer case, the earlier one holds nothing and stays where it is.
    factory_open_case(area["far_school"], student=case.student, dropout_date=days_ago(5))
    with pytest.raises(ValidationError) as error:
        handover_request(case=case, to_county=area["neighbour"], reason=HandoverReason.OTHER, user=people["admin"])
    assert "Only the case holding the child" in " ".join(error.value.messages)
    with pytest.raises(ValidationError):
        handover_claim(case=case, reason=HandoverReason.OTHER, user=people["county"])


def test_a_returned_child_moves_with_the_struck_off_case_and_its_whole_history(case, child, area, people):
    case_mark_returned(case=case, returned_on=days_ago(20), placement=Placement.REGULAR_CLASS)
    case.refresh_from_db()
    before = list(case.events.values_list("pk", "from_status", "to_status", "effective_date"))

    handover = handover_claim_by_identifier(
        identifier=child.id_number, reason=HandoverReason.MOVED_WITH_PARENTS, to_school=area["school"],
        user=people["county"],
    )  # fmt: skip
    assert (handover.case, handover.from_county, handover.to_county) == (case, area["far"], area["county"])
    handover_accept(handover=handover, user=people["far_county"], handed_over_on=days_ago(3))

    case.refresh_from_db()
    assert (case.county, case.school, case.status) == (area["county"], area["school"], Status.RETURNED)
    assert (case.returned_on, case.struck_off_on) == (days_ago(20), days_ago(20))
    events = list(case.events.order_by("effective_date", "pk"))
    assert [(e.pk, e.from_status, e.to_status, e.effective_date) for e in events[:-1]] == before
    moved = events[-1]
    assert (moved.from_status, moved.to_status, moved.effective_date) == (Status.RETURNED, Status.RETURNED, days_ago(3))
    assert area["far"].name in moved.note and area["county"].name in moved.note
    assert case.visits.count() == 1
    # Nothing counts differently on any day: no recomputing is asked for.
    assert not LedgerCorrection.objects.filter(first_day=days_ago(3)).exists()
    # The child is the receiving county's now: claiming again is claiming one's own.
    with pytest.raises(ValidationError) as error:
        handover_claim_by_identifier(identifier=child.id_number, reason=HandoverReason.OTHER, user=people["county"])
    assert error.value.message_dict["identifier"] == ["This child's case is already in your county."]


def test_a_struck_off_case_is_not_handed_over_once_the_child_has_a_newer_case(case, child, area, people):
    case_mark_returned(case=case, returned_on=days_ago(20), placement=Placement.REGULAR_CLASS)
    case.refresh_from_db()
    handover = handover_claim_by_identifier(
        identifier=child.registry_number, reason=HandoverReason.OTHER, to_school=area["school"], user=people["county"]
    )
    factory_open_case(area["far_school"], student=child, dropout_date=days_ago(2))

    with pytest.raises(ValidationError) as error:
        handover_accept(handover=handover, user=people["far_county"])
    assert "newer case" in " ".join(error.value.messages)
    case.refresh_from_db()
    assert case.county == area["far"]
    # The claim now finds the open case, the one holding the child.
    handover_decline(handover=handover, user=people["far_county"])
    again = handover_claim_by_identifier(identifier=child.id_number, reason=HandoverReason.OTHER, user=people["county"])
    assert again.case.status == Status.DROPPED_OUT and again.case != case


def test_a_case_is_not_handed_to_its_own_county(case, area, people):
    with pytest.raises(ValidationError):
        handover_request(case=case, to_county=area["far"], reason=HandoverReason.OTHER, user=people["far_county"])


def test_the_receiving_county_asks_for_a_case_by_the_childs_id_number(case, child, area, people):
    handover = handover_claim_by_identifier(
        identifier=child.id_number, reason=HandoverReason.SCHOOL_ELSEWHERE, to_school=area["school"],
        user=people["county"],
    )  # fmt: skip

    assert (handover.case, handover.from_county, handover.to_county) == (case, area["far"], area["county"])
    assert handover.requested_by_receiver
    with pytest.raises(PermissionDenied):
        handover_accept(handover=handover, user=people["county"])
    handover_accept(handover=handover, user=people["far_county"], handed_over_on=days_ago(1))
    case.refresh_from_db()
    assert (case.county, case.school) == (area["county"], area["school"])


def test_a_claim_finds_the_child_by_registry_number_too(case, child, people):
    handover = handover_claim_by_identifier(
        identifier=child.registry_number.lower(), reason=HandoverReason.OTHER, user=people["county"]
    )
    assert handover.case == case


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ("11010519491231002X", "No child with this number"),
        ("G11010519491231002X", "No child with this number"),
        ("1101051949123100", "18 characters"),
        ("11010519491231002Y", "digit or X"),
    ],
)
def test_a_claim_for_a_number_not_open_elsewhere_says_so_and_nothing_more(case, people, identifier, message):
    with pytest.raises(ValidationError) as error:
        handover_claim_by_identifier(identifier=identifier, reason=HandoverReason.OTHER, user=people["county"])
    assert message in " ".join(error.value.message_dict["identifier"])


def test_a_county_cannot_claim_its_own_case_and_only_county_officials_claim(area, people):
    own = factory_open_case(area["school"])
    with pytest.raises(ValidationError):
        handover_claim_by_identifier(
            identifier=own.student.id_number, reason=HandoverReason.OTHER, user=people["county"]
        )
    case_mark_returned(case=own, returned_on=days_ago(1), placement=Placement.REGULAR_CLASS)
    with pytest.raises(ValidationError) as error:  # back in school, still the county's own child
        handover_claim_by_identifier(
            identifier=own.student.id_number, reason=HandoverReason.OTHER, user=people["county"]
        )
    assert error.value.message_dict["identifier"] == ["This child's case is already in your county."]
    for role in ("principal", "province", "ministry", "admin"):
        with pytest.raises(PermissionDenied):
            handover_claim(case=own, reason=HandoverReason.OTHER, user=people[role])


# --- Who sees what -------------------------------------------------------------------------------------------


def secrets_of(child) -> list[str]:
    return [child.name, child.id_number, child.registry_number, child.guardian_phone, child.address, "13908370099"]


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_a_third_county_sees_nothing_of_the_handover(client, pending, case, child, people):
    third = people["neighbour_county"]
    for url in (
        reverse("students:handover-detail", args=[pending.pk]),
        reverse("students:case-detail", args=[case.pk]),
    ):
        assert page(client, third, url).status_code == 404
    for name in ("students:handover-list", "students:handover-stuck"):
        response = page(client, third, reverse(name))
        assert response.status_code == 200
        html = response.content.decode()
        assert response.context["rows"] == []
        for secret in [*secrets_of(child), child.name[:1] + "**", pending.from_county.name]:
            assert secret not in html
    for name in ("accept", "decline", "cancel"):
        url = reverse(f"students:handover-{name}", args=[pending.pk])
        assert client.post(url, {"handed_over_on": days_ago(1).isoformat()}).status_code == 404
    pending.refresh_from_db()
    assert pending.status == HandoverStatus.PENDING


def test_the_receiving_county_sees_the_child_masked_before_it_accepts(client, pending, case, child, people):
    response = page(client, people["county"], reverse("students:handover-detail", args=[pending.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for secret in secrets_of(child):
        assert secret not in html
    assert "桑**" in html
    assert str(child.birth_date.year) in html
    assert case.school.name in html and pending.from_county.name in html
    assert reverse("students:case-detail", args=[case.pk]) not in html
    assert page(client, people["county"], reverse("students:case-detail", args=[case.pk])).status_code == 404
    listed = page(client, people["county"], reverse("students:handover-list")).content.decode()
    assert "桑**" in listed and child.name not in listed


def test_the_holding_county_sees_the_child_in_full_on_its_handover(client, pending, child, people):
    html = page(client, people["far_county"], reverse("students:handover-detail", args=[pending.pk])).content.decode()
    assert child.name in html and "13908370099" in html


def test_after_acceptance_the_case_is_visible_only_in_the_new_county_with_its_history(
    client, pending, case, child, area, people
):
    accept(pending, area, people, handed_over_on=days_ago(5))
    url = reverse("students:case-detail", args=[case.pk])

    for role in ("far_county", "neighbour_county", "far_province"):
        assert page(client, people[role], url).status_code == 404
    response = page(client, people["county"], url)
    assert response.status_code == 200
    html = response.content.decode()
    assert child.name in html and child.id_number in html
    assert "家中无人，邻居说全家已外出务工。" in html  # the old county's visit
    kinds = [entry["kind"] for entry in response.context["timeline"]]
    assert kinds.count("visit") == 1 and kinds.count("event") == 3  # opened, persuading, handed over
    assert response.context["handover_rows"][0].handover == pending
    # The old county keeps the handover in its list, with the child now masked for it.
    old = page(client, people["far_county"], reverse("students:handover-detail", args=[pending.pk]))
    assert old.status_code == 200
    assert child.name not in old.content.decode() and "桑**" in old.content.decode()


@pytest.mark.parametrize("role", ["province", "far_province", "ministry"])
def test_provinces_and_the_ministry_see_handovers_stuck_for_more_than_30_days_masked(
    client, pending, child, people, role
):
    Handover.objects.filter(pk=pending.pk).update(requested_at=timezone.now() - datetime.timedelta(days=31))
    fresh_case = factory_open_case(SchoolFactory(county=pending.from_county))
    handover_request(case=fresh_case, to_county=pending.to_county, reason=HandoverReason.OTHER)

    response = page(client, people[role], reverse("students:handover-stuck"))

    assert [row.handover for row in response.context["rows"]] == [pending]
    assert response.context["rows"][0].stuck and response.context["rows"][0].age_days == 31
    html = response.content.decode()
    assert "桑**" in html
    for secret in secrets_of(child):
        assert secret not in html
    assert client.post(reverse("students:handover-decline", args=[pending.pk])).status_code == 404


def test_a_province_with_no_part_in_the_handover_sees_none_and_a_principal_has_no_handover_pages(
    client, pending, people
):
    Handover.objects.filter(pk=pending.pk).update(requested_at=timezone.now() - datetime.timedelta(days=40))
    assert page(client, people["other_province"], reverse("students:handover-stuck")).context["rows"] == []
    assert (
        page(client, people["other_province"], reverse("students:handover-detail", args=[pending.pk])).status_code
        == 404
    )
    for name in ("students:handover-list", "students:handover-stuck", "students:handover-claim"):
        assert page(client, people["principal"], reverse(name)).status_code == 404


# --- The screens ------------------------------------------------------------------------------------------------


def test_the_case_page_offers_the_handover_form_to_the_holding_county_and_administrators(client, case, people):
    url = reverse("students:case-detail", args=[case.pk])
    assert "handover_form" in page(client, people["far_county"], url).context
    assert "handover_form" in page(client, people["admin"], url).context
    for role in ("ministry", "far_province"):
        response = page(client, people[role], url)
        assert "handover_form" not in response.context
        assert reverse("students:case-handover", args=[case.pk]) not in response.content.decode()


def test_the_case_page_offers_the_handover_form_for_a_returned_child_but_not_for_an_earlier_case(
    client, case, area, people
):
    url = reverse("students:case-detail", args=[case.pk])
    case_mark_returned(case=case, returned_on=days_ago(10), placement=Placement.REGULAR_CLASS)
    assert "handover_form" in page(client, people["far_county"], url).context
    factory_open_case(area["far_school"], student=case.student, dropout_date=days_ago(5))
    response = page(client, people["far_county"], url)
    assert "handover_form" not in response.context
    assert reverse("students:case-handover", args=[case.pk]) not in response.content.decode()


def test_the_holding_county_asks_by_county_code_from_the_case_page(client, case, area, people):
    client.force_login(people["far_county"])
    url = reverse("students:case-handover", args=[case.pk])

    response = client.post(url, {"county": area["county"].code, "reason": HandoverReason.MOVED_WITH_PARENTS})

    assert response.status_code == 302
    handover = Handover.objects.get(case=case)
    assert (handover.to_county, handover.requested_by) == (area["county"], people["far_county"])
    assert "handover_form" not in client.get(reverse("students:case-detail", args=[case.pk])).context


def test_a_county_name_shared_by_two_counties_needs_the_province(client, case, area, people):
    client.force_login(people["far_county"])
    url = reverse("students:case-handover", args=[case.pk])
    twin = CountyFactory(name=area["county"].name)  # in a province of its own

    response = client.post(url, {"county": area["county"].name, "reason": HandoverReason.OTHER})
    assert response.status_code == 200 and "county" in response.context["form"].errors
    assert not Handover.objects.exists()

    client.post(url, {"county": "999999", "reason": HandoverReason.OTHER})
    assert not Handover.objects.exists()

    client.post(url, {"province": twin.province.code, "county": twin.name, "reason": HandoverReason.OTHER})
    assert Handover.objects.get().to_county == twin


def test_a_county_outside_the_write_scope_cannot_post_a_handover_of_the_case(client, case, area, people):
    for role in ("county", "ministry", "principal"):
        client.force_login(people[role])
        url = reverse("students:case-handover", args=[case.pk])
        assert client.post(url, {"county": area["county"].code, "reason": "other"}).status_code == 404
    assert not Handover.objects.exists()


def test_the_receiving_county_accepts_from_the_handover_page_and_lands_on_the_case(client, pending, case, area, people):
    client.force_login(people["county"])
    response = client.post(
        reverse("students:handover-accept", args=[pending.pk]),
        {
            "version": case.version,
            "handed_over_on": days_ago(2).isoformat(),
            "to_school": area["school"].code,
            "persons-name_principal": "王校长",
            "persons-phone_principal": "13800000009",
        },
    )

    assert response.status_code == 302 and response.url == case.get_absolute_url()
    case.refresh_from_db()
    assert case.county == area["county"]
    assert ResponsiblePerson.objects.get(case=case, role=ResponsibleRole.PRINCIPAL).name == "王校长"


def test_an_acceptance_with_a_bad_date_shows_the_error_and_changes_nothing(client, pending, case, area, people):
    client.force_login(people["county"])
    response = client.post(
        reverse("students:handover-accept", args=[pending.pk]),
        {"version": case.version, "handed_over_on": days_ago(61).isoformat(), "to_school": area["school"].code},
    )
    assert response.status_code == 200
    assert response.context["accept_form"].errors["handed_over_on"]
    case.refresh_from_db()
    assert case.county == area["far"]


def test_an_acceptance_of_a_case_changed_meanwhile_is_refused(client, pending, case, area, people):
    shown = case.version
    case_mark_returned(case=case, returned_on=days_ago(1), placement=Placement.REGULAR_CLASS)
    client.force_login(people["county"])
    response = client.post(
        reverse("students:handover-accept", args=[pending.pk]),
        {"version": shown, "handed_over_on": days_ago(1).isoformat(), "to_school": area["school"].code},
    )
    assert response.status_code == 200
    assert "changed while you were deciding" in " ".join(response.context["accept_form"].non_field_errors())
    case.refresh_from_db()
    assert case.county == area["far"]


def test_the_receiving_county_asks_for_a_case_with_the_claim_form(client, case, child, area, people):
    client.force_login(people["county"])
    url = reverse("students:handover-claim")

    unknown = client.post(
        url, {"identifier": "11010519491231002X", "to_school": area["school"].code, "reason": "other"}
    )
    assert unknown.status_code == 200 and unknown.context["form"].errors["identifier"]
    response = client.post(url, {"identifier": child.id_number, "to_school": area["school"].code, "reason": "moved"})

    handover = Handover.objects.get()
    assert response.status_code == 302 and response.url == reverse("students:handover-detail", args=[handover.pk])
    assert handover.to_school == area["school"]
    followed = client.get(response.url).content.decode()
    assert area["far"].name in followed and child.name not in followed


def test_the_holding_county_declines_a_claim_and_the_asking_county_withdraws_another(client, case, child, people):
    claim = handover_claim_by_identifier(identifier=child.id_number, reason="other", user=people["county"])
    client.force_login(people["far_county"])
    response = client.post(reverse("students:handover-decline", args=[claim.pk]), {"decline-note": "孩子仍在本县。"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.decision_note) == (HandoverStatus.DECLINED, "孩子仍在本县。")

    again = handover_claim_by_identifier(identifier=child.id_number, reason="other", user=people["county"])
    client.force_login(people["county"])
    assert client.post(reverse("students:handover-cancel", args=[again.pk])).status_code == 302
    again.refresh_from_db()
    assert again.status == HandoverStatus.CANCELLED


def test_the_handover_list_shows_pending_first_with_their_age_and_a_capped_query_count(
    client, area, people, django_assert_max_num_queries
):
    for n in range(6):
        moving = factory_open_case(area["far_school"], dropout_date=days_ago(90))
        handover = handover_request(case=moving, to_county=area["county"], reason="moved", user=people["far_county"])
        Handover.objects.filter(pk=handover.pk).update(requested_at=timezone.now() - datetime.timedelta(days=10 * n))
        if n % 2:
            handover_decline(handover=handover, user=people["county"])
    client.force_login(people["county"])

    with django_assert_max_num_queries(8):
        response = client.get(reverse("students:handover-list"))

    rows = response.context["rows"]
    assert [row.handover.status for row in rows] == ["pending"] * 3 + ["declined"] * 3
    assert [row.age_days for row in rows[:3]] == [40, 20, 0]
    assert [row.stuck for row in rows[:3]] == [True, False, False]
    assert all(row.incoming for row in rows)
    assert CaseEvent.objects.count() == 6


# --- The dashboards --------------------------------------------------------------------------------------------


def test_both_counties_dashboards_list_the_pending_handover_with_its_age(client, pending, child, area, people):
    Handover.objects.filter(pk=pending.pk).update(requested_at=timezone.now() - datetime.timedelta(days=33))
    for role, county, incoming in (("county", area["county"], True), ("far_county", area["far"], False)):
        response = page(client, people[role], reverse("reports:division", args=[county.code]))
        panel = response.context["handovers"]
        assert panel["count"] == 1
        row = panel["rows"][0]
        assert (row.handover, row.incoming, row.age_days, row.stuck) == (pending, incoming, 33, True)
        html = response.content.decode()
        assert 'data-age="33"' in html and reverse("students:handover-detail", args=[pending.pk]) in html
    assert (
        "桑**"
        in page(client, people["county"], reverse("reports:division", args=[area["county"].code])).content.decode()
    )
    third = page(client, people["neighbour_county"], reverse("reports:division", args=[area["neighbour"].code]))
    assert third.context["handovers"]["count"] == 0
    assert child.name[:1] + "**" not in third.content.decode()


def test_province_and_national_dashboards_count_the_handovers_stuck_in_their_area(client, pending, area, people):
    Handover.objects.filter(pk=pending.pk).update(requested_at=timezone.now() - datetime.timedelta(days=45))
    expectations = [
        ("province", reverse("reports:division", args=[area["province"].code]), 1),
        ("far_province", reverse("reports:division", args=[area["far"].province.code]), 1),
        ("ministry", reverse("reports:national"), 1),
        ("ministry", reverse("reports:division", args=[people["other_province"].division.code]), 0),
    ]
    for role, url, count in expectations:
        response = page(client, people[role], url)
        assert response.context["handovers"]["stuck"] == count, (role, url)
        assert response.context["handovers"]["stuck_url"] in response.content.decode()
