"""API tokens: made and revoked by their user on the Tokens page and by administrators, shown once, stored hashed,
with an expiry and a last-used time; a revoked or expired token is refused."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.tokens import LAST_USED_EVERY, digest_of, token_create, token_revoke
from counties.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_as_its_digest_never_as_its_key(users):
    made = token_create(user=users["county"], name="exchange")
    stored = ApiToken.objects.get(pk=made.token.pk)
    assert stored.digest == digest_of(made.key) != made.key
    assert made.key.startswith(stored.prefix) and len(stored.prefix) < len(made.key) // 4
    row = ApiToken.objects.filter(pk=stored.pk).values().get()
    assert not any(made.key in str(value) for value in row.values())


def test_a_token_signs_in_as_its_user_and_records_its_last_use(api, users, keys):
    assert ApiToken.objects.get(user=users["county"]).last_used_at is None
    response = api("county").get(reverse("api:area-list"))
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == [users["county"].division.code]
    assert ApiToken.objects.get(user=users["county"]).last_used_at is not None


def test_the_last_use_is_written_at_most_once_a_minute(api, users, keys):
    token = ApiToken.objects.get(user=users["county"])
    earlier = timezone.now() - LAST_USED_EVERY / 2
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    api("county").get(reverse("api:area-list"))
    token.refresh_from_db()
    assert token.last_used_at == earlier


def test_a_revoked_token_is_refused(api, users, keys):
    client = api("county")
    assert client.get(reverse("api:case-list")).status_code == 200
    token_revoke(token=ApiToken.objects.get(user=users["county"]), user=users["county"])

    response = client.get(reverse("api:case-list"))

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_refused(api, users, keys):
    ApiToken.objects.filter(user=users["county"]).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert api("county").get(reverse("api:case-list")).status_code == 401


def test_the_token_of_a_deactivated_user_is_refused(api, users, keys):
    users["county"].is_active = False
    users["county"].save()
    assert api("county").get(reverse("api:case-list")).status_code == 401


def test_a_request_without_a_token_or_a_session_is_refused_in_the_request_language(api):
    response = api(None, "zh-hans").get(reverse("api:case-list"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["message"] == "身份认证信息未提供。"


def test_the_tokens_page_makes_a_token_and_shows_its_key_once(client, users):
    client.force_login(users["principal"])
    response = client.post(reverse("api:tokens"), {"name": "school system", "days": 30})

    assert response.status_code == 200
    key = response.context["new_key"]
    assert key in response.content.decode()
    token = ApiToken.objects.get(user=users["principal"])
    assert token.digest == digest_of(key) and token.name == "school system"
    assert (
        timezone.now() + datetime.timedelta(days=29) < token.expires_at <= timezone.now() + datetime.timedelta(days=30)
    )
    again = client.get(reverse("api:tokens")).content.decode()
    assert key not in again and token.prefix in again


def test_the_tokens_page_keeps_what_was_typed_when_it_refuses(client, users):
    client.force_login(users["principal"])
    response = client.post(reverse("api:tokens"), {"name": "school system", "days": 4000})
    assert response.status_code == 200
    assert response.context["form"].errors["days"]
    assert 'value="school system"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_user_revokes_their_own_token_on_the_tokens_page(client, users, api, keys):
    token = ApiToken.objects.get(user=users["county"])
    client.force_login(users["county"])
    response = client.post(reverse("api:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api("county").get(reverse("api:case-list")).status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(client, users, keys):
    token = ApiToken.objects.get(user=users["county"])
    client.force_login(users["neighbour_county"])
    assert client.post(reverse("api:token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_only_administrators_make_tokens_for_others(users):
    with pytest.raises(PermissionDenied):
        token_create(user=users["principal"], name="x", created_by=users["county"])
    made = token_create(user=users["principal"], name="x", created_by=users["admin"])
    assert made.token.created_by == users["admin"]


def test_an_administrator_makes_a_token_in_the_admin_and_sees_its_key_once(client, users):
    administrator = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(administrator)
    response = client.post(
        reverse("admin:api_apitoken_add"), {"user": users["county"].pk, "name": "province exchange", "days": 10}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=users["county"])
    key = response.context["key"]
    assert token.digest == digest_of(key) and token.created_by == administrator
    assert key not in client.get(reverse("admin:api_apitoken_change", args=[token.pk])).content.decode()


def test_an_administrator_revokes_tokens_from_the_admin_list(client, users, keys):
    administrator = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(administrator)
    tokens = list(ApiToken.objects.filter(user__in=[users["county"], users["principal"]]))
    response = client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk for token in tokens]},
    )
    assert response.status_code == 302
    assert ApiToken.objects.filter(pk__in=[t.pk for t in tokens], revoked_at__isnull=False).count() == 2
    assert ApiToken.objects.usable().filter(user=users["ministry"]).exists()
