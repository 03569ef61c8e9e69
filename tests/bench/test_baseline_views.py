import pytest
from django.urls import NoReverseMatch, reverse

from bench import visits
from bench.load import Response
from students.choices import Reason
from students.models import PersuasionVisit
from tests.factories import open_case

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]


def test_minimal_page_is_served_to_signed_in_users_without_a_query_of_its_own(client, users, django_assert_num_queries):
    client.force_login(users["ministry"])
    url = reverse("bench-minimal")
    client.get(url)
    # The session and the user: what every signed-in page reads before its own work.
    with django_assert_num_queries(2):
        response = client.get(url)
    assert response.status_code == 200


def test_minimal_page_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("bench-minimal"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_minimal_insert_view_adds_one_visit_row(client, users, area):
    case = open_case(area["school"])
    client.force_login(users["county"])
    response = client.post(reverse("bench-insert", args=[case.pk]), {"notes": visits.NOTE})
    assert response.status_code == 204
    assert PersuasionVisit.objects.filter(case=case, notes=visits.NOTE).count() == 1


def test_minimal_insert_view_takes_only_posts(client, users, area):
    case = open_case(area["school"])
    client.force_login(users["county"])
    assert client.get(reverse("bench-insert", args=[case.pk])).status_code == 405
    assert not PersuasionVisit.objects.exists()


@pytest.mark.urls("dropout_ledger.urls")
def test_product_urls_do_not_carry_the_baseline_views():
    with pytest.raises(NoReverseMatch):
        reverse("bench-minimal")


def test_a_visit_counts_as_recorded_only_when_not_sent_to_sign_in_nor_shown_again():
    assert visits._is_success(Response(302, {"location": "/cases/5/"}, b""))
    assert visits._is_success(Response(204, {}, b""))
    assert not visits._is_success(Response(302, {"location": "/accounts/login/?next=/cases/5/visit/"}, b""))
    assert not visits._is_success(Response(200 + 209, {}, b""))
    assert not visits._is_success(Response(500, {}, b""))


def test_minimal_list_reads_the_list_as_the_case_list_does_within_the_users_scope(
    client, users, area, django_assert_num_queries
):
    mine = open_case(area["school"], reason=Reason.POVERTY)
    open_case(area["school"], reason=Reason.WORK)
    elsewhere = open_case(area["far_school"], reason=Reason.POVERTY)
    client.force_login(users["county"])
    url = f"{reverse('bench-list')}?status=open&reason={Reason.POVERTY}"
    client.get(url)
    # The session, the user, the count and the page: the case list's reads without its filter form (the
    # navigation's badge of work due is fetched by the page once shown).
    with django_assert_num_queries(4):
        response = client.get(url)
    page = response.content.decode()
    assert reverse("students:case-detail", args=[mine.pk]) in page
    assert reverse("students:case-detail", args=[elsewhere.pk]) not in page
    assert page.count("<tr>") == 1
