import datetime

import pytest

from counties.models import CountyGroup, Division, Level
from counties.selectors import counties_within, county_by_code, group_counties_on


def codes(queryset):
    return set(queryset.values_list("code", flat=True))


class TestWithin:
    def test_a_province_holds_itself_its_prefectures_and_its_counties(self, real_places):
        sichuan = Division.objects.get(code="510000")
        within = codes(Division.objects.within(sichuan))
        assert {"510000", "513200", "513230", "510104"} <= within
        assert within == {"510000"} | codes(Division.objects.filter(code__startswith="51"))

    def test_a_province_excludes_other_provinces(self, real_places):
        within = codes(Division.objects.within(Division.objects.get(code="510000")))
        assert not {"110101", "540000", "632801"} & within

    def test_a_prefecture_holds_its_counties_only(self, real_places):
        aba = Division.objects.get(code="513200")
        within = codes(Division.objects.within(aba))
        assert "513230" in within and "513200" in within
        assert not {"510000", "510104", "513300", "513422"} & within
        assert len(within) == 1 + Division.objects.filter(parent=aba).count()

    def test_a_municipality_holds_its_districts_without_prefectures(self, real_places):
        beijing = Division.objects.get(code="110000")
        within = codes(Division.objects.within(beijing))
        assert within == {"110000"} | codes(Division.objects.filter(parent=beijing))
        assert "110101" in within and len(within) == 17

    def test_a_county_holds_only_itself(self, real_places):
        rangtang = Division.objects.get(code="513230")
        assert codes(Division.objects.within(rangtang)) == {"513230"}

    def test_a_province_holds_its_counties_without_prefecture(self, real_places):
        guangdong = Division.objects.get(code="440000")
        assert {"441900", "442000"} <= codes(counties_within(guangdong))
        assert "419001" in codes(counties_within(Division.objects.get(code="410000")))


def test_counties_within_a_prefecture_are_all_county_level(real_places):
    counties = counties_within(Division.objects.get(code="513400"))
    assert set(counties.values_list("level", flat=True)) == {Level.COUNTY}
    assert {"513422", "513428"} <= codes(counties)


def test_county_by_code_finds_rangtang_with_its_area(real_places, django_assert_num_queries):
    with django_assert_num_queries(1):
        rangtang = county_by_code("513230")
        assert rangtang.full_name == "四川省阿坝藏族羌族自治州壤塘县"


def test_county_by_code_does_not_return_a_province_or_prefecture(real_places):
    for code in ["510000", "513200", "999999"]:
        with pytest.raises(Division.DoesNotExist):
            county_by_code(code)


def test_group_counties_on_answers_as_of_a_date(real_places):
    assert group_counties_on("poverty-52", datetime.date(2020, 6, 14)).count() == 52
    assert group_counties_on("poverty-52", datetime.date(2021, 1, 1)).count() == 0
    with pytest.raises(CountyGroup.DoesNotExist):
        group_counties_on("no-such-group", datetime.date(2020, 6, 14))
