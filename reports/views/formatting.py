"""Figures written for people, in the page's language: "6,781, down 98.9% from 600,000"."""

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _


def count(value: int) -> str:
    return number_format(value, use_l10n=True, force_grouping=True)


def percent(value: float) -> str:
    """One decimal, or as many more as it takes not to round a decrease that left cases open up to 100%."""
    places = 1
    while places < 4 and 0 < value < 100 and round(value, places) in (0, 100):
        places += 1
    return number_format(round(value, places), decimal_pos=places, use_l10n=True, force_grouping=True)


def change_sentence(open_count: int, baseline: int | None) -> SafeString:
    """The open count and how it moved since the baseline, with the open count marked up for emphasis."""
    current = format_html('<strong class="figure">{}</strong>', count(open_count))
    if not baseline:
        return current
    change = 100.0 * (baseline - open_count) / baseline
    if change >= 0:
        text = _("{open}, down {percent}% from {baseline}")
    else:
        text = _("{open}, up {percent}% from {baseline}")
    return format_html(text, open=current, percent=percent(abs(change)), baseline=count(baseline))
