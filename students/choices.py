"""The ledger's fixed vocabularies, as published in national documents (see the domain notes)."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def label_of(choices: type[models.TextChoices], value: str):
    """The label of a stored value, or the value itself when it is not one of the choices.

    What Django's get_FOO_display() gives, by the enum's own lookup instead of a dict rebuilt per call.
    """
    try:
        return choices(value).label
    except ValueError:
        return value


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Status(models.TextChoices):
    DROPPED_OUT = "dropped_out", _("Dropped out")
    PERSUADING = "persuading", _("Being persuaded")
    RETURNED = "returned", _("Returned to school")
    RETAINED = "retained", _("Retained in school")
    RELAPSED = "relapsed", _("Dropped out again")
    CLOSED = "closed", _("Closed for another reason")


# A case is on the open ledger in these statuses; every other status means it was struck off.
OPEN_STATUSES = (Status.DROPPED_OUT, Status.PERSUADING)


class Reason(models.TextChoices):
    LEARNING = "learning", _("Learning difficulty or weariness of study")
    POVERTY = "poverty", _("Poverty")
    DISTANCE = "distance", _("Distance to school")
    WORK = "work", _("Went out to work")
    MARRIAGE = "marriage", _("Early marriage or childbirth")
    RELIGION = "religion", _("Religion")
    ILLNESS = "illness", _("Illness or disability")
    OTHER = "other", _("Other")


class Placement(models.TextChoices):
    REGULAR_CLASS = "regular_class", _("Back into a regular class")
    SEPARATE_CLASS = "separate_class", _("Separate class")
    VOCATIONAL = "vocational", _("Combined general-vocational")
    SPECIAL_SCHOOL = "special_school", _("Special-education school")
    HOME_DELIVERED = "home_delivered", _("Home-delivered education")


class LeftBehind(models.TextChoices):
    NO = "", _("No")
    ONE_PARENT = "one", _("One parent away")
    BOTH_PARENTS = "both", _("Both parents away")


class Disability(models.TextChoices):
    NONE = "", _("None")
    VISUAL = "visual", _("Visual")
    HEARING = "hearing", _("Hearing")
    SPEECH = "speech", _("Speech")
    PHYSICAL = "physical", _("Physical")
    INTELLECTUAL = "intellectual", _("Intellectual")
    MENTAL = "mental", _("Mental")
    MULTIPLE = "multiple", _("Multiple")


class VisitorRole(models.TextChoices):
    PRINCIPAL = "principal", _("Principal")
    CLASS_TEACHER = "class_teacher", _("Class teacher")
    VILLAGE_CADRE = "village_cadre", _("Village cadre")
    TOWNSHIP_OFFICIAL = "township_official", _("Township official")
    EDUCATION_BUREAU = "education_bureau", _("Education bureau")
    POLICE = "police", _("Police")
    OTHER = "other", _("Other")


class VisitMethod(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit")
    PHONE = "phone", _("Phone call")
    SCHOOL_MEETING = "school_meeting", _("Meeting at school")


class VisitOutcome(models.TextChoices):
    AGREED = "agreed", _("Agreed to return")
    REFUSED = "refused", _("Refused")
    NOT_FOUND = "not_found", _("Family not found or moved away")
    OTHER = "other", _("Other")


class Line(models.TextChoices):
    GOVERNMENT = "government", _("Government line")
    EDUCATION = "education", _("Education line")


class ResponsibleRole(models.TextChoices):
    COUNTY_HEAD = "county_head", _("County head (县长)")
    TOWNSHIP_HEAD = "township_head", _("Township head (乡镇长)")
    VILLAGE_HEAD = "village_head", _("Village committee head (村长)")
    VILLAGE_GROUP = "village_group", _("Village group leader (村民小组长)")
    BUREAU_HEAD = "bureau_head", _("Education bureau head (教育局长)")
    PRINCIPAL = "principal", _("Principal (校长)")
    CLASS_TEACHER = "class_teacher", _("Class teacher (师长)")
    PARENT = "parent", _("Parent or guardian (家长)")


# GB/T 3304 codes of China's 56 ethnic groups.
ETHNICITIES = [
    ("01", "汉族", "Han"),
    ("02", "蒙古族", "Mongol"),
    ("03", "回族", "Hui"),
    ("04", "藏族", "Tibetan"),
    ("05", "维吾尔族", "Uyghur"),
    ("06", "苗族", "Miao"),
    ("07", "彝族", "Yi"),
    ("08", "壮族", "Zhuang"),
    ("09", "布依族", "Bouyei"),
    ("10", "朝鲜族", "Korean"),
    ("11", "满族", "Manchu"),
    ("12", "侗族", "Dong"),
    ("13", "瑶族", "Yao"),
    ("14", "白族", "Bai"),
    ("15", "土家族", "Tujia"),
    ("16", "哈尼族", "Hani"),
    ("17", "哈萨克族", "Kazakh"),
    ("18", "傣族", "Dai"),
    ("19", "黎族", "Li"),
    ("20", "傈僳族", "Lisu"),
    ("21", "佤族", "Va"),
    ("22", "畲族", "She"),
    ("23", "高山族", "Gaoshan"),
    ("24", "拉祜族", "Lahu"),
    ("25", "水族", "Shui"),
    ("26", "东乡族", "Dongxiang"),
    ("27", "纳西族", "Naxi"),
    ("28", "景颇族", "Jingpo"),
    ("29", "柯尔克孜族", "Kyrgyz"),
    ("30", "土族", "Tu"),
    ("31", "达斡尔族", "Daur"),
    ("32", "仫佬族", "Mulao"),
    ("33", "羌族", "Qiang"),
    ("34", "布朗族", "Blang"),
    ("35", "撒拉族", "Salar"),
    ("36", "毛南族", "Maonan"),
    ("37", "仡佬族", "Gelao"),
    ("38", "锡伯族", "Xibe"),
    ("39", "阿昌族", "Achang"),
    ("40", "普米族", "Pumi"),
    ("41", "塔吉克族", "Tajik"),
    ("42", "怒族", "Nu"),
    ("43", "乌孜别克族", "Uzbek"),
    ("44", "俄罗斯族", "Russian"),
    ("45", "鄂温克族", "Evenki"),
    ("46", "德昂族", "De'ang"),
    ("47", "保安族", "Bonan"),
    ("48", "裕固族", "Yugur"),
    ("49", "京族", "Gin"),
    ("50", "塔塔尔族", "Tatar"),
    ("51", "独龙族", "Derung"),
    ("52", "鄂伦春族", "Oroqen"),
    ("53", "赫哲族", "Hezhen"),
    ("54", "门巴族", "Monba"),
    ("55", "珞巴族", "Lhoba"),
    ("56", "基诺族", "Jino"),
]
ETHNICITY_CHOICES = [(code, f"{zh} {en}") for code, zh, en in ETHNICITIES]


def ethnicity_label(code: str) -> str:
    """An ethnic group's name in the page's language alone: 藏族 on Chinese pages, Tibetan on the others.

    The stored choices carry both names (the admin and the import read either); pages show one.
    """
    chinese = (get_language() or "").startswith("zh")
    for value, zh, en in ETHNICITIES:
        if value == code:
            return zh if chinese else en
    return code or ""


def ethnicity_choices() -> list[tuple[str, str]]:
    """The 56 groups for a form's select, named in the page's language."""
    return [(code, ethnicity_label(code)) for code, _zh, _en in ETHNICITIES]


class HandoverReason(models.TextChoices):
    MOVED_WITH_PARENTS = "moved", _("Moved with the parents")
    SCHOOL_ELSEWHERE = "school", _("Placed in a school elsewhere")
    OTHER = "other", _("Other")


class HandoverStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the other county")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Withdrawn")


class IdentitySource(models.TextChoices):
    FORM = "form", _("Form")
    IMPORT = "import", _("Import")
    MERGE = "merge", _("Merge of duplicates")
    UNMERGE = "unmerge", _("Merge undone")
    ADMIN = "admin", _("Administration pages")


class DuplicateKind(models.TextChoices):
    SAME_PINYIN = "pinyin", _("Same birth date and gender, names sound alike")
    ID_TYPO = "id_typo", _("ID numbers one typo apart")
    REGISTRY_TYPO = "registry_typo", _("Registry numbers one typo apart")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("To be decided")
    SAME = "same", _("Same child: merged")
    NOT_SAME = "not_same", _("Not the same child")
