"""A county group is named in the page's language: its English name on English pages, its Chinese one on Chinese."""

import pytest
from django.urls import reverse

from counties.models import CountyGroup, CountyGroupMembership
from tests.factories import daily_total

from .dashboard_data import BASELINE, DAY, make_totals

pytestmark = pytest.mark.django_db
CHINESE, ENGLISH = "52个未摘帽贫困县", "52 counties not yet delisted from poverty in 2020"


@pytest.fixture
def group(area):
    make_totals(area)
    group = CountyGroup.objects.create(slug="poverty-52", name=CHINESE, name_en=ENGLISH)
    CountyGroupMembership.objects.create(group=group, county=area["county"], valid_from=BASELINE)
    for day in (BASELINE, DAY):
        daily_total(group, day=day, open_count=300, baseline_open=20_000)
    return group


@pytest.mark.parametrize(("language", "shown", "hidden"), [("zh-hans", CHINESE, ENGLISH), ("en", ENGLISH, CHINESE)])
def test_the_national_dashboard_names_each_group_in_its_language(client, users, group, language, shown, hidden):
    client.force_login(users["ministry"])
    text = client.get(reverse("reports:national"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert shown in text and hidden not in text


@pytest.mark.parametrize(("language", "shown", "hidden"), [("zh-hans", CHINESE, ENGLISH), ("en", ENGLISH, CHINESE)])
def test_the_group_dashboard_is_headed_with_the_name_in_its_language(client, users, group, language, shown, hidden):
    client.force_login(users["ministry"])
    text = client.get(reverse("reports:group", args=[group.slug]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{shown}" in text.replace("\n", "") or shown in text
    assert hidden not in text


def test_a_group_without_an_english_name_keeps_its_own(group):
    from django.utils import translation

    group.name_en = ""
    with translation.override("en"):
        assert group.display_name == CHINESE
