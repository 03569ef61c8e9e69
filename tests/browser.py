"""Playwright fixtures: headless Chromium (Debian's build) driving pages served by pytest-django's live server.

Tests marked `@pytest.mark.browser` use the `page` fixture; its base URL is the live server's, so
`page.goto("/accounts/login/")` works. When Chromium is missing these tests skip on a laptop and fail in
CI (see conftest.py). `save_screenshot(page, "name")` keeps a picture in test-artifacts/ for a person to look at;
`sign_in(page, username)` signs a test user in (their password is "pw"); `phone` and `phone_zh` are phone-sized
tabs with touch, asking for English and Chinese pages.
"""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# The browser only talks to the live server: no background traffic, no GPU, no sandbox (tests may run as root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def chromium_missing_reason() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)) and shutil.which(path) is None:
        return f"Chromium not found at {path} (install Debian's chromium package, or set CHROMIUM_PATH)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def save_screenshot(page, name: str) -> Path:
    """Saves a full-page PNG as test-artifacts/<name>.png and returns its path."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    path = ARTIFACTS_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session. Playwright starts it with a fresh, empty profile of its own."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would then refuse the ORM calls
    # that tests and fixtures make between browser steps.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A tab in a context of its own (no cookies from other tests) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


PHONE = {"width": 390, "height": 844}


def _phone_tab(browser, live_server, locale: str):
    context = browser.new_context(
        base_url=live_server.url, locale=locale, viewport=PHONE, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def phone(browser, live_server):
    """A tab the size of a phone, with touch, for the principal who works from one."""
    context = _phone_tab(browser, live_server, "en-US")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone_zh(browser, live_server):
    """A phone-sized tab whose browser asks for Chinese pages."""
    context = _phone_tab(browser, live_server, "zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page, username: str) -> None:
    """Sign in through the form, as a user does; the factories give every test user the password "pw"."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def save_screenshots_in_both_languages(page, name: str) -> None:
    """Keep the page as it is in English and in Chinese (name-en, name-zh), then leave it in the language the
    browser asks for. The language is the language switch's cookie, as a user's choice sets it."""
    for language, suffix in (("en", "en"), ("zh-hans", "zh")):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
        page.reload()
        page.wait_for_load_state("networkidle")
        save_screenshot(page, f"{name}-{suffix}")
    page.context.clear_cookies(name="django_language")
    page.reload()
    page.wait_for_load_state("networkidle")


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Wait until the JavaScript `expression` is true in the page. Playwright's own wait_for_function builds its
    predicate with eval, which the product's Content-Security-Policy refuses; page.evaluate is not bound by it."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"Still false after {timeout:g} s: {expression}")
        page.wait_for_timeout(100)
