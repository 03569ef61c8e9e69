"""The API's documentation in Chromium under the site's Content-Security-Policy: Swagger UI and ReDoc draw the
schema, with no console error and nothing refused; the Tokens page makes a token and shows it once."""

import pytest
from django.urls import reverse

from tests.browser import save_screenshot, save_screenshots_in_both_languages, sign_in
from tests.test_browser_csp import Watch

# serialized_rollback, as in the other browser tests: the rows the migrations put in survive the flushes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_swagger_ui_draws_every_operation_under_the_policy(page):
    watch = Watch(page)
    watch.visit(reverse("api:docs"))
    page.locator(".opblock-summary-path").first.wait_for()
    assert page.locator(".opblock").count() >= 30
    assert watch.problems + page.evaluate("window.__violations") == []
    save_screenshot(page, "api-swagger-ui")


# ReDoc's bundle always asks its maker's site for the badge at the foot of its menu. The policy refuses it, as it
# refuses anything from elsewhere: the one refusal expected on the page, and the proof that it loads nothing from
# outside.
REDOC_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_redoc_draws_the_schema_under_the_policy(page):
    watch = Watch(page)
    page.goto(reverse("api:redoc"))
    page.get_by_text("Record a visit · 记录劝返").first.wait_for(state="attached")
    page.wait_for_timeout(500)
    found = watch.problems + page.evaluate("window.__violations")
    assert [problem for problem in found if REDOC_BADGE not in problem] == []
    assert page.locator("style").count() > 0  # its styles, drawn inline as the page's policy allows there alone
    save_screenshot(page, "api-redoc")


def test_the_tokens_page_makes_a_token_and_shows_it_once(page, users):
    sign_in(page, users["county"].username)
    page.goto(reverse("api:tokens"))
    page.fill("#id_name", "Province exchange")
    page.click("button[type=submit]:not(.link):not(.secondary)")
    key = page.locator("[data-new-token]").inner_text()
    assert key.startswith("dl_")
    save_screenshot(page, "api-token-made")
    page.goto(reverse("api:tokens"))
    assert key not in page.content()
    assert page.get_by_text(key[:9]).count() == 1
    save_screenshots_in_both_languages(page, "api-tokens")
