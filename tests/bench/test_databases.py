from bench.databases import (
    MARKER_VERSION,
    bench_url,
    database_name,
    marker_matches,
    seeded_only,
    size_label,
    with_database,
)


def test_benchmark_database_is_named_after_the_project_database_and_its_size():
    url = "postgres://postgres:secret@127.0.0.1:5432/ledger?sslmode=disable"
    assert bench_url(url, 600_000) == "postgres://postgres:secret@127.0.0.1:5432/ledger_bench_600k?sslmode=disable"
    assert database_name(bench_url(url, 6_000)) == "ledger_bench_6k"
    assert database_name(bench_url("postgres://127.0.0.1/dropout_ledger_bench", 6_000)) == "dropout_ledger_bench_6k"
    assert with_database(url, "postgres") == "postgres://postgres:secret@127.0.0.1:5432/postgres?sslmode=disable"


def test_size_labels_are_short_for_round_thousands():
    assert size_label(600_000) == "600k"
    assert size_label(20_000) == "20k"
    assert size_label(1_500) == "1500"


def test_a_ledger_is_reused_only_when_fully_seeded_at_the_same_size_and_seed():
    marker = {"version": MARKER_VERSION, "cases": 6000, "seed": 2019, "complete": True}
    assert marker_matches(marker, cases=6000, seed=2019)
    assert not marker_matches(marker, cases=600_000, seed=2019)
    assert not marker_matches(marker, cases=6000, seed=1)
    assert not marker_matches({**marker, "complete": False}, cases=6000, seed=2019)
    assert not marker_matches({**marker, "version": MARKER_VERSION + 1}, cases=6000, seed=2019)
    assert not marker_matches(None, cases=6000, seed=2019)


def test_a_ledger_seeded_without_its_totals_is_not_seeded_again_but_not_reused_as_it_is():
    marker = {"version": MARKER_VERSION, "cases": 600_000, "seed": 2019, "seeded": True, "complete": False}
    assert seeded_only(marker, cases=600_000, seed=2019)
    assert not marker_matches(marker, cases=600_000, seed=2019)
    assert not seeded_only({**marker, "complete": True}, cases=600_000, seed=2019)
    assert not seeded_only(marker, cases=6000, seed=2019)
    assert not seeded_only({**marker, "seeded": False}, cases=600_000, seed=2019)
