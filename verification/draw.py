"""How a spot-check round is drawn: a weighted random sample of returned cases, reproducible from its seed.

1. The weights. Each county's open count is read from the published daily totals (reports.models.DailyTotal) on
   the day before the period and on its last day. Its fall is the share of the first that is gone by the second
   (0 when it did not fall), and its weight is 1 + EMPHASIS × fall: a county whose open count fell to nothing
   weighs 1 + EMPHASIS times one whose count held, so the fastest falls are checked most.
2. The sample. The candidates are taken in the order of their case ids; a generator seeded with the round's
   seed gives each a key u^(1/w) (u uniform in [0, 1), w its county's weight: Efraimidis and Spirakis' weighted
   sampling without replacement), and the largest keys are drawn. The same candidates, weights and seed give the
   same sample, on any machine and in any year.
"""

import datetime
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from reports.models import AreaLevel, DailyTotal

# How much more a county whose open count fell to nothing weighs than one whose count held (see above).
EMPHASIS = 3.0


@dataclass(frozen=True)
class CountyWeight:
    county_id: int
    open_before: int
    open_after: int
    fall: float
    weight: float

    def as_params(self) -> dict:
        return {
            "open_before": self.open_before,
            "open_after": self.open_after,
            "fall": round(self.fall, 6),
            "weight": round(self.weight, 6),
        }


def _open_counts(county_ids: Iterable[int], day: datetime.date) -> dict[int, int]:
    # A county with no row on a day had no open case that day (reports.models.DailyTotal).
    rows = DailyTotal.objects.filter(level=AreaLevel.COUNTY, division_id__in=list(county_ids), day=day)
    return dict(rows.values_list("division_id", "open_count"))


def county_weights(
    county_ids: Iterable[int], start: datetime.date, end: datetime.date, *, emphasis: float = EMPHASIS
) -> dict[int, CountyWeight]:
    """Each county's weight for a period from `start` to `end`, from the published daily totals."""
    ids = sorted(set(county_ids))
    before = _open_counts(ids, start - datetime.timedelta(days=1))
    after = _open_counts(ids, end)
    weights = {}
    for county_id in ids:
        first, last = before.get(county_id, 0), after.get(county_id, 0)
        fall = max(first - last, 0) / first if first else 0.0
        weights[county_id] = CountyWeight(county_id, first, last, fall, 1.0 + emphasis * fall)
    return weights


def sample_size(candidates: int, *, size: int | None, share: Decimal | float | None) -> int:
    """How many to draw: a size (at most every candidate), or a share in percent, rounded up (in decimal, so
    that 10% of 30 is 3, not 4)."""
    if size is not None:
        return min(size, candidates)
    return min(math.ceil(candidates * Decimal(str(share)) / 100), candidates)


def weighted_sample(candidates: Sequence[tuple[int, float]], k: int, seed: int) -> list[int]:
    """`k` of the candidates ((case id, weight), any order), drawn without replacement; their ids, in id order."""
    rng = random.Random(seed)
    keyed = []
    for case_id, weight in sorted(candidates):
        keyed.append((rng.random() ** (1.0 / weight), case_id))
    drawn = sorted(keyed, key=lambda pair: (-pair[0], pair[1]))[:k]
    return sorted(case_id for _key, case_id in drawn)
