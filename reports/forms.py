"""What a dashboard's trend shows: a range of days, the areas drawn beside this one, counts or shares.

Read from the page's query string. A range the totals do not cover, or one that ends before it starts, is
shown with a message that says so, and the page falls back to the days it can show; what the user typed
stays in the form, so nothing is lost.
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.db import models
from django.utils import formats
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .selectors import TotalsSpan

# More lines than this on one chart cannot be told apart.
MAX_OVERLAYS = 8


class Measure(models.TextChoices):
    COUNT = "count", _("Open dropouts")
    SHARE = "share", _("Percent of the baseline still open")


class Preset(models.TextChoices):
    BASELINE = "baseline", _("Since the baseline")
    YEAR = "12m", _("Last 12 months")
    QUARTER = "3m", _("Last 3 months")


@dataclass(frozen=True)
class TrendView:
    """The range and the lines a dashboard draws, resolved against the days that have totals."""

    since: datetime.date
    day: datetime.date
    as_of: datetime.date | None
    overlays: tuple[str, ...]
    measure: str

    @property
    def share(self) -> bool:
        return self.measure == Measure.SHARE


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The day after the same day `months` months earlier (the last day of a shorter month when it has none)."""
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last)) + datetime.timedelta(days=1)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def preset_start(preset: str, day: datetime.date, first: datetime.date) -> datetime.date:
    if preset == Preset.YEAR:
        return max(first, months_before(day, 12))
    if preset == Preset.QUARTER:
        return max(first, months_before(day, 3))
    return first


def _date(day: datetime.date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


class TrendForm(forms.Form):
    day = forms.DateField(label=pgettext_lazy("date range", "To"), required=False)
    as_of = forms.DateField(label=_("Group members as of"), required=False)
    overlay = forms.MultipleChoiceField(label=_("Draw beside it"), required=False)
    measure = forms.ChoiceField(label=_("Show"), choices=Measure.choices, required=False)

    def __init__(self, data, *, span: TotalsSpan, first: datetime.date, overlay_choices: list[tuple[str, str]]):
        super().__init__(data)
        # "from" is a Python keyword: the field is added by name.
        self.fields["from"] = forms.DateField(label=pgettext_lazy("date range", "From"), required=False)
        self.order_fields(["from", "day", "as_of", "overlay", "measure"])
        self.fields["overlay"].choices = overlay_choices
        self.span = span
        self.first = first

    def clean_overlay(self) -> list[str]:
        overlays = self.cleaned_data["overlay"]
        if len(overlays) > MAX_OVERLAYS:
            raise forms.ValidationError(
                gettext("Choose at most %(count)d areas to draw beside this one.") % {"count": MAX_OVERLAYS}
            )
        return overlays

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("day")
        if start and end and start > end:
            self.add_error(
                "from",
                gettext(
                    "The range starts on %(start)s, after its end on %(end)s: choose a first day on or before the last."
                )
                % {"start": _date(start), "end": _date(end)},
            )
        elif self.span.exists:
            outside = [day for day in (start, end) if day and not self.first <= day <= self.span.last]
            if outside:
                self.add_error(
                    None,
                    gettext("Totals exist from %(first)s to %(last)s: the range shown is kept within those days.")
                    % {"first": _date(self.first), "last": _date(self.span.last)},
                )
        return data

    def view(self) -> TrendView | None:
        """The range and lines to draw: what was asked, within the days that have totals (None: no totals)."""
        if not self.span.exists:
            return None
        self.is_valid()
        data = self.cleaned_data
        day = self.span.resolve(data.get("day"))
        start = data.get("from") if "from" not in self.errors else None
        since = self.first if start is None else min(max(start, self.first), day)
        overlays = data.get("overlay") if "overlay" in data else self._valid_overlays()
        measure = data.get("measure") or Measure.COUNT
        return TrendView(since=since, day=day, as_of=data.get("as_of"), overlays=tuple(overlays), measure=measure)

    def _valid_overlays(self) -> list[str]:
        offered = {value for value, _label in self.fields["overlay"].choices}
        return [value for value in self.data.getlist("overlay") if value in offered][:MAX_OVERLAYS]
