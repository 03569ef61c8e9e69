"""An ethnic group is named in the page's language alone: 藏族 on Chinese pages, Tibetan on English ones."""

import pytest
from django.urls import reverse

from students.choices import ETHNICITIES, ethnicity_label
from tests.factories import StudentFactory, open_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "shown", "hidden"), [("zh-hans", "藏族", "Tibetan"), ("en", "Tibetan", "藏族")])
def test_the_case_page_names_the_childs_group_in_its_language(client, users, area, language, shown, hidden):
    case = open_case(area["school"], student=StudentFactory(ethnicity="04"))
    client.force_login(users["county"])
    page = client.get(reverse("students:case-detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE=language)
    text = page.content.decode()
    assert shown in text and hidden not in text


@pytest.mark.parametrize(("language", "shown", "hidden"), [("zh-hans", "藏族", "Tibetan"), ("en", "Tibetan", "藏族")])
def test_the_new_case_form_offers_the_groups_in_its_language(client, users, language, shown, hidden):
    client.force_login(users["county"])
    text = client.get(reverse("students:case-new"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<option value="04">{shown}</option>' in text
    assert hidden not in text


def test_every_group_has_a_name_in_each_language():
    from django.utils import translation

    for code, zh, en in ETHNICITIES:
        with translation.override("zh-hans"):
            assert ethnicity_label(code) == zh
        with translation.override("en"):
            assert ethnicity_label(code) == en
