"""Figures written for people, in the page's language: "6,781, down 98.9% from 600,000"."""

from collections.abc import Callable

from django.utils.formats import get_format, number_format
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
    # The sentences are filled in with format_html, not with %: "% f" in them is no directive.
    if change >= 0:
        # xgettext:no-python-format
        text = _("{open}, down {percent}% from {baseline}")
    else:
        # xgettext:no-python-format
        text = _("{open}, up {percent}% from {baseline}")
    return format_html(text, open=current, percent=percent(abs(change)), baseline=count(baseline))


def counter() -> Callable[[int], str]:
    """A formatter of whole numbers for the active language that reads the locale's format once.

    Tables format hundreds of figures per page; Django's number_format looks the format up each time.
    """
    separator = get_format("THOUSAND_SEPARATOR")
    if not separator:
        return str
    if get_format("NUMBER_GROUPING") == 3:
        return lambda value: f"{value:,}".replace(",", separator) if separator != "," else f"{value:,}"
    return count


def percent_or_dash(value: float | None) -> str:
    return "–" if value is None else f"{percent(value)}%"
