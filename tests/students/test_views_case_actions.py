"""The actions on a case's page: POST only, write scope, one service each, and stale forms refused."""

import datetime

import pytest
from django.urls import reverse

from students.choices import Placement, Reason, ResponsibleRole, Status, VisitMethod, VisitorRole, VisitOutcome
from students.models import CaseEvent, ClosureReason, DropoutCase, PersuasionVisit, ResponsiblePerson
from students.services import case_change_status, case_mark_returned
from tests.factories import open_case

pytestmark = pytest.mark.django_db

ACTIONS = ["case-visit", "case-status", "case-returned", "case-close", "case-relapse", "case-responsible"]
DROPPED = datetime.date(2019, 3, 1)


@pytest.fixture
def case(area):
    return open_case(area["school"], dropout_date=DROPPED)


def url(name, case) -> str:
    return reverse(f"students:{name}", args=[case.pk])


def visit_data(case, **overrides):
    data = {
        "version": case.version,
        "visit_date": "2019-04-02",
        "method": VisitMethod.HOME_VISIT,
        "outcome": VisitOutcome.AGREED,
        "visitor_role_0": VisitorRole.PRINCIPAL,
        "visitor_name_0": "王校长",
        "visitor_role_1": VisitorRole.VILLAGE_CADRE,
        "visitor_name_1": "扎西",
        "notes": "The family agreed after a long talk.",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_refuse_get(name, client, users, case):
    client.force_login(users["principal"])
    assert client.get(url(name, case)).status_code == 405


@pytest.mark.parametrize("name", ACTIONS)
@pytest.mark.parametrize("role", ["other_principal", "neighbour_county", "ministry", "province", "prefecture"])
def test_actions_on_a_case_outside_the_write_scope_are_404_and_change_nothing(name, role, client, users, case):
    client.force_login(users[role])
    response = client.post(url(name, case), visit_data(case))
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.version == 1
    assert not PersuasionVisit.objects.exists()


@pytest.mark.parametrize("name", ACTIONS)
def test_signed_out_visitor_is_sent_to_sign_in(name, client, case):
    response = client.post(url(name, case), {})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("role", ["principal", "county", "admin"])
def test_recording_a_visit_stores_it_and_marks_the_case_as_being_persuaded(role, client, users, case):
    client.force_login(users[role])
    response = client.post(url("case-visit", case), visit_data(case), follow=True)
    assert response.redirect_chain[-1][0] == case.get_absolute_url()
    assert "The visit was recorded." in response.content.decode()
    visit = PersuasionVisit.objects.get(case=case)
    assert visit.visitors == [
        {"role": VisitorRole.PRINCIPAL, "name": "王校长"},
        {"role": VisitorRole.VILLAGE_CADRE, "name": "扎西"},
    ]
    assert visit.recorded_by == users[role]
    case.refresh_from_db()
    assert case.status == Status.PERSUADING


@pytest.mark.parametrize("role", ["principal", "county"])
def test_a_follow_up_visit_reads_the_case_once_locked(role, client, users, case, django_assert_num_queries):
    """Session and user; then, in one transaction (here a savepoint), the case read through the write scope with
    its row locked, and the visit: the case is not read a second time, and the service takes no savepoint of its
    own."""
    client.force_login(users[role])
    client.post(url("case-visit", case), visit_data(case))
    case.refresh_from_db()
    with django_assert_num_queries(6) as queries:
        response = client.post(url("case-visit", case), visit_data(case, visit_date="2019-04-09"))
    assert response.status_code == 302
    assert PersuasionVisit.objects.filter(case=case).count() == 2
    case_reads = [q["sql"] for q in queries.captured_queries if 'FROM "students_dropoutcase"' in q["sql"]]
    assert len(case_reads) == 1
    assert case_reads[0].endswith('FOR UPDATE OF "students_dropoutcase"')


def test_a_visit_needs_at_least_one_visitor(client, users, case):
    client.force_login(users["principal"])
    data = visit_data(case, visitor_role_0="", visitor_name_0="", visitor_role_1="", visitor_name_1="")
    response = client.post(url("case-visit", case), data)
    assert response.status_code == 200
    assert "Say who went" in response.content.decode()
    assert not PersuasionVisit.objects.exists()


def test_a_visitor_with_a_role_but_no_name_is_flagged_on_that_row(client, users, case):
    client.force_login(users["principal"])
    response = client.post(url("case-visit", case), visit_data(case, visitor_name_1=""))
    form = response.context["visit_form"]
    assert form.errors["visitor_name_1"] == ["Give the name of this visitor."]
    assert response.context["open_form"] == "visit_form"


def test_extra_visitor_rows_added_in_the_browser_are_accepted(client, users, case):
    client.force_login(users["principal"])
    data = visit_data(case, visitor_role_2=VisitorRole.POLICE, visitor_name_2="张警官")
    data.update({"visitor_role_3": VisitorRole.OTHER, "visitor_name_3": "村医"})
    client.post(url("case-visit", case), data)
    assert [v["name"] for v in PersuasionVisit.objects.get().visitors] == ["王校长", "扎西", "张警官", "村医"]


def test_a_visit_dated_before_the_dropout_shows_the_services_message_on_the_date(client, users, case):
    client.force_login(users["principal"])
    response = client.post(url("case-visit", case), visit_data(case, visit_date="2019-01-01"))
    assert response.context["visit_form"].errors["visit_date"] == ["The visit cannot be before the dropout date."]
    assert "2019-01-01" in response.content.decode()


def test_changing_status_offers_only_allowed_transitions(client, users, case):
    client.force_login(users["county"])
    response = client.post(
        url("case-status", case), {"version": 1, "to_status": Status.DROPPED_OUT, "effective_date": "2019-04-01"}
    )
    assert response.context["status_form"].errors["to_status"] == [
        "A case cannot go from “Dropped out” to “Dropped out”."
    ]
    case.refresh_from_db()
    assert case.status == Status.DROPPED_OUT


def test_changing_status_through_the_form_records_an_event(client, users, case):
    client.force_login(users["county"])
    response = client.post(
        url("case-status", case),
        {"version": 1, "to_status": Status.PERSUADING, "effective_date": "2019-04-01", "note": "Teacher called."},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.PERSUADING
    event = case.events.last()
    assert (event.to_status, event.note, event.recorded_by) == (Status.PERSUADING, "Teacher called.", users["county"])


def test_marking_returned_strikes_the_case_off_with_its_placement(client, users, case):
    client.force_login(users["principal"])
    response = client.post(
        url("case-returned", case),
        {"version": 1, "returned_on": "2019-09-01", "placement": Placement.SEPARATE_CLASS},
        follow=True,
    )
    assert "struck off" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.RETURNED
    assert case.returned_on == case.struck_off_on == datetime.date(2019, 9, 1)
    assert case.placement == Placement.SEPARATE_CLASS


def test_a_return_dated_in_the_future_is_refused_on_the_date_field(client, users, case):
    client.force_login(users["principal"])
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        url("case-returned", case), {"version": 1, "returned_on": future, "placement": Placement.REGULAR_CLASS}
    )
    assert response.context["return_form"].errors["returned_on"] == ["The date cannot be in the future."]
    case.refresh_from_db()
    assert case.status == Status.DROPPED_OUT


def test_closing_needs_a_reason_and_records_it(client, users, case):
    client.force_login(users["county"])
    response = client.post(url("case-close", case), {"version": 1, "effective_date": "2019-05-01"})
    assert "closure_reason" in response.context["close_form"].errors
    moved = ClosureReason.objects.get(code="moved_away")
    client.post(url("case-close", case), {"version": 1, "effective_date": "2019-05-01", "closure_reason": moved.pk})
    case.refresh_from_db()
    assert (case.status, case.closure_reason, case.struck_off_on) == (Status.CLOSED, moved, datetime.date(2019, 5, 1))


def test_relapse_opens_a_new_case_and_shows_it(client, users, case):
    case_mark_returned(case=case, returned_on=datetime.date(2019, 6, 1), placement=Placement.REGULAR_CLASS)
    client.force_login(users["principal"])
    response = client.post(
        url("case-relapse", case),
        {"version": case.version, "dropout_date": "2019-11-01", "reason": Reason.WORK, "grade": 8},
    )
    new_case = DropoutCase.objects.get(previous_case=case)
    assert response["Location"] == new_case.get_absolute_url()
    assert (new_case.status, new_case.dropout_date, new_case.reason, new_case.grade) == (
        Status.DROPPED_OUT,
        datetime.date(2019, 11, 1),
        Reason.WORK,
        8,
    )
    case.refresh_from_db()
    assert case.status == Status.RELAPSED


def test_a_stale_form_is_refused_with_an_explanation_and_keeps_the_users_input(client, users, case):
    # A colleague moves the case on after the principal opened the page.
    case_change_status(case=case, to_status=Status.PERSUADING, effective_date=datetime.date(2019, 3, 5))
    client.force_login(users["principal"])
    response = client.post(
        url("case-returned", case),
        {"version": 1, "returned_on": "2019-09-01", "placement": Placement.VOCATIONAL, "note": "Back since Monday."},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this case" in html
    assert "Nothing was saved" in html
    form = response.context["return_form"]
    assert form["note"].value() == "Back since Monday."
    assert form["placement"].value() == Placement.VOCATIONAL
    assert form["version"].value() == "2"
    case.refresh_from_db()
    assert (case.status, case.version) == (Status.PERSUADING, 2)
    assert not case.events.filter(to_status=Status.RETURNED).exists()


def test_resubmitting_after_a_stale_refusal_goes_through(client, users, case):
    case_change_status(case=case, to_status=Status.PERSUADING, effective_date=datetime.date(2019, 3, 5))
    client.force_login(users["principal"])
    data = {"version": 1, "returned_on": "2019-09-01", "placement": Placement.REGULAR_CLASS}
    refused = client.post(url("case-returned", case), data)
    data["version"] = refused.context["return_form"]["version"].value()
    assert client.post(url("case-returned", case), data).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.RETURNED


@pytest.mark.parametrize(
    "name,data",
    [
        ("case-status", {"to_status": Status.PERSUADING, "effective_date": "2019-04-01"}),
        ("case-close", {"effective_date": "2019-04-01", "closure_reason": "__moved__"}),
    ],
)
def test_every_versioned_action_refuses_a_stale_form(name, data, client, users, case):
    case_change_status(case=case, to_status=Status.PERSUADING, effective_date=datetime.date(2019, 3, 5))
    if data.get("closure_reason") == "__moved__":
        data = {**data, "closure_reason": ClosureReason.objects.get(code="moved_away").pk}
    events = CaseEvent.objects.count()
    client.force_login(users["county"])
    response = client.post(url(name, case), {"version": 1, **data})
    assert response.status_code == 409
    assert CaseEvent.objects.count() == events


def test_responsible_persons_are_saved_replaced_and_removed(client, users, case):
    client.force_login(users["county"])
    client.post(
        url("case-responsible", case),
        {
            "version": case.version,
            f"name_{ResponsibleRole.PRINCIPAL}": "王校长",
            f"phone_{ResponsibleRole.PRINCIPAL}": "13900000000",
            f"name_{ResponsibleRole.VILLAGE_HEAD}": "扎西",
        },
    )
    persons = {p.role: (p.line, p.name, p.phone) for p in ResponsiblePerson.objects.filter(case=case)}
    assert persons == {
        ResponsibleRole.PRINCIPAL: ("education", "王校长", "13900000000"),
        ResponsibleRole.VILLAGE_HEAD: ("government", "扎西", ""),
    }
    case.refresh_from_db()
    client.post(
        url("case-responsible", case), {"version": case.version, f"name_{ResponsibleRole.VILLAGE_HEAD}": "次仁"}
    )
    assert list(ResponsiblePerson.objects.filter(case=case).values_list("name", flat=True)) == ["次仁"]


@pytest.mark.parametrize("status", [Status.RETURNED, Status.CLOSED, Status.RELAPSED])
def test_statuses_with_their_own_form_cannot_be_set_through_the_plain_status_form(status, client, users, case):
    case_mark_returned(case=case, returned_on=datetime.date(2019, 6, 1), placement=Placement.REGULAR_CLASS)
    client.force_login(users["county"])
    response = client.post(
        url("case-status", case), {"version": case.version, "to_status": status, "effective_date": "2019-07-01"}
    )
    assert "to_status" in response.context["status_form"].errors
    case.refresh_from_db()
    assert case.status == Status.RETURNED
