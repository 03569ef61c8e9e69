"""The API's tests: a token for each role of the `users` fixture, and a client that sends it."""

import pytest
from django.core.cache import caches
from django.test import Client

from api.tokens import token_create


@pytest.fixture(autouse=True)
def throttle_counts_start_at_zero():
    """Each test starts with no request counted against any token (the counts live in the shared cache)."""
    caches["api"].clear()
    yield
    caches["api"].clear()


@pytest.fixture
def keys(users):
    """A token's key for each role."""
    return {role: token_create(user=user, name=f"{role}'s exchange").key for role, user in users.items()}


class ApiClient:
    """Sends each request with a token, as another system does, and reads the JSON back."""

    def __init__(self, key: str | None, language: str = "en"):
        self.client = Client()
        self.key = key
        self.language = language

    def headers(self, extra: dict) -> dict:
        headers = {"HTTP_ACCEPT_LANGUAGE": self.language}
        if self.key:
            headers["HTTP_AUTHORIZATION"] = f"Token {self.key}"
        return {**headers, **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in extra.items()}}

    def get(self, url: str, params: dict | None = None, **headers):
        return self.client.get(url, params or {}, **self.headers(headers))

    def post(self, url: str, data: dict | None = None, **headers):
        return self.client.post(url, data or {}, content_type="application/json", **self.headers(headers))

    def put(self, url: str, data: dict | None = None, **headers):
        return self.client.put(url, data or {}, content_type="application/json", **self.headers(headers))


@pytest.fixture
def api(keys):
    """api(role) is a client signed in with that role's token; api(None) sends none."""
    return lambda role, language="en": ApiClient(keys[role] if role else None, language)
