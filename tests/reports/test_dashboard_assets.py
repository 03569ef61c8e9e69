"""plotly.js is served by the app itself, and every chart is a valid plotly figure."""

import datetime
import gzip
import json

import plotly
import plotly.graph_objects as go
import pytest
from django.urls import reverse

from reports import charts
from reports.views.assets import PLOTLY_JS

from .dashboard_data import make_totals

pytestmark = pytest.mark.django_db


def test_plotly_script_is_served_locally_with_long_cache_headers(client):
    url = reverse("reports:plotly-js", args=[plotly.__version__])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "immutable" in response["Cache-Control"] and "max-age=31536000" in response["Cache-Control"]
    assert response.content == PLOTLY_JS.read_bytes()
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_plotly_script_is_compressed_for_browsers_that_accept_it(client):
    response = client.get(reverse("reports:plotly-js", args=[plotly.__version__]), HTTP_ACCEPT_ENCODING="gzip, br")
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == PLOTLY_JS.read_bytes()
    assert len(response.content) < len(PLOTLY_JS.read_bytes()) / 2


def test_another_plotly_version_is_not_served(client):
    assert client.get(reverse("reports:plotly-js", args=["0.0.1"])).status_code == 404


def test_dashboard_loads_plotly_from_the_app_and_no_cdn(client, users, area):
    make_totals(area)
    client.force_login(users["ministry"])
    html = client.get(reverse("reports:national")).content.decode()
    assert f'<script src="{reverse("reports:plotly-js", args=[plotly.__version__])}" defer>' in html
    assert "cdn." not in html and "https://" not in html


def test_every_chart_is_a_valid_plotly_figure():
    days = [datetime.date(2019, 5, 31), datetime.date(2020, 6, 14)]
    figures = [
        charts.trend("t", "Trend", days, [600_000, 6_781], name="Open"),
        charts.ranked_bars("r", "Ranked", [("四川省", 500, "/area/510000/"), ("广西", 300, "")], name="Open"),
        charts.group_comparison("g", "Groups", [("52 counties", 99.5, 98.8), ("三区三州", None, 97.0)]),
    ]
    for chart in figures:
        # go.Figure raises on anything plotly.js would not understand; it only adds its default theme.
        validated = json.loads(go.Figure(chart.figure).to_json())
        validated["layout"].pop("template")
        assert json.loads(str(chart.json)) == validated


def test_chart_json_cannot_close_its_script_element():
    chart = charts.ranked_bars("r", "Ranked", [("</script><script>alert(1)</script>", 1, "")], name="Open")
    assert "</script>" not in str(chart.json)
    assert json.loads(str(chart.json))["data"][0]["y"] == ["</script><script>alert(1)</script>"]


def test_trend_keeps_only_the_days_its_figure_changes_and_the_last_day():
    days = [datetime.date(2020, 1, 1) + datetime.timedelta(days=n) for n in range(6)]
    chart = charts.trend("t", "Trend", days, [5, 5, 3, 3, 3, 3], name="Open")
    trace = chart.figure["data"][0]
    assert trace["x"] == ["2020-01-01", "2020-01-03", "2020-01-06"]
    assert trace["y"] == [5, 3, 3]
    assert trace["line"]["shape"] == "hv"
