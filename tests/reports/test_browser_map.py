"""The map in Chromium: the national map draws the provinces, and a click on one opens its page and its county map."""

import datetime

import pytest

from counties.models import Role
from reports.models import AreaLevel, DailyTotal
from tests.browser import save_screenshot, save_screenshots_in_both_languages, sign_in
from tests.factories import CountyFactory, PrefectureFactory, ProvinceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BASELINE = datetime.date(2019, 5, 31)
DAY = datetime.date(2020, 6, 14)


@pytest.fixture
def sichuan():
    """四川 (two counties of 阿坝州) and 云南 under their real codes, with totals on the baseline and the last day."""
    sichuan = ProvinceFactory(code="510000", name="四川省")
    aba = PrefectureFactory(parent=sichuan, code="32", name="阿坝藏族羌族自治州")
    rangtang = CountyFactory(parent=aba, code="30", name="壤塘县")
    aba_county = CountyFactory(parent=aba, code="31", name="阿坝县")
    yunnan = ProvinceFactory(code="530000", name="云南省")
    plan = {
        None: (60_000, 781),
        sichuan: (50_000, 700),
        yunnan: (10_000, 81),
        aba: (8_000, 90),
        rangtang: (1_200, 12),
        aba_county: (900, 78),
    }
    DailyTotal.objects.bulk_create(
        DailyTotal(
            day=day,
            level=place.level if place else AreaLevel.NATION,
            division=place,
            baseline_open=baseline,
            open_count=baseline if day == BASELINE else now,
        )
        for place, (baseline, now) in plan.items()
        for day in (BASELINE, DAY)
    )
    return {"sichuan": sichuan, "rangtang": rangtang}


def map_drawn(page) -> None:
    page.wait_for_selector("#map-areas[data-drawn=true] .choroplethlocation")


def test_the_national_map_draws_and_a_click_on_a_province_opens_its_map(page, live_server, sichuan):
    UserFactory(username="ministry", role=Role.MINISTRY)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, "ministry")
    map_drawn(page)
    # The open-dropouts view: the two provinces of the ledger, and Taiwan, Hong Kong and Macao in grey.
    open_paths = page.locator("#map-areas .choroplethlayer .trace").nth(0).locator(".choroplethlocation")
    assert open_paths.count() == 2
    assert page.locator("#map-areas .choroplethlayer .choroplethlocation").count() == 2 + 3
    # The second view shows the decrease since the baseline.
    page.click(".map-views button[data-view='1']")
    page.wait_for_selector("#map-areas[data-view='1']")
    assert page.locator(".map-views button[data-view='1']").get_attribute("aria-pressed") == "true"
    page.click(".map-views button[data-view='0']")
    page.wait_for_selector("#map-areas[data-view='0']")

    # Hovering Sichuan names it with its figure, written as the page writes figures.
    sichuan_path = open_paths.first
    sichuan_path.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = sichuan_path.bounding_box()
    point = (box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    page.mouse.move(*point)
    page.wait_for_selector("#map-areas .hoverlayer .hovertext")
    hover = page.locator("#map-areas .hoverlayer .hovertext").text_content()
    assert "四川省" in hover and "Open dropouts: 700" in hover

    page.mouse.click(*point)
    page.wait_for_url(f"**/area/{sichuan['sichuan'].code}/")
    map_drawn(page)
    # The province's page: its counties, drawn on the boundaries of its own file.
    counties = page.locator("#map-areas .choroplethlayer .trace").nth(0).locator(".choroplethlocation")
    assert counties.count() == 2
    save_screenshots_in_both_languages(page, "map-province")
    assert errors == []
    # Nothing was fetched from anywhere but the app: no tiles, no CDN, no world outlines.
    assert all(url.startswith(live_server.url) for url in requests), [u for u in requests if live_server.url not in u]


def test_the_national_map_in_chinese(page, sichuan):
    UserFactory(username="ministry", role=Role.MINISTRY)
    sign_in(page, "ministry")
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    map_drawn(page)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.locator("#map-areas").scroll_into_view_if_needed()
    save_screenshot(page, "map-national-zh")


def test_a_county_official_sees_no_map(page, sichuan):
    UserFactory(username="county", role=Role.COUNTY, division=sichuan["rangtang"])
    sign_in(page, "county")
    page.wait_for_load_state()
    assert page.locator("#map-areas").count() == 0
