"""A case's responsible persons: saved against the version the form was built on, each change in the case's history,
shown through the disclosure rule."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from students.choices import Line, Placement, ResponsibleRole, Status
from students.models import ClosureReason, ResponsiblePerson, ResponsiblePersonChange
from students.services import (
    StaleCaseError,
    case_change_status,
    case_mark_returned,
    case_set_responsible_persons,
)
from tests.factories import open_case

pytestmark = pytest.mark.django_db

DROPPED = datetime.date(2019, 3, 1)
PRINCIPAL = {"line": Line.EDUCATION, "role": ResponsibleRole.PRINCIPAL, "name": "白玛校长", "phone": "13811112222"}
VILLAGE_HEAD = {
    "line": Line.GOVERNMENT,
    "role": ResponsibleRole.VILLAGE_HEAD,
    "name": "贡布次仁",
    "phone": "13933334444",
}
NEW_PRINCIPAL = {**PRINCIPAL, "name": "洛桑校长", "phone": "13755556666"}


@pytest.fixture
def case(area):
    return open_case(area["school"], dropout_date=DROPPED)


def test_a_change_is_recorded_with_who_and_each_roles_person_before_and_after(case, users):
    case_set_responsible_persons(case=case, persons=[PRINCIPAL, VILLAGE_HEAD], user=users["county"])
    change = case_set_responsible_persons(
        case=case, persons=[NEW_PRINCIPAL], user=users["principal"], expected_version=2
    )

    assert change.changed_by == users["principal"]
    assert change.changes == {
        ResponsibleRole.PRINCIPAL: [
            {"name": "白玛校长", "phone": "13811112222"},
            {"name": "洛桑校长", "phone": "13755556666"},
        ],
        ResponsibleRole.VILLAGE_HEAD: [{"name": "贡布次仁", "phone": "13933334444"}, None],
    }
    assert list(case.responsible_persons.values_list("role", "name")) == [(ResponsibleRole.PRINCIPAL, "洛桑校长")]
    case.refresh_from_db()
    assert case.version == 3
    assert ResponsiblePersonChange.objects.filter(case=case).count() == 2


def test_a_save_on_an_older_version_is_refused_and_changes_nothing(case, users):
    case_set_responsible_persons(case=case, persons=[PRINCIPAL], user=users["county"], expected_version=1)

    with pytest.raises(StaleCaseError):
        case_set_responsible_persons(case=case, persons=[NEW_PRINCIPAL], user=users["county"], expected_version=1)

    assert case.responsible_persons.get().name == "白玛校长"
    assert ResponsiblePersonChange.objects.filter(case=case).count() == 1


def test_saving_the_same_persons_again_records_nothing_and_keeps_the_version(case, users):
    case_set_responsible_persons(case=case, persons=[PRINCIPAL], user=users["county"])
    case.refresh_from_db()

    assert case_set_responsible_persons(case=case, persons=[PRINCIPAL], user=users["county"]) is None

    case.refresh_from_db()
    assert case.version == 2
    assert ResponsiblePersonChange.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("ending", ["closed", "relapsed"])
def test_a_finished_case_takes_no_change_even_from_a_copy_read_before_it_ended(case, users, ending):
    before = type(case).objects.get(pk=case.pk)
    if ending == "closed":
        case_change_status(
            case=case,
            to_status=Status.CLOSED,
            effective_date=DROPPED,
            closure_reason=ClosureReason.objects.first(),
        )
    else:
        case_mark_returned(case=case, returned_on=DROPPED, placement=Placement.REGULAR_CLASS)
        case_change_status(case=case, to_status=Status.RELAPSED, effective_date=datetime.date(2019, 9, 1))

    with pytest.raises(ValidationError) as refused:
        case_set_responsible_persons(case=before, persons=[PRINCIPAL], user=users["county"])

    assert refused.value.code == "finished"
    assert not ResponsiblePerson.objects.filter(case=case).exists()


# The form -----------------------------------------------------------------------------------------------------


def post(client, case, version, **names):
    data = {"version": version}
    for role, (name, phone) in names.items():
        data[f"name_{role}"], data[f"phone_{role}"] = name, phone
    return client.post(reverse("students:case-responsible", args=[case.pk]), data)


def test_a_stale_form_is_refused_with_a_message_and_shown_again_with_the_users_input(client, case, users):
    client.force_login(users["county"])
    assert post(client, case, 1, principal=("白玛校长", "13811112222")).status_code == 302

    response = post(client, case, 1, principal=("洛桑校长", "13755556666"))

    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else changed this case while you were editing it." in body
    form = response.context["responsible_form"]
    assert form["name_principal"].value() == "洛桑校长"
    assert form["version"].value() == "2"
    assert case.responsible_persons.get().name == "白玛校长"
    # Sent again on the version it was shown with, it goes through.
    assert post(client, case, 2, principal=("洛桑校长", "13755556666")).status_code == 302
    assert case.responsible_persons.get().name == "洛桑校长"


def test_a_closed_case_has_no_form_for_its_responsible_persons(client, case, users):
    case_change_status(
        case=case, to_status=Status.CLOSED, effective_date=DROPPED, closure_reason=ClosureReason.objects.first()
    )
    client.force_login(users["county"])

    page = client.get(case.get_absolute_url())
    refused = post(client, case, case.version, principal=("白玛校长", "13811112222"))

    assert reverse("students:case-responsible", args=[case.pk]) not in page.content.decode()
    assert refused.status_code == 200
    assert "responsible persons no longer change" in refused.content.decode()
    assert not ResponsiblePerson.objects.filter(case=case).exists()


# The history on the case's page -------------------------------------------------------------------------------


@pytest.fixture
def changed(case, users):
    case_set_responsible_persons(case=case, persons=[PRINCIPAL, VILLAGE_HEAD], user=users["county"])
    case_set_responsible_persons(case=case, persons=[NEW_PRINCIPAL], user=users["principal"])
    return case


@pytest.mark.parametrize("role", ["county", "principal", "admin"])
def test_the_history_shows_who_changed_the_persons_with_their_names_and_phones(client, changed, users, role):
    client.force_login(users[role])

    body = client.get(changed.get_absolute_url()).content.decode()

    history = body[body.index('id="timeline-title"') :]
    for value in ("白玛校长", "13811112222", "贡布次仁", "13933334444", "洛桑校长", "13755556666"):
        assert value in history
    assert users["principal"].username in history


@pytest.mark.parametrize("role", ["ministry", "province", "prefecture"])
def test_the_history_masks_names_and_phones_for_masked_roles(client, changed, users, role):
    client.force_login(users[role])

    response = client.get(changed.get_absolute_url())

    assert response.status_code == 200
    body = response.content.decode()
    for value in ("白玛校长", "贡布次仁", "洛桑校长", "13811112222", "13933334444", "13755556666", "1111", "5555"):
        assert value not in body
    # Each role's family name, as the list of persons shows it.
    assert "白**" in body and "贡**" in body
