"""Synthetic people for the demo ledger: names by ethnicity, the ethnic mix of a region, ID numbers, phones."""

import datetime
import random
from collections.abc import Callable

from students.identifiers import id_check_char


def pick(rng: random.Random, items):
    """rng.choice, about three times faster (it matters over millions of rows)."""
    return items[int(rng.random() * len(items))]


HAN_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
HAN_GIVEN = {
    "M": "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳成志建文海东兴亮博子轩睿豪晨航天家宏锦鸿"
    "川江山峰永福贵德顺安国庆祥",
    "F": "芳娜敏静丽艳娟霞燕玲婷雪慧莹洁琳欣怡佳雨萱梦瑶晶倩颖露月彤妍诗涵悦可馨红梅兰花英秀珍凤桂琴春",
}
TIBETAN_GIVEN = {
    "any": ("扎西", "次仁", "达瓦", "尼玛", "格桑", "索朗", "洛桑", "旦增", "巴桑", "泽仁", "才让", "拉巴"),
    "M": ("多吉", "平措", "土登", "贡布", "加措", "丹增", "罗布", "桑杰", "顿珠", "旺堆", "江村", "尼玛"),
    "F": ("卓玛", "拉姆", "央金", "德吉", "曲珍", "措姆", "央宗", "次珍", "白玛", "梅朵", "桑姆", "卓嘎"),
}
UYGHUR_GIVEN = {
    "M": (
        "艾力",
        "阿卜杜拉",
        "买买提",
        "艾尔肯",
        "吐尔逊",
        "努尔",
        "阿迪力",
        "依明",
        "热合曼",
        "艾买尔",
        "亚森",
        "阿不都",
    ),
    "F": (
        "古丽",
        "阿依古丽",
        "热依拉",
        "迪丽努尔",
        "帕提古丽",
        "米热古丽",
        "努尔古丽",
        "阿依努尔",
        "再努尔",
        "祖丽皮亚",
    ),
}
YI_SURNAMES = (
    "阿苦",
    "吉克",
    "阿牛",
    "沙马",
    "曲比",
    "海来",
    "吉伍",
    "俄木",
    "马海",
    "阿吉",
    "勒格",
    "瓦扎",
    "阿尔",
    "俄底",
)
YI_GIVEN = {
    "M": ("拉博", "日火", "伍各", "木呷", "尔古", "子哈", "拉且", "伍沙", "石一", "木甲"),
    "F": ("阿呷", "阿依", "阿芝", "日嘎", "石木", "金呷", "阿果", "么么", "有格", "阿西"),
}
MONGOL_GIVEN = {
    "M": ("巴特尔", "苏和", "额尔敦", "朝鲁", "宝音", "孟和", "巴图", "特木尔"),
    "F": ("苏日娜", "其其格", "娜仁", "乌兰", "萨仁", "高娃", "托娅", "琪琪格"),
}

HAN = "01"
TIBETAN, UYGHUR, YI, MONGOL = "04", "05", "07", "02"
UYGHUR_STYLE = frozenset({UYGHUR, "17", "29", "41", "43"})  # Uyghur, Kazakh, Kyrgyz, Tajik, Uzbek
TIBETAN_STYLE = frozenset({TIBETAN, "54", "55"})  # Tibetan, Monba, Lhoba

# The ethnic mix of the children in a region, from the most specific code prefix that is listed.
# Shares are rough and plausible, for demo data; 01 = Han.
ETHNIC_MIX: dict[str, tuple[tuple[str, int], ...]] = {
    "54": ((TIBETAN, 95), (HAN, 3), ("54", 1), ("55", 1)),
    "63": ((HAN, 45), (TIBETAN, 25), ("03", 18), ("30", 7), ("35", 5)),
    "6301": ((HAN, 75), ("03", 17), (TIBETAN, 5), ("30", 3)),
    "6302": ((HAN, 45), ("03", 22), ("30", 18), ("35", 10), (TIBETAN, 5)),
    "6322": ((TIBETAN, 60), (HAN, 25), ("03", 15)),
    "6323": ((TIBETAN, 90), (HAN, 5), ("03", 5)),
    "6325": ((TIBETAN, 85), (HAN, 10), ("03", 5)),
    "6326": ((TIBETAN, 95), (HAN, 5)),
    "6327": ((TIBETAN, 97), (HAN, 3)),
    "6328": ((HAN, 45), (TIBETAN, 25), (MONGOL, 15), ("03", 15)),
    "5132": ((TIBETAN, 60), ("33", 20), (HAN, 15), ("03", 5)),
    "5133": ((TIBETAN, 85), (HAN, 12), (YI, 3)),
    "5134": ((YI, 60), (HAN, 35), (TIBETAN, 3), ("03", 2)),
    "51": ((HAN, 96), (YI, 2), ("15", 1), (TIBETAN, 1)),
    "6229": (("03", 50), ("26", 25), (HAN, 20), ("47", 3), ("35", 2)),
    "6230": ((TIBETAN, 60), (HAN, 35), ("03", 5)),
    "62": ((HAN, 90), ("03", 7), (TIBETAN, 2), ("48", 1)),
    "64": ((HAN, 62), ("03", 38)),
    "65": ((HAN, 35), (UYGHUR, 40), ("17", 15), ("03", 8), (MONGOL, 2)),
    "6529": ((UYGHUR, 85), (HAN, 13), ("03", 2)),
    "6530": (("29", 55), (UYGHUR, 40), (HAN, 5)),
    "6531": ((UYGHUR, 92), (HAN, 5), ("41", 3)),
    "6532": ((UYGHUR, 97), (HAN, 3)),
    "45": ((HAN, 40), ("08", 45), ("13", 6), ("06", 4), ("12", 3), ("32", 1), ("36", 1)),
    "52": ((HAN, 58), ("06", 13), ("09", 10), ("12", 6), ("15", 5), (YI, 4), ("25", 2), ("37", 2)),
    "53": (
        (HAN, 60),
        (YI, 11),
        ("16", 6),
        ("14", 4),
        ("18", 4),
        ("08", 3),
        ("06", 3),
        ("20", 3),
        ("24", 2),
        ("21", 2),
        ("27", 1),
        (TIBETAN, 1),
    ),
    "5333": (("20", 50), ("14", 20), ("42", 10), (HAN, 15), ("51", 5)),
    "5334": ((TIBETAN, 35), ("20", 30), ("27", 10), (HAN, 25)),
    "5308": ((HAN, 45), ("24", 25), ("21", 10), ("16", 10), (YI, 10)),
    "15": ((HAN, 78), (MONGOL, 18), ("11", 2), ("03", 2)),
    "2224": ((HAN, 65), ("10", 33), ("11", 2)),
    "4331": (("15", 42), ("06", 35), (HAN, 23)),
    "4228": (("15", 45), ("06", 8), (HAN, 47)),
    "46": ((HAN, 82), ("19", 16), ("06", 2)),
    "21": ((HAN, 88), ("11", 10), (MONGOL, 1), ("03", 1)),
    "": ((HAN, 97), ("03", 2), ("11", 1)),
}


def ethnic_mix(county_code: str) -> tuple[tuple[str, int], ...]:
    for length in (4, 2, 0):
        mix = ETHNIC_MIX.get(county_code[:length])
        if mix:
            return mix
    raise AssertionError("the empty prefix is always listed")


def person_name(rng: random.Random, gender: str, ethnicity: str = HAN, surname: str = "") -> str:
    """A plausible full name for a person of this gender and ethnicity (`surname` keeps a family's Han surname)."""
    if ethnicity in TIBETAN_STYLE:
        return pick(rng, TIBETAN_GIVEN["any"]) + pick(rng, TIBETAN_GIVEN[gender])
    if ethnicity in UYGHUR_STYLE:
        return pick(rng, UYGHUR_GIVEN[gender]) + "·" + pick(rng, UYGHUR_GIVEN["M"])
    if ethnicity == YI:
        return (surname if len(surname) > 1 else pick(rng, YI_SURNAMES)) + pick(rng, YI_GIVEN[gender])
    if ethnicity == MONGOL and rng.random() < 0.5:
        return pick(rng, MONGOL_GIVEN[gender])
    family = surname or pick(rng, HAN_SURNAMES)
    given = HAN_GIVEN[gender]
    if rng.random() < 0.25:
        return family + pick(rng, given)
    return family + pick(rng, given) + pick(rng, given)


def family_name(name: str, ethnicity: str) -> str:
    """The part of a child's name a parent shares: a Han surname, a Yi clan name, or nothing."""
    if ethnicity == YI:
        return name[:2]
    if ethnicity in TIBETAN_STYLE or ethnicity in UYGHUR_STYLE:
        return ""
    return name[0]


def phone_number(rng: random.Random) -> str:
    return f"1{pick(rng, '35789')}{int(rng.random() * 10**9):09d}"


def local_person(rng: random.Random, staff: dict, key: tuple, ethnicity: Callable[[], str]) -> tuple[str, str]:
    """A local official, teacher or cadre (name, phone): the one `staff` holds for the key, or a new one kept
    there. Seven in ten are of the place's ethnic mix (`ethnicity` draws from it), seven in ten are men."""
    found = staff.get(key)
    if found is None:
        chosen = ethnicity() if rng.random() < 0.7 else HAN
        gender = "M" if rng.random() < 0.7 else "F"
        found = staff[key] = (person_name(rng, gender, chosen), phone_number(rng))
    return found


def id_number(county_code: str, birth: datetime.date, sequence: int) -> str:
    """An 18-character resident ID number (GB 11643): address code, birth date, sequence, check character."""
    first17 = f"{county_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def school_year(day: datetime.date) -> int:
    """The calendar year in which the school year containing `day` began (it starts on 1 September)."""
    return day.year if day.month >= 9 else day.year - 1


def birth_window(grade: int, on: datetime.date, years_late: int = 0) -> tuple[datetime.date, datetime.date]:
    """Birth dates of a child in `grade` on `on` who started school at six (plus `years_late`).

    A child starts grade 1 in the September after turning six (born 1 September to 31 August).
    """
    entered = school_year(on) - (grade - 1)
    born_year = entered - 6 - years_late
    return datetime.date(born_year - 1, 9, 1), datetime.date(born_year, 8, 31)
