"""The ministry in Chromium, in English and in Chinese: a range, the 52 counties held as of 2020-06-14 drawn
beside the nation, the CSV with the group's 433 at that date, a PNG named after the area and range, and a
toolbar with no share link, in the page's language."""

import csv
import datetime
import io
from pathlib import Path

import pytest

from counties.models import CountyGroup, CountyGroupMembership, Role
from reports.models import AreaLevel, DailyTotal
from tests.browser import ARTIFACTS_DIR, save_screenshot, sign_in
from tests.factories import CountyFactory, PrefectureFactory, ProvinceFactory, UserFactory

# serialized_rollback, as in the other browser tests: the rows the migrations put in survive the flushes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BASELINE = datetime.date(2019, 5, 31)
DAY = datetime.date(2020, 6, 14)
LEFT = datetime.date(2020, 11, 1)  # the day every member left the group
LAST = datetime.date(2020, 12, 31)


def falling(at_baseline: int, at_day: int, at_last: int, day: datetime.date) -> int:
    """A count that falls steeply to `at_day` on DAY, then slowly to `at_last`."""
    if day <= DAY:
        share = 1 - (day - BASELINE).days / (DAY - BASELINE).days
        return at_day + round((at_baseline - at_day) * share**3)
    share = 1 - (day - DAY).days / (LAST - DAY).days
    return at_last + round((at_day - at_last) * share)


@pytest.fixture
def ledger():
    """The nation and two counties that were among the 52 until LEFT: 300 + 133 = 433 open on DAY."""
    guangxi = ProvinceFactory(code="450000", name="广西壮族自治区")
    prefecture = PrefectureFactory(parent=guangxi, code="02", name="柳州市")
    rongshui = CountyFactory(parent=prefecture, code="25", name="融水苗族自治县")
    sanjiang = CountyFactory(parent=prefecture, code="26", name="三江侗族自治县")
    group, _created = CountyGroup.objects.update_or_create(
        slug="poverty-52", defaults={"name": "52个未摘帽贫困县", "name_en": "The 52 poverty counties"}
    )
    group.memberships.all().delete()
    for county in (rongshui, sanjiang):
        CountyGroupMembership.objects.create(group=group, county=county, valid_from=BASELINE, valid_to=LEFT)
    plan = {
        None: (600_000, 6_781, 682),
        guangxi: (52_000, 433, 15),
        rongshui: (30_000, 300, 10),
        sanjiang: (22_000, 133, 5),
    }
    rows = []
    for n in range((LAST - BASELINE).days + 1):
        day = BASELINE + datetime.timedelta(days=n)
        for place, figures in plan.items():
            level = place.level if place else AreaLevel.NATION
            rows.append(
                DailyTotal(
                    day=day, level=level, division=place, baseline_open=figures[0], open_count=falling(*figures, day)
                )
            )
        members = day < LEFT
        rows.append(
            DailyTotal(
                day=day,
                level=AreaLevel.GROUP,
                group=group,
                baseline_open=52_000 if members else 0,
                open_count=falling(30_000, 300, 10, day) + falling(22_000, 133, 5, day) if members else 0,
            )
        )
    DailyTotal.objects.bulk_create(rows)
    return {"group": group}


@pytest.fixture(params=["en", "zh"])
def language_page(request, browser, live_server):
    """A tab whose browser asks for English or for Chinese pages."""
    locale = {"en": "en-US", "zh": "zh-CN"}[request.param]
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield request.param, context.new_page()
    finally:
        context.close()


def trend_state(page) -> dict:
    return page.evaluate(
        """() => {
            const layout = document.getElementById('chart-trend')._fullLayout;
            return {dtick: layout.xaxis.dtick, top: layout.yaxis.range[1],
                    ticks: [...document.querySelectorAll('#chart-trend .xtick text')].map(t => t.textContent)};
        }"""
    )


def settled(page, done) -> dict:
    """The trend's state once `done` holds (polled from here: the page's CSP refuses wait_for_function's eval)."""
    for _ in range(100):
        state = trend_state(page)
        if done(state):
            return state
        page.wait_for_timeout(50)
    raise AssertionError(f"The trend never settled: {state}")


def test_ministry_follows_the_52_counties_held_as_of_june_2020_beside_the_nation(language_page, ledger, live_server):
    language, page = language_page
    UserFactory(username="ministry", role=Role.MINISTRY)
    errors, requests = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A refused inline style or script is logged as an error (the site's CSP; saving the PNG must not need one).
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, "ministry")
    assert page.url.endswith("/national/")

    # The range: the year 2020.
    page.fill("#range-from", "2020-01-01")
    page.fill("#range-to", "2020-12-31")
    page.click("#view-form button[type=submit]")
    page.wait_for_selector("#chart-trend[data-drawn] svg.main-svg")
    # A year: one tick a month, each labelled once.
    state = trend_state(page)
    assert state["dtick"] == "M1"
    assert len(state["ticks"]) == len(set(state["ticks"])) >= 11

    # The 52 counties as they were on 2020-06-14, held fixed, beside the nation.
    page.click(".trend-controls summary")
    page.check("input[name=overlay][value='group:poverty-52']")
    page.fill("#overlay-as-of", "2020-06-14")
    page.click(".trend-controls button[type=submit]")
    page.wait_for_selector("#chart-trend[data-drawn] svg.main-svg")
    assert page.locator("#chart-trend .scatterlayer .trace").count() == 2
    assert "2020-06-14" in page.locator("#chart-trend .legend").text_content()
    save_screenshot(page, f"trend-range-overlay-{language}")

    # The last 3 months: the y axis fits the few cases still open then, instead of January's thousands.
    before = trend_state(page)["top"]
    page.locator("#chart-trend .rangeselector .button").first.click()
    after = settled(page, lambda state: state["top"] < before / 10)
    # The highest figure in view is the nation's on 2020-10-01 (about 3,490), with a little room above it.
    assert 3_400 < after["top"] < 4_000
    assert len(after["ticks"]) == len(set(after["ticks"]))

    # The figures as CSV: the group's 433 on 2020-06-14.
    with page.expect_download() as download:
        page.click("#chart-trend ~ .chart-csv a")
    assert download.value.suggested_filename == "dropouts-national-2020-01-01-2020-12-31.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    group_open = next(i for i, title in enumerate(header) if "2020-06-14" in title)
    by_day = {row[0]: row for row in rows}
    assert by_day["2020-06-14"][group_open] == "433"
    assert by_day["2020-06-14"][1] == "6781"
    assert by_day["2020-12-31"][group_open] == "15"  # held fixed after the group emptied

    # The toolbar: no cloud, share or logo; the PNG is named after the area and the range.
    page.hover("#chart-trend")
    modebar = page.locator("#chart-trend .modebar")
    titles = modebar.locator(".modebar-btn").evaluate_all("buttons => buttons.map(b => b.dataset.title)")
    assert not [title for title in titles if "Cloud" in title or "Studio" in title or "plotly" in title.lower()]
    assert modebar.locator("a[href*='plotly']").count() == 0
    reset = {"en": "Reset axes", "zh": "重置轴"}[language]
    assert reset in titles
    with page.expect_download() as png:
        modebar.locator(".modebar-btn[data-title*='PNG']").click()
    # Zoomed in to the last 3 months, the image is named after the days it shows.
    assert png.value.suggested_filename == "dropouts-national-2020-10-01-2020-12-31.png"
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    png.value.save_as(ARTIFACTS_DIR / f"trend-export-{language}.png")  # for a person to look at

    assert errors == []
    assert all(url.startswith(live_server.url) or url.startswith(("blob:", "data:")) for url in requests)
