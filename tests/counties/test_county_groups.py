import dataclasses
import datetime
import io
from collections import Counter

import pytest
from django.core.management import call_command

from counties.data.county_groups import COUNTY_GROUPS, POVERTY_52, SANQU_SANZHOU, AreaSpec, GroupSpec
from counties.models import CountyGroup, CountyGroupMembership, Division
from counties.services import CountyGroupDataError, county_groups_load, group_spec_resolve, name_matches

MID_2020 = datetime.date(2020, 6, 14)
LEDGER_OPENED = datetime.date(2019, 5, 31)


def members_on(slug, day):
    return CountyGroup.objects.get(slug=slug).counties_on(day)


def codes_on(slug, day):
    return set(members_on(slug, day).values_list("code", flat=True))


def spec(*areas, slug="test-group"):
    return GroupSpec(slug=slug, name="测试", name_en="Test", description="", areas=tuple(areas))


def area(province, prefecture="", county=""):
    return AreaSpec(province=province, prefecture=prefecture, county=county, valid_from=datetime.date(2018, 1, 1))


class TestPoverty52:
    def test_has_52_members_on_2020_06_14(self, real_places):
        assert members_on("poverty-52", MID_2020).count() == 52

    def test_has_the_published_count_in_each_province(self, real_places):
        by_province = Counter(members_on("poverty-52", MID_2020).values_list("province__name", flat=True))
        assert by_province == {
            "广西壮族自治区": 8,
            "四川省": 7,
            "贵州省": 9,
            "云南省": 9,
            "甘肃省": 8,
            "宁夏回族自治区": 1,
            "新疆维吾尔自治区": 10,
        }

    def test_all_52_were_members_when_the_ledger_opened(self, real_places):
        assert members_on("poverty-52", LEDGER_OPENED).count() == 52

    def test_is_empty_after_the_delistings_of_november_2020(self, real_places):
        assert members_on("poverty-52", datetime.date(2021, 1, 1)).count() == 0
        assert members_on("poverty-52", datetime.date(2020, 11, 30)).count() == 0

    def test_each_county_leaves_on_its_provinces_delisting_date(self, real_places):
        shipped = {county.pk: area_spec.valid_to for county, area_spec in group_spec_resolve(POVERTY_52)}
        memberships = CountyGroupMembership.objects.filter(group__slug="poverty-52")
        assert {m.county_id: m.valid_to for m in memberships} == shipped
        assert all((day.year, day.month) == (2020, 11) for day in shipped.values())
        last = max(a.valid_to for a in POVERTY_52.areas)
        remaining = members_on("poverty-52", last - datetime.timedelta(days=1))
        assert remaining.count() == sum(a.valid_to == last for a in POVERTY_52.areas) > 0
        assert not members_on("poverty-52", last).exists()

    def test_resolves_linxia_county_not_linxia_city(self, real_places):
        codes = codes_on("poverty-52", MID_2020)
        assert "622921" in codes  # 临夏县
        assert "622901" not in codes  # 临夏市

    def test_resolves_lushui_city_and_the_seven_in_liangshan(self, real_places):
        members = members_on("poverty-52", MID_2020)
        assert members.filter(code="533301", name="泸水市").exists()
        assert set(members.filter(province__code="510000").values_list("prefecture__code", flat=True)) == {"513400"}
        assert members.filter(code="622926", name="东乡族自治县").exists()

    def test_every_member_is_a_county_level_unit(self, real_places):
        assert set(members_on("poverty-52", MID_2020).values_list("level", flat=True)) == {"county"}


class TestSanquSanzhou:
    def test_includes_rangtang(self, real_places):
        assert "513230" in codes_on("sanqu-sanzhou", MID_2020)

    def test_includes_every_county_of_tibet(self, real_places):
        tibet = set(Division.objects.counties().filter(province__code="540000").values_list("code", flat=True))
        assert len(tibet) > 70
        assert tibet <= codes_on("sanqu-sanzhou", MID_2020)

    def test_includes_the_southern_xinjiang_prefectures(self, real_places):
        members = codes_on("sanqu-sanzhou", MID_2020)
        for prefecture in ["653200", "652900", "653100", "653000"]:  # 和田, 阿克苏, 喀什, 克孜勒苏
            counties = set(
                Division.objects.counties().filter(prefecture__code=prefecture).values_list("code", flat=True)
            )
            assert counties and counties <= members, prefecture

    def test_includes_the_three_prefectures_and_the_tibetan_areas(self, real_places):
        members = codes_on("sanqu-sanzhou", MID_2020)
        assert {"513422", "620623", "533323"} <= members  # 木里, 天祝, 福贡
        prefectures = set(members_on("sanqu-sanzhou", MID_2020).values_list("prefecture__code", flat=True))
        assert prefectures >= {"622900", "513400", "533300", "513300", "513200", "623000", "533400", "632800"}

    def test_excludes_counties_outside_the_areas(self, real_places):
        members = codes_on("sanqu-sanzhou", MID_2020)
        chengdu = set(Division.objects.counties().filter(prefecture__code="510100").values_list("code", flat=True))
        assert chengdu and not chengdu & members
        assert "620602" not in members  # 凉州区, 天祝's neighbour in 武威
        assert "630102" not in members  # 西宁's 城东区
        assert "652301" not in members  # 昌吉市, northern 新疆

    def test_was_in_force_when_the_ledger_opened_and_still_is(self, real_places):
        assert codes_on("sanqu-sanzhou", LEDGER_OPENED) == codes_on("sanqu-sanzhou", datetime.date(2030, 1, 1))
        assert members_on("sanqu-sanzhou", datetime.date(2016, 1, 1)).count() == 0


def test_shipped_groups_have_chinese_and_english_names(real_places):
    names = dict(CountyGroup.objects.values_list("slug", "name"))
    english = dict(CountyGroup.objects.values_list("slug", "name_en"))
    assert names == {"poverty-52": "52个未摘帽贫困县", "sanqu-sanzhou": "三区三州"}
    assert english == {
        "poverty-52": "52 counties not yet delisted from poverty in 2020",
        "sanqu-sanzhou": "Three districts and three prefectures",
    }


@pytest.mark.parametrize(
    ("short", "full", "matches"),
    [
        ("融水", "融水苗族自治县", True),
        ("凉山州", "凉山彝族自治州", True),
        ("贵州", "贵州省", True),
        ("临夏县", "临夏县", True),
        ("临夏县", "临夏市", False),
        ("临夏州", "临夏回族自治州", True),
        ("临夏州", "临夏市", False),
        ("三江", "三都水族自治县", False),
    ],
)
def test_short_names_stand_for_full_names(short, full, matches):
    assert name_matches(short, full) is matches


class TestResolutionErrors:
    def test_a_name_that_matches_no_county_is_an_error_naming_it(self, real_places):
        with pytest.raises(CountyGroupDataError) as error:
            county_groups_load(groups=[spec(area("四川", "凉山州", "普格"), area("四川", "凉山州", "不存在"))])
        assert "不存在" in str(error.value)
        assert "凉山彝族自治州" in str(error.value)
        assert "test-group" in str(error.value)
        assert not CountyGroup.objects.filter(slug="test-group").exists()

    def test_an_ambiguous_name_is_an_error_listing_the_matches(self, real_places):
        with pytest.raises(CountyGroupDataError) as error:
            group_spec_resolve(spec(area("甘肃", county="临夏")))
        message = str(error.value)
        assert "临夏" in message and "临夏市 (622901)" in message and "临夏县 (622921)" in message

    def test_an_unknown_province_or_prefecture_is_an_error(self, real_places):
        with pytest.raises(CountyGroupDataError) as error:
            group_spec_resolve(spec(area("火星"), area("四川", "香格里拉州")))
        assert len(error.value.problems) == 2
        assert "火星" in error.value.problems[0] and "香格里拉州" in error.value.problems[1]

    def test_a_county_outside_the_named_prefecture_is_not_found(self, real_places):
        with pytest.raises(CountyGroupDataError, match="壤塘"):
            group_spec_resolve(spec(area("四川", "凉山州", "壤塘")))

    def test_a_county_claimed_by_two_areas_is_an_error(self, real_places):
        with pytest.raises(CountyGroupDataError, match="木里"):
            group_spec_resolve(spec(area("四川", "凉山州"), area("四川", county="木里")))

    def test_every_problem_is_reported_at_once_and_nothing_is_written(self, real_places):
        bad = dataclasses.replace(POVERTY_52, slug="broken", areas=(*POVERTY_52.areas, area("宁夏", county="无此县")))
        before = CountyGroupMembership.objects.count()
        with pytest.raises(CountyGroupDataError, match="无此县"):
            county_groups_load(groups=[SANQU_SANZHOU, bad])
        assert CountyGroupMembership.objects.count() == before


class TestReloading:
    def test_a_second_run_changes_nothing_and_says_so(self, real_places):
        before = list(CountyGroupMembership.objects.order_by("pk").values_list())
        counts = county_groups_load()
        assert counts["groups_created"] == counts["groups_updated"] == 0
        assert counts["memberships_created"] == counts["memberships_removed"] == 0
        assert counts["memberships_unchanged"] == len(before)
        assert list(CountyGroupMembership.objects.order_by("pk").values_list()) == before

    def test_a_rerun_keeps_dates_that_administrators_corrected(self, real_places):
        xiji = CountyGroupMembership.objects.get(group__slug="poverty-52", county__code="640422")
        xiji.valid_to = datetime.date(2020, 11, 18)
        xiji.save()
        county_groups_load()
        xiji.refresh_from_db()
        assert xiji.valid_to == datetime.date(2020, 11, 18)

    def test_a_rerun_adds_a_shipped_county_missing_from_its_group(self, real_places):
        CountyGroupMembership.objects.filter(group__slug="poverty-52", county__code="640422").delete()
        counts = county_groups_load()
        assert counts["memberships_created"] == 1
        assert members_on("poverty-52", MID_2020).count() == 52

    def test_reset_restores_the_shipped_data(self, real_places):
        group = CountyGroup.objects.get(slug="poverty-52")
        CountyGroupMembership.objects.filter(group=group, county__code="640422").update(
            valid_to=datetime.date(2020, 12, 31)
        )
        CountyGroupMembership.objects.create(
            group=group, county=Division.objects.get(code="513230"), valid_from=MID_2020
        )
        CountyGroup.objects.filter(pk=group.pk).update(name="renamed")
        counts = county_groups_load(reset=True)
        assert (counts["groups_updated"], counts["memberships_removed"], counts["memberships_created"]) == (1, 2, 1)
        assert CountyGroup.objects.get(pk=group.pk).name == "52个未摘帽贫困县"
        assert members_on("poverty-52", MID_2020).count() == 52
        assert "640422" not in codes_on("poverty-52", datetime.date(2020, 12, 1))

    def test_command_reports_counts_and_nothing_to_change(self, real_places):
        out = io.StringIO()
        call_command("load_county_groups", stdout=out)
        assert "0 created" in out.getvalue() and "Nothing to change" in out.getvalue()


def test_shipped_data_is_marked_unverified_and_editable():
    import counties.data.county_groups as data

    assert "(unverified) editable by administrators" in data.__doc__
    assert {g.slug for g in COUNTY_GROUPS} == {"poverty-52", "sanqu-sanzhou"}
    assert len(POVERTY_52.areas) == 52
