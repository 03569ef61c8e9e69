"""The county dashboard offers the county's spreadsheet work; the import only to those who may import."""

import pytest
from django.urls import reverse

from counties.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_county_official_sees_import_and_downloads_on_own_county(client, area, users):
    client.force_login(users["county"])
    page = client.get(reverse("reports:division", args=[area["county"].code])).content.decode()
    assert reverse("students:import-upload", args=[area["county"].code]) in page
    assert reverse("students:export-ledger", args=[area["county"].code]) in page
    assert reverse("students:monthly-report", args=[area["county"].code]) in page


def test_ministry_sees_downloads_but_no_import_on_a_county(client, area):
    client.force_login(UserFactory(role=Role.MINISTRY))
    page = client.get(reverse("reports:division", args=[area["county"].code])).content.decode()
    assert reverse("students:export-ledger", args=[area["county"].code]) in page
    assert reverse("students:import-upload", args=[area["county"].code]) not in page


def test_province_dashboard_links_its_monthly_report(client, area, users):
    client.force_login(users["province"])
    page = client.get(reverse("reports:division", args=[area["province"].code])).content.decode()
    assert reverse("students:monthly-report", args=[area["province"].code]) in page
