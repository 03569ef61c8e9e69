"""The real case from the People's Daily report (2020-06-20), always present in the demo ledger.

Sang Qingzhuoma (桑青卓玛), a pupil of Shangduke Township Primary School, Rangtang County, Aba
prefecture, Sichuan, dropped out; the principal and village cadres visited her home repeatedly; she
returned, ranked among the best of her class and was elected study committee member. The report gives
no dates or identifiers: those below are invented, consistent with the story.
"""

import datetime

from students.choices import Placement, Reason, VisitMethod, VisitorRole, VisitOutcome

NAME = "桑青卓玛"
GENDER = "F"
ETHNICITY = "04"  # Tibetan
BIRTH_DATE = datetime.date(2008, 11, 23)
ID_SEQUENCE = 24  # even: female
GRADE = 4
TOWNSHIP = "上杜柯乡"
VILLAGE = "杜柯村"  # as in places.SHANGDUKE_VILLAGE
GUARDIAN = "泽仁多吉"
GUARDIAN_PHONE = "13908371526"
REASON = Reason.OTHER
REASON_DETAIL = "辍学在家帮忙放牧"
DROPOUT_DATE = datetime.date(2019, 3, 11)
RETURNED_ON = datetime.date(2019, 9, 2)
PLACEMENT = Placement.REGULAR_CLASS
VILLAGE_CADRE = "阿旺丹增"
CLASS_TEACHER = "罗尔伍"

DROPOUT_NOTE = "春季学期开学后连续多日未到校，班主任核实：学生辍学在家帮忙放牧。"
RETURN_NOTE = "经校长和村干部多次上门劝返，桑青卓玛于秋季学期开学返校，回原班随班就读。"
RETAINED_NOTES = (
    "返校30天回访：学生在校学习、生活正常，家长支持。",
    "返校90天回访：学生学习刻苦，成绩名列班级前茅，被同学们选为学习委员。",
)

# (date, visitor roles, outcome, notes); the principal's name comes from the demo principal.
VISITS = (
    (
        datetime.date(2019, 3, 15),
        (VisitorRole.PRINCIPAL, VisitorRole.VILLAGE_CADRE),
        VisitOutcome.REFUSED,
        "校长和村干部到家中走访，家长认为女孩读书用处不大，要孩子在家帮忙放牧，不同意返校。已宣讲《义务教育法》。",
    ),
    (
        datetime.date(2019, 4, 8),
        (VisitorRole.PRINCIPAL, VisitorRole.VILLAGE_CADRE, VisitorRole.CLASS_TEACHER),
        VisitOutcome.REFUSED,
        "再次家访，讲解“三免一补”和寄宿生生活补助政策；家长仍有顾虑，表示考虑。",
    ),
    (
        datetime.date(2019, 5, 22),
        (VisitorRole.PRINCIPAL, VisitorRole.VILLAGE_CADRE),
        VisitOutcome.OTHER,
        "到牧场找到学生本人，她说想念同学、想回学校；与家长商量放牧人手安排。",
    ),
    (
        datetime.date(2019, 7, 10),
        (VisitorRole.VILLAGE_CADRE, VisitorRole.TOWNSHIP_OFFICIAL),
        VisitOutcome.OTHER,
        "村干部和乡干部上门，协调亲戚帮忙放牧，家长态度松动。",
    ),
    (
        datetime.date(2019, 8, 26),
        (VisitorRole.PRINCIPAL, VisitorRole.VILLAGE_CADRE),
        VisitOutcome.AGREED,
        "校长和村干部再次到家中走访，家长同意桑青卓玛秋季开学返校，学校安排回原班就读。",
    ),
)
VISIT_METHOD = VisitMethod.HOME_VISIT
