"""The county ledger's spreadsheet layout: one column per field a county keeps.

The template, the import and the export all read this one list, so that an exported ledger can be
imported again unchanged. Each column has a Chinese header (the default template), an English header
(the English variant) and the variants county offices use in their own spreadsheets. Headers are
matched by name, in any order, after normalising width, case, spaces and notes in brackets.

A file is one county's ledger, so it needs no column for the county; county offices' own spreadsheets often
have one all the same. It is read only to check each row belongs to the county imported (CHECKED_COLUMNS),
never written by the template or the export.

Vocabularies (gender, reason, status, ...) are read as codes, Chinese labels or English labels. The
Chinese labels here are the ledger's own wording, fixed so that a file written today reads the same
tomorrow; the translation catalogue's wording is accepted as well.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .choices import ETHNICITIES, Disability, Gender, LeftBehind, Placement, Reason, Status


class Kind:
    TEXT = "text"
    ID = "id"  # identifiers: text only, never a number
    DATE = "date"
    BOOL = "bool"
    CHOICE = "choice"
    GRADE = "grade"
    CODE = "code"  # digits that may arrive as a number (school code)


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = Kind.TEXT
    variants: tuple[str, ...] = ()
    required: bool = False
    width: int = 14
    # Read on import? Columns that only describe (the school's name) are written, never read.
    imported: bool = True
    note: object = ""

    def header(self, language: str) -> str:
        return self.en if language == "en" else self.zh


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Name", variants=("学生姓名", "学生名字", "student name"), required=True, width=10),
    Column(
        "gender",
        "性别",
        "Gender",
        Kind.CHOICE,
        ("sex",),
        width=6,
        note=_("Male or female; may be left blank when the ID number is given."),
    ),
    Column("ethnicity", "民族", "Ethnicity", Kind.CHOICE, ("民族代码", "民族名称"), width=8),
    Column(
        "birth_date",
        "出生日期",
        "Birth date",
        Kind.DATE,
        ("出生年月日", "生日", "date of birth", "dob"),
        width=12,
        note=_("May be left blank when the ID number is given."),
    ),
    Column(
        "id_number",
        "身份证号",
        "Resident ID number",
        Kind.ID,
        ("身份证号码", "公民身份号码", "身份证件号", "身份证件号码", "证件号码", "id number", "id"),
        width=21,
        note=_("18 characters, stored as text. The ID number or the registry number is required."),
    ),
    Column(
        "registry_number",
        "学籍号",
        "Student registry number",
        Kind.ID,
        ("全国学籍号", "学籍号码", "学籍编号", "registry number"),
        width=22,
    ),
    Column("hukou_place", "户籍所在地", "Household registration place", variants=("户籍地", "户口所在地", "户籍")),
    Column("address", "家庭住址", "Address", variants=("现住址", "住址", "家庭地址"), width=24),
    Column("guardian_name", "监护人姓名", "Guardian name", variants=("监护人", "家长姓名", "guardian")),
    Column(
        "guardian_phone",
        "监护人电话",
        "Guardian phone",
        variants=("联系电话", "监护人联系电话", "家长电话", "联系方式", "phone"),
    ),
    Column(
        "registered_poor",
        "建档立卡",
        "Registered-poor household",
        Kind.BOOL,
        ("建档立卡户", "是否建档立卡", "建档立卡贫困户", "registered poor"),
        width=8,
    ),
    Column("left_behind", "留守儿童", "Left-behind child", Kind.CHOICE, ("是否留守儿童", "left behind"), width=10),
    Column("migrant", "随迁子女", "Migrant child", Kind.BOOL, ("是否随迁子女", "migrant"), width=8),
    Column("orphan", "孤儿", "Orphan", Kind.BOOL, ("是否孤儿",), width=6),
    Column(
        "unsupported",
        "事实无人抚养",
        "De-facto unsupported child",
        Kind.BOOL,
        ("事实无人抚养儿童", "是否事实无人抚养", "unsupported"),
        width=8,
    ),
    Column("disability", "残疾类别", "Disability", Kind.CHOICE, ("残疾类型", "残疾情况"), width=8),
    Column(
        "school_code",
        "学校标识码",
        "School code",
        Kind.CODE,
        ("学校代码", "学校识别码", "学校编码", "学校标识代码", "school identification code"),
        required=True,
        width=12,
    ),
    Column("school_name", "学校名称", "School name", variants=("学校", "辍学学校", "school"), imported=False, width=20),
    Column("grade", "年级", "Grade", Kind.GRADE, ("辍学年级", "就读年级", "辍学时年级"), required=True, width=6),
    Column("dropout_date", "辍学日期", "Dropout date", Kind.DATE, ("辍学时间", "辍学年月日"), required=True, width=12),
    Column("reason", "辍学原因", "Reason", Kind.CHOICE, ("原因", "dropout reason"), required=True, width=12),
    Column(
        "reason_detail", "原因说明", "Reason in detail", variants=("具体原因", "原因详情", "reason detail"), width=20
    ),
    Column(
        "status",
        "当前状态",
        "Status",
        Kind.CHOICE,
        ("状态", "劝返状态", "current status"),
        width=10,
        note=_("Blank means dropped out."),
    ),
    Column(
        "status_date",
        "状态日期",
        "Status date",
        Kind.DATE,
        ("状态变更日期", "状态变化日期"),
        width=12,
        note=_("The day the current status took effect (the retention check, the closure, the relapse)."),
    ),
    Column("return_date", "复学日期", "Return date", Kind.DATE, ("复学时间", "返校日期"), width=12),
    Column("placement", "安置方式", "Placement", Kind.CHOICE, ("复学安置方式", "安置形式"), width=12),
    Column("closure_reason", "销号原因", "Closure reason", Kind.CHOICE, ("其他销号原因",), width=14),
)

# Read on import only to check that a row is for the county imported: a row for another county is a problem.
CHECKED_COLUMNS: tuple[Column, ...] = (
    Column(
        "county",
        "县区",
        "County",
        Kind.CODE,
        (
            "县",  # 县（市、区）, 县(区) once the note in brackets is dropped
            "区县",
            "县市区",
            "县区名称",
            "区县名称",
            "所在县区",
            "所属县区",
            "县区代码",
            "区县代码",
            "county code",
            "district",
        ),
        width=10,
    ),
)

BY_KEY = {column.key: column for column in (*COLUMNS, *CHECKED_COLUMNS)}

# The ledger's own Chinese wording (first label: the one written on export), then accepted variants.
GENDER_ZH = {Gender.MALE: ("男", "男性"), Gender.FEMALE: ("女", "女性")}
STATUS_ZH = {
    Status.DROPPED_OUT: ("辍学", "已辍学", "失学"),
    Status.PERSUADING: ("劝返中", "劝返", "正在劝返"),
    Status.RETURNED: ("已复学", "复学", "已返校", "劝返复学"),
    Status.RETAINED: ("巩固在校", "在校巩固", "已巩固"),
    Status.RELAPSED: ("再次辍学", "复学后再次辍学"),
    Status.CLOSED: ("其他销号", "其他原因销号"),
}
REASON_ZH = {
    Reason.LEARNING: ("学习困难/厌学", "学习困难", "厌学", "学习困难或厌学"),
    Reason.POVERTY: ("因贫", "家庭贫困", "贫困"),
    Reason.DISTANCE: ("上学远", "上学路远", "路远"),
    Reason.WORK: ("外出打工", "打工"),
    Reason.MARRIAGE: ("早婚早育", "早婚", "早育"),
    Reason.RELIGION: ("信教", "宗教"),
    Reason.ILLNESS: ("因病/因残", "因病", "因残", "因病因残"),
    Reason.OTHER: ("其他", "其它"),
}
PLACEMENT_ZH = {
    Placement.REGULAR_CLASS: ("随班就读", "插班", "插班就读", "插班/随班就读", "随班"),
    Placement.SEPARATE_CLASS: ("单独编班",),
    Placement.VOCATIONAL: ("普职融合",),
    Placement.SPECIAL_SCHOOL: ("特殊教育学校", "特教学校"),
    Placement.HOME_DELIVERED: ("送教上门",),
}
LEFT_BEHIND_ZH = {
    LeftBehind.NO: ("否", "非留守", "无"),
    LeftBehind.ONE_PARENT: ("单亲外出", "父母一方外出", "一方外出"),
    LeftBehind.BOTH_PARENTS: ("双亲外出", "父母双方外出", "双方外出"),
}
DISABILITY_ZH = {
    Disability.NONE: ("无", "否"),
    Disability.VISUAL: ("视力残疾", "视力"),
    Disability.HEARING: ("听力残疾", "听力"),
    Disability.SPEECH: ("言语残疾", "言语"),
    Disability.PHYSICAL: ("肢体残疾", "肢体"),
    Disability.INTELLECTUAL: ("智力残疾", "智力"),
    Disability.MENTAL: ("精神残疾", "精神"),
    Disability.MULTIPLE: ("多重残疾", "多重"),
}
# Characters that make a spreadsheet cell a formula: exports prefix such cells with an apostrophe,
# which the import removes again.
FORMULA_START = ("=", "+", "-", "@")
YES = ("是", "yes", "y", "true", "1", "√", "✓", "有")
NO = ("否", "no", "n", "false", "0", "×", "✗", "无", "")

CHOICES = {
    "gender": (Gender, GENDER_ZH),
    "status": (Status, STATUS_ZH),
    "reason": (Reason, REASON_ZH),
    "placement": (Placement, PLACEMENT_ZH),
    "left_behind": (LeftBehind, LEFT_BEHIND_ZH),
    "disability": (Disability, DISABILITY_ZH),
}

_BRACKETED = re.compile(r"[(\[（【].*?[)\]）】]")
_SPACES = re.compile(r"\s+")


def normalise(text: object) -> str:
    """Full-width to half-width, no spaces, case-folded: how headers and labels are compared."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return _SPACES.sub("", text).casefold()


def normalise_header(text: object) -> str:
    """A header without its required-marker (*) and notes in brackets: 出生日期（年-月-日）* -> 出生日期."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return normalise(_BRACKETED.sub("", text).replace("*", ""))


@functools.cache
def header_index() -> dict[str, str]:
    """Every accepted header, normalised, to its column key."""
    index: dict[str, str] = {}
    for column in (*COLUMNS, *CHECKED_COLUMNS):
        for name in (column.key, column.zh, column.en, *column.variants):
            index.setdefault(normalise_header(name), column.key)
    return index


def match_headers(cells: list[object]) -> tuple[dict[str, int], list[str], list[str]]:
    """Map column keys to positions. Returns (positions, unknown headers, headers given twice)."""
    index = header_index()
    positions: dict[str, int] = {}
    unknown: list[str] = []
    twice: list[str] = []
    for position, cell in enumerate(cells):
        text = str(cell).strip() if cell is not None else ""
        if not text:
            continue
        key = index.get(normalise_header(text))
        if key is None:
            unknown.append(text)
        elif key in positions:
            twice.append(text)
        else:
            positions[key] = position
    return positions, unknown, twice


def _labels_in(language: str, choices) -> dict[str, str]:
    with translation.override(language):
        return {normalise(label): value for value, label in choices.choices}


@functools.cache
def vocabulary(key: str) -> dict[str, str]:
    """Every accepted spelling of a fixed vocabulary (codes, Chinese, English), normalised, to its value."""
    if key == "ethnicity":
        words: dict[str, str] = {}
        for code, zh, en in ETHNICITIES:
            for label in (code, str(int(code)), zh, zh.removesuffix("族"), en):
                words.setdefault(normalise(label), code)
        return words
    choices, chinese = CHOICES[key]
    words = {normalise(value): value for value in choices.values if value}
    for value, labels in chinese.items():
        for label in labels:
            words.setdefault(normalise(label), value)
    for language in ("en", "zh-hans"):
        for label, value in _labels_in(language, choices).items():
            words.setdefault(label, value)
    if key == "gender":
        words.update({"m": Gender.MALE, "f": Gender.FEMALE})
    return words


def label(key: str, value: str, language: str) -> str:
    """The label written into a spreadsheet for a vocabulary value."""
    if key == "ethnicity":
        for code, zh, en in ETHNICITIES:
            if code == value:
                return en if language == "en" else zh
        return value or ""
    choices, chinese = CHOICES[key]
    if language == "en":
        with translation.override("en"):
            return str(choices(value).label) if value in choices.values else value
    return chinese[value][0] if value in chinese else value


def yes_no(value: bool, language: str) -> str:
    if language == "en":
        return "Yes" if value else "No"
    return "是" if value else "否"
