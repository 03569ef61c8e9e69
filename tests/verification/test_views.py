"""The rounds' pages: drawing a round and assigning its checks through the forms, and what a mistake shows."""

import pytest
from django.urls import reverse

from verification.models import SpotCheckRound

from .conftest import PERIOD

pytestmark = pytest.mark.django_db


def draw_data(area, **fields) -> dict:
    start, end = PERIOD
    data = {
        "area": area["prefecture"].code,
        "returned_from": start.isoformat(),
        "returned_until": end.isoformat(),
        "size": "5",
        "seed": "42",
        "note": "第一轮",
    }
    data.update(fields)
    return data


def test_province_staff_draw_a_round_and_give_it_to_a_verifier(client, ledger, users, area, verifier):
    client.force_login(users["province"])
    response = client.post(reverse("verification:round-draw"), draw_data(area))
    spot_round = SpotCheckRound.objects.get()
    assert response["Location"] == reverse("verification:round-detail", args=[spot_round.pk])
    assert (spot_round.seed, spot_round.size, spot_round.drawn_by) == (42, 5, users["province"])
    page = client.get(response["Location"]).content.decode()
    assert "42" in page and verifier.first_name in page
    checks = list(spot_round.checks.values_list("pk", flat=True))
    response = client.post(
        reverse("verification:round-assign", args=[spot_round.pk]), {"verifier": verifier.pk, "checks": checks[:3]}
    )
    assert response.status_code == 302
    assert spot_round.checks.filter(verifier=verifier).count() == 3


def test_a_bad_draw_comes_back_with_what_was_typed_and_why(client, ledger, users, area):
    client.force_login(users["ministry"])
    response = client.post(reverse("verification:round-draw"), draw_data(area, share="10"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give either a sample size or a share, not both." in html
    assert 'value="42"' in html and "第一轮" in html and 'value="10"' in html
    response = client.post(reverse("verification:round-draw"), draw_data(area, size="", returned_until="2999-01-01"))
    assert response.status_code == 400
    assert "Give a sample size or a share." in response.content.decode()
    assert not SpotCheckRound.objects.exists()


def test_assigning_nothing_says_so(client, ledger, users, area, verifier):
    client.force_login(users["ministry"])
    client.post(reverse("verification:round-draw"), draw_data(area))
    spot_round = SpotCheckRound.objects.get()
    response = client.post(reverse("verification:round-assign", args=[spot_round.pk]), {"verifier": verifier.pk})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not spot_round.checks.filter(verifier__isnull=False).exists()
