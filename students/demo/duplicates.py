"""Duplicate records in the demo's working set: children entered twice, so the duplicates screen has pairs to show.

Two pairs in Rangtang County, at the county official's schools (not Shangduke's), found by the duplicate search
that seed_demo runs after the working set (students.duplicates):
- 张伟, back in school since last month, and 张玮, born the same day, just registered as dropped out again under
  another character: names equal in pinyin. Only the second case is open, so the county official can merge them;
- 扎西 registered twice, the second time with the last two digits of the ID number's sequence code swapped (the
  entry system computed each number's check character, so both pass): ID numbers one typo apart. Both cases
  are open, so a merge is refused until one of them is closed.
Each child goes through the same steps as the rest of the working set (students.demo.current), written through
students.services with every rule they check: ID numbers agree with birth date, gender and county, ages fit the
grades, a return follows an agreeing visit.
"""

import datetime

from counties.models import School
from students import services
from students.choices import Placement
from students.choices import VisitOutcome as Outcome
from students.duplicates import one_typo_apart
from students.models import DropoutCase

from .current import DROPOUT_NOTE, GRADES, Child, Place, WorkingSet
from .ledger import PLACEMENT_NOTE, REASON_DETAIL
from .people import HAN, TIBETAN, birth_window, id_number, person_name, school_year
from .places import SHANGDUKE_SCHOOL


def _record(writer: WorkingSet, place: Place, school: School, grade: int, dropout, reason: str, **identity) -> Child:
    """A child of the place as the working set draws one, with the identity given (name, gender, ethnicity, birth
    date and the ID number's sequence code)."""
    child = writer.child(place, school, grade, dropout, reason)
    student = child.student
    student.name, student.gender, student.ethnicity = identity["name"], identity["gender"], identity["ethnicity"]
    student.birth_date = identity["birth"]
    student.id_number = id_number(place.county.code, student.birth_date, identity["sequence"])
    student.registry_number = "G" + student.id_number
    student.guardian_name = person_name(writer.rng, "M", student.ethnicity, surname=student.name[0])
    place.used_ids.add(student.id_number)
    return child


def _write(
    writer: WorkingSet, place: Place, child: Child, school: School, grade: int, dropout, reason, visits, returned=None
):
    """The case of one record: opened, its responsible persons, its visits, and its return if it has one."""
    details = REASON_DETAIL[reason]
    case = services.case_open(
        student=child.student,
        school=school,
        grade=grade,
        dropout_date=dropout,
        reason=reason,
        reason_detail=details[writer.rng.randrange(len(details))],
        user=place.user,
        note=DROPOUT_NOTE,
    )
    writer.responsible_persons(place, case, child, place.user)
    writer.visits(place, case, child, visits, place.user)
    if returned is not None:
        services.case_mark_returned(
            case=case,
            returned_on=returned,
            placement=Placement.REGULAR_CLASS,
            user=place.user,
            note=f"经劝返，学生已返校，{PLACEMENT_NOTE[Placement.REGULAR_CLASS]}。",
        )
    return case


def _birth(writer: WorkingSet, grade: int, dropout: datetime.date) -> datetime.date:
    low, high = birth_window(grade, dropout)
    return low + datetime.timedelta(days=writer.rng.randrange((high - low).days + 1))


def _second_school(schools: list[School], first: School, grade: int) -> School:
    """Another school that teaches the grade, else the same one."""
    others = [s for s in schools if s.pk != first.pk and GRADES[s.kind][0] <= grade <= GRADES[s.kind][1]]
    return others[0] if others else first


def _free(place: Place, birth: datetime.date) -> list[int]:
    """Boys' sequence codes not yet taken in the county for that birth date."""
    return [n for n in range(1, 999, 2) if id_number(place.county.code, birth, n) not in place.used_ids]


def duplicates_add(writer: WorkingSet, place: Place) -> list[DropoutCase]:
    """Write the demo's duplicate pairs in `place` (Rangtang, recorded by `place.user`); returns their cases."""
    rng, ago, plus = writer.rng, writer.ago, writer.plus
    schools = [s for s in place.schools if s.name != SHANGDUKE_SCHOOL] or place.schools
    cases = []

    # 张伟 returned to school; 张玮, the same boy, is registered as dropped out again at another school. Their
    # sequence codes are far apart, so the pair is found by the names alone.
    school, grade = writer.school_and_grade(schools, low_grades=True)
    returned = ago(31, 45)
    dropout = plus(returned, -rng.randint(30, 50))
    last = plus(returned, -rng.randint(0, 5))
    again = ago(2, 10)
    again_grade = grade + school_year(again) - school_year(dropout)
    again_school = _second_school(schools, school, again_grade)
    birth = _birth(writer, grade, dropout)
    one = rng.choice(_free(place, birth))
    other = rng.choice([n for n in _free(place, birth) if n != one and not one_typo_apart(f"{one:03d}", f"{n:03d}")])
    zhang = {"gender": "M", "ethnicity": HAN, "birth": birth}
    reason = writer.reason_draw.draw(rng)
    first = _record(writer, place, school, grade, dropout, reason, name="张伟", sequence=one, **zhang)
    plan = writer.visit_plan(dropout, last, Outcome.AGREED, None)
    cases.append(_write(writer, place, first, school, grade, dropout, reason, plan, returned))
    reason = writer.reason_draw.draw(rng)
    second = _record(writer, place, again_school, again_grade, again, reason, name="张玮", sequence=other, **zhang)
    cases.append(_write(writer, place, second, again_school, again_grade, again, reason, []))

    # 扎西, overdue for a visit, registered again with two digits of his ID number swapped: both cases open.
    school, grade = writer.school_and_grade(schools, low_grades=True)
    dropout = ago(60, 100)
    last = ago(31, 50)
    again = ago(0, 12)
    again_grade = grade + school_year(again) - school_year(dropout)
    again_school = _second_school(schools, school, again_grade)
    birth = _birth(writer, grade, dropout)
    free = _free(place, birth)
    swapped = {n: int(f"{n:03d}"[0] + f"{n:03d}"[2] + f"{n:03d}"[1]) for n in free}
    one = rng.choice([n for n in free if swapped[n] != n and swapped[n] in free])
    other = swapped[one]
    tashi = {"name": "扎西", "gender": "M", "ethnicity": TIBETAN, "birth": birth}
    reason = writer.reason_draw.draw(rng)
    first = _record(writer, place, school, grade, dropout, reason, sequence=one, **tashi)
    plan = writer.visit_plan(dropout, last, Outcome.REFUSED, plus(last, rng.randint(7, 14)))
    cases.append(_write(writer, place, first, school, grade, dropout, reason, plan))
    reason = writer.reason_draw.draw(rng)
    second = _record(writer, place, again_school, again_grade, again, reason, sequence=other, **tashi)
    cases.append(_write(writer, place, second, again_school, again_grade, again, reason, []))
    return cases
