"""The national dashboard: figures from the stored totals, the headline, drill-down, groups, the date picker."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import override

from counties.models import CountyGroup, CountyGroupMembership
from reports.models import DailyTotal, RunStatus, TotalsRun
from tests.factories import CountyFactory, ProvinceFactory, daily_total, open_case

from .dashboard_data import BASELINE, DAY, make_totals

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return re.sub(r"\s+", " ", strip_tags(response.content.decode()))


@pytest.fixture
def ministry_client(client, users):
    client.force_login(users["ministry"])
    return client


def test_headline_states_open_dropouts_and_the_decrease_from_the_baseline(ministry_client, area):
    make_totals(area)
    response = ministry_client.get(reverse("reports:national"))
    assert response.status_code == 200
    assert "6,781, down 98.9% from 600,000" in text_of(response)


def test_headline_is_written_in_chinese_for_chinese_pages(ministry_client, area):
    make_totals(area)
    response = ministry_client.get(reverse("reports:national"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response["Content-Language"] == "zh-hans"
    text = text_of(response)
    # Numbers and dates are written the Chinese way (Django's zh-hans formats: no thousands separator).
    assert "6781" in text and "98.9%" in text and "600000" in text
    assert "6,781" not in text
    assert "2020年6月14日" in text


def test_figures_come_from_the_stored_totals_and_follow_them(ministry_client, area):
    rows = make_totals(area)
    # A case on the ledger changes nothing until the totals are computed again.
    open_case(area["school"], dropout_date=DAY - datetime.timedelta(days=3))
    assert "6,781, down" in text_of(ministry_client.get(reverse("reports:national")))

    DailyTotal.objects.filter(pk=rows["nation", DAY].pk).update(open_count=2_419)
    text = text_of(ministry_client.get(reverse("reports:national")))
    assert "2,419, down 99.6% from 600,000" in text
    assert "6,781" not in text


def test_an_increase_is_called_an_increase(ministry_client):
    daily_total(None, day=DAY, open_count=1_200, baseline_open=1_000)
    assert "1,200, up 20.0% from 1,000" in text_of(ministry_client.get(reverse("reports:national")))


def test_provinces_are_ranked_and_every_figure_links_one_level_down(ministry_client, area):
    make_totals(area)
    response = ministry_client.get(reverse("reports:national"))
    children = [row.name for row in response.context["children"]]
    far_province, home_province = area["far"].province, area["province"]
    assert children == [far_province.name, home_province.name]
    link = reverse("reports:division", args=[home_province.code])
    row = re.search(rf'<tr>\s*<th scope="row"><a href="{link}">.*?</tr>', response.content.decode(), re.S).group(0)
    # The name and each of its four figures lead to the province's own dashboard.
    assert row.count(f'href="{link}"') == 5


def test_drill_down_reaches_the_county_through_province_and_prefecture(ministry_client, area):
    make_totals(area)
    province = ministry_client.get(reverse("reports:division", args=[area["province"].code]))
    assert [row.name for row in province.context["children"]] == [area["prefecture"].name]
    prefecture = ministry_client.get(province.context["children"][0].url)
    assert [row.name for row in prefecture.context["children"]] == [area["county"].name, area["neighbour"].name]
    county = ministry_client.get(prefecture.context["children"][0].url)
    assert county.status_code == 200
    assert county.context["area"].division == area["county"]
    assert "300, down 98.5% from 20,000" in text_of(county)
    # The way back up is linked too.
    crumbs = [crumb.label for crumb in county.context["crumbs"]]
    assert crumbs == ["Nation", area["province"].name, area["prefecture"].name]


def test_counties_under_a_municipality_are_its_children(ministry_client):
    municipality = ProvinceFactory(name="北京市")
    district = CountyFactory(parent=municipality, prefecture=None, name="东城区")
    daily_total(None, day=DAY, open_count=5, baseline_open=50)
    daily_total(municipality, day=DAY, open_count=5, baseline_open=50)
    daily_total(district, day=DAY, open_count=5, baseline_open=50)
    response = ministry_client.get(reverse("reports:division", args=[municipality.code]))
    assert [row.name for row in response.context["children"]] == [district.name]
    assert response.context["children_heading"] == "Counties"


def test_county_groups_are_compared_with_the_rest_of_the_country(ministry_client, area):
    make_totals(area)
    group = CountyGroup.objects.create(slug="poverty-52", name="52 counties")
    CountyGroupMembership.objects.create(group=group, county=area["county"], valid_from=BASELINE)
    daily_total(group, day=DAY, open_count=433, baseline_open=82_000)
    text = text_of(ministry_client.get(reverse("reports:national")))
    assert "433, down 99.5% from 82,000" in text
    # The rest is the nation minus the group: 6,348 from 518,000.
    assert "Rest of the country: 6,348, down 98.8% from 518,000" in text


def test_group_dashboard_ranks_the_member_counties_of_that_day(ministry_client, area):
    make_totals(area)
    group = CountyGroup.objects.create(slug="poverty-52", name="52 counties")
    CountyGroupMembership.objects.create(group=group, county=area["county"], valid_from=BASELINE)
    CountyGroupMembership.objects.create(
        group=group, county=area["neighbour"], valid_from=BASELINE, valid_to=DAY - datetime.timedelta(days=1)
    )
    daily_total(group, day=DAY, open_count=300, baseline_open=30_000)
    response = ministry_client.get(reverse("reports:group", args=[group.slug]))
    assert [row.name for row in response.context["children"]] == [area["county"].name]
    assert "300, down 99.0% from 30,000" in text_of(response)


def test_as_of_date_shows_that_days_figures_and_links_keep_it(ministry_client, area):
    middle = datetime.date(2020, 1, 10)
    make_totals(area, days=(BASELINE, middle, DAY))
    response = ministry_client.get(reverse("reports:national"), {"day": "2020-01-10"})
    assert response.context["day"] == middle
    assert "303,390, down 49.4% from 600,000" in text_of(response)
    assert all(row.url.endswith("?day=2020-01-10") for row in response.context["children"])
    # The trend stops at the chosen day.
    assert response.context["series"].days[-1] == middle


def test_as_of_date_outside_the_totals_shows_the_nearest_day_with_totals(ministry_client, area):
    make_totals(area)
    assert ministry_client.get(reverse("reports:national"), {"day": "2031-01-01"}).context["day"] == DAY
    assert ministry_client.get(reverse("reports:national"), {"day": "2001-01-01"}).context["day"] == BASELINE
    assert ministry_client.get(reverse("reports:national"), {"day": "not-a-day"}).context["day"] == DAY


def test_freshness_stamp_shows_when_the_latest_successful_run_finished(ministry_client, area):
    make_totals(area)
    finished = timezone.make_aware(datetime.datetime(2020, 6, 15, 1, 7))
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=finished)
    TotalsRun.objects.create(status=RunStatus.FAILED, finished_at=finished + datetime.timedelta(days=1))
    with override("en"):
        text = text_of(ministry_client.get(reverse("reports:national")))
    assert "Totals computed at June 15, 2020, 1:07 a.m." in text


def test_a_clear_notice_when_no_totals_exist_yet(ministry_client):
    response = ministry_client.get(reverse("reports:national"))
    assert response.status_code == 200
    assert "No totals have been computed yet" in text_of(response)
    assert "chart-trend" not in response.content.decode()


def test_every_chart_has_a_table_view(ministry_client, area):
    make_totals(area)
    group = CountyGroup.objects.create(slug="sanqu-sanzhou", name="三区三州")
    daily_total(group, day=DAY, open_count=100, baseline_open=1_000)
    html = ministry_client.get(reverse("reports:national")).content.decode()
    charts = re.findall(r'<script type="application/json" data-chart="([\w-]+)">', html)
    assert charts == ["chart-trend", "chart-groups", "chart-children", "chart-reasons", "chart-poor"]
    # Each chart is followed by its figures as a table: behind a toggle, or beside it for the ranking.
    for chart, following in zip(charts, [*charts[1:], None], strict=True):
        section = html[
            html.index(f'data-chart="{chart}"') : html.index(f'data-chart="{following}"') if following else None
        ]
        assert '<table class="data' in section
    assert html.count('<details class="table-view"') == len(charts) - 1
    # The trend's table holds the month-end figures.
    assert '<th scope="row">2020-06-14</th><td class="num">6,781</td>' in html


def test_registered_poor_subset_is_shown_against_its_own_baseline(ministry_client, area):
    make_totals(area)
    # 99.95% is not rounded up to 100% while children are still out of school.
    assert "97, down 99.95% from 200,000" in text_of(ministry_client.get(reverse("reports:national")))


def test_national_dashboard_shows_no_personal_identifiers(ministry_client, area):
    make_totals(area)
    case = open_case(area["school"])
    html = ministry_client.get(reverse("reports:national")).content.decode()
    assert case.student.name not in html
    assert case.student.id_number not in html


def _more_provinces(count: int):
    for _ in range(count):
        county = CountyFactory()
        for place in (county.province, county.prefecture, county):
            daily_total(place, day=DAY, open_count=9, baseline_open=90)
            daily_total(place, day=BASELINE, open_count=90, baseline_open=90)


def test_national_dashboard_queries_do_not_grow_with_areas_or_days(
    ministry_client, area, django_assert_max_num_queries
):
    make_totals(area, days=(BASELINE, datetime.date(2020, 1, 1), DAY))
    # Besides the figures: the count of handovers stuck in the area, the provinces and groups that
    # may be drawn beside the trend (one query), and the sign-off and spot-check panels: each a stamp of what it
    # counts (one query) and, the first time, its counts (one query); then served from the cache under the stamp.
    with django_assert_max_num_queries(15) as small:
        ministry_client.get(reverse("reports:national"))
    _more_provinces(5)
    for offset in range(1, 30):
        daily_total(None, day=BASELINE + datetime.timedelta(days=offset), open_count=5, baseline_open=600_000)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = ministry_client.get(reverse("reports:national"))
    assert len(response.context["children"]) == 7


def test_a_county_without_a_row_that_day_counts_as_zero_against_its_baseline(ministry_client, area):
    make_totals(area)
    DailyTotal.objects.filter(division=area["neighbour"], day=DAY).delete()
    prefecture = ministry_client.get(reverse("reports:division", args=[area["prefecture"].code]))
    ranked = [(row.name, row.figures.open_count, row.figures.baseline_open) for row in prefecture.context["children"]]
    assert ranked == [(area["county"].name, 300, 20_000), (area["neighbour"].name, 0, 10_000)]
    county = ministry_client.get(reverse("reports:division", args=[area["neighbour"].code]))
    assert "0, down 100.0% from 10,000" in text_of(county)


def test_days_without_a_county_row_are_drawn_as_zeros(ministry_client, area):
    middle = datetime.date(2020, 1, 10)
    make_totals(area, days=(BASELINE, middle, DAY))
    DailyTotal.objects.filter(division=area["county"], day=middle).delete()
    series = ministry_client.get(reverse("reports:division", args=[area["county"].code])).context["series"]
    assert len(series) == (DAY - BASELINE).days + 1
    by_day = dict(zip(series.days, series.open_count, strict=True))
    assert (by_day[BASELINE], by_day[middle], by_day[DAY]) == (20_000, 0, 300)


def test_administrators_are_pointed_to_the_totals_runs_when_none_exist(client, users):
    client.force_login(users["admin"])
    assert reverse("reports:runs") in client.get(reverse("reports:national")).content.decode()
    client.force_login(users["ministry"])
    assert reverse("reports:runs") not in client.get(reverse("reports:national")).content.decode()


def test_a_new_totals_run_shows_its_figures_at_once(ministry_client, area):
    rows = make_totals(area)
    first = timezone.make_aware(datetime.datetime(2020, 6, 15, 1, 0))
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=first)
    assert "6,781, down" in text_of(ministry_client.get(reverse("reports:national")))
    # The next night's run rewrites the row and records itself: the page follows straight away.
    DailyTotal.objects.filter(pk=rows["nation", DAY].pk).update(open_count=2_419)
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=first + datetime.timedelta(days=1))
    text = text_of(ministry_client.get(reverse("reports:national")))
    assert "2,419, down 99.6% from 600,000" in text


def test_cached_figures_keep_each_users_links(client, users, area):
    make_totals(area)
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=timezone.now())
    url = reverse("reports:division", args=[area["prefecture"].code])
    client.force_login(users["ministry"])
    assert client.get(url).context["crumbs"][0].url == reverse("reports:national")
    client.force_login(users["prefecture"])
    response = client.get(url)
    assert response.context["crumbs"][0].url is None
    assert [row.url for row in response.context["children"]] == [
        reverse("reports:division", args=[area["county"].code]),
        reverse("reports:division", args=[area["neighbour"].code]),
    ]


def test_a_dashboard_shown_again_reuses_its_rendered_figures_until_the_next_run(ministry_client, area):
    rows = make_totals(area)
    first = timezone.make_aware(datetime.datetime(2020, 6, 15, 1, 0))
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=first)
    url = reverse("reports:national")
    rendered = ministry_client.get(url)
    assert "reports/_figures.html" in [template.name for template in rendered.templates]
    again = ministry_client.get(url)
    # Served from the cache: the charts' templates are not rendered again, and the page reads the same.
    assert "reports/_figures.html" not in [template.name for template in again.templates]
    assert text_of(again) == text_of(rendered)
    # Another query is another page; another language, another rendering.
    ranged = ministry_client.get(url, {"from": BASELINE.isoformat()})
    assert "reports/_figures.html" in [template.name for template in ranged.templates]
    chinese = ministry_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "6781" in text_of(chinese)
    # The next run renders them afresh.
    DailyTotal.objects.filter(pk=rows["nation", DAY].pk).update(open_count=2_419)
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=first + datetime.timedelta(days=1))
    assert "2,419, down 99.6% from 600,000" in text_of(ministry_client.get(url))


def test_the_live_parts_of_a_page_follow_the_ledger_while_its_figures_come_from_the_cache(client, users, area):
    make_totals(area)
    TotalsRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=timezone.now())
    client.force_login(users["county"])
    url = reverse("reports:division", args=[area["county"].code])
    client.get(url)
    case = open_case(area["school"], dropout_date=DAY)
    response = client.get(url)
    assert "reports/_figures.html" not in [template.name for template in response.templates]
    assert response.context["ledger"]["open_count"] == 1
    assert reverse("students:case-detail", args=[case.pk]) in response.content.decode()


@pytest.mark.parametrize("level", ["province", "prefecture", "group"])
def test_area_and_group_dashboard_queries_do_not_grow_with_areas(
    ministry_client, area, level, django_assert_max_num_queries
):
    make_totals(area)
    group = CountyGroup.objects.create(slug="poverty-52", name="52 counties")
    CountyGroupMembership.objects.create(group=group, county=area["county"], valid_from=BASELINE)
    daily_total(group, day=DAY, open_count=300, baseline_open=20_000)
    url = (
        reverse("reports:group", args=[group.slug])
        if level == "group"
        else reverse("reports:division", args=[area[level].code])
    )
    # With the count of handovers stuck in the area, the areas that may be drawn beside the trend, the
    # counties of a province's map, and the sign-off and spot-check panels: a stamp each and, the first time,
    # their counts (one query each).
    with django_assert_max_num_queries(16) as small:
        ministry_client.get(url)
    for _ in range(5):
        county = CountyFactory(parent=area["prefecture"])
        daily_total(county, day=DAY, open_count=4, baseline_open=40)
        CountyGroupMembership.objects.create(group=group, county=county, valid_from=BASELINE)
    area["prefecture"].refresh_from_db()
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = ministry_client.get(url)
    expected = {"province": 1, "prefecture": 7, "group": 6}[level]
    assert len(response.context["children"]) == expected


@pytest.mark.parametrize(("language", "label"), [("en", "Province"), ("zh-hans", "省")])
def test_an_areas_kind_is_named_in_the_pages_language(ministry_client, area, language, label):
    make_totals(area)
    province = area["county"].province
    response = ministry_client.get(reverse("reports:division", args=[province.code]), HTTP_ACCEPT_LANGUAGE=language)
    assert re.search(rf'<span class="level">{label}</span>', response.content.decode())
