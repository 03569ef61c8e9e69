"""Drawing a round of spot checks: reproducible from its seed, weighted towards the fastest falls, only returned
children of the area and period, and only by ministry and province staff."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from students.choices import Reason, Status
from students.services import case_change_status, case_reopen_on_relapse
from tests.case_steps import days_ago, returned
from tests.factories import open_case
from verification.draw import sample_size, weighted_sample
from verification.services import spot_check_round_draw, spot_check_round_redraw

from .conftest import PER_COUNTY, PERIOD

pytestmark = pytest.mark.django_db


def draw(user, area, **options):
    start, end = PERIOD
    return spot_check_round_draw(area=area, returned_from=start, returned_until=end, user=user, **options)


def drawn(spot_round) -> list[int]:
    return sorted(spot_round.checks.values_list("case_id", flat=True))


def test_the_same_seed_draws_the_same_sample(ledger, users, area):
    first = draw(users["province"], area["prefecture"], size=10, seed=2019)
    again = draw(users["ministry"], area["prefecture"], size=10, seed=2019)
    assert len(drawn(first)) == 10
    assert drawn(first) == drawn(again) == spot_check_round_redraw(first, user=users["province"])
    other = draw(users["province"], area["prefecture"], size=10, seed=2020)
    assert drawn(other) != drawn(first)


def test_a_round_keeps_the_seed_and_the_parameters_that_reproduce_it(ledger, users, area):
    spot_round = draw(users["province"], area["prefecture"], share=25)
    spot_round.refresh_from_db()
    assert spot_round.seed is not None and spot_round.size is None and spot_round.share == 25
    assert spot_round.params["candidates"] == 2 * PER_COUNTY
    assert spot_round.params["drawn"] == 10 == spot_round.checks.count()
    assert drawn(spot_round) == spot_check_round_redraw(spot_round, user=users["ministry"])


def test_the_weights_come_from_the_fall_in_the_published_totals(ledger, users, area):
    spot_round = draw(users["province"], area["prefecture"], size=1, seed=1)
    weights = spot_round.params["counties"]
    home, neighbour = weights[str(area["county"].pk)], weights[str(area["neighbour"].pk)]
    assert (home["open_before"], home["open_after"], home["fall"]) == (100, 10, 0.9)
    assert (neighbour["open_before"], neighbour["open_after"], neighbour["fall"]) == (50, 50, 0.0)
    assert home["weight"] > neighbour["weight"] == 1.0


def test_the_draw_favours_the_county_whose_open_count_fell_fastest(ledger, users, area):
    home = {case.pk for case in ledger["county"]}
    picked = [pk for seed in range(30) for pk in drawn(draw(users["ministry"], area["prefecture"], size=10, seed=seed))]
    share = sum(pk in home for pk in picked) / len(picked)
    # Equal numbers of children in the two counties: an unweighted draw would take about half from each.
    assert share > 0.65


def test_only_children_of_the_area_returned_in_the_period_and_still_in_school_are_drawn(ledger, users, area):
    before = returned(open_case(area["school"], dropout_date=days_ago(200)), days_ago(100))
    far = returned(open_case(area["far_school"], dropout_date=days_ago(90)), days_ago(20))
    relapsed = ledger["county"][0]
    case_reopen_on_relapse(case=relapsed, dropout_date=days_ago(2), reason=Reason.WORK)
    still_open = open_case(area["school"], dropout_date=days_ago(40))
    case_change_status(case=still_open, to_status=Status.PERSUADING, effective_date=days_ago(30))
    everything = drawn(draw(users["ministry"], area["prefecture"], share=100))
    assert len(everything) == 2 * PER_COUNTY - 1
    assert not {before.pk, far.pk, relapsed.pk, still_open.pk} & set(everything)
    county_only = drawn(draw(users["ministry"], area["county"], share=100))
    assert set(county_only) == {case.pk for case in ledger["county"][1:]}


def test_a_share_is_rounded_up(ledger, users, area):
    assert len(drawn(draw(users["province"], area["prefecture"], share=12.5))) == 5


@pytest.mark.parametrize("role", ["prefecture", "county", "principal"])
def test_only_ministry_and_province_staff_draw(ledger, users, area, role):
    with pytest.raises(PermissionDenied):
        draw(users[role], area["county"], size=3)


def test_province_staff_draw_only_in_their_province(ledger, users, area):
    with pytest.raises(PermissionDenied):
        draw(users["province"], area["far"], size=3)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"size": 3, "share": 10}, "__all__"),
        ({}, "__all__"),
        ({"size": 0}, "size"),
        ({"share": 120}, "share"),
        ({"size": 3, "seed": -1}, "seed"),
    ],
)
def test_a_bad_draw_says_what_is_wrong(ledger, users, area, options, field):
    with pytest.raises(ValidationError) as error:
        draw(users["ministry"], area["prefecture"], **options)
    assert field in error.value.message_dict


def test_a_period_with_no_returned_child_draws_nothing(users, area):
    with pytest.raises(ValidationError, match="No child of this area returned"):
        draw(users["ministry"], area["prefecture"], size=3)


@pytest.mark.parametrize(
    ("candidates", "share", "expected"), [(30, "10", 3), (3000, "0.1", 3), (7, "50", 4), (5, "100", 5), (2, "1", 1)]
)
def test_a_share_is_counted_in_decimals(candidates, share, expected):
    assert sample_size(candidates, size=None, share=Decimal(share)) == expected


def test_the_sample_is_a_function_of_the_candidates_their_weights_and_the_seed():
    candidates = [(pk, 1.0 + (pk % 2) * 3) for pk in range(1, 101)]
    first = weighted_sample(candidates, 10, seed=5)
    assert first == weighted_sample(list(reversed(candidates)), 10, seed=5)  # the order given does not matter
    assert first != weighted_sample(candidates, 10, seed=6)
    assert len(set(first)) == 10 and set(first) <= {pk for pk, _weight in candidates}
