"""Stored totals for the dashboard tests: rows written straight into DailyTotal, as the nightly run would."""

import datetime

from tests.factories import daily_total

BASELINE = datetime.date(2019, 5, 31)
DAY = datetime.date(2020, 6, 14)


def make_totals(area, days=(BASELINE, DAY)):
    """The nation, both provinces, both prefectures and the three counties of the `area` fixture.

    On the last day the nation has 6,781 open cases, down from 600,000 on the baseline day.
    """
    first, last = days[0], days[-1]
    far = area["far"]
    rows = {}
    plan = {
        None: (600_000, 6_781, 200_000, 97),
        area["province"]: (50_000, 700, 9_000, 20),
        far.province: (550_000, 6_081, 191_000, 77),
        area["prefecture"]: (30_000, 500, 6_000, 12),
        far.prefecture: (550_000, 6_081, 191_000, 77),
        area["county"]: (20_000, 300, 4_000, 8),
        area["neighbour"]: (10_000, 200, 2_000, 4),
        far: (550_000, 6_081, 191_000, 77),
    }
    for place, (baseline, now, poor_baseline, poor_now) in plan.items():
        key = "nation" if place is None else place.code
        for day in days:
            is_first = day == first
            rows[key, day] = daily_total(
                place,
                day=day,
                open_count=baseline if is_first else (now if day == last else (baseline + now) // 2),
                baseline_open=baseline,
                open_poor=poor_baseline if is_first else poor_now,
                new_count=0 if is_first else 3,
                returned_count=0 if is_first else 40,
                open_reason_poverty=0 if is_first else now // 2,
                open_reason_learning=0 if is_first else now - now // 2,
            )
    return rows
