"""The dashboards' map figure: provinces on the national page, a province's counties on its page, within scope."""

import pytest
from django.urls import reverse

from counties.models import CountyGroup
from reports.selectors import Area
from reports.views import maps
from reports.views.maps import area_map
from students.access import scope_for
from tests.factories import CountyFactory, PrefectureFactory, daily_total

from .dashboard_data import DAY, make_totals

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def boundaries_for_every_province(monkeypatch):
    """The factories' province codes are made up: draw them as if their boundaries were shipped."""
    monkeypatch.setattr(maps, "_shipped", lambda path: True)


@pytest.fixture
def totals(area):
    return make_totals(area)


@pytest.fixture
def other_county(area):
    """A county of the same province, in another prefecture, that had no open dropout at the baseline."""
    county = CountyFactory(parent=PrefectureFactory(parent=area["province"]), name="Other-prefecture county")
    daily_total(county, day=DAY, open_count=3, baseline_open=0)
    return county


def traces(figure):
    open_trace, decrease, no_baseline, *rest = figure["data"]
    return open_trace, decrease, no_baseline, rest


def test_national_map_colours_every_province_by_its_open_count(client, users, area, totals):
    client.force_login(users["ministry"])
    response = client.get(reverse("reports:national"))
    area_map = response.context["area_map"]
    open_trace, decrease, _no_baseline, (outside,) = traces(area_map.figure)

    by_code = dict(zip(open_trace["locations"], open_trace["z"], strict=True))
    assert by_code == {area["province"].code: 700, area["far"].province.code: 6_081}
    assert dict(zip(decrease["locations"], decrease["z"], strict=True)) == {
        area["province"].code: 98.6,
        area["far"].province.code: 98.89,
    }
    # Figures in hover are written as the page writes them; each province links to its dashboard.
    assert [item[1] for item in open_trace["customdata"]] == ["700", "6,081"]
    assert [item[0] for item in open_trace["customdata"]] == [
        reverse("reports:division", args=[code]) for code in open_trace["locations"]
    ]
    assert outside["locations"] == ["710000", "810000", "820000"]
    assert all(link == "" for link, _figure in outside["customdata"])
    assert area_map.geojson.endswith("geo/provinces.json")
    assert area_map.figure["views"] == [[True, False, False, True], [False, True, True, True]]
    # The page draws each view's colour scale, its ends written as the page writes figures.
    assert [(view.low, view.high) for view in area_map.views] == [("0", "6,081"), ("98.6%", "98.9%")]
    content = response.content.decode()
    assert 'data-map="map-areas"' in content and "js/map.js" in content


def test_province_map_shows_its_counties_with_links_for_a_province_user(client, users, area, totals, other_county):
    client.force_login(users["province"])
    response = client.get(reverse("reports:division", args=[area["province"].code]))
    area_map = response.context["area_map"]
    open_trace, decrease, no_baseline, rest = traces(area_map.figure)

    codes = sorted([area["county"].code, area["neighbour"].code, other_county.code])
    assert open_trace["locations"] == codes
    assert dict(zip(open_trace["locations"], open_trace["z"], strict=True)) == {
        area["county"].code: 300,
        area["neighbour"].code: 200,
        other_county.code: 3,
    }
    assert all(link for link, _figure in open_trace["customdata"])
    # No baseline, no decrease: that county is drawn in grey in the second view.
    assert other_county.code not in decrease["locations"]
    assert no_baseline["locations"] == [other_county.code]
    assert rest == []  # nothing outside the ledger on a province's map
    assert area_map.geojson.endswith(f"geo/counties/{area['province'].code}.json")
    assert "Other-prefecture county" in area_map.table


def test_links_lead_only_to_the_areas_the_user_may_open(area, users, totals, other_county):
    # A prefecture's staff may open their own counties, not those of the prefecture beside theirs.
    area_map_ = area_map(Area.of_division(area["province"]), scope_for(users["prefecture"]), DAY, None)
    open_trace, *_rest = traces(area_map_.figure)
    links = dict(zip(open_trace["locations"], (link for link, _figure in open_trace["customdata"]), strict=True))
    assert links == {
        area["county"].code: reverse("reports:division", args=[area["county"].code]),
        area["neighbour"].code: reverse("reports:division", args=[area["neighbour"].code]),
        other_county.code: "",
    }
    assert f'href="{reverse("reports:division", args=[other_county.code])}"' not in area_map_.table


def test_links_keep_the_chosen_day(client, users, area, totals):
    client.force_login(users["province"])
    response = client.get(reverse("reports:division", args=[area["province"].code]), {"day": DAY.isoformat()})
    open_trace, *_rest = traces(response.context["area_map"].figure)
    assert all(link.endswith(f"?day={DAY.isoformat()}") for link, _figure in open_trace["customdata"])


def test_prefecture_map_draws_its_counties_on_the_provinces_boundaries(client, users, area, totals, other_county):
    client.force_login(users["prefecture"])
    area_map_ = client.get(reverse("reports:division", args=[area["prefecture"].code])).context["area_map"]
    open_trace, *_rest = traces(area_map_.figure)
    assert open_trace["locations"] == sorted([area["county"].code, area["neighbour"].code])
    assert area_map_.geojson.endswith(f"geo/counties/{area['province'].code}.json")


def test_county_and_group_pages_have_no_map(client, users, area, totals):
    client.force_login(users["ministry"])
    assert client.get(reverse("reports:division", args=[area["county"].code])).context.get("area_map") is None
    CountyGroup.objects.create(slug="poverty-52", name="52 counties")
    assert client.get(reverse("reports:group", args=["poverty-52"])).context.get("area_map") is None


def test_the_map_figure_is_valid_plotly(area, users, totals):
    import plotly.graph_objects as go

    area_map_ = area_map(Area.nation(), scope_for(users["ministry"]), DAY, None, children=[])
    assert area_map_ is None  # no provinces, no map
    area_map_ = area_map(Area.of_division(area["province"]), scope_for(users["province"]), DAY, None)
    figure = {key: value for key, value in area_map_.figure.items() if key != "views"}
    go.Figure(figure)  # raises on any attribute plotly does not know


def test_the_map_counts_its_queries(client, users, area, totals, django_assert_max_num_queries):
    client.force_login(users["province"])
    url = reverse("reports:division", args=[area["province"].code])
    client.get(url)  # warms the figures' cache
    with django_assert_max_num_queries(30):
        client.get(url)


def test_an_area_the_shipped_boundaries_do_not_cover_has_no_map(monkeypatch):
    monkeypatch.undo()  # the real check of the shipped files
    from counties.models import Division, Level
    from reports.selectors import Area
    from reports.views.maps import geojson_path

    nowhere = Division(code="990000", name="Nowhere", level=Level.PROVINCE)
    sichuan = Division(code="510000", name="四川省", level=Level.PROVINCE)
    assert geojson_path(Area.of_division(nowhere)) is None
    assert geojson_path(Area.of_division(sichuan)) == "geo/counties/510000.json"
