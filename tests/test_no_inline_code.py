"""No template carries code or style inline: the Content-Security-Policy would refuse it (and break the page).

Scripts and styles live in static/; behaviour is attached by static/js/app.js from data- attributes; figures and
other data travel in <script type="application/json">, which the browser reads as data and never runs.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates"), *ROOT.glob("*/jinja2")]
TEMPLATES = sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html"))

TAG = re.compile(r"<[a-zA-Z][^<>]*>")
RULES = {
    "an inline <script>": re.compile(r"<script\b(?![^>]*\ssrc=)(?![^>]*\stype=\"application/json\")", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
}
ATTRIBUTES = {
    "a style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "an on…= event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "a javascript: address": re.compile(r"=\s*[\"']?\s*javascript:", re.I),
}


def inline_code(text: str) -> list[str]:
    found = [f"{what}: {match.group(0)!r}" for what, rule in RULES.items() for match in rule.finditer(text)]
    for tag in TAG.finditer(text):
        found += [f"{what} in {tag.group(0)!r}" for what, rule in ATTRIBUTES.items() if rule.search(tag.group(0))]
    return found


def test_the_templates_are_all_found():
    names = {path.relative_to(ROOT).as_posix() for path in TEMPLATES}
    assert {"templates/base.html", "students/jinja2/django_filters/widgets/multiwidget.html"} <= names


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_template_has_inline_script_style_or_handler(path):
    assert inline_code(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert(1)</script>",
        '<script type="module">go()</script>',
        "<style>p { color: red }</style>",
        '<p style="color: red">',
        '<select name="language" onchange="this.form.submit()">',
        '<a href="javascript:history.back()">',
    ],
)
def test_the_check_finds_what_it_looks_for(markup):
    assert inline_code(markup)


@pytest.mark.parametrize(
    "markup",
    [
        '<script src="/static/js/app.js" defer></script>',
        '<script type="application/json" data-chart="trend">{}</script>',
        '<select name="status" data-submit-on-change>',
        "<p>Contact the school on=Monday, with style=plain words</p>",
    ],
)
def test_the_check_lets_external_scripts_and_data_through(markup):
    assert inline_code(markup) == []
