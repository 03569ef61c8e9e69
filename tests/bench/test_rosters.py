"""The roster comparison's figures: the whole run against a minute, its joins against a hand-written SQL join."""

import pytest
from django.db import connection

from bench import rosters
from bench.__main__ import GROUP_ORDER, SCALES
from bench.worker import GROUPS
from rosters import comparing
from rosters.models import CandidateGroup, RosterComparison, RosterKind
from rosters.reading import read_roster
from tests.rosters.helpers import AS_OF, county, open_cases_in

FIGURES = {
    "children": 100_000,
    "county": "壤塘县",
    "rows": {"household": 100_011, "registry": 100_005, "attendance": 100_000, "poor": 14_291, "ledger": 8},
    "candidates": {"never_enrolled": 1, "dropped_out": 1, "poor_not_flagged": 1, "flagged_not_poor": 0},
    "whole_seconds": 42.0,
    "joins_seconds": 3.0,
    "hand_seconds": 2.0,
}


def test_the_whole_comparison_must_take_under_a_minute():
    whole, _joins = rosters.results(FIGURES)
    assert (whole.value, str(whole.target), whole.meets) == (42.0, "value at most 60", True)
    assert "314,307 roster rows" in whole.note
    assert rosters.results({**FIGURES, "whole_seconds": 61.0})[0].meets is False


def test_the_joins_may_take_at_most_twice_the_hand_written_join():
    _whole, joins = rosters.results(FIGURES)
    assert joins.baseline == "a hand-written SQL join of the same staged rosters"
    assert (joins.ratio, str(joins.target), joins.meets) == (1.5, "at most 2", True)
    assert rosters.results({**FIGURES, "joins_seconds": 4.5})[1].meets is False


def test_the_figures_are_a_measurement_group_of_their_own_at_both_scales():
    assert "rosters" in GROUP_ORDER and GROUPS["rosters"] == "bench.rosters"
    assert (SCALES["full"].roster_children, SCALES["small"].roster_children) == (100_000, 10_000)


@pytest.mark.django_db
def test_the_hand_written_join_counts_what_the_comparison_finds(area, users, tmp_path):
    cases = open_cases_in(area["school"], flagged=3, unflagged=2)
    generated = county(area, children=200, open_cases=cases)
    generated.rosters[RosterKind.POOR] = [
        r for r in generated.rosters[RosterKind.POOR] if r[0] != cases[0].student.id_number
    ]
    comparison = RosterComparison.objects.create(county=area["county"], as_of=AS_OF)
    for kind in generated.rosters:
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(generated.csv_bytes(kind))
        comparing.stage_roster(comparison.pk, kind, read_roster(path, kind=kind).entries)
    comparing.stage_ledger(comparison.pk, area["county"].pk)
    comparing.name_keys_fill(comparison.pk, comparing.name_key_pairs(set(RosterKind.values)))
    with connection.cursor() as cursor:
        cursor.execute(rosters.HAND_WRITTEN, {"c": comparison.pk, "as_of": AS_OF})
        hand = cursor.fetchone()
    found = comparing.candidates_find(comparison.pk, set(RosterKind.values), AS_OF)
    assert tuple(found[group] for group in CandidateGroup.values) == tuple(hand) == (1, 1, 1, 1)
