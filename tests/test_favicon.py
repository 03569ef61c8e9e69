"""The icon: /favicon.ico, which browsers ask for whatever a page links, leads to the icon the pages link."""

import pytest
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("img/favicon.ico")
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_every_page_links_its_icon(client):
    page = client.get(reverse("login")).content.decode()
    assert f'<link rel="icon" href="{static("img/favicon.ico")}"' in page
    assert f'<link rel="icon" href="{static("img/favicon.svg")}" type="image/svg+xml">' in page
