"""Writes through the API: the case page's forms and services, the same rules and messages, JSON errors with their
field in the request's language, a 409 for a stale version, idempotency keys on POSTs, and the write scope."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from api.idempotency import KEPT
from api.models import IdempotentRequest
from students.choices import Status
from students.models import ClosureReason, DropoutCase, PersuasionVisit
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def _today() -> datetime.date:
    return timezone.localdate()


def visit(**changes) -> dict:
    return {
        "visit_date": (_today() - datetime.timedelta(days=1)).isoformat(),
        "method": "home_visit",
        "outcome": "agreed",
        "visitors": [{"role": "principal", "name": "泽郎扎西"}],
        "notes": "Agreed to come back on Monday.",
        **changes,
    }


@pytest.fixture
def case(area):
    return open_case(area["school"], dropout_date=_today() - datetime.timedelta(days=60))


def test_a_visit_is_recorded_and_the_case_is_being_persuaded(api, case):
    response = api("principal").post(reverse("api:case-visits", args=[case.pk]), visit())

    assert response.status_code == 201, response.json()
    recorded = PersuasionVisit.objects.get(case=case)
    assert response.json()["id"] == recorded.pk
    assert recorded.visitors == [{"role": "principal", "name": "泽郎扎西"}]
    case.refresh_from_db()
    assert case.status == Status.PERSUADING


def test_a_retried_post_with_the_same_idempotency_key_records_one_visit(api, case):
    client = api("county")
    url = reverse("api:case-visits", args=[case.pk])

    first = client.post(url, visit(), **{"Idempotency-Key": "visit-7f3c"})
    retry = client.post(url, visit(), **{"Idempotency-Key": "visit-7f3c"})

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert PersuasionVisit.objects.filter(case=case).count() == 1


def test_a_key_is_remembered_for_a_day(api, case):
    client = api("county")
    url = reverse("api:case-visits", args=[case.pk])
    client.post(url, visit(), **{"Idempotency-Key": "old"})
    IdempotentRequest.objects.update(created_at=timezone.now() - KEPT - datetime.timedelta(minutes=1))
    client.post(url, visit(), **{"Idempotency-Key": "old"})
    assert PersuasionVisit.objects.filter(case=case).count() == 2
    assert IdempotentRequest.objects.count() == 1


def test_a_new_key_records_a_new_visit(api, case):
    client = api("county")
    url = reverse("api:case-visits", args=[case.pk])
    client.post(url, visit(), **{"Idempotency-Key": "first"})
    client.post(url, visit(), **{"Idempotency-Key": "second"})
    assert PersuasionVisit.objects.filter(case=case).count() == 2


def test_a_key_reused_for_another_request_is_refused(api, case):
    client = api("county")
    url = reverse("api:case-visits", args=[case.pk])
    client.post(url, visit(), **{"Idempotency-Key": "k1"})

    response = client.post(url, visit(outcome="refused"), **{"Idempotency-Key": "k1"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert PersuasionVisit.objects.filter(case=case).count() == 1


def test_a_refused_request_keeps_no_answer_for_its_key(api, case):
    client = api("county")
    url = reverse("api:case-visits", args=[case.pk])
    refused = client.post(url, visit(visitors=[]), **{"Idempotency-Key": "k2"})
    assert refused.status_code == 400
    assert not IdempotentRequest.objects.exists()
    assert client.post(url, visit(), **{"Idempotency-Key": "k2"}).status_code == 201


def test_the_same_key_of_two_users_is_two_keys(api, case):
    url = reverse("api:case-visits", args=[case.pk])
    api("county").post(url, visit(), **{"Idempotency-Key": "shared"})
    api("principal").post(url, visit(), **{"Idempotency-Key": "shared"})
    assert PersuasionVisit.objects.filter(case=case).count() == 2


def test_a_principals_token_cannot_write_to_another_schools_case(api, area):
    other = open_case(area["other_school"], dropout_date=_today() - datetime.timedelta(days=60))

    response = api("principal").post(reverse("api:case-visits", args=[other.pk]), visit())
    status = api("principal").post(
        reverse("api:case-returned", args=[other.pk]),
        {"version": other.version, "returned_on": _today().isoformat(), "placement": "regular_class"},
    )

    assert response.status_code == status.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not PersuasionVisit.objects.filter(case=other).exists()
    other.refresh_from_db()
    assert other.status == Status.DROPPED_OUT


@pytest.mark.parametrize("role", ["ministry", "province", "prefecture"])
def test_read_only_roles_write_nothing(api, case, role):
    assert api(role).get(reverse("api:case-detail", args=[case.pk])).status_code == 200
    response = api(role).post(reverse("api:case-visits", args=[case.pk]), visit())
    assert response.status_code == 404
    assert not PersuasionVisit.objects.exists()


def test_bad_input_names_its_field_with_the_forms_message_in_the_request_language(api, case):
    tomorrow = (_today() + datetime.timedelta(days=1)).isoformat()
    response = api("county", "zh-hans").post(
        reverse("api:case-visits", args=[case.pk]),
        visit(visit_date=tomorrow, visitors=[{"role": "principal", "name": ""}]),
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    fields = {error["field"]: error["message"] for error in body["errors"]}
    with translation.override("zh-hans"):
        expected = gettext("Give the name of this visitor.")
    assert expected != "Give the name of this visitor."
    assert fields == {"visitors.0.name": expected}
    assert body["field"] == "visitors.0.name"


def test_the_services_rules_answer_with_their_field(api, case):
    tomorrow = (_today() + datetime.timedelta(days=1)).isoformat()
    response = api("county").post(reverse("api:case-visits", args=[case.pk]), visit(visit_date=tomorrow))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "visit_date", "code": "invalid", "message": "The visit date cannot be in the future."}
    ]


def test_a_body_that_is_not_an_object_is_refused_clearly(api, case):
    response = api("county").client.post(
        reverse("api:case-visits", args=[case.pk]),
        "[1, 2]",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {api('county').key}",
    )
    assert response.status_code == 400
    assert response.json()["field"] is None


def test_a_return_strikes_the_case_off(api, case):
    response = api("county").post(
        reverse("api:case-returned", args=[case.pk]),
        {"version": case.version, "returned_on": _today().isoformat(), "placement": "regular_class"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.RETURNED
    case.refresh_from_db()
    assert case.struck_off_on == _today()


def test_a_stale_version_is_a_conflict_and_changes_nothing(api, case):
    stale = case.version
    api("county").post(reverse("api:case-visits", args=[case.pk]), visit())  # the first visit moves the version
    response = api("county").post(
        reverse("api:case-returned", args=[case.pk]),
        {"version": stale, "returned_on": _today().isoformat(), "placement": "regular_class"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert DropoutCase.objects.get(pk=case.pk).status == Status.PERSUADING


def test_a_status_change_the_lifecycle_refuses_names_the_status(api, case):
    response = api("county").post(
        reverse("api:case-status", args=[case.pk]),
        {"version": case.version, "to_status": "retained", "effective_date": _today().isoformat()},
    )
    assert response.status_code == 400
    assert response.json()["field"] in {"to_status", "effective_date", None}
    assert DropoutCase.objects.get(pk=case.pk).status == Status.DROPPED_OUT


def test_a_case_moves_to_being_persuaded(api, case):
    response = api("county").post(
        reverse("api:case-status", args=[case.pk]),
        {"version": case.version, "to_status": "persuading", "effective_date": _today().isoformat()},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.PERSUADING


def test_a_case_is_closed_with_a_reason_named_by_its_code(api, case):
    reason = ClosureReason.objects.filter(active=True).first()
    response = api("county").post(
        reverse("api:case-close", args=[case.pk]),
        {"version": case.version, "effective_date": _today().isoformat(), "closure_reason": reason.code},
    )
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.closure_reason == reason


def test_a_relapse_opens_a_new_case(api, case):
    api("county").post(
        reverse("api:case-returned", args=[case.pk]),
        {"version": case.version, "returned_on": (_today() - datetime.timedelta(days=10)).isoformat(),
         "placement": "regular_class"},
    )  # fmt: skip
    case.refresh_from_db()
    response = api("county").post(
        reverse("api:case-relapse", args=[case.pk]),
        {"version": case.version, "dropout_date": _today().isoformat(), "reason": "work", "grade": 8},
    )
    assert response.status_code == 201, response.json()
    new_case = DropoutCase.objects.get(pk=response.json()["id"])
    assert new_case.previous_case == case and new_case.grade == 8


def test_responsible_persons_are_set_with_the_version_and_a_stale_one_is_409(api, case):
    url = reverse("api:case-persons", args=[case.pk])
    version = api("county").get(url).json()["version"]
    persons = [{"role": "principal", "name": "泽郎扎西", "phone": "13800000000"}]

    saved = api("county").put(url, {"version": version, "persons": persons})
    stale = api("county").put(url, {"version": version, "persons": []})

    assert saved.status_code == 200, saved.json()
    assert saved.json()["version"] == version + 1
    assert [p["name"] for p in saved.json()["persons"]] == ["泽郎扎西"]
    assert stale.status_code == 409
    assert case.responsible_persons.get().name == "泽郎扎西"


def test_a_case_is_opened_with_the_new_case_forms_checks(api, area):
    child = {
        "school": area["school"].code,
        "grade": 7,
        "dropout_date": (_today() - datetime.timedelta(days=3)).isoformat(),
        "reason": "poverty",
        "name": "桑青卓玛",
        "gender": "F",
        "birth_date": "2012-03-04",
        "id_number": "11010519491231002X",
    }
    wrong = api("county").post(reverse("api:case-open"), {**child, "id_number": "110105194912310021"})
    assert wrong.status_code == 400
    assert wrong.json()["field"] == "id_number"

    made = api("county").post(reverse("api:case-open"), {**child, "birth_date": "1949-12-31"})
    assert made.status_code == 201, made.json()
    assert DropoutCase.objects.get(pk=made.json()["id"]).student.name == "桑青卓玛"


def test_a_principal_opens_no_case_in_another_school(api, area):
    response = api("principal").post(
        reverse("api:case-open"),
        {
            "school": area["other_school"].code,
            "grade": 7,
            "dropout_date": _today().isoformat(),
            "reason": "poverty",
            "name": "某某",
            "gender": "F",
            "birth_date": "2012-03-04",
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "school"
    assert not DropoutCase.objects.exists()
