import pytest

from bench.timing import measure, measure_interleaved, percentile


class FakeClock:
    """A clock that advances by a scripted step each time an action runs."""

    def __init__(self, steps):
        self.now = 0.0
        self.steps = list(steps)

    def __call__(self):
        return self.now

    def tick(self):
        self.now += self.steps.pop(0)


def test_warm_up_runs_are_run_but_not_timed():
    clock = FakeClock([100.0, 100.0, 1.0, 3.0, 2.0])
    timing = measure(clock.tick, repeat=3, warmup=2, clock=clock)
    assert timing.runs == (1.0, 3.0, 2.0)
    assert clock.steps == []


def test_figure_is_the_median_of_the_timed_runs():
    clock = FakeClock([5.0, 1.0, 9.0, 2.0, 3.0])
    timing = measure(clock.tick, repeat=5, warmup=0, clock=clock)
    assert timing.median == 3.0
    assert timing.median_ms == 3000.0


def test_median_of_an_even_number_of_runs_is_the_mean_of_the_middle_two():
    clock = FakeClock([1.0, 4.0, 2.0, 10.0])
    assert measure(clock.tick, repeat=4, warmup=0, clock=clock).median == 3.0


def test_preparation_before_each_run_is_outside_the_timed_span():
    clock = FakeClock([50.0, 1.0, 50.0, 1.0, 50.0, 1.0])
    calls = []

    def prepare():
        calls.append("prepare")
        clock.tick()

    timing = measure(clock.tick, repeat=2, warmup=1, clock=clock, before_each=prepare)
    assert timing.runs == (1.0, 1.0)
    assert calls == ["prepare"] * 3


def test_at_least_one_timed_run_is_required():
    with pytest.raises(ValueError):
        measure(lambda: None, repeat=0)


def test_interleaved_actions_take_turns_and_each_keeps_its_own_runs():
    clock = FakeClock([100.0, 100.0, 1.0, 10.0, 2.0, 20.0, 3.0, 30.0])
    order = []

    def action(name):
        def run():
            order.append(name)
            clock.tick()

        return run

    timings = measure_interleaved(
        {"page": action("page"), "baseline": action("baseline")}, repeat=3, warmup=1, clock=clock
    )
    assert order == ["page", "baseline"] * 4
    assert timings["page"].runs == (1.0, 2.0, 3.0)
    assert timings["baseline"].runs == (10.0, 20.0, 30.0)


def test_interleaved_timing_needs_at_least_one_turn():
    with pytest.raises(ValueError):
        measure_interleaved({"page": lambda: None}, repeat=0)


def test_percentile_uses_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)
