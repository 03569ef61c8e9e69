"""plotly.js writes no <style> element on the dashboards: its stylesheet comes from static/css/plotly.css.

The Content-Security-Policy refuses <style> elements. plotly.js writes two as it loads, each unless an element
with its id is already on the page: its own stylesheet, and the stylesheet of maplibre (for maps, which no
dashboard draws). The dashboard's head holds both ids; plotly.js's own rules are in static/css/plotly.css.
"""

import re

import pytest
from django.urls import reverse

from reports.views.assets import PLOTLY_JS

from .dashboard_data import make_totals
from .plotly_css import bundle_rules, file_rules


def style_ids() -> list[str]:
    """The ids of the <style> elements plotly.js writes unless an element with that id exists."""
    bundle = PLOTLY_JS.read_text(encoding="utf-8")
    ids = ["plotly.js-style-global", *re.findall(r'getElementById\("([0-9a-f]{64})"\)', bundle)]
    # Each place that makes a <style> element is one of those: a new one after an upgrade fails here.
    assert bundle.count('createElement("style")') == len(ids)
    return ids


@pytest.mark.django_db
def test_the_dashboard_holds_the_id_of_every_stylesheet_plotly_js_would_write(client, users, area):
    make_totals(area)
    client.force_login(users["ministry"])
    html = client.get(reverse("reports:national")).content.decode()
    for style_id in style_ids():
        assert f'id="{style_id}"' in html
    assert re.search(
        r'<link rel="stylesheet" id="plotly\.js-style-global" class="no-inline-styles" href="[^"]+/css/plotly\.css">',
        html,
    )


@pytest.mark.browser
def test_static_plotly_css_holds_the_rules_of_the_installed_plotly_js(browser):
    assert file_rules() == bundle_rules(browser), (
        "static/css/plotly.css is stale: run python -m tests.reports.plotly_css"
    )
