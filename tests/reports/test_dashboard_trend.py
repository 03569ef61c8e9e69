"""The trend for the ministry: a range with presets, areas drawn beside the page's own, a group held fixed
"as of" a day, and the figures of every chart as CSV."""

import csv
import datetime
import io
import json
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from django.contrib.staticfiles import finders
from django.db.models import Sum
from django.urls import reverse
from django.utils.html import strip_tags

from counties.models import CountyGroup, CountyGroupMembership
from reports import charts, selectors
from reports.forms import months_before
from reports.models import DailyTotal
from reports.selectors import Area
from tests.factories import daily_total

from .dashboard_data import BASELINE, DAY, make_totals

pytestmark = pytest.mark.django_db

# The day after every member left the group, as all 52 counties did in 2020-11.
LATER = datetime.date(2020, 12, 31)
LEFT = datetime.date(2020, 11, 1)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", strip_tags(response.content.decode()))


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def ministry_client(client, users):
    client.force_login(users["ministry"])
    return client


@pytest.fixture
def poverty(area):
    """Totals on the baseline day, DAY and LATER; a group of the home and neighbour counties until LEFT.

    At DAY the counties hold 10,150 and 5,100 open cases, at LATER 300 and 200; the stored group rows follow the
    membership, so the group is empty at LATER.
    """
    rows = make_totals(area, days=(BASELINE, DAY, LATER))
    group = CountyGroup.objects.create(slug="poverty-52", name="52 counties")
    for county in (area["county"], area["neighbour"]):
        CountyGroupMembership.objects.create(group=group, county=county, valid_from=BASELINE, valid_to=LEFT)
    daily_total(group, day=BASELINE, open_count=30_000, baseline_open=30_000)
    daily_total(group, day=DAY, open_count=15_250, baseline_open=30_000)
    daily_total(group, day=LATER, open_count=0, baseline_open=0)
    return {"group": group, "rows": rows}


# --- A group held fixed ---------------------------------------------------------------------------


def test_a_group_held_fixed_sums_its_members_rows_on_every_day(poverty, area):
    fixed = Area.of_group(poverty["group"], as_of=DAY)
    series = selectors.area_series(fixed, BASELINE, LATER)
    members = DailyTotal.objects.filter(division__in=[area["county"], area["neighbour"]])
    for day in (BASELINE, DAY, LATER):
        expected = members.filter(day=day).aggregate(total=Sum("open_count"))["total"]
        assert series.open_count[series.days.index(day)] == expected
    # After the members left, the stored group is empty; the set held fixed is not.
    assert series.open_count[-1] == 500
    assert set(series.baseline_open) == {30_000}
    # Days without any member row are days of zeros.
    assert series.open_count[series.days.index(DAY + datetime.timedelta(days=1))] == 0
    assert len(series) == (LATER - BASELINE).days + 1


def test_a_group_held_fixed_is_read_in_one_query(poverty, django_assert_num_queries):
    fixed = Area.of_group(poverty["group"], as_of=DAY)
    with django_assert_num_queries(1):
        selectors.area_series(fixed, BASELINE, LATER)
    with django_assert_num_queries(1):
        figures = selectors.area_figures(fixed, LATER)
    assert (figures.open_count, figures.baseline_open) == (500, 30_000)


def test_the_group_page_as_of_a_day_follows_that_days_counties(ministry_client, poverty, area):
    url = reverse("reports:group", args=[poverty["group"].slug])
    today = ministry_client.get(url)
    assert "0, down" not in text_of(today) and today.context["children"] == []
    fixed = ministry_client.get(url, {"as_of": DAY.isoformat()})
    assert fixed.context["area"].as_of == DAY
    assert "500, down 98.3% from 30,000" in text_of(fixed)
    assert [row.name for row in fixed.context["children"]] == [area["county"].name, area["neighbour"].name]
    assert "held fixed over the whole range" in text_of(fixed)
    assert fixed.context["series"].open_count[-1] == 500


def test_a_group_held_fixed_can_be_drawn_beside_the_nation(ministry_client, poverty):
    response = ministry_client.get(
        reverse("reports:national"), {"overlay": "group:poverty-52", "as_of": DAY.isoformat()}
    )
    traces = response.context["trend_chart"].figure["data"]
    assert [trace["name"] for trace in traces] == ["Nation", "52 counties (members on 2020-06-14)"]
    assert traces[1]["y"][-1] == 500
    # The form offers the group, checked, and the day it is held on; not the nation beside itself.
    html = response.content.decode()
    assert 'form="view-form" name="overlay" value="group:poverty-52" checked>' in html
    assert 'name="overlay" value="nation"' not in html
    assert 'id="overlay-as-of" type="date" form="view-form" name="as_of" value="2020-06-14"' in html


# --- The range -------------------------------------------------------------------------------------


def test_a_range_shows_its_days_only(ministry_client, poverty):
    response = ministry_client.get(reverse("reports:national"), {"from": "2020-06-01", "day": "2020-12-31"})
    series = response.context["series"]
    assert (series.days[0], series.days[-1]) == (datetime.date(2020, 6, 1), LATER)
    assert response.context["trend_chart"].title.startswith("Open dropouts each day from")
    # The headline is the range's last day; the decrease is still measured from the baseline.
    assert "6,781, down 98.9% from 600,000" in text_of(response)


@pytest.mark.parametrize(
    ("query", "message", "shown"),
    [
        ({"from": "2020-07-01", "day": "2020-06-14"}, "after its end", (BASELINE, DAY)),
        ({"from": "2001-01-01", "day": "2020-06-14"}, "Totals exist from", (BASELINE, DAY)),
        ({"from": "2020-01-01", "day": "2031-01-01"}, "Totals exist from", (datetime.date(2020, 1, 1), LATER)),
        ({"from": "2020-13-45"}, "Enter a valid date", (BASELINE, LATER)),
    ],
)
def test_a_wrong_range_says_why_and_keeps_what_was_typed(ministry_client, poverty, query, message, shown):
    response = ministry_client.get(reverse("reports:national"), query)
    assert response.status_code == 200
    html = response.content.decode()
    errors = re.search(r'<ul class="errors" id="range-errors" role="alert">(.*?)</ul>', html, re.S)
    assert errors and message in errors.group(1)
    for name, value in query.items():
        assert f'name="{name}" value="{value}"' in html
    # The page still shows the days it can: what was asked, within the days that have totals.
    series = response.context["series"]
    assert (series.days[0], series.days[-1]) == shown


def test_presets_keep_the_rest_of_the_query(ministry_client, poverty):
    response = ministry_client.get(reverse("reports:national"), {"day": "2020-12-31", "overlay": "nation"})
    presets = {str(preset["label"]): preset["url"] for preset in response.context["presets"]}
    assert set(presets) == {"Since the baseline", "Last 12 months", "Last 3 months"}
    assert "from=2020-10-01" in presets["Last 3 months"] and "overlay=nation" in presets["Last 3 months"]
    assert "from=2020-01-01" in presets["Last 12 months"]
    assert f"from={BASELINE}" in presets["Since the baseline"]


def test_months_before_counts_back_whole_months():
    assert months_before(datetime.date(2020, 12, 31), 3) == datetime.date(2020, 10, 1)
    assert months_before(datetime.date(2020, 5, 31), 3) == datetime.date(2020, 3, 1)
    assert months_before(datetime.date(2021, 2, 28), 12) == datetime.date(2020, 2, 29)


# --- Lines beside the page's own --------------------------------------------------------------------


def test_provinces_and_the_nation_drawn_beside_a_province_as_a_share_of_their_baseline(ministry_client, poverty, area):
    province = area["province"]
    other = area["far"].province
    response = ministry_client.get(
        reverse("reports:division", args=[province.code]),
        {"overlay": ["nation", f"province:{other.code}"], "measure": "share"},
    )
    figure = response.context["trend_chart"].figure
    names = [trace["name"] for trace in figure["data"]]
    assert names == [province.name, "Nation", other.name]
    assert figure["layout"]["yaxis"]["ticksuffix"] == "%"
    # 700 of 50,000 left at LATER: 1.4%.
    assert [trace["y"][-1] for trace in figure["data"]] == [1.4, 1.13, 1.11]


def test_lines_outside_the_users_scope_are_refused(client, users, poverty, area):
    client.force_login(users["province"])
    url = reverse("reports:division", args=[area["province"].code])
    response = client.get(url, {"overlay": ["nation", "group:poverty-52", f"province:{area['far'].province.code}"]})
    assert len(response.context["trend_chart"].figure["data"]) == 1
    assert "is not one of the available choices" in text_of(response)


# --- CSV ---------------------------------------------------------------------------------------------


def test_the_trend_csv_holds_every_day_of_the_range_and_every_line(ministry_client, poverty):
    query = {"chart": "chart-trend", "from": "2020-06-01", "day": "2020-12-31", "overlay": "group:poverty-52"}
    response = ministry_client.get(reverse("reports:national-csv"), {**query, "as_of": DAY})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="dropouts-national-2020-06-01-2020-12-31.csv"'
    header, *rows = csv_rows(response)
    assert header[:2] == ["Day", "Nation: open"]
    assert "52 counties (members on 2020-06-14): open" in header
    assert len(rows) == (LATER - datetime.date(2020, 6, 1)).days + 1
    by_day = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_day["2020-06-14"]["Nation: open"] == "303390"
    assert by_day["2020-06-14"]["52 counties (members on 2020-06-14): open"] == "15250"
    assert by_day["2020-12-31"]["52 counties (members on 2020-06-14): open"] == "500"
    assert by_day["2020-12-31"]["52 counties (members on 2020-06-14): percent of the baseline still open"] == "1.67"


@pytest.mark.parametrize(
    ("chart", "first_row"),
    [
        ("chart-poor", ["2019-05-31", "200000"]),
        ("chart-reasons", ["2020-12-31", "Learning difficulty or weariness of study", "3391"]),
        ("chart-children", ["2020-12-31"]),
        ("chart-groups", ["2020-12-31", "52 counties", "0", "0", "6781", "600000"]),
    ],
)
def test_every_chart_of_the_national_page_has_its_csv(ministry_client, poverty, chart, first_row):
    response = ministry_client.get(reverse("reports:national-csv"), {"chart": chart})
    assert response.status_code == 200
    _header, first, *_rest = csv_rows(response)
    assert first[: len(first_row)] == first_row


def test_each_chart_links_its_csv_with_the_pages_query(ministry_client, poverty):
    html = ministry_client.get(reverse("reports:national"), {"from": "2020-06-01"}).content.decode()
    links = re.findall(r'<p class="chart-csv"><a href="([^"]+)" download>', html)
    assert [link.split("&amp;")[0] for link in links] == [
        f"{reverse('reports:national-csv')}?chart={chart}"
        for chart in ("chart-trend", "chart-groups", "chart-children", "chart-reasons", "chart-poor")
        if f'data-chart="{chart}"' in html
    ]
    assert all("from=2020-06-01" in link for link in links)


def test_a_chart_the_page_does_not_draw_has_no_csv(ministry_client, poverty, area):
    url = reverse("reports:division-csv", args=[area["province"].code])
    assert ministry_client.get(url, {"chart": "chart-groups"}).status_code == 404
    assert ministry_client.get(url, {"chart": "nothing"}).status_code == 404
    assert ministry_client.get(url, {"chart": "chart-trend"}).status_code == 200


def test_the_csv_is_scoped_as_its_page(client, users, poverty, area):
    """The owner of the area gets it, a neighbour does not, and the ministry's files are the ministry's."""
    own = reverse("reports:division-csv", args=[area["county"].code])
    neighbour = reverse("reports:division-csv", args=[area["neighbour"].code])
    national, group = reverse("reports:national-csv"), reverse("reports:group-csv", args=["poverty-52"])
    client.force_login(users["county"])
    assert client.get(own).status_code == 200
    assert client.get(neighbour).status_code == 404
    assert client.get(national).status_code == 404
    assert client.get(group).status_code == 404
    client.force_login(users["prefecture"])
    assert client.get(own).status_code == client.get(neighbour).status_code == 200
    assert client.get(reverse("reports:division-csv", args=[area["far"].code])).status_code == 404
    client.force_login(users["ministry"])
    assert client.get(national).status_code == client.get(group).status_code == 200
    client.logout()
    assert client.get(own).status_code == 302


def test_a_csv_cell_cannot_run_as_a_formula(ministry_client, poverty):
    CountyGroup.objects.filter(pk=poverty["group"].pk).update(name="=HYPERLINK(1)")
    response = ministry_client.get(reverse("reports:national-csv"), {"chart": "chart-groups"})
    _header, first = csv_rows(response)
    assert first[1] == "'=HYPERLINK(1)"


# --- The charts' toolbar, language and export ----------------------------------------------------------


def chart_options(response) -> dict:
    html = response.content.decode()
    return json.loads(re.search(r'<script id="chart-options" type="application/json">(.*?)</script>', html).group(1))


def test_the_toolbar_offers_no_cloud_or_share_link(ministry_client, poverty):
    config = chart_options(ministry_client.get(reverse("reports:national")))["config"]
    assert config["displaylogo"] is False
    assert config["showLink"] is False and config["showSendToCloud"] is False
    assert config["showEditInChartStudio"] is False and config["plotlyServerURL"] == ""
    assert {"sendDataToCloud", "editInChartStudio", "toImage", "lasso2d", "select2d"} <= set(
        config["modeBarButtonsToRemove"]
    )
    assert "locale" not in config


def test_chinese_pages_draw_charts_in_chinese(ministry_client, poverty):
    response = ministry_client.get(reverse("reports:national"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chart_options(response)["config"]["locale"] == "zh-CN"
    html = response.content.decode()
    assert re.search(r'<script src="/static/js/plotly-locale-zh-cn[.\w]*\.js" defer></script>', html)
    english = ministry_client.get(reverse("reports:national"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "plotly-locale-zh-cn" not in english


def test_the_chinese_dictionary_ships_with_its_source_and_licence():
    script = Path(finders.find("js/plotly-locale-zh-cn.js")).read_text(encoding="utf-8")
    assert "https://github.com/plotly/plotly.js/blob/master/lib/locales/zh-cn.js" in script
    assert "MIT" in script
    assert "'Download plot as a PNG': '下载图表为PNG格式'" in script and "'Reset axes': '重置轴'" in script
    assert "Permission is hereby granted" in Path(finders.find("js/plotly-locale-zh-cn.LICENSE")).read_text()


def test_a_saved_png_names_the_area_and_range_and_carries_the_source(ministry_client, poverty):
    html = ministry_client.get(reverse("reports:national"), {"from": "2020-06-01"}).content.decode()
    chart = re.search(r'<div class="chart" id="chart-trend"[^>]*>', html).group(0)
    assert 'data-export-filename="dropouts-national-2020-06-01-2020-12-31"' in chart
    assert 'data-export-subtitle="2020-06-01 – 2020-12-31"' in chart
    assert "Source: national dropout ledger" in chart
    assert 'data-export-title="Open dropouts each day · Nation"' in chart


@pytest.mark.parametrize(
    ("first", "last", "dtick", "tickformat"),
    [
        (datetime.date(2020, 6, 1), datetime.date(2020, 6, 30), 7 * 24 * 3600 * 1000, "%m-%d"),
        (datetime.date(2020, 1, 1), datetime.date(2020, 12, 31), "M1", "%Y-%m"),
        (datetime.date(2019, 5, 31), datetime.date(2021, 6, 14), "M3", "%Y-%m"),
        (datetime.date(2019, 5, 31), datetime.date(2026, 9, 30), "M12", "%Y"),
    ],
)
def test_date_ticks_never_repeat_a_label(first, last, dtick, tickformat):
    # A label is as fine as its step: a month per month tick, a year per year tick, never "2026-09" twice.
    assert charts.date_ticks(first, last) == {"dtick": dtick, "tickformat": tickformat}


def test_a_trend_with_lines_beside_it_is_a_valid_plotly_figure():
    days = [BASELINE, DAY]
    chart = charts.trend(
        "t", "Trend", days, [10.0, 1.5], name="A", overlays=[charts.Line("B", days, [None, 2.0])], percent=True
    )
    go.Figure(chart.figure)  # raises on anything plotly.js would not understand
    assert chart.figure["layout"]["showlegend"] is True
