"""The skeleton of the demo ledger: every episode's dates, outcome and relapse link, calibrated day by day.

For each stratum (calibration.STRATA) the simulation starts with the cases open at the baseline and walks
forward one day at a time. On each day it opens the relapses and new dropouts due that day, then strikes
off exactly as many open cases as it takes for the stratum's open count to equal its curve at the end of
the day. Harder reasons (work, marriage) are struck off more slowly, so the cases left in 2020 are the
hard ones, as they were.
"""

import bisect
import datetime
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from students.choices import Reason

from .calibration import FIRST_DROPOUT, LEDGER_END, Curve

OPEN, RETURNED, CLOSED = 0, 1, 2

# A case stays open at least this long before it can be struck off, except when the curve leaves no choice.
MIN_OPEN_DAYS = 7
# New dropouts after the baseline, as a share of the stratum's baseline count over the whole history.
FRESH_SHARE = 0.035
# Relapses: the chance that a returned child drops out again, by difficulty, and how long after.
RELAPSE_CHANCE = (0.025, 0.035, 0.07)
RELAPSE_AFTER_DAYS = (25, 300)

EASY, MEDIUM, HARD = 0, 1, 2
DIFFICULTY = {
    Reason.LEARNING: EASY,
    Reason.POVERTY: EASY,
    Reason.DISTANCE: EASY,
    Reason.ILLNESS: MEDIUM,
    Reason.OTHER: MEDIUM,
    Reason.WORK: HARD,
    Reason.MARRIAGE: HARD,
    Reason.RELIGION: HARD,
}
# Relative daily chance of being struck off, by difficulty.
HAZARD = (1.4, 1.0, 0.45)

REASON_WEIGHTS = {
    False: {
        Reason.LEARNING: 44,
        Reason.POVERTY: 7,
        Reason.DISTANCE: 8,
        Reason.WORK: 17,
        Reason.MARRIAGE: 5,
        Reason.RELIGION: 1,
        Reason.ILLNESS: 10,
        Reason.OTHER: 8,
    },
    True: {
        Reason.LEARNING: 36,
        Reason.POVERTY: 24,
        Reason.DISTANCE: 9,
        Reason.WORK: 13,
        Reason.MARRIAGE: 5,
        Reason.RELIGION: 1,
        Reason.ILLNESS: 8,
        Reason.OTHER: 4,
    },
}

# Dropouts are noticed when a term starts: September and March, and after the 2020 reopening in May.
MONTH_WEIGHT = {1: 0.5, 2: 0.35, 3: 1.5, 4: 1.0, 5: 1.0, 6: 0.6, 7: 0.2, 8: 0.25, 9: 1.9, 10: 1.3, 11: 1.0, 12: 0.8}


@dataclass(frozen=True)
class FixedCase:
    """A case whose story is known (the real case): open at the baseline, struck off on a given day."""

    stratum: int
    county: int
    reason: str
    dropout: datetime.date
    returned_on: datetime.date


@dataclass
class Episodes:
    """Parallel lists, one entry per case, in the order the cases are created (their primary keys)."""

    stratum: list[int] = field(default_factory=list)
    county: list[int] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    dropout: list[int] = field(default_factory=list)  # date ordinal
    struck: list[int] = field(default_factory=list)  # date ordinal, 0 while open
    outcome: list[int] = field(default_factory=list)
    previous: list[int] = field(default_factory=list)  # case index, -1 for a first episode
    relapsed_on: list[int] = field(default_factory=list)  # date ordinal of the next episode, 0 if none
    student: list[int] = field(default_factory=list)
    fixed: dict[int, FixedCase] = field(default_factory=dict)
    students: int = 0

    def __len__(self) -> int:
        return len(self.dropout)

    def add(self, *, stratum: int, county: int, reason: str, dropout: int, previous: int = -1) -> int:
        index = len(self.dropout)
        self.stratum.append(stratum)
        self.county.append(county)
        self.reason.append(reason)
        self.dropout.append(dropout)
        self.struck.append(0)
        self.outcome.append(OPEN)
        self.previous.append(previous)
        self.relapsed_on.append(0)
        if previous >= 0:
            self.student.append(self.student[previous])
        else:
            self.student.append(self.students)
            self.students += 1
        return index


class _Weighted:
    """Draws from a fixed weighted list in O(log n)."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def _days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


class _Pools:
    """The open cases that may be struck off, by difficulty; removal of a random member is O(1)."""

    def __init__(self):
        self.members: tuple[list[int], list[int], list[int]] = ([], [], [])

    def add(self, index: int, difficulty: int) -> None:
        self.members[difficulty].append(index)

    def __len__(self) -> int:
        return sum(len(m) for m in self.members)

    def take(self, rng: random.Random) -> int:
        weights = [len(m) * h for m, h in zip(self.members, HAZARD, strict=True)]
        pick = rng.random() * sum(weights)
        chosen = next(m for m in reversed(self.members) if m)  # rounding can overshoot: the last non-empty pool
        for candidates, weight in zip(self.members, weights, strict=True):
            if weight and pick < weight:
                chosen = candidates
                break
            pick -= weight
        members = chosen
        position = int(rng.random() * len(members))
        members[position], members[-1] = members[-1], members[position]
        return members.pop()


def _fresh_counts(curve: Curve, share: float, rng: random.Random) -> dict[int, int]:
    """New dropouts per day after the baseline: seasonal, fewer as the ledger empties; integers that add up."""
    base = curve.values[0]
    if base == 0:
        return {}
    days = _days(curve.start + datetime.timedelta(days=1), curve.end)
    density = [MONTH_WEIGHT[day.month] * math.sqrt(curve.on(day) / base) for day in days]
    scale = share * base / sum(density)
    counts, running, phase = {}, 0.0, rng.random()
    for day, weight in zip(days, density, strict=True):
        before = math.floor(running + phase)
        running += weight * scale
        counts[day.toordinal()] = math.floor(running + phase) - before
    return counts


def simulate(
    *,
    curves: dict[int, Curve],
    counties: dict[int, _Weighted],
    poor_strata: frozenset[int],
    rng: random.Random,
    fixed: list[FixedCase] = (),
) -> Episodes:
    """Every episode of the demo ledger, with each stratum's open count equal to its curve on every day."""
    episodes = Episodes()
    reason_draw = {poor: _Weighted(list(weights), list(weights.values())) for poor, weights in REASON_WEIGHTS.items()}
    baseline = next(iter(curves.values())).start
    baseline_days = _days(FIRST_DROPOUT, baseline)
    dropout_draw = _Weighted(
        [day.toordinal() for day in baseline_days], [MONTH_WEIGHT[day.month] for day in baseline_days]
    )
    for stratum in sorted(curves):
        curve = curves[stratum]
        reasons = reason_draw[stratum in poor_strata]
        pools = _Pools()
        pending: dict[int, list[int]] = defaultdict(list)
        forced: list[tuple[int, int]] = []

        def admit(index: int, pools=pools, pending=pending) -> None:
            """Make a new case strikable once it has been open MIN_OPEN_DAYS."""
            release = episodes.dropout[index] + MIN_OPEN_DAYS
            if release <= baseline.toordinal() + 1:
                pools.add(index, DIFFICULTY[episodes.reason[index]])
            else:
                pending[release].append(index)

        mine = [case for case in fixed if case.stratum == stratum]
        for case in mine:
            index = episodes.add(
                stratum=stratum, county=case.county, reason=case.reason, dropout=case.dropout.toordinal()
            )
            episodes.fixed[index] = case
            forced.append((case.returned_on.toordinal(), index))
        for _ in range(curve.values[0] - len(mine)):
            index = episodes.add(
                stratum=stratum,
                county=counties[stratum].draw(rng),
                reason=reasons.draw(rng),
                dropout=dropout_draw.draw(rng),
            )
            admit(index)
        forced.sort()

        fresh = _fresh_counts(curve, FRESH_SHARE, rng)
        relapses: dict[int, list[int]] = defaultdict(list)
        for offset in range(1, len(curve.values)):
            day = baseline.toordinal() + offset
            target, before = curve.values[offset], curve.values[offset - 1]
            # Nobody can be struck off the day they drop out, so today's newcomers must fit in today's count.
            room = target // 2
            opened = 0
            for previous in relapses.pop(day, ()):
                if opened >= room:
                    break
                reason = episodes.reason[previous] if rng.random() < 0.7 else reasons.draw(rng)
                index = episodes.add(
                    stratum=stratum,
                    county=episodes.county[previous],
                    reason=reason,
                    dropout=day,
                    previous=previous,
                )
                episodes.relapsed_on[previous] = day
                admit(index)
                opened += 1
            for _ in range(min(fresh.get(day, 0), room - opened)):
                index = episodes.add(
                    stratum=stratum, county=counties[stratum].draw(rng), reason=reasons.draw(rng), dropout=day
                )
                admit(index)
                opened += 1
            for index in pending.pop(day, ()):
                pools.add(index, DIFFICULTY[episodes.reason[index]])

            leaving = before - target + opened
            while leaving and forced and forced[0][0] <= day:
                _strike(episodes, forced.pop(0)[1], day, RETURNED)
                leaving -= 1
            for _ in range(leaving):
                if pools:
                    index = pools.take(rng)
                else:
                    index = _take_pending(pending, episodes, day)
                outcome = CLOSED if rng.random() < _closure_chance(episodes.reason[index], day) else RETURNED
                _strike(episodes, index, day, outcome)
                if outcome == RETURNED:
                    difficulty = DIFFICULTY[episodes.reason[index]]
                    if rng.random() < RELAPSE_CHANCE[difficulty]:
                        relapse = day + rng.randint(*RELAPSE_AFTER_DAYS)
                        if relapse <= LEDGER_END.toordinal():
                            relapses[relapse].append(index)
        if forced:
            raise ValueError("A known case could not be struck off on its day: the ledger is too small.")
    return episodes


_JUNE_2020 = datetime.date(2020, 6, 14).toordinal()


def _closure_chance(reason: str, day: int) -> float:
    """Most cases end in a return; illness ends more often in an exemption, late cases in other ends."""
    chance = 0.18 if reason == Reason.ILLNESS else 0.025
    if day > _JUNE_2020:
        chance += 0.08
    return chance


def _strike(episodes: Episodes, index: int, day: int, outcome: int) -> None:
    episodes.struck[index] = day
    episodes.outcome[index] = outcome


def _take_pending(pending: dict[int, list[int]], episodes: Episodes, day: int) -> int:
    """The longest-open case not yet eligible: used only when the curve falls faster than cases age."""
    for release in sorted(pending):
        members = pending[release]
        for position, index in enumerate(members):
            if episodes.dropout[index] < day:
                members.pop(position)
                if not members:
                    del pending[release]
                return index
    raise ValueError(f"No open case left to strike off on {datetime.date.fromordinal(day)}.")
