"""The demo ledger's rows: students, cases, their events, visits and responsible persons, loaded with COPY.

Bulk loading bypasses students.services, so this module produces exactly what the services would have
written: each case's events follow students.lifecycle, the case's summary fields (status, struck_off_on,
returned_on, placement, closure_reason, version) match its events, visits fall inside the episode.
tests/students/test_seed.py proves it.
"""

import datetime
import io
import random
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from students.choices import (
    Disability,
    LeftBehind,
    Line,
    Placement,
    Reason,
    ResponsibleRole,
    Status,
    VisitMethod,
    VisitorRole,
    VisitOutcome,
)
from students.models import CaseEvent, DropoutCase, PersuasionVisit, ResponsiblePerson, Student

from . import sang
from .calibration import LEDGER_END
from .episodes import CLOSED, OPEN, RETURNED, Episodes, _Weighted
from .people import (
    birth_window,
    ethnic_mix,
    family_name,
    id_number,
    local_person,
    person_name,
    phone_number,
    pick,
    school_year,
)
from .places import CountyPlaces

NULL = "\\N"
CHUNK_CASES = 20_000

Progress = Callable[[str, int, int], None]


@dataclass
class County:
    """A county the demo ledger uses, with its places and the database keys of its schools."""

    id: int
    code: str
    name: str
    kind: str
    province: str
    prefecture: str
    places: CountyPlaces | None = None
    school_ids: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- COPY


class Copier:
    """Sends rows with COPY, table by table in the order given (parents first), one chunk at a time.

    The COPY of a chunk runs in a worker thread while the next chunk is being generated, so PostgreSQL
    and Python work at the same time. Only the worker touches the connection until `close()`.
    """

    def __init__(self, raw_cursor, models):
        self.cursor = raw_cursor
        self.models = models
        self.rows: dict[type, list[str]] = {model: [] for model in models}
        self.counts: dict[type, int] = dict.fromkeys(models, 0)
        self.worker = ThreadPoolExecutor(max_workers=1)
        self.sending: Future | None = None

    def add(self, model, line: str) -> None:
        self.rows[model].append(line)

    def flush(self) -> None:
        payload = []
        for model in self.models:
            lines = self.rows[model]
            if lines:
                payload.append((model, "\n".join(lines) + "\n"))
                self.counts[model] += len(lines)
                self.rows[model] = []
        self.wait()
        self.sending = self.worker.submit(self._send, payload)

    def wait(self) -> None:
        if self.sending is not None:
            sending, self.sending = self.sending, None
            sending.result()

    def close(self) -> None:
        self.flush()
        self.wait()
        self.worker.shutdown()

    def abandon(self) -> None:
        """Stop after an error elsewhere: drop what is queued; the transaction is rolled back anyway."""
        self.worker.shutdown(wait=True, cancel_futures=True)

    def _send(self, payload) -> None:
        for model, text in payload:
            columns = ", ".join(COLUMNS[model])
            self.cursor.copy_expert(f"COPY {model._meta.db_table} ({columns}) FROM STDIN", io.StringIO(text))


COLUMNS = {
    Student: (
        "id", "name", "gender", "ethnicity", "birth_date", "id_number", "registry_number", "hukou_place", "address",
        "guardian_name", "guardian_phone", "registered_poor", "left_behind", "migrant", "orphan", "unsupported",
        "disability", "created_at", "merged_into_id",
    ),
    DropoutCase: (
        "id", "student_id", "county_id", "school_id", "grade", "dropout_date", "reason", "reason_detail", "status",
        "struck_off_on", "returned_on", "placement", "closure_reason_id", "previous_case_id", "version",
        "created_at", "updated_at",
    ),
    CaseEvent: (
        "id", "case_id", "from_status", "to_status", "effective_date", "recorded_at", "recorded_by_id", "placement",
        "closure_reason_id", "note",
    ),
    PersuasionVisit: (
        "id", "case_id", "visit_date", "visitors", "method", "outcome", "notes", "next_follow_up", "recorded_at",
        "recorded_by_id",
    ),
    ResponsiblePerson: ("id", "case_id", "line", "role", "name", "phone"),
}  # fmt: skip


# Written by the database as each row arrives (students.ledger_chain), never by a loader.
CHAIN_COLUMNS = frozenset({"chain_position", "previous_hash", "entry_hash"})


def check_columns() -> None:
    """Fail early if a model gained a column the loader does not fill."""
    for model, columns in COLUMNS.items():
        actual = {f.column for f in model._meta.concrete_fields} - CHAIN_COLUMNS
        if actual != set(columns):
            raise RuntimeError(
                f"{model.__name__}: the demo loader writes {sorted(columns)}, the table has {sorted(actual)}"
            )


# ------------------------------------------------------------------------------------------ vocabulary

GRADE_WEIGHTS = (2, 2, 3, 4, 6, 8, 20, 30, 25)  # dropouts were mostly in junior secondary school
REASON_DETAIL = {
    Reason.LEARNING: ("成绩跟不上，厌学", "学习困难，不愿上学", "沉迷手机游戏，厌学", "与同学相处不好，不愿到校"),
    Reason.POVERTY: ("家庭经济困难", "父母患病，家庭负担重", "在家照顾弟妹"),
    Reason.DISTANCE: ("家离学校远，交通不便", "山路远，冬季无法上学", "寄宿不适应，离家远"),
    Reason.WORK: ("随亲戚外出打工", "到沿海城市务工", "在县城餐馆打工"),
    Reason.MARRIAGE: ("早婚", "家中为其订婚", "早育"),
    Reason.RELIGION: ("受宗教影响不愿上学",),
    Reason.ILLNESS: ("长期患病在家", "因残无法正常到校", "身体原因休养"),
    Reason.OTHER: ("在家帮忙务农", "在家帮忙放牧", "随父母外出，去向不明", "家庭变故"),
}
REASON_PHRASE = {
    Reason.LEARNING: "孩子成绩差、不想读书",
    Reason.POVERTY: "家里困难",
    Reason.DISTANCE: "学校太远",
    Reason.WORK: "孩子已经在外打工",
    Reason.MARRIAGE: "孩子已经订婚",
    Reason.RELIGION: "宗教原因",
    Reason.ILLNESS: "孩子身体不好",
    Reason.OTHER: "家里需要人手",
}
PLACEMENT_NOTE = {
    Placement.REGULAR_CLASS: "回原班随班就读",
    Placement.SEPARATE_CLASS: "编入单独班级，补习后随班",
    Placement.VOCATIONAL: "进入普职融合班学习",
    Placement.SPECIAL_SCHOOL: "转入特殊教育学校",
    Placement.HOME_DELIVERED: "安排送教上门",
}
VISITOR_WEIGHTS = {
    VisitorRole.CLASS_TEACHER: 30,
    VisitorRole.PRINCIPAL: 20,
    VisitorRole.VILLAGE_CADRE: 25,
    VisitorRole.TOWNSHIP_OFFICIAL: 12,
    VisitorRole.EDUCATION_BUREAU: 8,
    VisitorRole.POLICE: 2,
    VisitorRole.OTHER: 3,
}
VISIT_COUNT_WEIGHTS = (8, 15, 20, 22, 17, 11, 7)  # 1 to 7 visits, about four on average
DISABILITY_WEIGHTS = {
    Disability.PHYSICAL: 30,
    Disability.INTELLECTUAL: 30,
    Disability.HEARING: 10,
    Disability.VISUAL: 8,
    Disability.SPEECH: 7,
    Disability.MENTAL: 7,
    Disability.MULTIPLE: 8,
}
CLOSURE_BY_REASON = {
    Reason.ILLNESS: (("unable_to_study", 70), ("other", 15), ("moved_away", 10), ("deceased", 5)),
    None: (("moved_away", 45), ("over_age", 25), ("other", 22), ("sports_school", 5), ("deceased", 3)),
}
RETENTION_DAYS = (30, 90)
WORKING_TIMES = tuple(f" {minute // 60:02d}:{minute % 60:02d}:00+08" for minute in range(8 * 60, 18 * 60))
ROLE_LINE = {
    ResponsibleRole.COUNTY_HEAD: Line.GOVERNMENT,
    ResponsibleRole.TOWNSHIP_HEAD: Line.GOVERNMENT,
    ResponsibleRole.VILLAGE_HEAD: Line.GOVERNMENT,
    ResponsibleRole.VILLAGE_GROUP: Line.GOVERNMENT,
    ResponsibleRole.BUREAU_HEAD: Line.EDUCATION,
    ResponsibleRole.PRINCIPAL: Line.EDUCATION,
    ResponsibleRole.CLASS_TEACHER: Line.EDUCATION,
    ResponsibleRole.PARENT: Line.EDUCATION,  # the family works with the school
}


def _flag(value: bool) -> str:
    return "t" if value else "f"


def _visitors_json(visitors: list[tuple[str, str]]) -> str:
    """The visitors as JSON; roles and generated names hold no character that JSON or COPY would escape."""
    return "[" + ", ".join(f'{{"role": "{role}", "name": "{name}"}}' for role, name in visitors) + "]"


def _note_for_visit(method: str, outcome: str, reason: str, names: str) -> str:
    phrase = REASON_PHRASE[reason]
    where = {
        VisitMethod.HOME_VISIT: f"{names}到学生家中走访",
        VisitMethod.PHONE: f"{names}电话联系家长",
        VisitMethod.SCHOOL_MEETING: f"{names}约家长和学生到学校面谈",
    }[method]
    if outcome == VisitOutcome.AGREED:
        return f"{where}，讲解义务教育法和学生资助政策，家长和学生同意返校。"
    if outcome == VisitOutcome.REFUSED:
        return f"{where}，家长以{phrase}为由不同意返校；已宣讲法定义务，约定再访。"
    if outcome == VisitOutcome.NOT_FOUND:
        return f"{where}，未见到学生和家长，邻居称全家外出；已请村委会核实去向。"
    return f"{where}，学生有返校意愿但仍有顾虑，班主任将继续谈心。"


# -------------------------------------------------------------------------------------------- writer


class LedgerWriter:
    """Writes every row of the episodes, case by case, in primary-key order."""

    def __init__(
        self,
        *,
        episodes: Episodes,
        counties: list[County],
        poor_strata: frozenset[int],
        closure_ids: dict[str, int],
        rng: random.Random,
        sang_recorder_id: int | None,
        key_offsets: dict[type, int],
    ):
        self.ep = episodes
        self.counties = counties
        self.poor_strata = poor_strata
        self.closure_ids = closure_ids
        self.rng = rng
        self.sang_recorder = str(sang_recorder_id) if sang_recorder_id else NULL
        self.offsets = key_offsets
        # The last primary key written, for the tables whose rows are numbered as they come.
        self.next_id = {model: key_offsets[model] for model in (CaseEvent, PersuasionVisit, ResponsiblePerson)}
        self.dates: dict[int, str] = {}
        self.used_ids: set[str] = set()
        self.grade_draw = _Weighted(range(1, 10), GRADE_WEIGHTS)
        self.visitor_draw = _Weighted(list(VISITOR_WEIGHTS), list(VISITOR_WEIGHTS.values()))
        self.count_draw = _Weighted(range(1, 8), VISIT_COUNT_WEIGHTS)
        self.disability_draw = _Weighted(list(DISABILITY_WEIGHTS), list(DISABILITY_WEIGHTS.values()))
        self.closure_draw = {
            key: _Weighted([closure_ids[code] for code, _ in pairs], [w for _, w in pairs])
            for key, pairs in CLOSURE_BY_REASON.items()
        }
        self.ethnic_draw: dict[str, _Weighted] = {}
        self.staff: dict[tuple, tuple[str, str]] = {}
        # How many school years separate a child's first and last episodes: their first grade leaves room
        # for that many years, so the grade of every episode stays within 1 to 9 and fits their age.
        first_year: dict[int, int] = {}
        self.span: dict[int, int] = {}
        for i in range(len(episodes)):
            year = school_year(datetime.date.fromordinal(episodes.dropout[i]))
            student = episodes.student[i]
            if episodes.previous[i] < 0:
                first_year[student] = year
            else:
                self.span[student] = max(self.span.get(student, 0), year - first_year[student])
        self.relapsing_students = set(self.span)
        # What a later episode needs from the first (kept only for children who relapse), and the school
        # of each episode that is followed by a relapse.
        self.student_info: dict[int, tuple] = {}
        self.case_school: dict[int, int] = {}
        self.sang_index = next(iter(episodes.fixed), None)
        if self.sang_index is not None:
            sang_county = counties[episodes.county[self.sang_index]]
            self.used_ids.add(id_number(sang_county.code, sang.BIRTH_DATE, sang.ID_SEQUENCE))

    # --- small helpers

    def iso(self, ordinal: int) -> str:
        text = self.dates.get(ordinal)
        if text is None:
            text = self.dates[ordinal] = datetime.date.fromordinal(ordinal).isoformat()
        return text

    def stamp(self, ordinal: int, salt: int) -> str:
        """A time in working hours (Beijing time) on the day, varied by `salt`."""
        return self.iso(ordinal) + WORKING_TIMES[(salt * 7919) % len(WORKING_TIMES)]

    def ethnicity(self, county: County) -> str:
        draw = self.ethnic_draw.get(county.code)
        if draw is None:
            mix = ethnic_mix(county.code)
            draw = self.ethnic_draw[county.code] = _Weighted([c for c, _ in mix], [w for _, w in mix])
        return draw.draw(self.rng)

    def person(self, key: tuple, county: County) -> tuple[str, str]:
        """A named local official, teacher or cadre, the same one every time the key comes back."""
        return local_person(self.rng, self.staff, key, lambda: self.ethnicity(county))

    # --- the whole ledger

    def write(self, copier: Copier, progress: Progress) -> None:
        total = len(self.ep)
        for start in range(0, total, CHUNK_CASES):
            for index in range(start, min(start + CHUNK_CASES, total)):
                self.case(copier, index)
            copier.flush()
            progress("cases", min(start + CHUNK_CASES, total), total)

    def case(self, copier: Copier, i: int) -> None:
        ep, rng = self.ep, self.rng
        county = self.counties[ep.county[i]]
        places = county.places
        case_id = self.offsets[DropoutCase] + i + 1
        student_id = self.offsets[Student] + ep.student[i] + 1
        d0 = ep.dropout[i]
        reason = ep.reason[i]
        is_sang = i == self.sang_index

        if ep.previous[i] < 0:
            info, grade, school_pos = self.student(copier, i, county, student_id, is_sang)
        else:
            info = self.student_info[ep.student[i]]
            first_grade, first_dropout = info[0], info[1]
            years = school_year(datetime.date.fromordinal(d0)) - school_year(datetime.date.fromordinal(first_dropout))
            grade = first_grade + years
            school_pos = self.case_school[ep.previous[i]]
            low, high = places.schools[school_pos].grades
            if not low <= grade <= high:
                school_pos = pick(rng, places.by_grade[grade])
        if ep.relapsed_on[i]:
            self.case_school[i] = school_pos
        _grade0, _d0, township, village, group_no, guardian, guardian_phone, disabled = info
        school_id = county.school_ids[school_pos]

        # The story: events and visits.
        struck, outcome = ep.struck[i], ep.outcome[i]
        end = struck if outcome != OPEN else LEDGER_END.toordinal()
        events: list[tuple[str, str, int, str, str, str]] = []
        events.append(("", Status.DROPPED_OUT, d0, "", NULL, self.dropout_note(i, reason, is_sang)))
        visits = self.visits(i, d0, end, outcome, reason, county, school_pos, grade, township, village, is_sang)
        if visits:
            events.append(
                (Status.DROPPED_OUT, Status.PERSUADING, visits[0][0], "", NULL, "首次劝返走访，进入劝返程序。")
            )
        placement, closure = "", NULL
        if outcome == RETURNED:
            placement = self.placement(grade, disabled, is_sang)
            note = sang.RETURN_NOTE if is_sang else f"经劝返，学生已返校，{PLACEMENT_NOTE[placement]}。"
            events.append((events[-1][1], Status.RETURNED, struck, placement, NULL, note))
            relapse = ep.relapsed_on[i]
            for position, days in enumerate(RETENTION_DAYS):
                check = struck + days
                if check > LEDGER_END.toordinal() or (relapse and check >= relapse):
                    break
                note = sang.RETAINED_NOTES[position] if is_sang else f"返校{days}天回访：学生在校正常学习。"
                # Retained once the last check is done; an earlier check keeps the status (students.services).
                to_status = Status.RETAINED if position == len(RETENTION_DAYS) - 1 else events[-1][1]
                events.append((events[-1][1], to_status, check, "", NULL, note))
            if relapse:
                events.append(
                    (events[-1][1], Status.RELAPSED, relapse, "", NULL, "学生再次辍学，已重新登记为新的辍学个案。")
                )
        elif outcome == CLOSED:
            closure_draw = self.closure_draw[Reason.ILLNESS if reason == Reason.ILLNESS else None]
            closure = str(closure_draw.draw(rng))
            events.append((events[-1][1], Status.CLOSED, struck, "", closure, "经核实，按规定销号。"))

        recorder = self.sang_recorder if is_sang else NULL
        stamps = [self.stamp(event[2], case_id + n) for n, event in enumerate(events)]
        for (from_status, to_status, day, event_placement, event_closure, note), stamp in zip(
            events, stamps, strict=True
        ):
            event_id = self.next_id[CaseEvent] = self.next_id[CaseEvent] + 1
            copier.add(
                CaseEvent,
                f"{event_id}\t{case_id}\t{from_status}\t{to_status}\t{self.iso(day)}\t{stamp}\t{recorder}\t"
                f"{event_placement}\t{event_closure}\t{note}",
            )
        for visit_day, visitors, method, visit_outcome, notes, follow_up in visits:
            visit_id = self.next_id[PersuasionVisit] = self.next_id[PersuasionVisit] + 1
            copier.add(
                PersuasionVisit,
                f"{visit_id}\t{case_id}\t{self.iso(visit_day)}\t{visitors}\t{method}\t{visit_outcome}\t{notes}\t"
                f"{self.iso(follow_up) if follow_up else NULL}\t{self.stamp(visit_day, visit_id)}\t{recorder}",
            )
        self.responsible_persons(copier, case_id, county, school_id, grade, township, village, group_no, guardian,
                                 guardian_phone)  # fmt: skip

        previous = str(self.offsets[DropoutCase] + ep.previous[i] + 1) if ep.previous[i] >= 0 else NULL
        detail = sang.REASON_DETAIL if is_sang else pick(rng, REASON_DETAIL[reason])
        status = events[-1][1]
        struck_text = self.iso(struck) if outcome != OPEN else NULL
        returned_text = struck_text if outcome == RETURNED else NULL
        copier.add(
            DropoutCase,
            f"{case_id}\t{student_id}\t{county.id}\t{school_id}\t{grade}\t{self.iso(d0)}\t{reason}\t{detail}\t"
            f"{status}\t{struck_text}\t{returned_text}\t{placement}\t{closure}\t{previous}\t{len(events)}\t"
            f"{stamps[0]}\t{stamps[-1]}",
        )

    def dropout_note(self, i: int, reason: str, is_sang: bool) -> str:
        if is_sang:
            return sang.DROPOUT_NOTE
        if self.ep.previous[i] >= 0:
            return "返校后再次辍学，重新登记。"
        return "学生连续多日未到校，班主任核实后登记辍学。"

    def placement(self, grade: int, disabled: bool, is_sang: bool) -> str:
        if is_sang:
            return sang.PLACEMENT
        roll = self.rng.random()
        if disabled:
            if roll < 0.35:
                return Placement.HOME_DELIVERED
            if roll < 0.65:
                return Placement.SPECIAL_SCHOOL
            return Placement.REGULAR_CLASS
        if grade >= 8 and roll < 0.12:
            return Placement.VOCATIONAL
        if roll < 0.9:
            return Placement.REGULAR_CLASS
        return Placement.SEPARATE_CLASS

    # --- the child

    def student(self, copier: Copier, i: int, county: County, student_id: int, is_sang: bool):
        """Write the child's row; return what their cases need and the school of this first case."""
        ep, rng = self.ep, self.rng
        places = county.places
        d0 = datetime.date.fromordinal(ep.dropout[i])
        poor = ep.stratum[i] in self.poor_strata
        if is_sang:
            gender, ethnicity, grade, birth = sang.GENDER, sang.ETHNICITY, sang.GRADE, sang.BIRTH_DATE
            number = id_number(county.code, birth, sang.ID_SEQUENCE)
            name = sang.NAME
            township, village, group_no = sang.TOWNSHIP, sang.VILLAGE, 2
            guardian, guardian_phone = sang.GUARDIAN, sang.GUARDIAN_PHONE
            left_behind, migrant, orphan, unsupported, disability = LeftBehind.NO, False, False, False, ""
            school_pos = 0
        else:
            gender = "M" if rng.random() < 0.55 else "F"
            ethnicity = self.ethnicity(county)
            grade = self.grade_draw.draw(rng)
            while grade + self.span.get(ep.student[i], 0) > 9:
                grade = self.grade_draw.draw(rng)
            low, high = birth_window(grade, d0, 1 if rng.random() < 0.2 else 0)
            birth = low + datetime.timedelta(days=int(rng.random() * ((high - low).days + 1)))
            parity = 1 if gender == "M" else 0
            while True:
                # The sequence code's parity is the gender: odd for boys, even for girls.
                number = id_number(county.code, birth, 2 * int(rng.random() * 499) + (1 if parity else 2))
                if number not in self.used_ids:
                    break
            name = person_name(rng, gender, ethnicity)
            township = pick(rng, places.townships)
            village = pick(rng, places.villages[township])
            group_no = 1 + int(rng.random() * 9)
            roll = rng.random()
            left_behind = (
                LeftBehind.BOTH_PARENTS if roll < 0.12 else LeftBehind.ONE_PARENT if roll < 0.3 else LeftBehind.NO
            )
            migrant = rng.random() < (0.12 if county.kind == "市辖区" else 0.02)
            orphan = rng.random() < 0.01
            unsupported = not orphan and rng.random() < 0.02
            disabled = rng.random() < (0.45 if ep.reason[i] == Reason.ILLNESS else 0.012)
            disability = self.disability_draw.draw(rng) if disabled else ""
            family = family_name(name, ethnicity)
            if orphan or unsupported or left_behind == LeftBehind.BOTH_PARENTS:
                guardian = person_name(rng, "M" if rng.random() < 0.5 else "F", ethnicity)  # a grandparent or relative
            else:
                guardian = person_name(rng, "M" if rng.random() < 0.75 else "F", ethnicity, surname=family)
            guardian_phone = phone_number(rng)
            if disability and places.special and rng.random() < 0.4:
                school_pos = pick(rng, places.special)
            else:
                school_pos = pick(rng, places.by_grade[grade])
        self.used_ids.add(number)
        registry = "G" + number
        hukou = f"{county.province}{county.prefecture}{county.name}"
        address = f"{county.name}{township}{village}{group_no}组"
        created = self.stamp(ep.dropout[i], student_id)
        copier.add(
            Student,
            f"{student_id}\t{name}\t{gender}\t{ethnicity}\t{birth.isoformat()}\t{number}\t{registry}\t{hukou}\t"
            f"{address}\t{guardian}\t{guardian_phone}\t{_flag(poor)}\t{left_behind}\t{_flag(migrant)}\t"
            f"{_flag(orphan)}\t{_flag(unsupported)}\t{disability}\t{created}\t{NULL}",
        )
        info = (grade, ep.dropout[i], township, village, group_no, guardian, guardian_phone, bool(disability))
        if ep.student[i] in self.relapsing_students:
            self.student_info[ep.student[i]] = info
        return info, grade, school_pos

    # --- visits and responsible persons

    def visits(self, i, d0, end, outcome, reason, county, school_pos, grade, township, village, is_sang):
        """(date, visitors JSON, method, outcome, notes, next follow-up) for each visit, in date order."""
        rng = self.rng
        school_id = county.school_ids[school_pos]
        code = county.code

        def name_of(role: str) -> str:
            if role == VisitorRole.PRINCIPAL:
                key = ("principal", school_id)
            elif role == VisitorRole.CLASS_TEACHER:
                key = ("teacher", school_id, grade)
            elif role == VisitorRole.VILLAGE_CADRE:
                key = ("village", code, township, village)
            elif role == VisitorRole.TOWNSHIP_OFFICIAL:
                key = ("township", code, township)
            elif role == VisitorRole.EDUCATION_BUREAU:
                key = ("bureau", code, int(rng.random() * 3))
            elif role == VisitorRole.POLICE:
                key = ("police", code, township)
            else:
                key = ("volunteer", code, township)
            return self.person(key, county)[0]

        if is_sang:
            planned = [(day.toordinal(), roles, outcome_, notes) for day, roles, outcome_, notes in sang.VISITS]
            rows = []
            for position, (day, roles, visit_outcome, notes) in enumerate(planned):
                visitors = [(role, name_of(role)) for role in roles]
                follow_up = planned[position + 1][0] if position + 1 < len(planned) else None
                rows.append((day, _visitors_json(visitors), sang.VISIT_METHOD, visit_outcome, notes, follow_up))
            return rows

        first = d0 + 1 + int(rng.random() * 14)
        if outcome != OPEN:
            first = min(first, end)
        if first > end:
            return []
        count = min(self.count_draw.draw(rng), 1 + (end - first) // 3)
        days = [first]
        if count > 1:
            days += sorted(rng.sample(range(first + 1, end + 1), count - 1))
        if outcome == RETURNED:
            days[-1] = max(days[-1], end - int(rng.random() * 6))
        rows = []
        for position, day in enumerate(days):
            last = position == len(days) - 1
            if last and outcome == RETURNED:
                visit_outcome = VisitOutcome.AGREED
            elif last and outcome == CLOSED:
                visit_outcome = VisitOutcome.NOT_FOUND if rng.random() < 0.5 else VisitOutcome.OTHER
            else:
                roll = rng.random()
                visit_outcome = (
                    VisitOutcome.REFUSED
                    if roll < 0.5
                    else VisitOutcome.OTHER
                    if roll < 0.75
                    else VisitOutcome.NOT_FOUND
                    if roll < 0.85
                    else VisitOutcome.AGREED
                )
            roles = []
            for _ in range(1 + int(rng.random() * 3)):
                role = self.visitor_draw.draw(rng)
                if reason == Reason.MARRIAGE and rng.random() < 0.2:
                    role = VisitorRole.POLICE
                if role not in roles:
                    roles.append(role)
            roll = rng.random()
            method = (
                VisitMethod.HOME_VISIT
                if roll < 0.62
                else VisitMethod.PHONE
                if roll < 0.85
                else VisitMethod.SCHOOL_MEETING
            )
            if visit_outcome == VisitOutcome.NOT_FOUND and method == VisitMethod.SCHOOL_MEETING:
                method = VisitMethod.HOME_VISIT
            visitors = [(role, name_of(role)) for role in roles]
            notes = _note_for_visit(method, visit_outcome, reason, "、".join(name for _, name in visitors))
            if not last:
                follow_up = days[position + 1]
            elif outcome == OPEN:
                follow_up = day + 7 + int(rng.random() * 24)
            else:
                follow_up = None
            rows.append((day, _visitors_json(visitors), method, visit_outcome, notes, follow_up))
        return rows

    def responsible_persons(
        self, copier, case_id, county, school_id, grade, township, village, group_no, guardian, guardian_phone
    ):
        people = [
            (ResponsibleRole.COUNTY_HEAD, self.person(("county_head", county.code), county)),
            (ResponsibleRole.TOWNSHIP_HEAD, self.person(("township", county.code, township), county)),
            (ResponsibleRole.VILLAGE_HEAD, self.person(("village", county.code, township, village), county)),
            (ResponsibleRole.BUREAU_HEAD, self.person(("bureau_head", county.code), county)),
            (ResponsibleRole.PRINCIPAL, self.person(("principal", school_id), county)),
            (ResponsibleRole.CLASS_TEACHER, self.person(("teacher", school_id, grade), county)),
            (ResponsibleRole.PARENT, (guardian, guardian_phone)),
        ]
        if group_no % 2:
            people.append(
                (
                    ResponsibleRole.VILLAGE_GROUP,
                    self.person(("group", county.code, township, village, group_no), county),
                )
            )
        for role, (name, phone) in people:
            person_id = self.next_id[ResponsiblePerson] = self.next_id[ResponsiblePerson] + 1
            copier.add(ResponsiblePerson, f"{person_id}\t{case_id}\t{ROLE_LINE[role]}\t{role}\t{name}\t{phone}")


def school_rows(counties: list[County], existing: dict[str, int], first_id: int) -> list[str]:
    """COPY lines for the schools not yet in the database; fills each county's school_ids."""
    lines = []
    next_id = first_id
    for county in counties:
        county.school_ids = []
        for school in county.places.schools:
            known = existing.get(school.code)
            if known is not None:
                county.school_ids.append(known)
                continue
            county.school_ids.append(next_id)
            lines.append(
                f"{next_id}\t{school.code}\t{school.name}\t{county.id}\t{school.township}\t{school.kind}\t{NULL}"
            )
            next_id += 1
    return lines


SCHOOL_COLUMNS = ("id", "code", "name", "county_id", "township", "kind", "counterpart_id")
