"""Signing in: wrong passwords are throttled per username and per address, passwords are hashed with Argon2
(older hashes upgraded on sign-in), and a session ends after a while without requests."""

import datetime

import pytest
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from dropout_ledger import sessions
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def official():
    user = UserFactory(role="ministry", username="wang")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, username, password, address="10.0.0.1", language="en"):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_after_too_many_wrong_ones_is_refused_until_the_pause_ends(client, official):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wang", "wrong").status_code == 200
    assert sign_in(client, "wang", "wrong").status_code == 429
    response = sign_in(client, "wang", PASSWORD)

    assert response.status_code == 429
    assert not signed_in(client)
    assert "15 minutes" in response.content.decode()


def test_a_paused_username_stays_paused_from_another_address(client, official):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wang", "wrong", address="10.0.0.1")
    assert sign_in(client, "wang", PASSWORD, address="10.9.9.9").status_code == 429


def test_one_address_trying_many_usernames_is_paused_too(client, official):
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess{number}", "wrong", address="10.6.6.6")
    assert sign_in(client, "wang", PASSWORD, address="10.6.6.6").status_code == 429
    assert sign_in(client, "wang", PASSWORD, address="10.0.0.2").status_code == 302


def test_the_pause_is_told_in_the_users_language(client, official):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wang", "wrong")
    response = sign_in(client, "wang", PASSWORD, language="zh-hans")
    assert "15分钟" in response.content.decode()


def test_an_administrator_can_lift_a_pause(client, official):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wang", "wrong")
    reset(username="wang")
    assert sign_in(client, "wang", PASSWORD, address="10.0.0.3").status_code == 302
    assert signed_in(client)


def test_fewer_wrong_passwords_than_the_limit_do_not_pause(client, official):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wang", "wrong")
    assert sign_in(client, "wang", PASSWORD).status_code == 302


def test_an_older_password_hash_is_upgraded_to_argon2_on_sign_in(client, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = UserFactory(role="ministry", username="li")
    get_user_model().objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    assert sign_in(client, "li", PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2")


def test_production_hashes_new_passwords_with_argon2():
    from dropout_ledger.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def _session_row(client):
    return Session.objects.get(session_key=client.session.session_key)


def test_a_session_ends_after_the_idle_time(client, official):
    sign_in(client, "wang", PASSWORD)
    assert settings.SESSION_COOKIE_AGE == 60 * 60
    expires = _session_row(client).expire_date
    assert 59 * 60 < (expires - timezone.now()).total_seconds() <= 60 * 60


def test_a_session_in_use_is_moved_on_at_most_once_per_refresh(client, official, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(sessions.time, "time", lambda: clock[0])
    sign_in(client, "wang", PASSWORD)
    first = _session_row(client).expire_date

    client.get(reverse("reports:home"))
    assert _session_row(client).expire_date == first  # within the refresh period: no write

    clock[0] += sessions.REFRESH_SECONDS
    client.get(reverse("reports:home"))
    assert _session_row(client).expire_date > first


def test_an_idle_session_is_signed_out(client, official):
    sign_in(client, "wang", PASSWORD)
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(reverse("reports:home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
