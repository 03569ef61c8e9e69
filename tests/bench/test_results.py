import json

import pytest

from bench.results import Result, Target, at_least, at_most, format_table, write_json

KEYS = {"metric", "value", "unit", "baseline", "baseline_value", "ratio", "target", "meets"}


def test_results_json_is_a_list_of_objects_with_the_agreed_keys(tmp_path):
    path = tmp_path / "results.json"
    write_json(
        [
            Result("national dashboard", 12.0, "ms", "same page at 6k", 10.0, at_most(1.3)),
            Result("import rows/s", 2000.0, "rows/s", "COPY", 10000.0, at_least(0.25), note="100,000 rows"),
        ],
        path,
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    assert len(data) == 2
    for row in data:
        assert set(row) >= KEYS
    assert data[0] == {
        "metric": "national dashboard",
        "value": 12.0,
        "unit": "ms",
        "baseline": "same page at 6k",
        "baseline_value": 10.0,
        "ratio": 1.2,
        "target": "at most 1.3",
        "meets": True,
    }
    assert data[1]["ratio"] == 0.2
    assert data[1]["meets"] is False
    assert data[1]["note"] == "100,000 rows"


def test_at_most_target_holds_up_to_and_including_its_bound():
    assert Result("t", 13.0, "ms", "b", 10.0, at_most(1.3)).meets is True
    assert Result("t", 13.1, "ms", "b", 10.0, at_most(1.3)).meets is False


def test_at_least_target_holds_from_its_bound_up():
    assert Result("r", 25.0, "rows/s", "b", 100.0, at_least(0.25)).meets is True
    assert Result("r", 24.0, "rows/s", "b", 100.0, at_least(0.25)).meets is False
    assert Result("r", 900.0, "rows/s", "b", 100.0, at_least(0.25)).meets is True


def test_a_faster_than_target_is_an_at_most_bound_on_the_time_ratio():
    three_times_faster = at_most(1 / 3)
    assert Result("list", 10.0, "ms", "admin", 30.0, three_times_faster).meets is True
    assert Result("list", 11.0, "ms", "admin", 30.0, three_times_faster).meets is False


def test_value_target_judges_the_value_not_the_ratio():
    no_errors = at_most(0, of="value")
    assert Result("errors", 0.0, "requests", "b", 0.0, no_errors).meets is True
    assert Result("errors", 3.0, "requests", "b", 100.0, no_errors).meets is False
    assert str(no_errors) == "value at most 0"


def test_ratio_and_meets_are_empty_without_a_baseline_value():
    result = Result("seed", 120.0, "s", "-", 0.0, at_most(2))
    assert result.ratio is None
    assert result.meets is None
    assert result.as_dict()["ratio"] is None


def test_meets_is_empty_when_no_target_is_set():
    assert Result("p99", 50.0, "ms", "b", 10.0).meets is None
    assert Result("p99", 50.0, "ms", "b", 10.0).as_dict()["target"] is None


def test_unknown_target_kind_is_refused():
    with pytest.raises(ValueError):
        Target("about", 1.0)
    with pytest.raises(ValueError):
        Target("at most", 1.0, of="median")


def test_table_shows_every_metric_with_its_verdict_and_notes():
    table = format_table(
        [
            Result("national dashboard", 12.0, "ms", "same page at 6k", 10.0, at_most(1.3)),
            Result("case list vs admin", 20.0, "ms", "admin changelist", 30.0, at_most(1 / 3), note="page 1"),
        ]
    )
    lines = table.splitlines()
    assert lines[0].split()[0] == "metric"
    assert "national dashboard" in lines[2] and lines[2].rstrip().endswith("yes")
    assert "case list vs admin" in lines[3] and lines[3].rstrip().endswith("NO")
    assert "  case list vs admin: page 1" in lines
