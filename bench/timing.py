"""Repeated measurement: warm-up runs are thrown away, the figure is the median of the rest."""

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """The seconds taken by each measured run (warm-up runs excluded)."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def median_ms(self) -> float:
        return self.median * 1000.0


def measure(
    action: Callable[[], object],
    *,
    repeat: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
    before_each: Callable[[], object] | None = None,
) -> Timing:
    """Run `action` `warmup` times untimed, then `repeat` times timed.

    `before_each` runs before every run, outside the timed span (e.g. to restore the data a run changes).
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    for _ in range(warmup):
        if before_each:
            before_each()
        action()
    runs = []
    for _ in range(repeat):
        if before_each:
            before_each()
        start = clock()
        action()
        runs.append(clock() - start)
    return Timing(tuple(runs))


def measure_interleaved(
    actions: dict[str, Callable[[], object]],
    *,
    repeat: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Timing]:
    """Time several actions in turns: each turn runs every action once, in order; `warmup` turns are untimed.

    Figures compared with each other are then taken over the same stretch of time, run for run.
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    for _ in range(warmup):
        for action in actions.values():
            action()
    runs: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            start = clock()
            action()
            runs[name].append(clock() - start)
    return {name: Timing(tuple(values)) for name, values in runs.items()}


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `fraction` of `values` at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]
