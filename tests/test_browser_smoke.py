"""The browser fixtures work end to end: Chromium renders the live server's pages and a screenshot is kept."""

import pytest

from counties.models import Role
from tests.browser import save_screenshot
from tests.factories import UserFactory

# serialized_rollback: each test starts with the rows the migrations put in, even after another test's flush.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_login_page_renders_in_chromium_and_a_screenshot_is_saved(page):
    page.goto("/accounts/login/")

    assert page.locator("input[name=username]").is_visible()
    assert page.locator("input[name=password]").is_visible()
    shot = save_screenshot(page, "login-page")
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_wrong_password_keeps_the_user_on_the_login_page_with_an_error(page):
    UserFactory(username="official", role=Role.ADMIN)

    page.goto("/accounts/login/")
    page.fill("input[name=username]", "official")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")

    assert "/accounts/login/" in page.url
    assert page.locator(".error").is_visible()


def test_signing_in_with_the_right_password_leaves_the_login_page(page):
    UserFactory(username="official", role=Role.ADMIN)  # the factory's password is "pw"

    page.goto("/accounts/login/")
    page.fill("input[name=username]", "official")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    assert "/accounts/login/" not in page.url
    assert "official" in page.content()
    save_screenshot(page, "signed-in-home")
