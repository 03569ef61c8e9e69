import json

from bench import progress


def test_checkpoint_saves_the_figures_taken_so_far_to_the_workers_output(tmp_path):
    out = tmp_path / "figures.json"
    progress.save_to(str(out))
    try:
        progress.checkpoint({"night_sql_seconds": 0.2})
        assert json.loads(out.read_text(encoding="utf-8")) == {"night_sql_seconds": 0.2}
        progress.checkpoint({"night_sql_seconds": 0.2, "night_seconds": 0.3})
        assert json.loads(out.read_text(encoding="utf-8"))["night_seconds"] == 0.3
    finally:
        progress.save_to(None)


def test_checkpoint_does_nothing_outside_a_worker(tmp_path):
    progress.save_to(None)
    progress.checkpoint({"ignored": True})
    assert list(tmp_path.iterdir()) == []
