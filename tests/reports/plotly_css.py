"""static/css/plotly.css: the stylesheet plotly.js writes into a <style> element as it loads, kept as a file.

The Content-Security-Policy refuses <style> elements, so the dashboards link this file instead, with the id and
class that tell plotly.js its stylesheet is already there (templates/reports/dashboard.html). plotly.js carries
its rules only inside its script, so they are read where plotly.js writes them: in Chromium, on a blank page
with no policy. After an upgrade of plotly, `python -m tests.reports.plotly_css` rewrites the file;
tests/reports/test_browser_plotly_css.py fails until it has.
"""

from pathlib import Path

import plotly

from tests.browser import CHROMIUM_ARGS, chromium_path

# As reports.views.assets serves it; read from the package here, so that rewriting the file needs no settings.
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_CSS = Path(__file__).resolve().parent.parent.parent / "static" / "css" / "plotly.css"
HEADER = """/* The stylesheet of plotly.js (as the plotly {version} package bundles it), which plotly.js would otherwise
   write into a <style> element that the Content-Security-Policy refuses. Written by
   `python -m tests.reports.plotly_css`; do not edit by hand. */
"""


def bundle_rules(browser) -> list[str]:
    """The rules plotly.js writes into its stylesheet when it loads, in the stylesheet's order."""
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><html><head></head><body></body></html>")
        page.add_script_tag(content=PLOTLY_JS.read_text(encoding="utf-8"))
        return page.evaluate(
            """Array.from(document.getElementById("plotly.js-style-global").sheet.cssRules, (rule) => rule.cssText)"""
        )
    finally:
        page.close()


def file_rules() -> list[str]:
    """The rules of static/css/plotly.css: one a line, after the header's comment."""
    body = PLOTLY_CSS.read_text(encoding="utf-8").split("*/", 1)[1]
    return [line for line in body.splitlines() if line.strip()]


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            rules = bundle_rules(browser)
        finally:
            browser.close()
    PLOTLY_CSS.write_text(HEADER.format(version=plotly.__version__) + "\n".join(rules) + "\n", encoding="utf-8")
    print(f"{PLOTLY_CSS}: {len(rules)} rules")


if __name__ == "__main__":
    main()
