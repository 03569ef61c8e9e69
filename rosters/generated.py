"""A generated county's rosters, with known candidates planted: for the demo seed, the tests and the benchmark.

The children are of compulsory-school age on `as_of`, each with a valid resident ID number of the county; one in
ten has a J registry number (which does not carry the ID number), given alone in the registry and attendance
rosters and so matched to the household register by name, birth date and gender, some of those names written in
traditional characters. A third of the registry roster gives only the G registry number (G + the ID number). The
open cases given are in the household register (half of them also in the registry, none attending), and their
flagged children in the poor-household roster. Planted, and listed by a comparison:
- a child of the household register in no registry (never enrolled);
- a child of the registry not attending (dropped out);
- with open cases given, the first whose child is not flagged, in the poor-household roster (not flagged).
Planted, and not listed: a child of the household register past school age, in no registry.
"""

import csv
import datetime
import io
import itertools
import random
from dataclasses import dataclass, field

from students.identifiers import id_check_char

from .models import CandidateGroup, RosterKind

FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志文德卓玛扎西拉姆次仁"
TRADITIONAL = str.maketrans({"张": "張", "伟": "偉", "陈": "陳", "刘": "劉", "华": "華", "国": "國", "军": "軍"})
SPREAD_DAYS = 3600  # birth dates over almost ten years: 6 to 15 on `as_of`

HEADINGS = {
    RosterKind.HOUSEHOLD: ("姓名", "身份证号", "性别", "出生日期", "家庭住址"),
    RosterKind.REGISTRY: ("学籍号", "身份证号", "姓名", "性别", "出生日期", "学校标识码", "年级"),
    RosterKind.ATTENDANCE: ("学校标识码", "身份证号", "学籍号"),
    RosterKind.POOR: ("身份证号", "姓名", "家庭住址"),
}


@dataclass
class Child:
    name: str
    gender: str
    birth_date: datetime.date
    id_number: str
    registry_number: str
    address: str
    school_code: str = ""
    grade: int | None = None


@dataclass
class GeneratedCounty:
    rosters: dict[str, list[tuple]] = field(default_factory=dict)
    planted: dict[str, list[str]] = field(default_factory=dict)  # group -> the planted children's names

    def csv_bytes(self, kind: str) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADINGS[kind])
        writer.writerows(self.rosters[kind])
        return "\ufeff".join(("", out.getvalue())).encode("utf-8")


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` earlier (28 February for a 29th with no match)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def id_number(county_code: str, born: datetime.date, sequence: int) -> str:
    first17 = f"{county_code}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def _child(i: int, *, county_code: str, as_of: datetime.date, schools: list[str], rng, name: str = "") -> Child:
    first_birth = years_before(as_of, 16) + datetime.timedelta(days=2)
    born = first_birth + datetime.timedelta(days=i % SPREAD_DAYS)
    number = id_number(county_code, born, i // SPREAD_DAYS)
    registry = "G" + number if i % 10 else f"J{county_code}{i:012d}"
    name = name or rng.choice(FAMILY) + rng.choice(GIVEN) + rng.choice(GIVEN)
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    grade = max(1, min(9, age - 5))
    return Child(
        name=name,
        gender="M" if int(number[16]) % 2 else "F",
        birth_date=born,
        id_number=number,
        registry_number=registry,
        address=f"{rng.choice('东西南北')}村{i % 40 + 1}组",
        school_code=schools[i % len(schools)],
        grade=grade,
    )


def _household(child: Child, *, without_id: bool = False) -> tuple:
    if without_id:
        gender = "男" if child.gender == "M" else "女"
        return (child.name, "", gender, child.birth_date.isoformat(), child.address)
    return (child.name, child.id_number, "", child.birth_date.isoformat(), child.address)


def _registry(child: Child, i: int) -> tuple:
    if child.registry_number.startswith("J"):
        # The registry alone knows a J number: the row names the child, in traditional characters now and then.
        name = child.name.translate(TRADITIONAL) if i % 20 == 0 else child.name
        gender = "男" if child.gender == "M" else "女"
        born = child.birth_date.isoformat()
        return (child.registry_number, "", name, gender, born, child.school_code, child.grade)
    if i % 3 == 0:
        return (child.registry_number, "", "", "", "", child.school_code, child.grade)
    return ("", child.id_number, child.name, "", "", child.school_code, child.grade)


def _attendance(child: Child) -> tuple:
    if child.registry_number.startswith("J"):
        return (child.school_code, "", child.registry_number)
    return (child.school_code, child.id_number, "")


def generated_county(
    *,
    county_code: str,
    school_codes: list[str],
    children: int,
    as_of: datetime.date,
    seed: int = 2019,
    open_cases: list = (),
    sequence_offset: int = 500,
) -> GeneratedCounty:
    """Rosters of `children` children of a county, and of the open cases' children given (DropoutCase objects
    with their student), with the planted candidates. Generated ID numbers run from sequence `sequence_offset` of
    each birth date up, skipping any an open case's child holds, so no child is in a roster twice.
    """
    rng = random.Random(f"{seed}:{county_code}")
    # The ledger's own children keep their ID numbers: a generated child never takes one of them.
    taken = {case.student.id_number for case in open_cases if case.student.id_number}
    numbers = itertools.count(sequence_offset * SPREAD_DAYS)

    def make(name: str = "") -> Child:
        while True:
            child = _child(
                next(numbers), county_code=county_code, as_of=as_of, schools=school_codes, rng=rng, name=name
            )
            if child.id_number not in taken:
                return child

    everyone = [make() for _ in range(children)]
    never_enrolled = make(name="甲未入学")
    dropped_out = make(name="乙辍学生")
    past_age = make(name="丙超龄")
    past_age.birth_date = years_before(as_of, 17)
    past_age.id_number = id_number(county_code, past_age.birth_date, 999)
    household = [_household(child) for child in (*everyone, never_enrolled, dropped_out, past_age)]
    registry = [_registry(child, i) for i, child in enumerate((*everyone, dropped_out))]
    attendance = [_attendance(child) for child in everyone]
    poor = [(child.id_number, child.name, child.address) for child in everyone[::7]]
    planted = {
        CandidateGroup.NEVER_ENROLLED: [never_enrolled.name],
        CandidateGroup.DROPPED_OUT: [dropped_out.name],
        CandidateGroup.POOR_NOT_FLAGGED: [],
    }
    for n, case in enumerate(open_cases):
        student = case.student
        ledger_child = Child(
            name=student.name,
            gender=student.gender,
            birth_date=student.birth_date,
            id_number=student.id_number or "",
            registry_number=student.registry_number or "",
            address=student.address,
            school_code=case.school.code,
            grade=case.grade,
        )
        # The first is found by name, birth date and gender alone.
        household.append(_household(ledger_child, without_id=n == 0))
        if n % 2 and ledger_child.id_number:
            registry.append(("", ledger_child.id_number, ledger_child.name, "", "", case.school.code, case.grade))
        if student.registered_poor:
            poor.append((ledger_child.id_number, ledger_child.name, ledger_child.address))
        elif not planted[CandidateGroup.POOR_NOT_FLAGGED] and ledger_child.id_number:
            poor.append((ledger_child.id_number, ledger_child.name, ledger_child.address))
            planted[CandidateGroup.POOR_NOT_FLAGGED].append(student.name)
    rng.shuffle(household)
    rng.shuffle(registry)
    return GeneratedCounty(
        rosters={
            RosterKind.HOUSEHOLD: household,
            RosterKind.REGISTRY: registry,
            RosterKind.ATTENDANCE: attendance,
            RosterKind.POOR: poor,
        },
        planted=planted,
    )
