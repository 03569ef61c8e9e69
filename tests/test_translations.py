"""The Simplified Chinese catalogue: complete, faithful to its placeholders, and the one the pages load."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# %(name)s, %(seconds).1f, %s, %d (python-format) and {name} (python-brace-format).
PERCENT_PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[sdifr]")
BRACE_PLACEHOLDER = re.compile(r"\{\w*\}")
HTML_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def entries() -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(CATALOGUE)) if not entry.obsolete]


def label(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt} | {entry.msgid!r}" if entry.msgctxt else repr(entry.msgid)


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(text: str, entry: polib.POEntry) -> list[str]:
    found = []
    if "python-format" in entry.flags:
        found += PERCENT_PLACEHOLDER.findall(text)
    if "python-brace-format" in entry.flags:
        found += BRACE_PLACEHOLDER.findall(text)
    found += [f"<{tag.lower()}>" for tag in HTML_TAG.findall(text)]
    return sorted(found)


def test_catalogue_has_one_plural_form_as_chinese_does():
    catalogue = polib.pofile(str(CATALOGUE))
    assert catalogue.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert "charset=UTF-8" in catalogue.metadata["Content-Type"]


def test_every_entry_in_the_chinese_catalogue_is_translated_and_not_fuzzy():
    untranslated = [label(entry) for entry in entries() if not all(translations(entry))]
    fuzzy = [label(entry) for entry in entries() if "fuzzy" in entry.flags]
    assert not untranslated, "Untranslated: " + "; ".join(untranslated)
    assert not fuzzy, "Fuzzy: " + "; ".join(fuzzy)


def test_every_translation_keeps_the_placeholders_and_tags_of_its_message():
    lost = []
    for entry in entries():
        wanted = placeholders(entry.msgid, entry)
        if entry.msgid_plural:
            # With one Chinese form, the plural form's placeholders are the ones that must survive.
            wanted = placeholders(entry.msgid_plural, entry)
        for text in translations(entry):
            if text and placeholders(text, entry) != wanted:
                lost.append(f"{label(entry)}: wants {wanted}, has {placeholders(text, entry)}")
    assert not lost, "\n".join(lost)


def test_every_translation_is_written_in_chinese():
    english = [
        label(entry)
        for entry in entries()
        if re.search("[A-Za-z]", entry.msgid) and any(text and not CHINESE.search(text) for text in translations(entry))
    ]
    assert not english, "Not in Chinese: " + "; ".join(english)


@pytest.mark.parametrize("language", ["zh-hans", "zh-Hans"])
def test_the_compiled_catalogue_gives_every_translation_of_the_source(language):
    """The .mo file the server loads says what the .po file says, so a translation is never left uncompiled."""
    stale = []
    with translation.override(language):
        for entry in entries():
            if entry.msgid_plural:
                got = (
                    translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
                    if entry.msgctxt
                    else (translation.ngettext(entry.msgid, entry.msgid_plural, 1))
                )
                want = entry.msgstr_plural[0]
            else:
                got = (
                    translation.pgettext(entry.msgctxt, entry.msgid)
                    if entry.msgctxt
                    else translation.gettext(entry.msgid)
                )
                want = entry.msgstr
            if got != want:
                stale.append(f"{label(entry)}: compiled {got!r}, source {want!r}")
    assert not stale, "Run compilemessages:\n" + "\n".join(stale)
