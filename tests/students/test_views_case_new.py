"""The new-case form: who may use it, which schools it offers, and the ID checks as typed and on submit."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from students.choices import OPEN_STATUSES, Placement, Reason, Status
from students.forms import ID_MESSAGES
from students.identifiers import validate_id_number
from students.models import DropoutCase, Student
from students.services import case_mark_returned
from tests.factories import StudentFactory, make_id_number, open_case

pytestmark = pytest.mark.django_db

NEW = reverse("students:case-new")
VALID_ID = make_id_number("513230", datetime.date(2009, 6, 1), 21)  # odd sequence: a boy


def form_data(school, **overrides):
    data = {
        "school": school.code,
        "grade": 7,
        "dropout_date": "2019-03-01",
        "reason": Reason.WORK,
        "name": "扎西",
        "gender": "M",
        "ethnicity": "04",
        "birth_date": "2009-06-01",
        "id_number": VALID_ID,
        "registry_number": "",
        "guardian_name": "次仁",
        "guardian_phone": "13900000000",
        "registered_poor": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["ministry", "province", "prefecture"])
def test_read_only_roles_have_no_new_case_screen(role, client, users, area):
    client.force_login(users[role])
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, form_data(area["school"])).status_code == 404
    assert not DropoutCase.objects.exists()


def test_principal_gets_their_own_school_preselected_and_no_other(client, users, area):
    client.force_login(users["principal"])
    form = client.get(NEW).context["form"]
    assert list(form.fields["school"].queryset) == [area["school"]]
    assert form["school"].value() == area["school"].code


def test_county_official_is_offered_the_schools_of_their_county(client, users, area):
    client.force_login(users["county"])
    form = client.get(NEW).context["form"]
    assert set(form.fields["school"].queryset) == {area["school"], area["other_school"]}


def test_principal_cannot_open_a_case_in_another_school(client, users, area):
    client.force_login(users["principal"])
    response = client.post(NEW, form_data(area["other_school"]))
    assert "school" in response.context["form"].errors
    assert not DropoutCase.objects.exists()


def test_county_official_puts_a_child_on_the_ledger(client, users, area):
    client.force_login(users["county"])
    response = client.post(NEW, form_data(area["other_school"]))
    case = DropoutCase.objects.get()
    assert response["Location"] == case.get_absolute_url()
    assert (case.school, case.county, case.grade, case.reason, case.status) == (
        area["other_school"],
        area["county"],
        7,
        Reason.WORK,
        Status.DROPPED_OUT,
    )
    student = case.student
    assert (student.name, student.id_number, student.ethnicity, student.registered_poor) == (
        "扎西",
        VALID_ID,
        "04",
        True,
    )
    assert case.events.get().recorded_by == users["county"]


def test_a_known_child_is_reused_not_duplicated(client, users, area):
    earlier = open_case(
        area["school"],
        student=StudentFactory(id_number=VALID_ID, name="扎西", gender="M"),
        dropout_date=datetime.date(2018, 9, 1),
    )
    case_mark_returned(case=earlier, returned_on=datetime.date(2019, 1, 15), placement=Placement.REGULAR_CLASS)
    client.force_login(users["principal"])
    client.post(NEW, form_data(area["school"]))
    assert Student.objects.count() == 1
    assert DropoutCase.objects.filter(status__in=OPEN_STATUSES).get().student == earlier.student


def test_a_child_with_an_open_case_elsewhere_is_refused_with_where(client, users, area):
    open_case(area["far_school"], student=StudentFactory(id_number=VALID_ID, gender="M"))
    client.force_login(users["principal"])
    response = client.post(NEW, form_data(area["school"]))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This child already has an open case in another county (Far county); ask that county to hand the case over."
    ]
    assert response.context["existing"] is None  # outside the principal's scope: no link
    assert DropoutCase.objects.count() == 1


@pytest.mark.parametrize("role,asks", [("county", True), ("principal", False)])
def test_a_child_another_county_holds_is_refused_and_its_officials_may_ask_for_the_case(
    client, users, area, role, asks
):
    child = StudentFactory(id_number=VALID_ID, gender="M", birth_date=datetime.date(2009, 6, 1), address="Far town 1")
    earlier = open_case(area["far_school"], student=child, dropout_date=datetime.date(2018, 9, 1))
    case_mark_returned(case=earlier, returned_on=datetime.date(2019, 1, 15), placement=Placement.REGULAR_CLASS)
    client.force_login(users[role])
    response = client.post(NEW, form_data(area["school"] if role == "principal" else area["other_school"]))
    assert response.context["form"].non_field_errors() == [
        "This child is on the ledger of another county (Far county); ask that county to hand the child over."
    ]
    html = response.content.decode()
    assert (reverse("students:handover-claim") in html) is asks  # a principal asks their county's officials
    assert child.name not in html and "Far town 1" not in html
    assert DropoutCase.objects.count() == 1


def test_an_open_case_the_user_may_see_is_linked_from_the_refusal(client, users, area):
    existing = open_case(area["other_school"], student=StudentFactory(id_number=VALID_ID, gender="M"))
    client.force_login(users["county"])
    response = client.post(NEW, form_data(area["school"]))
    assert response.context["existing"] == existing
    assert existing.get_absolute_url() in response.content.decode()


def test_a_bad_check_character_is_reported_on_the_id_field(client, users, area):
    wrong = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")
    client.force_login(users["principal"])
    response = client.post(NEW, form_data(area["school"], id_number=wrong))
    errors = response.context["form"].errors
    assert errors["id_number"] == [
        f"The check character is {wrong[17]} but should be {VALID_ID[17]}: a digit was probably mistyped."
    ]
    html = response.content.decode()
    assert 'id="field-id_number"' in html
    field_html = html.split('id="field-id_number"')[1].split('id="field-')[0]
    assert "a digit was probably mistyped" in field_html
    assert wrong in field_html  # the user's input is kept
    assert not DropoutCase.objects.exists()


def test_a_birth_date_that_disagrees_with_the_id_is_reported_on_the_birth_date(client, users, area):
    client.force_login(users["principal"])
    response = client.post(NEW, form_data(area["school"], birth_date="2009-06-02"))
    assert response.context["form"].errors["birth_date"] == [
        "The birth date does not match the one in the ID number (2009-06-01)."
    ]


def test_a_short_id_number_says_how_long_it_is(client, users, area):
    client.force_login(users["principal"])
    response = client.post(NEW, form_data(area["school"], id_number="51323020090601"))
    assert response.context["form"].errors["id_number"] == ["A resident ID number has 18 characters; this one has 14."]


def test_the_page_carries_the_browser_checks_messages(client, users):
    client.force_login(users["principal"])
    html = client.get(NEW).content.decode()
    catalogue = json.loads(html.split('<script id="id-messages" type="application/json">')[1].split("</script>")[0])
    assert catalogue["id_check"] == str(ID_MESSAGES["id_check"])
    assert "js/id-check.js" in html
    assert 'data-id-check="id_number"' in html


@pytest.mark.parametrize(
    "number,code,params",
    [
        ("5132302009", "id_length", {"count": 10}),
        ("51323020090601A021", "id_digits", {}),
        ("51323020090601021Y", "id_last", {}),
        ("513230200902300211", "id_date", {"date": "20090230"}),
        ("513230209906010211", "id_future", {"date": "2099-06-01"}),
        (VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1"), "id_check", None),
    ],
)
def test_browser_messages_are_the_servers_own_words(number, code, params):
    with pytest.raises(ValidationError) as raised:
        validate_id_number(number)
    if params is None:
        params = {"given": number[17], "expected": VALID_ID[17]}
    assert raised.value.messages == [str(ID_MESSAGES[code]) % params]


def test_in_chinese_the_bad_id_message_and_the_browser_catalogue_are_in_chinese(client, users, area):
    wrong = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")
    client.force_login(users["principal"])
    response = client.post(NEW, form_data(area["school"], id_number=wrong), HTTP_ACCEPT_LANGUAGE="zh-hans")
    expected = f"身份证号校验位为{wrong[17]}，应为{VALID_ID[17]}：可能有数字输错。"
    assert response.context["form"].errors["id_number"] == [expected]
    html = response.content.decode()
    catalogue = json.loads(html.split('<script id="id-messages" type="application/json">')[1].split("</script>")[0])
    assert catalogue["id_check"] % {"given": wrong[17], "expected": VALID_ID[17]} == expected


def test_administrator_names_any_school_by_its_code(client, users, area):
    client.force_login(users["admin"])
    form = client.get(NEW).context["form"]
    assert form.fields["school"].widget.input_type == "text"
    response = client.post(NEW, form_data(area["far_school"]))
    assert response.status_code == 302
    assert DropoutCase.objects.get().school == area["far_school"]
    response = client.post(NEW, {**form_data(area["far_school"], id_number=""), "school": "0000000000"})
    assert "school" in response.context["form"].errors
