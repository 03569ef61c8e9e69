"""A child back in school in one county who drops out again in another: the whole flow through the screens.

松潘县 holds the child (their latest case, returned to school; no open case anywhere). 壤塘县, in another
province here, finds the child out of school: its new-case form is refused naming 松潘县 and nothing else of
the child; it asks for the child by ID number; 松潘县 hands the child over (the returned case moves, its history
with it, and no day's totals change: tests/reports/test_totals_handover.py); 壤塘县 then opens the new case, its
typed details applied and recorded. A third county learns nothing of any of it.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from counties.models import Role
from students.choices import (
    HandoverReason,
    HandoverStatus,
    IdentitySource,
    Placement,
    Reason,
    Status,
    VisitMethod,
    VisitorRole,
    VisitOutcome,
)
from students.models import CaseEvent, DropoutCase, Handover, IdentityChange, Student
from students.services import case_mark_returned, visit_record
from tests.factories import CountyFactory, SchoolFactory, StudentFactory, UserFactory, make_id_number, open_case

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
NEW = reverse("students:case-new")
CLAIM = reverse("students:handover-claim")
HELD_BY = "This child is on the ledger of another county ({county}); ask that county to hand the child over."

# 松潘县's record of its child.
SONGPAN_NAME = "杨卓玛"
SONGPAN_ADDRESS = "松潘县进安镇城关村3组12号"
SONGPAN_PHONE = "13908374455"
SONGPAN_GUARDIAN = "杨多吉"
SONGPAN_VISIT = "家访：孩子已随父母外出，邻居说去了壤塘县。"
# What 壤塘县's official types for the same ID number.
TYPED_NAME = "桑青卓玛"
TYPED_ADDRESS = "壤塘县上杜柯乡斯跃武村2组7号"
TYPED_PHONE = "13900001111"


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - n * DAY


@pytest.fixture
def places():
    """壤塘县 and 松潘县 in two provinces (each CountyFactory makes its own), and a third county."""
    rangtang = CountyFactory(name="壤塘县")
    songpan = CountyFactory(name="松潘县")
    third = CountyFactory(name="泽库县")
    assert len({rangtang.province_id, songpan.province_id, third.province_id}) == 3
    schools = {
        "rangtang": SchoolFactory(county=rangtang, name="上杜柯乡小学"),
        "songpan": SchoolFactory(county=songpan, name="进安镇小学"),
        "third": SchoolFactory(county=third, name="泽曲镇小学"),
    }
    users = {
        "rangtang": UserFactory(role=Role.COUNTY, division=rangtang),
        "songpan": UserFactory(role=Role.COUNTY, division=songpan),
        "third": UserFactory(role=Role.COUNTY, division=third),
    }
    return {"rangtang": rangtang, "songpan": songpan, "third": third, "schools": schools, "users": users}


@pytest.fixture
def returned(places):
    """松潘县's case of the child: opened, visited, back in school. The child has no open case anywhere."""
    birth = datetime.date(2009, 5, 4)
    student = StudentFactory(
        name=SONGPAN_NAME,
        gender="F",
        birth_date=birth,
        id_number=make_id_number(places["songpan"].code, birth, 8),
        address=SONGPAN_ADDRESS,
        guardian_name=SONGPAN_GUARDIAN,
        guardian_phone=SONGPAN_PHONE,
    )
    case = open_case(places["schools"]["songpan"], student=student, dropout_date=days_ago(400), reason=Reason.WORK)
    visit_record(
        case=case,
        visit_date=days_ago(390),
        visitors=[{"role": VisitorRole.PRINCIPAL, "name": "王校长"}],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.AGREED,
        notes=SONGPAN_VISIT,
    )
    case_mark_returned(case=case, returned_on=days_ago(300), placement=Placement.REGULAR_CLASS)
    case.refresh_from_db()
    return case


def new_case_form(school, student: Student, **overrides) -> dict:
    data = {
        "school": school.code,
        "grade": 8,
        "dropout_date": days_ago(20).isoformat(),
        "reason": Reason.WORK,
        "name": TYPED_NAME,
        "gender": student.gender,
        "ethnicity": student.ethnicity,
        "birth_date": student.birth_date.isoformat(),
        "id_number": student.id_number,
        "registry_number": "",
        "address": TYPED_ADDRESS,
        "guardian_phone": TYPED_PHONE,
        "left_behind": "",
        "disability": "",
    }
    data.update(overrides)
    return data


def stored(student: Student) -> tuple:
    student.refresh_from_db()
    return (student.name, student.address, student.guardian_phone)


def songpan_secrets() -> list[str]:
    return [SONGPAN_NAME, SONGPAN_ADDRESS, SONGPAN_PHONE, SONGPAN_GUARDIAN, SONGPAN_VISIT]


def history(case: DropoutCase) -> list[tuple]:
    return list(case.events.order_by("effective_date", "pk").values_list("from_status", "to_status", "effective_date"))


def test_a_county_takes_over_a_child_returned_elsewhere_and_opens_the_new_case(client, places, returned):
    student = returned.student
    rangtang, songpan, third = places["users"]["rangtang"], places["users"]["songpan"], places["users"]["third"]
    history_before = history(returned)
    struck_off = (returned.status, returned.returned_on, returned.struck_off_on, returned.placement)

    # 1. 壤塘县's new case is refused, naming 松潘县 and nothing else of the child; the refusal links the claim form.
    client.force_login(rangtang)
    refused = client.post(NEW, new_case_form(places["schools"]["rangtang"], student))
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors() == [HELD_BY.format(county="松潘县")]
    html = refused.content.decode()
    for secret in songpan_secrets():
        assert secret not in html
    assert CLAIM in html
    assert DropoutCase.objects.count() == 1
    assert stored(student) == (SONGPAN_NAME, SONGPAN_ADDRESS, SONGPAN_PHONE)

    # 2. 壤塘县 asks for the child by ID number and learns only which county holds the child.
    assert client.get(CLAIM).status_code == 200
    claimed = client.post(
        CLAIM,
        {
            "identifier": student.id_number,
            "to_school": places["schools"]["rangtang"].code,
            "reason": HandoverReason.MOVED_WITH_PARENTS,
            "note": "孩子随父母在壤塘县务工。",
        },
        follow=True,
    )
    assert claimed.status_code == 200, claimed.context["form"].errors if "form" in claimed.context else ""
    handover = Handover.objects.get()
    assert (handover.case, handover.from_county, handover.to_county) == (
        returned,
        places["songpan"],
        places["rangtang"],
    )
    assert handover.requested_by_receiver and handover.status == HandoverStatus.PENDING
    html = claimed.content.decode()
    assert "松潘县" in html
    for secret in songpan_secrets():
        assert secret not in html
    assert client.get(reverse("students:case-detail", args=[returned.pk])).status_code == 404
    assert client.post(NEW, new_case_form(places["schools"]["rangtang"], student)).status_code == 200
    assert DropoutCase.objects.count() == 1

    # A third county sees nothing of the handover, nor of the child.
    client.force_login(third)
    assert client.get(reverse("students:handover-detail", args=[handover.pk])).status_code == 404
    listed = client.get(reverse("students:handover-list"))
    assert listed.context["rows"] == []
    assert "松潘县" not in listed.content.decode() and "壤塘县" not in listed.content.decode()

    # 3. 松潘县 sees the claim and hands the child over (the school is the one 壤塘县 named).
    client.force_login(songpan)
    detail = client.get(reverse("students:handover-detail", args=[handover.pk]))
    assert detail.status_code == 200 and "accept_form" in detail.context
    assert "it counts in no county&#x27;s figures" in detail.content.decode()
    accepted = client.post(
        reverse("students:handover-accept", args=[handover.pk]),
        {"version": returned.version, "handed_over_on": timezone.localdate().isoformat(), "to_school": ""},
    )
    assert accepted.status_code == 302, accepted.context["accept_form"].errors
    handover.refresh_from_db()
    assert handover.status == HandoverStatus.ACCEPTED and handover.handed_over_on == timezone.localdate()
    returned.refresh_from_db()
    assert (returned.county, returned.school) == (places["rangtang"], places["schools"]["rangtang"])
    assert client.get(reverse("students:case-detail", args=[returned.pk])).status_code == 404

    # The earlier case keeps its whole history, still struck off, with the move recorded in it.
    assert (returned.status, returned.returned_on, returned.struck_off_on, returned.placement) == struck_off
    assert history(returned) == [*history_before, (Status.RETURNED, Status.RETURNED, timezone.localdate())]
    moved = returned.events.order_by("-pk").first()
    assert "松潘县" in moved.note and "壤塘县" in moved.note
    client.force_login(rangtang)
    page = client.get(reverse("students:case-detail", args=[returned.pk]))
    assert page.status_code == 200
    assert SONGPAN_VISIT in page.content.decode() and SONGPAN_NAME in page.content.decode()

    # 4. 壤塘县 holds the child now: its new case links the same child, its typed details applied and recorded.
    opened = client.post(NEW, new_case_form(places["schools"]["rangtang"], student), follow=True)
    assert opened.redirect_chain, opened.context["form"].errors
    new_case = DropoutCase.objects.exclude(pk=returned.pk).get()
    assert opened.redirect_chain == [(new_case.get_absolute_url(), 302)]
    assert (new_case.student_id, new_case.county, new_case.status) == (
        student.pk,
        places["rangtang"],
        Status.DROPPED_OUT,
    )
    assert Student.objects.count() == 1
    assert stored(student) == (TYPED_NAME, TYPED_ADDRESS, TYPED_PHONE)
    change = IdentityChange.objects.get(student=student)
    assert (change.source, change.changed_by) == (IdentitySource.FORM, rangtang)
    assert history(returned) == [*history_before, (Status.RETURNED, Status.RETURNED, timezone.localdate())]
    assert CaseEvent.objects.filter(case=new_case).count() == 1

    # A third county sees nothing of either case, and is told only that 壤塘县 holds the child.
    client.force_login(third)
    for case in (returned, new_case):
        assert client.get(reverse("students:case-detail", args=[case.pk])).status_code == 404
    typed_by_third = {"name": "另一个名字", "address": "泽库县泽曲镇1号", "guardian_phone": "13900003333"}
    refused = client.post(NEW, new_case_form(places["schools"]["third"], student, **typed_by_third))
    assert refused.context["form"].non_field_errors() == [
        "This child already has an open case in another county (壤塘县); ask that county to hand the case over."
    ]
    html = refused.content.decode()
    for secret in [*songpan_secrets(), TYPED_NAME, TYPED_ADDRESS, TYPED_PHONE]:
        assert secret not in html
    assert client.get(reverse("students:handover-list")).context["rows"] == []


def test_a_claim_for_a_child_the_county_already_holds_is_refused(client, places, returned):
    client.force_login(places["users"]["songpan"])
    response = client.post(
        CLAIM,
        {
            "identifier": returned.student.id_number,
            "to_school": places["schools"]["songpan"].code,
            "reason": HandoverReason.OTHER,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["identifier"] == ["This child's case is already in your county."]
    assert not Handover.objects.exists()


def test_the_holding_county_offers_a_returned_child_from_the_case_page(client, places, returned):
    client.force_login(places["users"]["songpan"])
    url = reverse("students:case-detail", args=[returned.pk])
    assert "handover_form" in client.get(url).context

    response = client.post(
        reverse("students:case-handover", args=[returned.pk]),
        {"county": places["rangtang"].code, "reason": HandoverReason.MOVED_WITH_PARENTS},
    )

    assert response.status_code == 302
    handover = Handover.objects.get()
    assert (handover.case, handover.to_county, handover.requested_by_receiver) == (returned, places["rangtang"], False)
