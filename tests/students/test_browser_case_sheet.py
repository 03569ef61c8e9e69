"""The case sheet in Chromium, as it prints: a county official opens a case, follows "Print", and the sheet in print
media shows the child, the history, the persons and the next steps, without the navigation or any button.
Screenshots of it in both languages go to test-artifacts/."""

import datetime

import pytest

from counties.models import Role
from students.choices import Line, ResponsibleRole, VisitMethod, VisitorRole, VisitOutcome
from students.services import case_set_responsible_persons, visit_record
from tests.browser import save_screenshot, sign_in, wait_until
from tests.factories import (
    CountyFactory,
    PrefectureFactory,
    ProvinceFactory,
    SchoolFactory,
    UserFactory,
    open_case,
    student_with_identifiers,
)

# serialized_rollback, as in the other browser tests: the rows the migrations put in survive the flushes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# About an A4 page's width in CSS pixels.
PAPER = {"width": 800, "height": 1100}


@pytest.fixture
def case():
    """Sang Qingzhuoma of Shangduke Township Primary School, Rangtang County (DOMAIN.md), with a visit."""
    sichuan = ProvinceFactory(code="510000", name="四川省")
    aba = PrefectureFactory(parent=sichuan, code="32", name="阿坝藏族羌族自治州")
    rangtang = CountyFactory(parent=aba, code="30", name="壤塘县")
    school = SchoolFactory(county=rangtang, name="上杜柯乡小学")
    child = student_with_identifiers(
        rangtang.code, 1, name="桑青卓玛", guardian_name="泽仁多吉", village="德格", ethnicity="04"
    )
    today = datetime.date.today()
    case = open_case(school, student=child, dropout_date=today - datetime.timedelta(days=90))
    visit_record(
        case=case,
        visit_date=today - datetime.timedelta(days=20),
        visitors=[
            {"role": VisitorRole.PRINCIPAL, "name": "王校长"},
            {"role": VisitorRole.VILLAGE_CADRE, "name": "村干部"},
        ],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.AGREED,
        notes="家长同意送孩子返校。",
        next_follow_up=today + datetime.timedelta(days=7),
    )
    case_set_responsible_persons(
        case=case,
        persons=[
            {"line": Line.EDUCATION, "role": ResponsibleRole.PRINCIPAL, "name": "王校长", "phone": "0837-2345678"},
            {"line": Line.GOVERNMENT, "role": ResponsibleRole.VILLAGE_HEAD, "name": "扎西", "phone": "13908370001"},
        ],
    )
    UserFactory(role=Role.COUNTY, division=rangtang, username="county")
    return case


def test_a_county_official_prints_a_case_sheet_in_both_languages(browser, live_server, case):
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=PAPER)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, "county")
        page.goto(f"/cases/{case.pk}/")
        page.click("a:text-is('Print')")
        page.wait_for_url(f"**/cases/{case.pk}/sheet/")
        # On screen the sheet offers the browser's print dialog.
        assert page.locator("button[data-print]").is_visible()

        page.emulate_media(media="print")
        assert not page.locator(".topbar").is_visible()
        assert not page.locator("button[data-print]").is_visible()
        sheet = page.locator(".case-sheet")
        text = sheet.inner_text()
        for expected in ("桑青卓玛", case.student.id_number, "Tibetan", "Home visit", "王校长", "0837-2345678"):
            assert expected in text, expected
        assert "Next follow-up" in text and "Next steps" in text
        assert page.evaluate("document.documentElement.scrollWidth") <= PAPER["width"]
        save_screenshot(page, "case-sheet-print-en")

        page.emulate_media(media="screen")
        page.select_option("select[name=language]", "zh-hans")
        page.wait_for_load_state()
        page.wait_for_selector("html[lang=zh-hans]")
        page.emulate_media(media="print")
        text = page.locator(".case-sheet").inner_text()
        assert "藏族" in text and "Tibetan" not in text
        assert "一生一案" in text
        save_screenshot(page, "case-sheet-print-zh")
    finally:
        context.close()


def test_the_national_dashboard_prints_without_navigation_forms_or_toolbars(browser, live_server):
    """Dashboards on paper: no navigation, form or chart toolbar, and each chart as wide as the page at most."""
    from reports.models import AreaLevel, DailyTotal

    baseline = datetime.date(2019, 5, 31)
    province = ProvinceFactory(code="510000", name="四川省")
    DailyTotal.objects.bulk_create(
        [
            DailyTotal(day=baseline + datetime.timedelta(days=n), level=level, division=place, open_count=9000 - n)
            for n in range(60)
            for level, place in ((AreaLevel.NATION, None), (AreaLevel.PROVINCE, province))
        ]
    )
    UserFactory(role=Role.MINISTRY, username="ministry")
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, "ministry")
        page.goto("/national/")
        page.wait_for_selector("#chart-trend[data-drawn] svg.main-svg")
        page.emulate_media(media="print")
        for hidden in (".topbar", "form.as-of", ".modebar-container"):
            assert not page.locator(hidden).first.is_visible(), hidden
        wait_until(
            page,
            "Array.from(document.querySelectorAll('.js-plotly-plot svg.main-svg'))"
            ".every((svg) => svg.getBoundingClientRect().width <= 680)",
        )
        save_screenshot(page, "dashboard-national-print-en")
    finally:
        context.close()
