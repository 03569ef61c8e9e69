"""A county official compares the county's rosters in a real browser and opens two cases from the candidates.
Screenshots, in English and in Chinese, go to test-artifacts/."""

import pytest

from counties.models import Role
from rosters.models import Candidate, CandidateGroup, CandidateStatus, RosterKind
from students.models import DropoutCase
from tests.browser import save_screenshot, save_screenshots_in_both_languages, sign_in, wait_until
from tests.factories import CountyFactory, SchoolFactory, UserFactory
from tests.rosters.helpers import AS_OF, county, open_cases_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_county_official_compares_rosters_and_opens_two_cases_from_the_candidates(page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    rangtang = CountyFactory(name="Rangtang County")
    area = {
        "county": rangtang,
        "school": SchoolFactory(county=rangtang, name="Shangduke Township Primary School"),
        "other_school": SchoolFactory(county=rangtang, name="Rangtang Middle School"),
    }
    UserFactory(role=Role.COUNTY, division=rangtang, username="rangtang")
    generated = county(area, children=40, open_cases=open_cases_in(area["school"]))
    # A second child of the registry missing from class: two candidates that may have dropped out.
    missing = generated.rosters[RosterKind.ATTENDANCE].pop(0)
    paths = {}
    for kind in generated.rosters:
        paths[kind] = tmp_path / f"{kind}.csv"
        paths[kind].write_bytes(generated.csv_bytes(kind))

    sign_in(page, "rangtang")
    page.goto("/rosters/")
    page.click(f"a[href='/rosters/new/{rangtang.code}/']")
    for kind, path in paths.items():
        page.set_input_files(f"input[name={kind}]", str(path))
    page.fill("input[name=as_of]", AS_OF.isoformat())
    save_screenshot(page, "rosters-upload")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/rosters/*/")
    wait_until(page, "!document.getElementById('job-progress')")
    assert "Succeeded" in page.inner_text("#job-status-label")

    page.click("nav.tabs a[href*='dropped_out']")
    rows = page.locator("table.candidates tbody tr")
    assert rows.count() == 2
    assert missing[1] in page.inner_text("table.candidates") or missing[2] in page.inner_text("table.candidates")
    save_screenshots_in_both_languages(page, "rosters-candidates")

    page.check("table.candidates tbody tr:nth-child(1) input[type=checkbox]")
    page.check("table.candidates tbody tr:nth-child(2) input[type=checkbox]")
    page.select_option("#open-cases select[name=reason]", "work")
    page.click("#open-cases button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert "2 cases opened" in page.inner_text(".messages")
    save_screenshot(page, "rosters-cases-opened")

    opened = Candidate.objects.filter(group=CandidateGroup.DROPPED_OUT, status=CandidateStatus.CASE_OPENED)
    assert opened.count() == 2
    assert DropoutCase.objects.filter(pk__in=opened.values("case"), county=rangtang, reason="work").count() == 2
