"""Every user lands on the dashboard they come for."""

import pytest
from django.urls import reverse

from counties.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("ministry", lambda area: reverse("reports:national")),
        ("admin", lambda area: reverse("reports:national")),
        ("province", lambda area: reverse("reports:division", args=[area["province"].code])),
        ("prefecture", lambda area: reverse("reports:division", args=[area["prefecture"].code])),
        ("county", lambda area: reverse("reports:division", args=[area["county"].code])),
        ("principal", lambda area: reverse("reports:school", args=[area["school"].code])),
    ],
)
def test_each_role_lands_on_its_own_dashboard(client, users, area, role, target):
    client.force_login(users[role])
    response = client.get(reverse("reports:home"))
    assert response.status_code == 302
    assert response["Location"] == target(area)
    assert client.get(response["Location"]).status_code == 200


def test_superuser_lands_on_the_national_dashboard(client):
    client.force_login(UserFactory(role=Role.MINISTRY, is_superuser=True))
    assert client.get(reverse("reports:home"))["Location"] == reverse("reports:national")


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("reports:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_dashboards_need_sign_in(client, area):
    for url in (
        reverse("reports:national"),
        reverse("reports:division", args=[area["county"].code]),
        reverse("reports:school", args=[area["school"].code]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
