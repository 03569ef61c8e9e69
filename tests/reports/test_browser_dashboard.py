"""A ministry user in Chromium: the national dashboard draws its charts, and drilling down reaches Rangtang County."""

import datetime

import pytest

from counties.models import Role
from reports.models import AreaLevel, DailyTotal
from tests.browser import save_screenshot, sign_in, wait_until
from tests.factories import CountyFactory, PrefectureFactory, ProvinceFactory, UserFactory

# serialized_rollback, as in the other browser tests: the rows the migrations put in survive the flushes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BASELINE = datetime.date(2019, 5, 31)
DAY = datetime.date(2020, 6, 14)


@pytest.fixture
def rangtang():
    """四川 -> 阿坝州 -> 壤塘县 beside another province, with daily totals for every area since the baseline."""
    sichuan = ProvinceFactory(code="510000", name="四川省")
    aba = PrefectureFactory(parent=sichuan, code="32", name="阿坝藏族羌族自治州")
    rangtang = CountyFactory(parent=aba, code="30", name="壤塘县")
    other = CountyFactory(name="Other county")
    plan = {
        None: (600_000, 6_781),
        sichuan: (50_000, 700),
        aba: (8_000, 90),
        rangtang: (1_200, 12),
        other.province: (550_000, 6_081),
        other.prefecture: (550_000, 6_081),
        other: (550_000, 6_081),
    }
    days = (DAY - BASELINE).days + 1
    rows = []
    for place, (baseline, now) in plan.items():
        for n in range(days):
            share = (1 - n / (days - 1)) ** 3
            rows.append(
                DailyTotal(
                    day=BASELINE + datetime.timedelta(days=n),
                    level=place.level if place else AreaLevel.NATION,
                    division=place,
                    baseline_open=baseline,
                    open_count=now + round((baseline - now) * share),
                    open_poor=round(now * 0.1 + (baseline - now) * 0.3 * share),
                )
            )
    DailyTotal.objects.bulk_create(rows)
    return {"sichuan": sichuan, "aba": aba, "rangtang": rangtang}


def all_charts_drawn(page) -> None:
    wait_until(
        page,
        "[...document.querySelectorAll('script[data-chart]')]"
        ".every(node => document.getElementById(node.dataset.chart)?.hasAttribute('data-drawn'))",
    )


def settled_box(page, locator) -> dict:
    """The element's box once two readings a frame apart agree."""
    box = locator.bounding_box()
    for _ in range(50):
        page.wait_for_timeout(50)
        again = locator.bounding_box()
        if again == box:
            return box
        box = again
    raise AssertionError(f"The element kept moving: {box}")


def test_ministry_user_sees_the_trend_drawn_and_drills_down_to_rangtang(page, live_server, rangtang):
    UserFactory(username="ministry", role=Role.MINISTRY)
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    sign_in(page, "ministry")
    assert page.url.endswith("/national/")
    # plotly.js, served by the app itself, has drawn the trend as SVG.
    page.wait_for_selector("#chart-trend[data-drawn] svg.main-svg")
    assert page.locator("#chart-trend .scatterlayer .trace").count() == 1
    assert "6,781, down 98.9% from 600,000" in page.locator(".headline .headline-figure").inner_text()
    save_screenshot(page, "dashboard-national")

    page.click("table.ranked a:text-is('四川省')")
    page.wait_for_selector("#chart-trend[data-drawn] svg.main-svg")
    assert page.locator("h1").inner_text().startswith("四川省")
    page.click("table.ranked a:text-is('阿坝藏族羌族自治州')")
    page.wait_for_selector("#chart-children[data-drawn] svg.main-svg")
    page.click("table.ranked a:text-is('壤塘县')")
    page.wait_for_selector("#chart-trend[data-drawn] svg.main-svg")

    assert page.url.endswith(f"/area/{rangtang['rangtang'].code}/")
    assert page.locator("h1").inner_text().startswith("壤塘县")
    assert "12, down 99.0% from 1,200" in page.locator(".headline .headline-figure").inner_text()
    assert page.locator(".crumbs").inner_text().split() == ["Nation", "四川省", "阿坝藏族羌族自治州", "壤塘县"]
    save_screenshot(page, "dashboard-rangtang")
    # Nothing was fetched from anywhere but the app: no CDN.
    assert all(url.startswith(live_server.url) for url in requests)


def test_a_bar_of_the_ranking_leads_one_level_down(page, rangtang):
    UserFactory(username="ministry", role=Role.MINISTRY)
    sign_in(page, "ministry")
    page.goto(f"/area/{rangtang['sichuan'].code}/")
    page.wait_for_selector("#chart-children[data-drawn] .bars .point path")
    # A click on the first bar, where the user's pointer would land (plotly listens on the plot area).
    # Every chart above it is drawn first, and the bar has stopped moving: a chart drawn late or resized
    # would move the bar under the pointer.
    all_charts_drawn(page)
    bar = page.locator("#chart-children .bars .point path").first
    bar.scroll_into_view_if_needed()
    box = settled_box(page, bar)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(f"**/area/{rangtang['aba'].code}/")
    assert page.locator("h1").inner_text().startswith("阿坝藏族羌族自治州")


def test_the_chart_table_opens_for_reading_and_copying(page, rangtang):
    UserFactory(username="ministry", role=Role.MINISTRY)
    sign_in(page, "ministry")
    table = page.locator("#chart-trend ~ details.table-view table")
    assert not table.is_visible()
    page.locator("#chart-trend ~ details.table-view summary").click()
    assert table.is_visible()
    assert "6,781" in table.inner_text()


def test_national_dashboard_on_a_phone(page, rangtang):
    UserFactory(username="ministry", role=Role.MINISTRY)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ministry")
    page.wait_for_selector("#chart-trend[data-drawn] svg.main-svg")
    # The page fits the phone's width: nothing scrolls sideways but the wide tables inside their boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "dashboard-national-phone")
