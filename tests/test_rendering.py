"""Project-wide pieces every page leans on: how widgets are drawn, how the signed-in user is loaded."""

import pytest
from django.contrib.auth import get_user
from django.forms.renderers import DjangoTemplates
from django.test import RequestFactory
from django.test.html import parse_html

from dropout_ledger.renderers import WidgetRenderer
from students.choices import Reason, Status, label_of
from students.filters import CaseFilter


def test_label_of_gives_the_choice_label_or_the_value_itself():
    assert label_of(Status, Status.PERSUADING) == Status.PERSUADING.label
    assert label_of(Reason, "no-such-reason") == "no-such-reason"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["county", "principal", "ministry"])
def test_the_case_filter_form_is_drawn_as_djangos_own_templates_draw_it(role, users):
    request = RequestFactory().get("/cases/", {"status": "open", "reason": Reason.POVERTY, "flag": "orphan"})
    request.user = users[role]
    fast = CaseFilter(request.GET, request=request).form
    plain = CaseFilter(request.GET, request=request).form
    plain.renderer = DjangoTemplates()
    assert isinstance(fast.renderer, WidgetRenderer)
    # Masked roles have no search box (students.disclosure): the form has no "q" for them.
    for name in ("q", "status", "reason", "school", "grade", "flag", "dropout", "returned", "sort"):
        if name not in fast.fields:
            assert role == "ministry" and name == "q"
            continue
        assert parse_html(str(fast[name])) == parse_html(str(plain[name])), name


def test_widgets_without_a_jinja2_template_are_drawn_with_djangos():
    renderer = WidgetRenderer()
    template = renderer.get_template("admin/widgets/related_widget_wrapper.html")
    assert template.backend.__class__.__name__ == "DjangoTemplates"
    assert renderer.get_template("django/forms/widgets/select.html").backend.__class__.__name__ == "Jinja2"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["county", "principal"])
def test_the_signed_in_user_comes_with_their_area_in_one_query(role, client, users, django_assert_num_queries):
    client.force_login(users[role])
    request = RequestFactory().get("/")
    request.session = client.session
    with django_assert_num_queries(2):  # the session, then the user with their division and school
        user = get_user(request)
        area = user.division or user.school
    assert area is not None
