"""The shape of the loaded hierarchy: where each kind of division hangs and what it points at."""

import pytest

from counties.models import Division, Level


def test_hong_kong_macau_and_taiwan_are_not_loaded(real_places):
    names = set(Division.objects.provinces().values_list("name", flat=True))
    assert not names & {"香港特别行政区", "澳门特别行政区", "台湾省"}
    assert not Division.objects.filter(code__startswith="8").exists()
    assert not Division.objects.filter(code__startswith="71").exists()


def test_rangtang_is_under_aba_under_sichuan(real_places):
    rangtang = Division.objects.select_related("parent", "province", "prefecture").get(code="513230")
    assert rangtang.name == "壤塘县"
    assert rangtang.level == Level.COUNTY
    assert rangtang.parent.code == "513200"
    assert rangtang.prefecture.code == "513200"
    assert rangtang.prefecture.name == "阿坝藏族羌族自治州"
    assert rangtang.province.code == "510000"
    assert rangtang.parent.parent.code == "510000"
    assert rangtang.full_name == "四川省阿坝藏族羌族自治州壤塘县"


def test_provinces_and_prefectures_point_at_themselves(real_places):
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
def test_municipality_counties_hang_under_the_province_without_prefecture(real_places, code, name):
    county = Division.objects.get(code=code)
    assert county.name == name
    assert county.level == Level.COUNTY
    assert county.prefecture_id is None
    assert county.parent_id == county.province_id == Division.objects.get(code=code[:2] + "0000").pk


def test_municipalities_have_no_prefecture_layer(real_places):
    for code in ["110000", "120000", "310000", "500000"]:
        assert not Division.objects.prefectures().filter(province__code=code).exists()


@pytest.mark.parametrize(
    ("code", "name"), [("441900", "东莞市"), ("442000", "中山市"), ("620200", "嘉峪关市"), ("460400", "儋州市")]
)
def test_prefecture_cities_without_counties_are_county_level_units(real_places, code, name):
    city = Division.objects.get(code=code)
    assert (city.name, city.level, city.kind) == (name, Level.COUNTY, "地级市")
    assert city.prefecture_id is None
    assert city.parent_id == city.province_id == Division.objects.get(code=code[:2] + "0000").pk
    assert not Division.objects.filter(parent=city).exists()


def test_county_level_units_run_directly_by_a_province_have_no_prefecture(real_places):
    jiyuan = Division.objects.get(code="419001")
    assert (jiyuan.name, jiyuan.level, jiyuan.prefecture_id) == ("济源市", Level.COUNTY, None)
    assert jiyuan.parent_id == jiyuan.province_id == Division.objects.get(code="410000").pk


def test_every_row_carries_a_consistent_province_and_prefecture(real_places):
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
