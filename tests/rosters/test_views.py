"""The comparison's screens: who opens them, what they show of the children, and the decisions made there."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rosters.models import Candidate, CandidateGroup, CandidateStatus, RosterComparison, RosterKind
from students.models import DropoutCase, IdentifierAccess
from tests.rosters.helpers import AS_OF, compare, county, open_cases_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def comparison(area, users, django_capture_on_commit_callbacks):
    cases = open_cases_in(area["school"])
    return compare(county(area, open_cases=cases), area["county"], users["county"], django_capture_on_commit_callbacks)


def detail(comparison, group=CandidateGroup.NEVER_ENROLLED) -> str:
    return reverse("rosters:comparison-detail", args=[comparison.pk]) + f"?group={group}"


def test_a_county_official_uploads_rosters_and_is_taken_to_the_comparison(
    client, area, users, django_capture_on_commit_callbacks
):
    generated = county(area)
    client.force_login(users["county"])
    files = {kind: SimpleUploadedFile(f"{kind}.csv", generated.csv_bytes(kind)) for kind in generated.rosters}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("rosters:comparison-new", args=[area["county"].code]), {**files, "as_of": AS_OF.isoformat()}
        )
    comparison = RosterComparison.objects.get()
    assert response.status_code == 302 and response.url == comparison.get_absolute_url()
    assert comparison.requested_by == users["county"] and set(comparison.uploads.values_list("kind", flat=True)) == set(
        RosterKind.values
    )
    page = client.get(response.url).content.decode()
    assert generated.planted[CandidateGroup.NEVER_ENROLLED][0] in page


def test_rosters_that_cannot_be_compared_are_refused_with_the_date_kept(client, area, users):
    generated = county(area, children=5)
    client.force_login(users["county"])
    response = client.post(
        reverse("rosters:comparison-new", args=[area["county"].code]),
        {"household": SimpleUploadedFile("h.csv", generated.csv_bytes(RosterKind.HOUSEHOLD)), "as_of": "2020-06-14"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "the household register and the student registry" in body and 'value="2020-06-14"' in body
    assert not RosterComparison.objects.exists()


def test_the_countys_official_sees_the_candidates_identifiers_and_the_view_is_logged(client, comparison, users):
    never = Candidate.objects.get(comparison=comparison, group=CandidateGroup.NEVER_ENROLLED)
    client.force_login(users["county"])
    body = client.get(detail(comparison)).content.decode()
    assert never.name in body and never.id_number in body and never.why(comparison.as_of) in body
    assert IdentifierAccess.objects.filter(user=users["county"], detail__contains=f"#{comparison.pk}").exists()


@pytest.mark.parametrize("role", ["prefecture", "province", "ministry"])
def test_supervisors_see_the_comparison_masked_and_cannot_act(client, comparison, users, role):
    never = Candidate.objects.get(comparison=comparison, group=CandidateGroup.NEVER_ENROLLED)
    client.force_login(users[role])
    response = client.get(detail(comparison))
    body = response.content.decode()
    assert response.status_code == 200
    assert never.name not in body and never.id_number not in body and never.address not in body
    assert never.name[0] + "**" in body
    assert reverse("rosters:candidates-open", args=[comparison.pk]) not in body
    assert reverse("rosters:candidate-dismiss", args=[never.pk]) not in body
    refused = client.post(reverse("rosters:candidate-dismiss", args=[never.pk]), {"reason": "deceased"})
    assert refused.status_code == 403


@pytest.mark.parametrize("role", ["neighbour_county", "principal"])
def test_other_counties_and_principals_find_no_comparison(client, comparison, users, role):
    never = Candidate.objects.get(comparison=comparison, group=CandidateGroup.NEVER_ENROLLED)
    client.force_login(users[role])
    assert client.get(detail(comparison)).status_code == 404
    assert client.get(reverse("rosters:comparison-status", args=[comparison.pk])).status_code == 404
    assert client.post(reverse("rosters:candidate-dismiss", args=[never.pk]), {"reason": "deceased"}).status_code == 404
    assert client.post(reverse("rosters:candidates-open", args=[comparison.pk]), {}).status_code == 404


def test_opening_two_cases_from_the_page(client, comparison, area, users):
    never = Candidate.objects.get(comparison=comparison, group=CandidateGroup.NEVER_ENROLLED)
    dropout = Candidate.objects.get(comparison=comparison, group=CandidateGroup.DROPPED_OUT)
    client.force_login(users["county"])
    response = client.post(
        reverse("rosters:candidates-open", args=[comparison.pk]),
        {
            "candidates": [never.pk, dropout.pk],
            "dropout_date": AS_OF.isoformat(),
            "reason": "poverty",
            "school": area["school"].code,
            "grade": "4",
        },
    )
    assert response.status_code == 302
    assert DropoutCase.objects.filter(student__name__in=[never.name, dropout.name]).count() == 2
    assert set(Candidate.objects.filter(pk__in=[never.pk, dropout.pk]).values_list("status", flat=True)) == {
        CandidateStatus.CASE_OPENED
    }


def test_a_refused_bulk_opening_keeps_what_was_ticked_and_says_why_beside_the_child(client, comparison, users):
    never = Candidate.objects.get(comparison=comparison, group=CandidateGroup.NEVER_ENROLLED)
    client.force_login(users["county"])
    response = client.post(
        reverse("rosters:candidates-open", args=[comparison.pk]),
        {"candidates": [never.pk], "dropout_date": AS_OF.isoformat(), "reason": "poverty", "group": never.group},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "No case was opened" in body and "Choose the school for children the roster gives none." in body
    assert f'value="{never.pk}" form="open-cases"' in body and "checked" in body
    assert not DropoutCase.objects.filter(student__name=never.name).exists()


def test_dismissing_and_setting_the_flag_from_the_page(client, comparison, users):
    never = Candidate.objects.get(comparison=comparison, group=CandidateGroup.NEVER_ENROLLED)
    poor = Candidate.objects.get(comparison=comparison, group=CandidateGroup.POOR_NOT_FLAGGED)
    client.force_login(users["county"])
    response = client.post(reverse("rosters:candidate-dismiss", args=[never.pk]), {"reason": "home_schooled"})
    assert response.status_code == 302
    assert client.post(reverse("rosters:candidate-flag", args=[poor.pk])).status_code == 302
    never.refresh_from_db()
    poor.refresh_from_db()
    assert (never.status, never.dismiss_reason) == (CandidateStatus.DISMISSED, "home_schooled")
    assert poor.status == CandidateStatus.FLAG_SET and poor.student.registered_poor


def test_a_dismissal_without_a_reason_is_refused(client, comparison, users):
    never = Candidate.objects.get(comparison=comparison, group=CandidateGroup.NEVER_ENROLLED)
    client.force_login(users["county"])
    response = client.post(reverse("rosters:candidate-dismiss", args=[never.pk]), {"reason": ""}, follow=True)
    assert "Say why the candidate is dismissed." in response.content.decode()
    never.refresh_from_db()
    assert never.status == CandidateStatus.OPEN


def test_the_progress_answers_as_json(client, comparison, users):
    client.force_login(users["county"])
    answer = client.get(reverse("rosters:comparison-status", args=[comparison.pk])).json()
    assert (answer["status"], answer["progress"], answer["finished"]) == ("succeeded", 100, True)
    assert answer["counts"]["candidates"][CandidateGroup.DROPPED_OUT] == 1


def test_the_list_shows_the_countys_comparisons(client, comparison, users):
    client.force_login(users["county"])
    body = client.get(reverse("rosters:comparison-list")).content.decode()
    assert comparison.get_absolute_url() in body
    assert reverse("rosters:comparison-new", args=[comparison.county.code]) in body


def test_the_page_reads_in_a_fixed_number_of_queries(client, comparison, users, django_assert_max_num_queries):
    client.force_login(users["county"])
    with django_assert_max_num_queries(20):
        assert client.get(detail(comparison, CandidateGroup.POOR_NOT_FLAGGED)).status_code == 200
