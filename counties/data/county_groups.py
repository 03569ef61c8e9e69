"""The county groups the ledger ships with, written the way the ministry's documents name them.

Each group is a list of areas: a whole province, a whole prefecture, or one county, named as in the
documents ("凉山州", "融水", "临夏县") and resolved against the loaded divisions by
`counties.services.county_groups_load`. A name that does not resolve to exactly one division is an
error, never a silent skip. Each area carries its membership dates: a county belongs to the group
from `valid_from` until (not including) `valid_to`, so a group answers "which counties, as of a date".

All membership dates below are (unverified) editable by administrators: they are sensible defaults
taken from public announcements, and administrators correct them in the admin (County groups).
Re-running `load_county_groups` never overwrites their edits unless asked to (`--reset`).
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_noop


@dataclass(frozen=True, kw_only=True)
class AreaSpec:
    """A province, a prefecture in it, or a county in it (within the prefecture, when one is named)."""

    province: str
    prefecture: str = ""
    county: str = ""
    valid_from: datetime.date
    valid_to: datetime.date | None = None

    def __str__(self) -> str:
        return " ".join(part for part in (self.province, self.prefecture, self.county) if part)


@dataclass(frozen=True, kw_only=True)
class GroupSpec:
    slug: str
    name: str
    name_en: str
    description: str
    areas: tuple[AreaSpec, ...]


# The 52 counties were national poverty counties throughout the ledger's life (it opened in May 2019).
# (unverified) editable by administrators: poverty-county status is dated from the 2014 national
# registration of poor households; the delisting dates are the days each province announced that its
# last counties had left the poverty list, in November 2020.
POVERTY_COUNTY_SINCE = datetime.date(2014, 1, 1)


def _delisted(province: str, on: datetime.date, counties: str, *, prefecture: str = "") -> tuple[AreaSpec, ...]:
    return tuple(
        AreaSpec(province=province, prefecture=prefecture, county=county, valid_from=POVERTY_COUNTY_SINCE, valid_to=on)
        for county in counties.split()
    )


POVERTY_52 = GroupSpec(
    slug="poverty-52",
    name="52个未摘帽贫困县",
    name_en="52 counties not yet delisted from poverty in 2020",
    # Stored as written; the dashboard shows the catalogue's translation of the shipped text.
    description=gettext_noop(
        "The last 52 national poverty counties, under the State Council's listed supervision in 2020; "
        "each left the group when its province announced its delisting in November 2020 "
        "(dates unverified, editable by administrators)."
    ),
    areas=(
        *_delisted("广西", datetime.date(2020, 11, 20), "融水 三江 那坡 乐业 隆林 罗城 大化 都安"),
        *_delisted("四川", datetime.date(2020, 11, 17), "普格 布拖 金阳 昭觉 喜德 越西 美姑", prefecture="凉山州"),
        *_delisted("贵州", datetime.date(2020, 11, 23), "紫云 纳雍 威宁 赫章 沿河 榕江 从江 晴隆 望谟"),
        *_delisted("云南", datetime.date(2020, 11, 14), "镇雄 会泽 屏边 广南 澜沧 宁蒗 泸水市 福贡 兰坪"),
        *_delisted("甘肃", datetime.date(2020, 11, 21), "东乡 临夏县 宕昌 西和 礼县 岷县 通渭 镇原"),
        *_delisted("宁夏", datetime.date(2020, 11, 16), "西吉"),
        *_delisted("新疆", datetime.date(2020, 11, 14), "莎车 叶城 伽师 英吉沙 墨玉 皮山 策勒 于田 洛浦 阿克陶"),
    ),
)


# (unverified) editable by administrators: the deep-poverty areas were named in June 2017 and have no
# end date here.
SANQU_SANZHOU_SINCE = datetime.date(2017, 6, 23)


def _sanqu(province: str, prefecture: str = "", county: str = "") -> AreaSpec:
    return AreaSpec(province=province, prefecture=prefecture, county=county, valid_from=SANQU_SANZHOU_SINCE)


SANQU_SANZHOU = GroupSpec(
    slug="sanqu-sanzhou",
    name="三区三州",
    name_en="Three districts and three prefectures",
    description=gettext_noop(
        "The deep-poverty areas: 西藏; the Tibetan areas of 青海, 四川, 甘肃 and 云南; the four prefectures "
        "of southern 新疆; and 临夏州, 凉山州 and 怒江州."
    ),
    areas=(
        # The three districts.
        _sanqu("西藏"),
        _sanqu("青海", "海北州"),
        _sanqu("青海", "黄南州"),
        _sanqu("青海", "海南州"),
        _sanqu("青海", "果洛州"),
        _sanqu("青海", "玉树州"),
        _sanqu("青海", "海西州"),
        _sanqu("四川", "甘孜州"),
        _sanqu("四川", "阿坝州"),
        _sanqu("甘肃", "甘南州"),
        _sanqu("甘肃", "武威市", "天祝"),
        _sanqu("云南", "迪庆州"),
        _sanqu("新疆", "和田地区"),
        _sanqu("新疆", "阿克苏地区"),
        _sanqu("新疆", "喀什地区"),
        _sanqu("新疆", "克孜勒苏州"),
        # The three prefectures (凉山州 includes 木里, the Tibetan county of 四川's third Tibetan area).
        _sanqu("甘肃", "临夏州"),
        _sanqu("四川", "凉山州"),
        _sanqu("云南", "怒江州"),
    ),
)

COUNTY_GROUPS: tuple[GroupSpec, ...] = (POVERTY_52, SANQU_SANZHOU)
