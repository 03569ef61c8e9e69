"""Counts in sentences carry the thousands separator of the page's language ("41,976 open cases", not "41976").

A `{% blocktranslate count counter=… %}` prints its counter as a bare number; a sentence shows the count through
the formatting filter instead (`with total=…|intcomma`), and keeps the counter only to choose the plural. The
templates name `counter` the counts of cases, children and handovers, which reach the thousands; durations are named
after their unit (days, minutes) and stay short.
"""

import re
from pathlib import Path

from django.conf import settings
from django.template import Context, Template
from django.utils import translation

TEMPLATES = Path(settings.BASE_DIR) / "templates"
BLOCK = re.compile(r"{%\s*blocktrans(?:late)?\b(?P<args>[^%]*)%}(?P<body>.*?){%\s*endblocktrans(?:late)?\s*%}", re.S)
COUNTER = re.compile(r"\bcount\s+(counter)\s*=")


def test_no_sentence_prints_a_bare_count():
    bare = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for block in BLOCK.finditer(path.read_text(encoding="utf-8")):
            counter = COUNTER.search(block.group("args"))
            if counter and f"{{{{ {counter.group(1)} }}}}" in block.group("body"):
                bare.append(f"{path.relative_to(TEMPLATES)}: {block.group(0)[:90]}")
    assert bare == [], "counts printed without their separator:\n" + "\n".join(bare)


def test_the_formatted_count_reads_with_its_separator_in_english():
    template = Template(
        "{% load i18n humanize %}{% blocktranslate with total=n|intcomma count counter=n %}{{ total }} case"
        "{% plural %}{{ total }} cases{% endblocktranslate %}"
    )
    with translation.override("en"):
        assert template.render(Context({"n": 41976})) == "41,976 cases"
        assert template.render(Context({"n": 1})) == "1 case"
