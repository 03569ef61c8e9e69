"""Duplicates without a shared ID: which two records are probably one child, and the nightly search for them.

Exact duplicates never get in: an ID or registry number already on the ledger is the same child
(students.services.student_get_or_create). What gets in is one child entered twice a little differently.
Two records are proposed as one child (a DuplicateCandidate) when either
- their ID numbers are one typo apart and both pass the GB 11643 check (kind ID_TYPO), or their registry
  numbers are (G + the ID number, kind REGISTRY_TYPO): the first 17 digits differ by one substituted digit or
  one swap of adjacent digits. The check character catches every such typo in a whole number (ISO 7064
  MOD 11-2 detects all single substitutions and adjacent transpositions), so two numbers that both pass
  carry a typo made before their check characters were computed: the check characters differ, and are not
  compared. Names and birth dates need not agree: a typo in the birth-date digits changes the birth date too;
- or they share birth date and gender and their names are equal in pinyin (kind SAME_PINYIN): tones
  ignored, after mapping traditional and common variant characters (VARIANTS), so homophones written with
  other characters (张伟 / 张玮) match by construction.
A pair that matches more than one rule is proposed once, for the first rule above that it matches.

Where: a child belongs to the county of each of their cases (a child with cases in two counties belongs to
both), and records are compared within a county and across its neighbours. Neighbouring counties are
approximated by the counties of the same prefecture (under a municipality, the same municipality): the
ledger holds no adjacency of counties, and a prefecture's counties are where a family moving nearby goes.

The search (`duplicates_find`) is blocked in SQL, so it reads only records that could pair: for the names,
the groups of records sharing area, birth date and gender; for the numbers, records sharing a number with
one digit blanked (a substitution) or two adjacent digits put in order (a transposition). Python then checks
each pair against the rules. Records merged into another are left out, and a pair already proposed is never
proposed again, whatever was decided: "not the same child" stays decided.

Who sees and decides a candidate: county officials whose write scope holds a case of either child (either
county of a pair across two counties may decide), and administrators (`candidates_visible_to`).
"""

import functools
import itertools

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from pypinyin import Style, lazy_pinyin

from .access import cases_editable_by, scope_for
from .choices import DuplicateKind, DuplicateStatus
from .identifiers import validate_id_number, validate_registry_number
from .models import DuplicateCandidate, Student, StudentMerge

# Traditional and variant forms of characters common in names, and the form compared. pypinyin reads most
# traditional characters alike already; the table makes the comparison independent of that, and lists the
# variants (异体字) registry clerks type. Kept small and explicit on purpose: extend it when a pair is missed.
VARIANTS = str.maketrans(
    {
        "張": "张",
        "偉": "伟",
        "陳": "陈",
        "劉": "刘",
        "黃": "黄",
        "趙": "赵",
        "吳": "吴",
        "鄭": "郑",
        "楊": "杨",
        "馬": "马",
        "孫": "孙",
        "許": "许",
        "鄧": "邓",
        "蘇": "苏",
        "葉": "叶",
        "羅": "罗",
        "華": "华",
        "國": "国",
        "軍": "军",
        "傑": "杰",
        "濤": "涛",
        "龍": "龙",
        "鳳": "凤",
        "麗": "丽",
        "艷": "艳",
        "豔": "艳",
        "瑪": "玛",
        "峯": "峰",
        "喆": "哲",
        "堃": "坤",
        "昇": "升",
    }
)
# Written between the parts of a transcribed name (阿卜杜拉·艾力) or not at all.
SEPARATORS = str.maketrans("", "", " \u3000·•‧・.-")


@functools.lru_cache(maxsize=100_000)
def name_key(name: str) -> str:
    """A name as it sounds: its pinyin without tones, syllables separated by one space (张伟, 張偉: "zhang wei")."""
    plain = (name or "").translate(SEPARATORS).translate(VARIANTS)
    return " ".join(part.strip().lower() for part in lazy_pinyin(plain, style=Style.NORMAL) if part.strip())


def one_typo_apart(a: str, b: str) -> bool:
    """Whether two strings of one length differ by one substituted character or one swap of neighbours."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    first, second = diff[0], diff[-1]
    return len(diff) == 2 and second == first + 1 and a[first] == b[second] and a[second] == b[first]


def _passes(check, value: str | None) -> bool:
    try:
        check(value or "")
    except ValidationError:
        return False
    return True


def ids_one_typo_apart(a: str | None, b: str | None) -> bool:
    """Two ID numbers that both pass the check and whose first 17 digits are one typo apart."""
    if not a or not b or not _passes(validate_id_number, a) or not _passes(validate_id_number, b):
        return False
    return one_typo_apart(a[:17], b[:17])


def registries_one_typo_apart(a: str | None, b: str | None) -> bool:
    """Two G registry numbers (G + an ID number) that both pass the check and are one typo apart in the ID.

    J and L numbers carry no check character: one character apart is no evidence, so they are not compared.
    """
    if not a or not b or a[:1] != "G" or b[:1] != "G":
        return False
    if not _passes(validate_registry_number, a) or not _passes(validate_registry_number, b):
        return False
    return one_typo_apart(a[1:18], b[1:18])


def match_kind(a: Student, b: Student) -> str | None:
    """Why two records are probably one child (a DuplicateKind), or None."""
    if ids_one_typo_apart(a.id_number, b.id_number):
        return DuplicateKind.ID_TYPO
    if registries_one_typo_apart(a.registry_number, b.registry_number):
        return DuplicateKind.REGISTRY_TYPO
    if a.birth_date == b.birth_date and a.gender == b.gender and name_key(a.name) == name_key(b.name):
        return DuplicateKind.SAME_PINYIN
    return None


# Each record not merged into another, once per area it has a case in: the county's prefecture (or, for a
# county under a municipality, the municipality).
PLACED = """
    SELECT DISTINCT s.id, COALESCE(d.prefecture_id, d.province_id, d.id) AS area,
           s.birth_date, s.gender, s.id_number, s.registry_number
    FROM students_student s
    JOIN students_dropoutcase c ON c.student_id = s.id
    JOIN counties_division d ON d.id = c.county_id
    WHERE s.merged_into_id IS NULL
"""

# Groups of records in one area born the same day with the same gender: the pairs the name rule may match.
NAME_BLOCKS = f"""
    WITH placed AS ({PLACED})
    SELECT array_agg(id ORDER BY id) FROM placed
    GROUP BY area, birth_date, gender HAVING count(*) > 1
"""

# Pairs of records in one area whose ID numbers (or G registry numbers) share a key: the first 17 digits with
# one digit blanked (records one substitution apart share the key for that digit), or with two neighbouring
# digits put in order (records one swap apart share the key for that pair). The rules are checked after.
NUMBER_PAIRS = f"""
    WITH placed AS ({PLACED}),
    bodies AS (
        SELECT id, area, 'id' AS field, left(id_number, 17) AS body
        FROM placed WHERE length(id_number) = 18
        UNION ALL
        SELECT id, area, 'registry', substr(registry_number, 2, 17)
        FROM placed WHERE left(registry_number, 1) = 'G' AND length(registry_number) = 19
    ),
    keys AS (
        SELECT id, area, field, overlay(body PLACING '_' FROM i FOR 1) AS k
        FROM bodies, generate_series(1, 17) AS i
        UNION ALL
        SELECT id, area, field, overlay(
            body PLACING '~' || least(substr(body, i, 1), substr(body, i + 1, 1))
                             || greatest(substr(body, i, 1), substr(body, i + 1, 1)) FROM i FOR 2)
        FROM bodies, generate_series(1, 16) AS i
    )
    SELECT DISTINCT a.id, b.id FROM keys a
    JOIN keys b ON b.k = a.k AND b.area = a.area AND b.field = a.field AND b.id > a.id
"""


def _blocked_pairs() -> set[tuple[int, int]]:
    """Every pair (smaller id first) that the blocking keeps: the only pairs the rules are tried on."""
    pairs = set()
    with connection.cursor() as cursor:
        cursor.execute(NAME_BLOCKS)
        for (ids,) in cursor.fetchall():
            pairs.update(itertools.combinations(ids, 2))
        cursor.execute(NUMBER_PAIRS)
        pairs.update(cursor.fetchall())
    return pairs


def duplicates_find() -> int:
    """Propose every pair of records that is probably one child and was never proposed; returns how many."""
    pairs = _blocked_pairs()
    if not pairs:
        return 0
    ids = {pk for pair in pairs for pk in pair}
    records = Student.objects.only("name", "gender", "birth_date", "id_number", "registry_number").in_bulk(ids)
    found = {}
    for first, second in pairs:
        kind = match_kind(records[first], records[second])
        if kind is not None:
            found[(first, second)] = kind
    if not found:
        return 0
    with transaction.atomic():
        known = set(
            DuplicateCandidate.objects.filter(first_id__in={first for first, _second in found}).values_list(
                "first_id", "second_id"
            )
        )
        new = [
            DuplicateCandidate(first_id=first, second_id=second, kind=kind)
            for (first, second), kind in sorted(found.items())
            if (first, second) not in known
        ]
        # A search running at the same time may have proposed a pair meanwhile: the pair stays proposed once.
        DuplicateCandidate.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _decides_duplicates(scope) -> bool:
    return scope.can_write and scope.school is None


def may_decide_duplicates(user) -> bool:
    """County officials and administrators have the duplicates screen; principals and read-only roles do not."""
    return _decides_duplicates(scope_for(user))


def _students_in_write_scope(user):
    return cases_editable_by(user).values("student_id")


def candidates_visible_to(user) -> QuerySet[DuplicateCandidate]:
    """The candidates a user sees and decides: those with a child who has a case in the user's write scope."""
    scope = scope_for(user)
    if not _decides_duplicates(scope):
        return DuplicateCandidate.objects.none()
    if scope.everything:
        return DuplicateCandidate.objects.all()
    students = _students_in_write_scope(user)
    return DuplicateCandidate.objects.filter(Q(first__in=students) | Q(second__in=students))


def merges_visible_to(user) -> QuerySet[StudentMerge]:
    """The merges a user sees and may undo: those of a child with a case in the user's write scope."""
    scope = scope_for(user)
    if not _decides_duplicates(scope):
        return StudentMerge.objects.none()
    if scope.everything:
        return StudentMerge.objects.all()
    students = _students_in_write_scope(user)
    return StudentMerge.objects.filter(Q(kept__in=students) | Q(merged__in=students))


def open_candidates(queryset: QuerySet[DuplicateCandidate]) -> QuerySet[DuplicateCandidate]:
    """Candidates still to decide, neither record merged into a third meanwhile."""
    return queryset.filter(
        status=DuplicateStatus.OPEN, first__merged_into__isnull=True, second__merged_into__isnull=True
    )
