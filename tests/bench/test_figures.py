"""How each measurement's raw figures become results: which baseline, which target, which verdict."""

from bench import importing, pages, totals, visits
from bench.__main__ import seeding_results
from bench.databases import Ledger


def page_figures(**ms):
    names = ["minimal", "national", "province", "county", "open_list", "open_admin", "all_list", "all_admin"]
    names += [
        "all_list_deep",
        "all_admin_deep",
        "case_detail",
        *(name for name in ms if name.startswith(("busy_", "open_floor"))),
    ]
    return {
        "ms": {name: ms.get(name, 10.0) for name in names},
        "queries": dict.fromkeys(names, 5),
        "lists": {
            "open": {"county": "壤塘县", "reason": "poverty", "rows": 3},
            "all": {"county": "镇雄县", "reason": "learning", "rows": 1200, "deep_page": 24},
        },
        "county": "壤塘县",
        "province": "四川省",
    }


def by_metric_and_baseline(results):
    return {(r.metric, r.baseline): r for r in results}


def test_dashboards_are_judged_against_the_small_ledger_and_the_minimal_page():
    large = page_figures(national=12.0, province=14.0, county=30.0, minimal=2.0)
    small = page_figures(national=10.0, province=10.0, county=10.0)
    results = by_metric_and_baseline(pages.results(large, small, large_label="600k", small_label="6k"))
    national = results[("national dashboard (600k)", "same page at 6k")]
    assert (national.ratio, national.meets, str(national.target)) == (1.2, True, "at most 1.3")
    assert results[("province dashboard (600k)", "same page at 6k")].meets is False
    assert results[("county dashboard (600k)", "same page at 6k")].meets is False
    versus_minimal = results[("national dashboard (600k)", "minimal signed-in page")]
    assert (versus_minimal.ratio, versus_minimal.meets) == (6.0, False)


def test_case_list_must_take_at_most_half_the_admin_changelist_and_half_again_its_floor():
    large = page_figures(open_list=10.0, open_admin=30.0, all_list_deep=16.0, all_admin_deep=30.0, open_floor=8.0)
    results = by_metric_and_baseline(pages.results(large, page_figures(), large_label="600k", small_label="6k"))
    admin = "admin changelist, same filter"
    assert results[("case list, open by reason, page 1 (600k)", admin)].meets is True
    assert results[("case list, all by reason, deep page (600k)", admin)].meets is False
    floor = results[("case list, open by reason, page 1 (600k)", "the same list reduced to its reads")]
    assert (floor.ratio, floor.meets) == (1.25, True)
    at_small = results[("case list, all by reason, deep page (600k)", "same page at 6k")]
    assert at_small.target.bound == 1.5
    assert "page 24 at 600k" in at_small.note


def test_case_page_is_shown_at_both_sizes_without_a_target():
    results = by_metric_and_baseline(
        pages.results(page_figures(case_detail=20.0), page_figures(), large_label="600k", small_label="6k")
    )
    detail = results[("case page (600k)", "same page at 6k")]
    assert (detail.ratio, detail.meets) == (2.0, None)


def test_totals_may_take_at_most_half_again_the_hand_written_statement():
    figures = {
        "night": "2026-11-26",
        "baseline": "2019-05-31",
        "last": "2026-11-27",
        "night_seconds": 0.5,
        "night_sql_seconds": 0.2,
        "backfill_seconds": 10.0,
        "backfill_sql_seconds": 7.0,
        "night_disagreements": [],
        "backfill_disagreements": ["2019-06-01: stored 5, statement 4"],
    }
    rows = totals.results(figures, label="600k")
    night, backfill = rows[0], rows[-1]
    assert (night.value, night.baseline_value, night.meets) == (500.0, 200.0, False)
    assert backfill.meets is True
    assert "1 days disagree" in backfill.note


def test_a_backfill_stopped_at_the_time_limit_is_reported_as_a_missed_lower_bound():
    figures = {
        "night": "2026-11-26",
        "baseline": "2019-05-31",
        "last": "2026-11-27",
        "night_seconds": 0.5,
        "night_sql_seconds": 0.4,
        "backfill_sql_seconds": 6.0,
        "night_disagreements": [],
        "backfill_disagreements": [],
        "backfill_started_at": 1000.0,
        "stopped_at": 1600.0,
        "minutes": 15,
    }
    _, backfill = totals.results(figures, label="20k")
    assert (backfill.value, backfill.ratio, backfill.meets) == (600.0, 100.0, False)
    assert "lower bound" in backfill.note


def test_import_must_reach_two_fifths_of_copy_rows_per_second():
    figures = {"rows": 100_000, "county": "壤塘县", "import_seconds": 20.0, "copy_seconds": 4.0}
    (result,) = importing.results(figures)
    assert (result.value, result.baseline_value, result.ratio, result.meets) == (5000.0, 25000.0, 0.2, False)
    (result,) = importing.results({**figures, "import_seconds": 10.0})
    assert result.meets is True


def run(throughput, errors=0, p50=5.0, p99=50.0):
    return {
        "throughput": throughput,
        "p50_ms": p50,
        "p99_ms": p99,
        "requests": 1000,
        "errors": errors,
        "error_samples": ["HTTP 500"] * errors,
    }


def test_visit_recording_needs_three_fifths_of_the_minimal_throughput_twice_its_p99_at_most_and_no_errors():
    figures = {
        "clients": 32,
        "seconds": 20.0,
        "workers": 5,
        "record": [run(400.0, p99=90.0), run(560.0, p99=90.0), run(480.0, p99=90.0)],
        "minimal": [run(900.0), run(700.0), run(800.0)],
    }
    throughput, p50, p99, errors = visits.results(figures)
    assert (throughput.value, throughput.baseline_value, throughput.ratio, throughput.meets) == (
        480.0,
        800.0,
        0.6,
        True,
    )
    assert p50.meets is None and (p99.ratio, p99.meets) == (1.8, True)
    figures["record"] = [run(480.0, p99=120.0)] * 3
    assert visits.results(figures)[2].meets is False
    assert errors.meets is True
    figures["record"][0] = run(300.0, errors=2)
    assert visits.results(figures)[3].meets is False


def test_seeding_time_is_reported_without_a_target():
    ledger = Ledger("600k", 600_000, 2019, "postgres://x/db_bench_600k", seed_seconds=240.0, reused=True)
    (result,) = seeding_results([ledger, Ledger("6k", 6000, 2019, "postgres://x/db_bench_6k")])
    assert (result.value, result.unit, result.ratio, result.meets) == (240.0, "s", None, None)
    assert result.note == "reused from an earlier run"


def test_rounds_pool_every_timed_run_before_the_median_is_taken():
    first = {**page_figures(), "runs": {"national": [10.0, 11.0, 12.0]}}
    second = {**page_figures(), "runs": {"national": [30.0, 31.0, 32.0]}}
    merged = pages.merge([first, second])
    assert merged["runs"]["national"] == [10.0, 11.0, 12.0, 30.0, 31.0, 32.0]
    assert merged["ms"]["national"] == 21.0
