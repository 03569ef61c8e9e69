"""A county official in Chromium records a return, and the county page's headline follows within one task run.

Tasks run eagerly in the test settings, so the recompute a commit schedules runs before the response is sent.
"""

import datetime
import re

import pytest
import redis
from django.utils import timezone

from reports import tasks
from reports.models import TotalsRun
from reports.services import runs, touched
from students.choices import Placement
from students.models import LedgerCorrection
from tests.browser import save_screenshots_in_both_languages, sign_in
from tests.factories import StudentFactory, open_case

from .totals_support import build_ledger

# serialized_rollback, as in the other browser tests: the rows the migrations put in survive the flushes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
DAY = datetime.timedelta(days=1)


@pytest.fixture
def published(area, settings):
    """A ledger published by a full run, with one more open case whose county figures are recomputed."""
    settings.TOTALS_CHANGES_MARGIN_SECONDS = 0
    baseline = timezone.localdate() - 20 * DAY
    settings.LEDGER_BASELINE_DATE = baseline.isoformat()
    redis.Redis.from_url(settings.REDIS_URL).delete(tasks.TOUCHED_KEY)
    build_ledger(area, baseline - 20 * DAY)
    runs.recompute()
    case = open_case(area["school"], student=StudentFactory(name="Gesang Meiduo"), dropout_date=baseline - 5 * DAY)
    touched.touched_recompute()
    LedgerCorrection.objects.update(recomputed_at=timezone.now())
    return case


def headline_count(page) -> int:
    return int(re.match(r"[\d,]+", page.inner_text(".headline .headline-figure")).group().replace(",", ""))


def test_a_county_official_records_a_return_and_the_headline_follows(page, area, users, published):
    county_page = f"/area/{area['county'].code}/"
    users["county"].username = "official"
    users["county"].save()
    sign_in(page, "official")
    page.goto(county_page)
    before = headline_count(page)

    page.goto(f"/cases/{published.pk}/")
    page.click("#returned summary")
    page.fill("input[name=returned_on]", timezone.localdate().isoformat())
    page.select_option("select[name=placement]", Placement.REGULAR_CLASS)
    page.click("#returned button[type=submit]")
    page.wait_for_selector(".messages li.success")

    page.goto(county_page)
    assert headline_count(page) == before - 1
    assert "Totals computed at" in page.inner_text(".freshness")
    save_screenshots_in_both_languages(page, "headline-after-return")
    assert not LedgerCorrection.objects.filter(recomputed_at__isnull=True).exists()
    assert TotalsRun.objects.latest("pk").trigger == runs.Trigger.WRITE
