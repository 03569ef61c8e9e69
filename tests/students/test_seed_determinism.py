"""The demo ledger is the same for the same size and seed, and different for another seed."""

import pytest

from students.demo.calibration import expected_open_counts
from students.demo.seed import open_counts

from .seed_helpers import build, fingerprint, wipe

CASES = 600


@pytest.fixture(scope="module")
def fingerprints(django_db_setup, django_db_blocker):
    """Three builds: seed 3, seed 3 again from scratch, seed 4; each one's fingerprint and open counts."""
    found = {}
    with django_db_blocker.unblock():
        try:
            for label, seed in (("first", 3), ("again", 3), ("other", 4)):
                build(CASES, seed)
                expected = expected_open_counts(CASES)
                found[label] = (
                    fingerprint(),
                    {day: open_counts(day)["national"] for day in expected["national"]},
                )
        finally:
            wipe()
    return found


def test_same_size_and_seed_give_the_same_ledger(fingerprints):
    assert fingerprints["first"][0] == fingerprints["again"][0]


def test_another_seed_gives_another_ledger_with_the_same_published_figures(fingerprints):
    assert fingerprints["first"][0] != fingerprints["other"][0]
    assert fingerprints["first"][1] == fingerprints["other"][1] == expected_open_counts(CASES)["national"]
