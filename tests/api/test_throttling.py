"""Throttling per token: past API_THROTTLE_RATE requests, 429 with Retry-After; each token is counted apart."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(settings):
    settings.API_THROTTLE_RATE = "3/minute"


def test_throttling_answers_429_with_retry_after(api, three_a_minute):
    client = api("county", "zh-hans")
    answers = [client.get(reverse("api:area-list")) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert "请求" in refused.json()["message"]


def test_each_token_is_counted_apart(api, three_a_minute):
    for _ in range(3):
        api("county").get(reverse("api:area-list"))
    assert api("county").get(reverse("api:area-list")).status_code == 429
    assert api("neighbour_county").get(reverse("api:area-list")).status_code == 200


def test_an_unreachable_cache_lets_requests_through(api, three_a_minute, settings):
    settings.CACHES = {
        **settings.CACHES,
        "api": {**settings.CACHES["api"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    answers = [api("county").get(reverse("api:area-list")).status_code for _ in range(5)]
    assert answers == [200] * 5
