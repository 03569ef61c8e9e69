"""The published figures the demo ledger reproduces, scaled to its size, and the daily curves between them.

The ledger is split into four strata: the 52-county group or the rest of the country, crossed with
registered-poor students or the others. Each stratum gets an exact open count for every day from the
baseline to LEDGER_END; the four add up to the national curve, the two group strata to the group's and
the two poor strata to the registered-poor one, so every published figure holds by construction.
"""

import datetime
import math
from dataclasses import dataclass

from django.conf import settings

# The published figures are for the whole country: 600,000 open cases when the ledger was set up.
PUBLISHED_CASES = 600_000

JUNE_2020 = datetime.date(2020, 6, 14)
SEPTEMBER_2020 = datetime.date(2020, 9, 15)
NOVEMBER_2020 = datetime.date(2020, 11, 30)
END_OF_2020 = datetime.date(2020, 12, 31)

# The earliest dropout date of a case open at the baseline: the start of the 2018/19 school year.
FIRST_DROPOUT = datetime.date(2018, 9, 1)
# The demo history stops here: a fixed day in the past, so that the data never depends on today.
LEDGER_END = datetime.date(2021, 12, 31)
# After the last published figure the open count keeps falling, more slowly, to this share by LEDGER_END.
TAIL_SHARE = 0.55

# How the published totals split into the strata (not published; plausible shares).
GROUP_POOR_SHARE_AT_BASELINE = 0.45  # the 52 counties were the poorest: most of their dropouts are registered-poor
GROUP_SHARE_OF_POOR_IN_JUNE = 0.3

GROUP_SLUG = "poverty-52"

STRATA = ("group_poor", "group_other", "rest_poor", "rest_other")


def baseline_date() -> datetime.date:
    value = settings.LEDGER_BASELINE_DATE
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def scaled(figure: int, cases: int) -> int:
    """round(figure × cases / 600,000), halves rounded up, in exact integer arithmetic."""
    return (2 * figure * cases + PUBLISHED_CASES) // (2 * PUBLISHED_CASES)


def published_figures(baseline: datetime.date | None = None) -> dict[str, dict[datetime.date, int]]:
    """The published open counts by date: national, the 52-county group, registered-poor students."""
    baseline = baseline or baseline_date()
    return {
        "national": {baseline: 600_000, JUNE_2020: 6_781, SEPTEMBER_2020: 2_419, NOVEMBER_2020: 831, END_OF_2020: 682},
        "group": {baseline: 82_000, JUNE_2020: 433},
        # "0 by 2020-09-15": none after that either.
        "poor": {baseline: 200_000, JUNE_2020: 97, SEPTEMBER_2020: 0, NOVEMBER_2020: 0, END_OF_2020: 0},
    }


def expected_open_counts(cases: int, baseline: datetime.date | None = None) -> dict[str, dict[datetime.date, int]]:
    """The published figures scaled to a ledger of `cases` open cases at the baseline."""
    return {
        series: {day: scaled(figure, cases) for day, figure in figures.items()}
        for series, figures in published_figures(baseline).items()
    }


def stratum_anchors(cases: int, baseline: datetime.date | None = None) -> dict[str, dict[datetime.date, int]]:
    """Each stratum's open count at the published dates and at LEDGER_END."""
    baseline = baseline or baseline_date()
    expected = expected_open_counts(cases, baseline)
    national, group, poor = expected["national"], expected["group"], expected["poor"]
    published = published_figures(baseline)
    late_group_share = published["group"][JUNE_2020] / published["national"][JUNE_2020]

    anchors: dict[str, dict[datetime.date, int]] = {name: {} for name in STRATA}

    def put(day, group_poor, group_other, rest_poor, rest_other):
        values = (group_poor, group_other, rest_poor, rest_other)
        if min(values) < 0:
            raise ValueError(f"The figures cannot be split at {day} for {cases} cases: {values}")
        for name, value in zip(STRATA, values, strict=True):
            anchors[name][day] = value

    for day, share in ((baseline, GROUP_POOR_SHARE_AT_BASELINE), (JUNE_2020, None)):
        if share is not None:
            group_poor = min(poor[day], round(group[day] * share))
        else:
            group_poor = min(group[day], round(poor[day] * GROUP_SHARE_OF_POOR_IN_JUNE))
        rest_poor = poor[day] - group_poor
        put(day, group_poor, group[day] - group_poor, rest_poor, national[day] - group[day] - rest_poor)
    for day in (SEPTEMBER_2020, NOVEMBER_2020, END_OF_2020):
        group_other = round(national[day] * late_group_share)
        put(day, 0, group_other, 0, national[day] - group_other)
    put(
        LEDGER_END,
        0,
        round(anchors["group_other"][END_OF_2020] * TAIL_SHARE),
        0,
        round(anchors["rest_other"][END_OF_2020] * TAIL_SHARE),
    )
    return anchors


@dataclass(frozen=True)
class Curve:
    """A stratum's open count at the end of every day from `start` (the baseline) to LEDGER_END."""

    start: datetime.date
    values: list[int]

    def on(self, day: datetime.date) -> int:
        return self.values[(day - self.start).days]

    @property
    def end(self) -> datetime.date:
        return self.start + datetime.timedelta(days=len(self.values) - 1)


def curve_between(anchors: dict[datetime.date, int]) -> Curve:
    """A smooth daily curve through the anchors: exponential between them (linear in log(1 + count)).

    Exact at every anchor; falling where the anchors fall, with no step anywhere else.
    """
    days = sorted(anchors)
    values = [anchors[days[0]]]
    for left, right in zip(days, days[1:], strict=False):
        span = (right - left).days
        low, high = math.log1p(anchors[left]), math.log1p(anchors[right])
        for step in range(1, span + 1):
            fraction = step / span
            values.append(math.floor(math.expm1(low + (high - low) * fraction) + 0.5))
        values[-1] = anchors[right]
    return Curve(start=days[0], values=values)


def stratum_curves(cases: int, baseline: datetime.date | None = None) -> dict[str, Curve]:
    return {name: curve_between(points) for name, points in stratum_anchors(cases, baseline).items()}
