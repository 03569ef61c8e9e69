"""The demo ledger is chained like any other: its loader sends each chain's entries in one COPY with their own ids,
and its working set goes through the services. One small ledger is built for the module, then wiped."""

import datetime

import pytest
from django.db import connection

from students.demo.seed import seed_demo
from students.ledger_chain import CHAINS, chains_walk
from tests.database import as_owner

from .seed_helpers import wipe

CASES = 300
SEED = 5
ANCHOR = datetime.date(2024, 3, 5)


@pytest.fixture(scope="module")
def ledger(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), as_owner():
        result = seed_demo(cases=CASES, seed=SEED, reset=True, today=ANCHOR)
    yield result
    with django_db_blocker.unblock():
        wipe()


pytestmark = pytest.mark.usefixtures("ledger", "db")


def test_every_chain_of_the_demo_ledger_holds():
    walk = chains_walk()

    assert walk.broken == []
    assert walk.entries == sum(chain.model.objects.count() for chain in CHAINS)
    assert walk.entries > CASES * 4


@pytest.mark.parametrize("chain", CHAINS, ids=lambda chain: chain.table)
def test_each_chain_is_in_the_order_its_entries_were_written(chain):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT chain_position, "
            f"row_number() OVER (PARTITION BY {chain.key} ORDER BY id) AS written FROM {chain.table}) entries "
            f"WHERE chain_position <> written"
        )
        assert cursor.fetchone() == (0,)
