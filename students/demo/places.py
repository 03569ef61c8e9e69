"""Where the demo cases happen: how dropouts spread over the real counties, and each county's schools."""

import random
from dataclasses import dataclass, field

from counties.models import SchoolKind

# Dropouts were concentrated in the west, in the mountains and the pastoral areas; the east had few.
PROVINCE_WEIGHT = {
    "54": 3.0, "63": 2.6, "65": 2.6, "62": 2.4, "52": 2.2, "53": 2.2, "51": 1.8, "64": 2.0, "45": 1.8,
    "15": 1.2, "50": 1.3, "61": 1.3, "46": 1.2, "43": 1.1, "42": 1.0, "36": 1.0, "41": 1.1, "34": 0.9,
    "14": 0.9, "13": 0.8, "22": 0.7, "23": 0.8, "21": 0.6, "37": 0.5, "44": 0.5, "35": 0.5, "32": 0.3,
    "33": 0.3, "11": 0.15, "12": 0.15, "31": 0.15,
}  # fmt: skip
# "Three districts and three prefectures" (三区三州) outside Tibet: the Tibetan areas, southern Xinjiang,
# Linxia, Liangshan and Nujiang. Heavier again.
THREE_AREAS_PREFECTURES = frozenset(
    {"5132", "5133", "5134", "6229", "6230", "5333", "5334", "6529", "6530", "6531", "6532"}
    | {"6322", "6323", "6325", "6326", "6327", "6328"}
)
DISTRICT_FACTOR = 0.4  # city districts (市辖区) have far fewer dropouts than rural counties
CITY_FACTOR = 0.8


def county_weight(code: str, kind: str) -> float:
    weight = PROVINCE_WEIGHT.get(code[:2], 1.0)
    if code[:4] in THREE_AREAS_PREFECTURES:
        weight *= 1.5
    if kind == "市辖区" or (not kind and code[4:] < "20"):
        weight *= DISTRICT_FACTOR
    elif kind == "县级市":
        weight *= CITY_FACTOR
    return weight


# Syllables for place names: townships (乡/镇) and villages (村).
HAN_SYLLABLES = (
    "东西南北上下中前后新老大小高龙马石金白青黄红清安和平兴永长福太云双三柳桃杨李张王河山坪坝沟溪岭湾口寨屯庄堡桥"
    "林田关营花竹松水沙泉塘峪坡头店集家铺"
)
TIBETAN_SYLLABLES = "尕多木达卡曲拉塘杜柯宗科壤吾伊茸岗色尔玛让扎日隆卓洛麦秀热当巴查则贡"
UYGHUR_SYLLABLES = "阿瓦提托格拉克巴什喀英也尔阔乌恰吐曼库克依其兰干塔"
TIBETAN_PREFECTURES = frozenset({"5132", "5133", "6230", "5334", "6322", "6323", "6325", "6326", "6327", "6328"})


def _syllables(county_code: str) -> str:
    if county_code[:2] == "54" or county_code[:4] in TIBETAN_PREFECTURES:
        return TIBETAN_SYLLABLES
    if county_code[:4] in {"6529", "6530", "6531", "6532"}:
        return UYGHUR_SYLLABLES
    return HAN_SYLLABLES


# The real townships of Rangtang County (壤塘县), home of the real case.
RANGTANG = "513230"
RANGTANG_TOWNSHIPS = (
    "上杜柯乡", "壤柯镇", "蒲西乡", "中壤塘镇", "南木达镇", "岗木达镇", "尕多乡", "茸木达乡", "吾伊乡", "宗科乡",
    "石里乡", "上寨乡",
)  # fmt: skip
SHANGDUKE_SCHOOL = "上杜柯乡小学"
SHANGDUKE_VILLAGE = "杜柯村"


@dataclass
class SchoolSpec:
    code: str
    name: str
    township: str
    kind: str
    grades: tuple[int, int]


@dataclass
class CountyPlaces:
    """A county's townships, villages and schools, and which schools take which grades."""

    code: str
    name: str
    townships: list[str]
    villages: dict[str, list[str]]
    schools: list[SchoolSpec] = field(default_factory=list)
    by_grade: dict[int, list[int]] = field(default_factory=dict)
    special: list[int] = field(default_factory=list)

    def index_grades(self) -> None:
        self.by_grade = {grade: [] for grade in range(1, 10)}
        for position, school in enumerate(self.schools):
            if school.kind == SchoolKind.SPECIAL:
                self.special.append(position)
                continue
            low, high = school.grades
            for grade in range(low, high + 1):
                self.by_grade[grade].append(position)


def _place_names(rng: random.Random, syllables: str, count: int, suffixes: str, taken: set[str]) -> list[str]:
    names = []
    attempts = 0
    while len(names) < count:
        attempts += 1
        stem = rng.choice(syllables) + rng.choice(syllables)
        if attempts > 50 * count:  # a small syllable pool: fall back to three-syllable names
            stem += rng.choice(syllables)
        name = stem + rng.choice(suffixes)
        if name not in taken and stem[0] != stem[1]:
            taken.add(name)
            names.append(name)
    return names


MAX_SCHOOLS_PER_COUNTY = 999  # the last three digits of the school code are the county's serial


def county_places(code: str, name: str, schools: int, rng: random.Random) -> CountyPlaces:
    """The county's townships and `schools` schools, with 10-digit codes "3" + county code + serial.

    Every county gets at least a central primary school and a junior secondary school, so any grade fits.
    """
    schools = max(3, min(schools, MAX_SCHOOLS_PER_COUNTY))
    syllables = _syllables(code)
    taken: set[str] = set()
    township_count = max(4, min(30, schools // 6 + 3))
    if code == RANGTANG:
        townships = list(RANGTANG_TOWNSHIPS)
        taken.update(townships)
    else:
        townships = ["城关镇", *_place_names(rng, syllables, township_count - 1, "乡乡镇", taken)]
    per_township = max(6, schools // len(townships) + 2)
    villages = {town: _place_names(rng, syllables, per_township, "村", taken) for town in townships}
    if code == RANGTANG and SHANGDUKE_VILLAGE not in villages["上杜柯乡"]:
        villages["上杜柯乡"][0] = SHANGDUKE_VILLAGE
    places = CountyPlaces(code=code, name=name, townships=townships, villages=villages)

    wanted: list[tuple[str, str, str, tuple[int, int]]] = []
    if code == RANGTANG:
        wanted.append((SHANGDUKE_SCHOOL, "上杜柯乡", SchoolKind.PRIMARY, (1, 6)))
    seat = townships[1] if code == RANGTANG else townships[0]
    wanted += [
        (f"{townships[0]}中心小学" if code != RANGTANG else f"{name}实验小学", seat, SchoolKind.PRIMARY, (1, 6)),
        (f"{name}第一中学", seat, SchoolKind.JUNIOR, (7, 9)),
    ]
    for town in townships[1:]:
        if town == "上杜柯乡":
            continue
        wanted.append((f"{town}中心小学", town, SchoolKind.PRIMARY, (1, 6)))
    ordinals = "二三四五六七八"
    for ordinal in ordinals:
        wanted.append((f"{name}第{ordinal}中学", seat, SchoolKind.JUNIOR, (7, 9)))
    if schools >= 8:
        wanted.append((f"{name}特殊教育学校", seat, SchoolKind.SPECIAL, (1, 9)))
    for town in townships[1:]:
        kind = SchoolKind.NINE_YEAR if rng.random() < 0.5 else SchoolKind.JUNIOR
        label = "九年一贯制学校" if kind == SchoolKind.NINE_YEAR else "中学"
        wanted.append((f"{town}{label}", town, kind, (1, 9) if kind == SchoolKind.NINE_YEAR else (7, 9)))
    for town in townships:
        for village in villages[town]:
            if rng.random() < 0.55:
                wanted.append((f"{town}{village}小学", town, SchoolKind.PRIMARY, (1, 6)))
            else:
                wanted.append((f"{town}{village}教学点", town, SchoolKind.TEACHING_POINT, (1, 3)))
    # The first three (a primary school, the first junior school, one more) are always kept.
    head, rest = wanted[:3], wanted[3:]
    rng.shuffle(rest)
    for serial, (school_name, town, kind, grades) in enumerate((head + rest)[:schools], start=1):
        places.schools.append(SchoolSpec(f"3{code}{serial:03d}", school_name, town, kind, grades))
    places.index_grades()
    return places
