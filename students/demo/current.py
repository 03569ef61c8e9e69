"""The demo ledger's current working set: a few dozen cases in the months before an anchor date (today).

The calibrated history stops at LEDGER_END, so on its own it leaves almost nothing open today: the demo
county official and principal would have no case to work on and the county's work lists would be empty.
This set puts cases in Rangtang County (some at Shangduke Township Primary School) and in a couple of
other Aba or Sichuan counties, each in a known state: just dropped out with no visit yet, being persuaded
but overdue for a visit or past its follow-up date, returned this month, returned 30 or 90 days ago and
due a retention check, and one child who dropped out again.

Every case begins after LEDGER_END, so no figure on or before LEDGER_END changes. They are few, so they
are written through students.services, as the county official or the principal would have written
them, and obey every rule the services check. The same (seed, anchor date) gives the same rows.
"""

import datetime
import enum
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from counties.models import Division, School, SchoolKind, User
from students import services
from students.choices import LeftBehind, Placement, Reason, ResponsibleRole, Status, VisitMethod, VisitorRole
from students.choices import VisitOutcome as Outcome
from students.models import ClosureReason, DropoutCase, ResponsiblePerson, Student

from .calibration import LEDGER_END
from .episodes import _Weighted
from .handovers import handover_into_rangtang
from .ledger import GRADE_WEIGHTS, PLACEMENT_NOTE, REASON_DETAIL, ROLE_LINE, VISITOR_WEIGHTS, _note_for_visit
from .people import birth_window, ethnic_mix, id_number, local_person, person_name, phone_number, school_year
from .places import RANGTANG, SHANGDUKE_SCHOOL, SHANGDUKE_VILLAGE, _place_names, _syllables
from .users import DEMO_USERS, PRINCIPAL_OF_SHANGDUKE

# Every case of the working set begins within this many days before the anchor date.
WINDOW_DAYS = 150
# The earliest anchor date: the whole window lies after the calibrated history.
EARLIEST_ANCHOR = LEDGER_END + datetime.timedelta(days=WINDOW_DAYS + 1)
# How many other counties of Aba (or, failing that, of Sichuan) get a few cases.
OTHER_COUNTIES = 2
ABA, SICHUAN = "5132", "51"

GRADES = {
    SchoolKind.PRIMARY: (1, 6),
    SchoolKind.TEACHING_POINT: (1, 3),
    SchoolKind.JUNIOR: (7, 9),
    SchoolKind.NINE_YEAR: (1, 9),
}
# Reasons for dropping out in the pastoral highlands: herding and distance first.
REASON_WEIGHTS = {
    Reason.OTHER: 30,
    Reason.DISTANCE: 18,
    Reason.LEARNING: 20,
    Reason.WORK: 12,
    Reason.POVERTY: 8,
    Reason.MARRIAGE: 6,
    Reason.ILLNESS: 4,
    Reason.RELIGION: 2,
}
DROPOUT_NOTE = "学生连续多日未到校，班主任核实后登记辍学。"
RELAPSE_NOTE = "学生返校后再次辍学，重新登记。"
CLOSE_NOTE = "经核实，学生已随家长迁出本县，按规定销号。"


class Kind(enum.StrEnum):
    """Where a case of the working set stands on the anchor date."""

    NEW = "new"  # dropped out in the last days, nobody has visited yet
    UNVISITED = "unvisited"  # dropped out more than 30 days ago, never visited: overdue
    OVERDUE = "overdue"  # being persuaded, last visit more than 30 days ago
    FOLLOW_UP_PASSED = "follow_up_passed"  # being persuaded, the planned follow-up date has passed
    PERSUADING = "persuading"  # being persuaded, visited in the last week, follow-up due today
    RETURNED_THIS_MONTH = "returned_this_month"
    RETENTION_30 = "retention_30"  # returned 30+ days ago, no retention check yet
    RETENTION_90 = "retention_90"  # returned 90+ days ago, checked at 30 days, not yet at 90
    RETAINED = "retained"  # returned, both retention checks done
    CLOSED = "closed"  # moved away to another county
    RELAPSE = "relapse"  # returned, checked at 30 days, dropped out again: a second, open case


# (kind, children) for each place; RELAPSE gives a child two cases.
SHANGDUKE_PLAN = (
    (Kind.NEW, 2),
    (Kind.OVERDUE, 1),
    (Kind.FOLLOW_UP_PASSED, 1),
    (Kind.PERSUADING, 1),
    (Kind.RETURNED_THIS_MONTH, 1),
    (Kind.RETENTION_30, 1),
    (Kind.RELAPSE, 1),
)
RANGTANG_PLAN = (
    (Kind.NEW, 4),
    (Kind.UNVISITED, 2),
    (Kind.OVERDUE, 6),
    (Kind.FOLLOW_UP_PASSED, 5),
    (Kind.PERSUADING, 4),
    (Kind.RETURNED_THIS_MONTH, 4),
    (Kind.RETENTION_30, 3),
    (Kind.RETENTION_90, 3),
    (Kind.RETAINED, 1),
    (Kind.CLOSED, 1),
)
OTHER_COUNTY_PLAN = (
    (Kind.NEW, 1),
    (Kind.OVERDUE, 1),
    (Kind.RETURNED_THIS_MONTH, 1),
    (Kind.RETENTION_30, 1),
)


class CurrentSetError(Exception):
    pass


def anchor_problems(today: datetime.date) -> list[str]:
    """Why the working set cannot be anchored on `today` (empty when it can)."""
    if today > timezone.localdate():
        return [_("The anchor date %(date)s is in the future.") % {"date": today}]
    if today < EARLIEST_ANCHOR:
        return [
            _("The anchor date must be %(date)s or later, after the calibrated history.") % {"date": EARLIEST_ANCHOR}
        ]
    return []


def current_set_present() -> bool:
    """Whether the ledger already has cases after the calibrated history (a working set, or real work)."""
    return DropoutCase.objects.filter(dropout_date__gt=LEDGER_END).exists()


@dataclass
class Place:
    """A county of the working set, what is known of its people, and who records its cases."""

    county: Division
    schools: list[School]
    user: User | None
    staff: dict[tuple, tuple[str, str]] = field(default_factory=dict)
    villages: dict[str, list[str]] = field(default_factory=dict)
    used_ids: set[str] = field(default_factory=set)


@dataclass
class Child:
    student: services.StudentData
    township: str
    village: str
    group_no: int


class WorkingSet:
    """Writes the working set for one anchor date; `rng` is the only source of chance."""

    def __init__(self, today: datetime.date, rng: random.Random):
        self.today = today
        self.rng = rng
        self.grade_weights = dict(zip(range(1, 10), GRADE_WEIGHTS, strict=True))
        self.reason_draw = _Weighted(list(REASON_WEIGHTS), list(REASON_WEIGHTS.values()))
        self.visitor_draw = _Weighted(list(VISITOR_WEIGHTS), list(VISITOR_WEIGHTS.values()))
        self.moved_away = ClosureReason.objects.get(code="moved_away")
        self.cases: list[DropoutCase] = []

    # --- dates

    def ago(self, low: int, high: int) -> datetime.date:
        return self.today - datetime.timedelta(days=self.rng.randint(low, high))

    @staticmethod
    def plus(day: datetime.date, days: int) -> datetime.date:
        return day + datetime.timedelta(days=days)

    # --- places and people

    def place(self, county: Division, user: User | None) -> Place:
        schools = list(
            School.objects.filter(county=county, kind__in=list(GRADES)).order_by("code"),
        )
        place = Place(county=county, schools=schools, user=user)
        # The people the calibrated history already names in the county: the same ones come back.
        pattern = re.compile(rf"^{re.escape(county.name)}(.+?[乡镇])(.+?村)(\d+)组$")
        rows = (
            ResponsiblePerson.objects.filter(case__county=county)
            .order_by("case_id", "role")
            .values_list("role", "name", "phone", "case__school_id", "case__grade", "case__student__address")
        )
        for role, name, phone, school_id, grade, address in rows:
            found = pattern.match(address)
            township, village = (found.group(1), found.group(2)) if found else ("", "")
            keys = {
                ResponsibleRole.COUNTY_HEAD: ("county_head",),
                ResponsibleRole.BUREAU_HEAD: ("bureau_head",),
                ResponsibleRole.PRINCIPAL: ("principal", school_id),
                ResponsibleRole.CLASS_TEACHER: ("teacher", school_id, grade),
            }
            if found:
                keys[ResponsibleRole.TOWNSHIP_HEAD] = ("township", township)
                keys[ResponsibleRole.VILLAGE_HEAD] = ("village", township, village)
            key = keys.get(role)
            if key is not None and key not in place.staff:
                place.staff[key] = (name, phone)
            if found and village not in place.villages.setdefault(township, []):
                place.villages[township].append(village)
        for school in schools:
            if school.name == SHANGDUKE_SCHOOL and county.code == RANGTANG:
                phone = place.staff.get(("principal", school.pk), ("", phone_number(self.rng)))[1]
                place.staff[("principal", school.pk)] = (PRINCIPAL_OF_SHANGDUKE, phone)
                if SHANGDUKE_VILLAGE not in place.villages.setdefault(school.township, []):
                    place.villages[school.township].insert(0, SHANGDUKE_VILLAGE)
        place.used_ids = set(
            Student.objects.filter(id_number__startswith=county.code).values_list("id_number", flat=True)
        )
        return place

    def person(self, place: Place, key: tuple) -> tuple[str, str]:
        """The person for this key: the one the history names, or a new one kept for the next time."""
        return local_person(self.rng, place.staff, key, lambda: self.ethnicity(place))

    def ethnicity(self, place: Place) -> str:
        mix = ethnic_mix(place.county.code)
        return _Weighted([code for code, _ in mix], [weight for _, weight in mix]).draw(self.rng)

    def village(self, place: Place, township: str) -> str:
        known = place.villages.setdefault(township, [])
        if len(known) < 3:
            taken = {name for names in place.villages.values() for name in names}
            known += _place_names(self.rng, _syllables(place.county.code), 3 - len(known), "村", taken)
        return known[self.rng.randrange(len(known))]

    def school_and_grade(self, schools: list[School], low_grades: bool = False) -> tuple[School, int]:
        """A school and a grade it teaches, grades weighted as dropouts were (junior secondary most)."""
        # With `low_grades`, the school also teaches the grade above: room for a relapse in the next school year.
        pairs = [
            (school, grade)
            for school in schools
            for grade in range(GRADES[school.kind][0], GRADES[school.kind][1] + (0 if low_grades else 1))
        ]
        draw = _Weighted(pairs, [self.grade_weights[grade] for _, grade in pairs])
        return draw.draw(self.rng)

    def child(self, place: Place, school: School, grade: int, dropout: datetime.date, reason: str) -> Child:
        rng = self.rng
        gender = "M" if rng.random() < 0.55 else "F"
        ethnicity = self.ethnicity(place)
        low, high = birth_window(grade, dropout, 1 if rng.random() < 0.2 else 0)
        birth = low + datetime.timedelta(days=rng.randrange((high - low).days + 1))
        while True:
            # The sequence code's parity is the gender: odd for boys, even for girls.
            number = id_number(place.county.code, birth, 2 * rng.randrange(499) + (1 if gender == "M" else 2))
            if number not in place.used_ids:
                place.used_ids.add(number)
                break
        township = school.township
        village = self.village(place, township)
        group_no = 1 + rng.randrange(9)
        roll = rng.random()
        left_behind = LeftBehind.BOTH_PARENTS if roll < 0.12 else LeftBehind.ONE_PARENT if roll < 0.3 else LeftBehind.NO
        county = place.county
        student = services.StudentData(
            name=person_name(rng, gender, ethnicity),
            gender=gender,
            birth_date=birth,
            id_number=number,
            registry_number="G" + number,
            ethnicity=ethnicity,
            hukou_place=f"{county.province.name}{county.prefecture.name if county.prefecture else ''}{county.name}",
            address=f"{county.name}{township}{village}{group_no}组",
            guardian_name=person_name(rng, "M" if rng.random() < 0.75 else "F", ethnicity),
            guardian_phone=phone_number(rng),
            left_behind=left_behind,
            disability="physical" if reason == Reason.ILLNESS and rng.random() < 0.3 else "",
        )
        return Child(student, township, village, group_no)

    # --- one child's story

    def write_place(self, place: Place, plan, schools: list[School]) -> None:
        for kind, children in plan:
            for _n in range(children):
                self.story(place, kind, schools)

    def story(self, place: Place, kind: Kind, schools: list[School]) -> None:
        rng, ago, plus = self.rng, self.ago, self.plus
        reason = self.reason_draw.draw(rng)
        school, grade = self.school_and_grade(schools, low_grades=kind == Kind.RELAPSE)
        open_outcomes = (Outcome.REFUSED, Outcome.OTHER, Outcome.NOT_FOUND)
        visits: list[tuple[datetime.date, str, datetime.date | None]] = []  # (day, outcome, next follow-up)
        returned = closed = relapse = None
        checks: list[datetime.date] = []

        if kind == Kind.NEW:
            dropout = ago(0, 12)
        elif kind == Kind.UNVISITED:
            dropout = ago(33, 50)
        elif kind == Kind.OVERDUE:
            dropout = ago(70, 140)
            last = ago(31, 55)
            visits = self.visit_plan(dropout, last, rng.choice(open_outcomes), plus(last, rng.randint(7, 14)))
        elif kind == Kind.FOLLOW_UP_PASSED:
            dropout = ago(45, 100)
            last = ago(10, 25)
            follow_up = plus(last, rng.randint(3, (self.today - last).days - 1))
            visits = self.visit_plan(dropout, last, rng.choice(open_outcomes), follow_up)
        elif kind == Kind.PERSUADING:
            dropout = ago(20, 60)
            last = ago(1, 7)
            visits = self.visit_plan(dropout, last, rng.choice((*open_outcomes, Outcome.AGREED)), self.today)
        elif kind == Kind.RETURNED_THIS_MONTH:
            returned = ago(0, min(self.today.day - 1, 29))
            dropout = plus(returned, -rng.randint(30, 100))
        elif kind == Kind.RETENTION_30:
            returned = ago(31, 85)
            dropout = plus(returned, -rng.randint(30, 60))
        elif kind == Kind.RETENTION_90:
            returned = ago(91, 110)
            dropout = plus(returned, -rng.randint(20, 35))
            checks = [plus(returned, 30)]
        elif kind == Kind.RETAINED:
            returned = ago(120, 130)
            dropout = plus(returned, -rng.randint(15, 20))
            checks = [plus(returned, 30), plus(returned, 90)]
        elif kind == Kind.CLOSED:
            dropout = ago(60, 120)
            last = plus(dropout, rng.randint(20, 40))
            visits = self.visit_plan(dropout, last, Outcome.NOT_FOUND, None)
            closed = plus(last, rng.randint(3, 10))
        else:  # Kind.RELAPSE
            dropout = ago(140, 150)
            returned = ago(105, 115)
            checks = [plus(returned, 30)]
            relapse = plus(returned, rng.randint(60, 75))
        if returned is not None:
            last = plus(returned, -rng.randint(0, min(5, (returned - dropout).days - 2)))
            visits = self.visit_plan(dropout, last, Outcome.AGREED, None)

        child = self.child(place, school, grade, dropout, reason)
        user = place.user if place.user is None or place.user.school_id in (None, school.pk) else None
        case = services.case_open(
            student=child.student,
            school=school,
            grade=grade,
            dropout_date=dropout,
            reason=reason,
            reason_detail=REASON_DETAIL[reason][rng.randrange(len(REASON_DETAIL[reason]))],
            user=user,
            note=DROPOUT_NOTE,
        )
        self.responsible_persons(place, case, child, user)
        self.visits(place, case, child, visits, user)
        if returned is not None:
            placement = Placement.REGULAR_CLASS if rng.random() < 0.85 else Placement.SEPARATE_CLASS
            services.case_mark_returned(
                case=case,
                returned_on=returned,
                placement=placement,
                user=user,
                note=f"经劝返，学生已返校，{PLACEMENT_NOTE[placement]}。",
            )
        for check in checks:
            days = (check - returned).days
            services.case_record_retention_check(
                case=case, checked_on=check, user=user, note=f"返校{days}天回访：学生在校正常学习。"
            )
        if closed is not None:
            services.case_change_status(
                case=case,
                to_status=Status.CLOSED,
                effective_date=closed,
                closure_reason=self.moved_away,
                user=user,
                note=CLOSE_NOTE,
            )
        self.cases.append(case)
        if relapse is not None:
            again = services.case_reopen_on_relapse(
                case=case,
                dropout_date=relapse,
                reason=reason,
                grade=grade + school_year(relapse) - school_year(dropout),
                user=user,
                note=RELAPSE_NOTE,
            )
            self.responsible_persons(place, again, child, user)
            visit = plus(relapse, rng.randint(3, 8))
            self.visits(place, again, child, [(visit, Outcome.REFUSED, plus(visit, 14))], user)
            self.cases.append(again)

    def visit_plan(self, dropout: datetime.date, last: datetime.date, outcome: str, follow_up: datetime.date | None):
        """Visits from the day after the dropout to `last`, which ends with `outcome` and plans `follow_up`.

        Each earlier visit plans the next one for the day it then happened.
        """
        rng = self.rng
        first = min(self.plus(dropout, 1), last)
        span = (last - first).days
        between = rng.sample(range(1, span), min(rng.randrange(3), max(0, span - 1)))
        days = sorted({first, last, *(self.plus(first, n) for n in between)})
        plan = [
            (day, rng.choice((Outcome.REFUSED, Outcome.REFUSED, Outcome.OTHER)), later)
            for day, later in zip(days, days[1:], strict=False)
        ]
        plan.append((last, outcome, follow_up))
        return plan

    def visits(self, place: Place, case: DropoutCase, child: Child, plan, user) -> None:
        rng = self.rng
        for day, outcome, follow_up in plan:
            roles = [VisitorRole.CLASS_TEACHER if rng.random() < 0.5 else VisitorRole.PRINCIPAL]
            for _n in range(rng.randrange(3)):
                role = self.visitor_draw.draw(rng)
                if role not in roles:
                    roles.append(role)
            if outcome == Outcome.NOT_FOUND:
                method = VisitMethod.HOME_VISIT
            else:
                roll = rng.random()
                method = (
                    VisitMethod.HOME_VISIT
                    if roll < 0.65
                    else VisitMethod.PHONE
                    if roll < 0.88
                    else VisitMethod.SCHOOL_MEETING
                )
            visitors = [{"role": role, "name": self.visitor(place, case, child, role)} for role in roles]
            services.visit_record(
                case=case,
                visit_date=day,
                visitors=visitors,
                method=method,
                outcome=outcome,
                notes=_note_for_visit(method, outcome, case.reason, "、".join(v["name"] for v in visitors)),
                next_follow_up=follow_up,
                user=user,
            )
            case.refresh_from_db()

    def visitor(self, place: Place, case: DropoutCase, child: Child, role: str) -> str:
        key = {
            VisitorRole.PRINCIPAL: ("principal", case.school_id),
            VisitorRole.CLASS_TEACHER: ("teacher", case.school_id, case.grade),
            VisitorRole.VILLAGE_CADRE: ("village", child.township, child.village),
            VisitorRole.TOWNSHIP_OFFICIAL: ("township", child.township),
            VisitorRole.EDUCATION_BUREAU: ("bureau", 0),
            VisitorRole.POLICE: ("police", child.township),
        }.get(role, ("volunteer", child.township))
        return self.person(place, key)[0]

    def responsible_persons(self, place: Place, case: DropoutCase, child: Child, user) -> None:
        keys = [
            (ResponsibleRole.COUNTY_HEAD, ("county_head",)),
            (ResponsibleRole.TOWNSHIP_HEAD, ("township", child.township)),
            (ResponsibleRole.VILLAGE_HEAD, ("village", child.township, child.village)),
            (ResponsibleRole.BUREAU_HEAD, ("bureau_head",)),
            (ResponsibleRole.PRINCIPAL, ("principal", case.school_id)),
            (ResponsibleRole.CLASS_TEACHER, ("teacher", case.school_id, case.grade)),
        ]
        persons = [
            {"line": ROLE_LINE[role], "role": role, "name": name, "phone": phone}
            for role, key in keys
            for name, phone in [self.person(place, key)]
        ]
        parent = child.student
        persons.append(
            {
                "line": ROLE_LINE[ResponsibleRole.PARENT],
                "role": ResponsibleRole.PARENT,
                "name": parent.guardian_name,
                "phone": parent.guardian_phone,
            }
        )
        services.case_set_responsible_persons(case=case, persons=persons, user=user)


def _demo_user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).select_related("school", "division").first()


def _other_counties(rng: random.Random) -> list[Division]:
    """Other counties of Aba, then of Sichuan, that have schools in the ledger."""
    with_schools = School.objects.filter(kind__in=list(GRADES)).values("county")
    candidates = (
        Division.objects.counties()
        .filter(code__startswith=SICHUAN, pk__in=with_schools)
        .exclude(code=RANGTANG)
        .select_related("province", "prefecture")
        .order_by("code")
    )
    aba = [county for county in candidates if county.code.startswith(ABA)]
    rest = [county for county in candidates if not county.code.startswith(ABA)]
    chosen = rng.sample(aba, min(OTHER_COUNTIES, len(aba)))
    chosen += rng.sample(rest, min(OTHER_COUNTIES - len(chosen), len(rest)))
    return sorted(chosen, key=lambda county: county.code)


def current_cases_add(*, seed: int, today: datetime.date, progress: Callable[[str, int, int], None] | None = None):
    """Add the working set anchored on `today` to the ledger; returns its cases.

    Needs Rangtang County with Shangduke Township Primary School and the demo users (seed_demo makes them).
    """
    problems = anchor_problems(today)
    if problems:
        raise CurrentSetError(" ".join(problems))
    rangtang = Division.objects.counties().select_related("province", "prefecture").filter(code=RANGTANG).first()
    shangduke = School.objects.filter(county=rangtang, name=SHANGDUKE_SCHOOL).first() if rangtang else None
    if shangduke is None:
        raise CurrentSetError(_("Rangtang County and its Shangduke Township Primary School are not in the ledger."))
    users = {spec.role: _demo_user(spec.username) for spec in DEMO_USERS}
    rng = random.Random(f"{seed}:current:{today.isoformat()}")
    with transaction.atomic(), services.rules_as_of_today():
        writer = WorkingSet(today, rng)
        county_user = users.get("county")
        principal = users.get("principal")
        if principal is not None and principal.school_id != shangduke.pk:
            principal = None
        if county_user is not None and county_user.division_id != rangtang.pk:
            county_user = None
        home = writer.place(rangtang, county_user)
        others = [school for school in home.schools if school.pk != shangduke.pk]
        home.user = principal
        writer.write_place(home, SHANGDUKE_PLAN, [shangduke])
        home.user = county_user
        writer.write_place(home, RANGTANG_PLAN, others or [shangduke])
        for county in _other_counties(rng):
            place = writer.place(county, None)
            writer.write_place(place, OTHER_COUNTY_PLAN, place.schools)
        # A few children entered twice, for the duplicates screen (that module builds on this one).
        from .duplicates import duplicates_add

        writer.cases += duplicates_add(writer, home)
        # One case of another county waits to move into Rangtang, for the handover screens.
        handover_into_rangtang(writer.cases, rangtang, today)
    if progress is not None:
        progress(f"current working set up to {today} ({len(writer.cases)} cases)", 1, 1)
    return writer.cases
