"""Every role's main pages in Chromium, under the Content-Security-Policy: no console error, no refused script or style.

Chromium reports what the policy refuses both as a console error and as a `securitypolicyviolation` event; the
test listens for both, and for uncaught script errors, on each page, waiting until the page's scripts have run
(the dashboards until plotly.js has drawn every chart, the job and run pages until they have polled once).
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.models import RunStatus, TotalsRun
from students.models import JobKind, JobStatus, LedgerJob
from tests.browser import save_screenshot, sign_in
from tests.factories import StudentFactory, open_case
from tests.reports.dashboard_data import make_totals

# serialized_rollback, as in the other browser tests: the rows the migrations put in survive the flushes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Collects what the page's policy refused, before any of the page's own scripts run (Playwright's init scripts
# are not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " refused " + (event.blockedURI || "inline") +
    " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


@pytest.fixture
def ledger(area, users):
    """A case, a job and a totals run still going, and totals for every dashboard."""
    make_totals(area, days=(datetime.date(2019, 5, 31), timezone.localdate() - datetime.timedelta(days=1)))
    case = open_case(area["school"], student=StudentFactory(name="Sang Qingzhuoma"))
    job = LedgerJob.objects.create(
        kind=JobKind.EXPORT,
        status=JobStatus.RUNNING,
        progress=40,
        requested_by=users["county"],
        county=area["county"],
        params={"ledger": True, "format": "csv", "language": "en"},
    )
    run = TotalsRun.objects.create(status=RunStatus.RUNNING, trigger="web", progress=30, started_at=timezone.now())
    users["admin"].is_staff = users["admin"].is_superuser = True
    users["admin"].save()
    return {"case": case, "job": job, "run": run}


def pages_of(role: str, area: dict, ledger: dict) -> list[str]:
    """The pages each role works with, by the navigation: its home, its lists, a case, its forms."""
    case = reverse("students:case-detail", args=[ledger["case"].pk])
    lists = [reverse("students:case-list"), reverse("students:disclosure-log")]
    county_work = [
        reverse("students:case-new"),
        reverse("students:handover-list"),
        reverse("students:duplicates"),
        reverse("students:import-upload", args=[area["county"].code]),
    ]
    return {
        "ministry": [
            reverse("reports:home"),
            reverse("reports:division", args=[area["province"].code]),
            reverse("students:handover-stuck"),
            case,
            *lists,
        ],
        "province": [reverse("reports:home"), reverse("reports:division", args=[area["prefecture"].code]), *lists],
        "prefecture": [reverse("reports:home"), reverse("reports:division", args=[area["county"].code]), *lists],
        "county": [
            reverse("reports:home"),
            case,
            reverse("students:job-detail", args=[ledger["job"].pk]),
            reverse("students:handover-claim"),
            *county_work,
            *lists,
        ],
        "principal": [reverse("reports:home"), reverse("reports:school", args=[area["school"].code]), case, *lists],
        "admin": [
            reverse("reports:home"),
            reverse("reports:national"),
            reverse("reports:runs"),
            reverse("admin:index"),
            reverse("admin:students_dropoutcase_changelist"),
            reverse("admin:students_dropoutcase_change", args=[ledger["case"].pk]),
            reverse("admin:counties_user_changelist"),
            *county_work,
            *lists,
        ],
    }[role]


class Watch:
    """What went wrong on a tab: console errors, uncaught exceptions and refused content, page by page."""

    def __init__(self, page):
        self.page = page
        self.problems = []
        page.add_init_script(RECORD_VIOLATIONS)
        self.expected_failure = None
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def console(self, message) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        # An error page's own status is logged as a failed load.
        if self.expected_failure and source.endswith(self.expected_failure):
            return
        self.problems.append(f"{message.text} ({source})")

    def visit(self, url: str, *, status: int = 200) -> None:
        self.expected_failure = url if status != 200 else None
        response = self.page.goto(url)
        assert response.status == status, f"{url} answered {response.status}"
        self.settle()
        found = self.problems + self.page.evaluate("window.__violations")
        self.problems = []
        assert found == [], f"{url}:\n" + "\n".join(found)

    def settle(self) -> None:
        self.page.wait_for_load_state("load")
        charts = self.page.locator("div.chart")
        for n in range(charts.count()):
            charts.nth(n).locator("svg.main-svg").first.wait_for()
        if self.page.locator("#job-progress, #run-progress").count():
            # The first poll goes out within a second; its answer is what the script then draws.
            with self.page.expect_response(lambda response: "/status/" in response.url):
                pass
        self.page.wait_for_timeout(200)


def test_signed_out_pages_break_no_rule_of_the_policy(page):
    watch = Watch(page)
    watch.visit("/accounts/login/")
    watch.visit("/no-such-page/", status=404)


@pytest.mark.parametrize("role", ["ministry", "province", "prefecture", "county", "principal", "admin"])
def test_every_roles_pages_break_no_rule_of_the_policy(page, role, area, users, ledger):
    watch = Watch(page)
    sign_in(page, users[role].username)
    for url in pages_of(role, area, ledger):
        watch.visit(url)
    # The error pages, in the layout: a page that is not there, a case that is not.
    watch.visit("/cases/no-such-page/", status=404)
    watch.visit(reverse("students:case-detail", args=[999_999]), status=404)
    if role == "principal":
        # Duplicates are decided by county officials: a principal is refused, with the reason.
        watch.visit(reverse("students:duplicates"), status=403)
        save_screenshot(page, "csp-error-page-403")


def test_the_language_switch_still_sends_its_form(page, users):
    watch = Watch(page)
    sign_in(page, users["county"].username)
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert watch.problems == []


def test_the_handover_filter_sends_its_form_on_a_new_choice(page, users):
    sign_in(page, users["county"].username)
    page.goto(reverse("students:handover-list"))
    page.select_option("#handover-status", "pending")
    page.wait_for_url("**/handovers/?status=pending")


def test_the_job_page_follows_its_job_and_reloads_when_it_ends(page, users, ledger):
    from playwright.sync_api import expect

    job = ledger["job"]
    sign_in(page, users["county"].username)
    page.goto(reverse("students:job-detail", args=[job.pk]))
    # Drawn from the job's status, which the page asks for (the page itself was drawn at 40% too).
    LedgerJob.objects.filter(pk=job.pk).update(progress=60)
    expect(page.locator("#job-progress-text")).to_have_text("60%")
    LedgerJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, progress=100, error="stopped")
    page.wait_for_selector("#job-progress", state="detached")


def test_the_runs_page_follows_the_active_run(page, users, ledger):
    from playwright.sync_api import expect

    sign_in(page, users["admin"].username)
    page.goto(reverse("reports:runs"))
    TotalsRun.objects.filter(pk=ledger["run"].pk).update(progress=55)
    expect(page.locator("#run-progress")).to_have_js_property("value", 55)


def test_a_chart_is_saved_as_png_and_offers_no_upload_elsewhere(page, users, ledger):
    watch = Watch(page)
    sign_in(page, users["ministry"].username)
    watch.visit(reverse("reports:national"))
    page.hover("#chart-trend .nsewdrag")
    buttons = page.locator("#chart-trend .modebar-btn")
    titles = [buttons.nth(n).get_attribute("data-title") for n in range(buttons.count())]
    # The dashboard's own PNG button (dashboard.js: the title, area, range and source drawn into the image).
    assert "Download the chart as PNG, with its title, range and source" in titles
    assert not [title for title in titles if "Share" in title or "Cloud" in title]  # Plotly Cloud
    with page.expect_download() as download:
        page.click("#chart-trend .modebar-btn[data-title*='PNG']")
    assert re.fullmatch(r"dropouts-national-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.png", download.value.suggested_filename)
    assert watch.problems + page.evaluate("window.__violations") == []
