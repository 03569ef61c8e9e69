"""factory_boy factories for the whole ledger. Divisions are small made-up trees, not the real list."""

import datetime

import factory

from counties.models import CountyGroup, Division, Level, Role, School, SchoolKind, User
from reports.models import AreaLevel, DailyTotal
from students.choices import Gender, Reason
from students.identifiers import id_check_char
from students.models import DropoutCase, Student
from students.services import case_open


def make_id_number(county_code: str, birth: datetime.date, sequence: int) -> str:
    first17 = f"{county_code}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_check_char(first17)


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"{(n % 60) + 11:02d}0000")
    name = factory.Sequence(lambda n: f"Province {n}")
    level = Level.PROVINCE

    @factory.post_generation
    def self_province(obj, create, extracted, **kwargs):
        if create and obj.province_id is None:
            obj.province = obj
            obj.save(update_fields=["province"])


class PrefectureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division

    parent = factory.SubFactory(ProvinceFactory)
    province = factory.SelfAttribute("parent")
    code = factory.Sequence(lambda n: f"{n % 99 + 1:02d}")
    name = factory.Sequence(lambda n: f"Prefecture {n}")
    level = Level.PREFECTURE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs["code"] = kwargs["parent"].code[:2] + kwargs["code"] + "00"
        obj = super()._create(model_class, *args, **kwargs)
        obj.prefecture = obj
        obj.save(update_fields=["prefecture"])
        return obj


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division

    parent = factory.SubFactory(PrefectureFactory)
    province = factory.SelfAttribute("parent.province")
    prefecture = factory.SelfAttribute("parent")
    code = factory.Sequence(lambda n: f"{n % 99 + 1:02d}")
    name = factory.Sequence(lambda n: f"County {n}")
    level = Level.COUNTY
    kind = "县"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs["code"] = kwargs["parent"].code[:4] + kwargs["code"]
        return super()._create(model_class, *args, **kwargs)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"{3100000000 + n}")
    name = factory.Sequence(lambda n: f"School {n}")
    county = factory.SubFactory(CountyFactory)
    township = "Town"
    kind = SchoolKind.PRIMARY


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.MINISTRY
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    name = factory.Sequence(lambda n: f"学生{n}")
    gender = Gender.FEMALE
    birth_date = datetime.date(2008, 3, 1)
    id_number = factory.Sequence(lambda n: make_id_number("513230", datetime.date(2008, 3, 1), 2 * n))


def open_case(school=None, *, student=None, dropout_date=datetime.date(2019, 4, 1), reason=Reason.POVERTY, grade=7):
    """A case opened through the service, as every case is."""
    return case_open(
        student=student or StudentFactory(),
        school=school or SchoolFactory(),
        grade=grade,
        dropout_date=dropout_date,
        reason=reason,
    )


class DailyTotalFactory(factory.django.DjangoModelFactory):
    """A stored daily total, written directly (the nightly computation is tested on its own)."""

    class Meta:
        model = DailyTotal

    day = datetime.date(2020, 6, 14)
    level = AreaLevel.NATION


def daily_total(area=None, day=datetime.date(2020, 6, 14), **figures) -> DailyTotal:
    """The row for `area` (None: the nation; a Division; a CountyGroup) on `day`."""
    if area is None:
        return DailyTotalFactory(day=day, level=AreaLevel.NATION, **figures)
    if isinstance(area, CountyGroup):
        return DailyTotalFactory(day=day, level=AreaLevel.GROUP, group=area, **figures)
    return DailyTotalFactory(day=day, level=area.level, division=area, **figures)


def student_with_identifiers(county_code: str, n: int, *, name: str, guardian_name: str, village: str, **fields):
    """A child with every identifier recorded, each one unlike any other child's (`n` tells them apart)."""
    birth = datetime.date(2008, 1 + n % 12, 10 + n)
    id_number = make_id_number(county_code, birth, 200 + 2 * n)
    values = {
        "name": name,
        "birth_date": birth,
        "id_number": id_number,
        "registry_number": f"G{id_number}",
        "address": f"壤塘县上杜柯乡{village}村{n}组{10 + n}号",
        "hukou_place": f"壤塘县中壤塘镇{village}村{20 + n}号",
        "guardian_name": guardian_name,
        "guardian_phone": f"1390837{n:04d}",
        **fields,
    }
    return StudentFactory(**values)


def identifiers(student: Student) -> dict[str, str]:
    """What a page must not show of a child to a role that may not see it, by what it is."""
    return {
        "ID number": student.id_number,
        "registry number": student.registry_number,
        "last six of the ID": student.id_number[-6:],
        "guardian's phone": student.guardian_phone,
        "guardian's name": student.guardian_name,
        "full name": student.name,
        "address": student.address,
        "household registration place": student.hukou_place,
    }


def identifier_text(*students: Student) -> str:
    """A note as a careless colleague types it: each child's name, address, guardian, phone and numbers."""
    return "；".join(
        f"{s.name}住{s.address}，监护人{s.guardian_name}{s.guardian_phone}，身份证{s.id_number}，学籍{s.registry_number}"
        for s in students
    )


def open_case_full_of_identifiers(
    school, *, student: Student, other: Student, dropout_date: datetime.date, user=None
) -> DropoutCase:
    """A case whose every free-text field names `student`'s and `other`'s identifiers: the reason in detail,
    the first event's note, a visit's notes and visitors, and the responsible persons (the parent with the
    guardian's name and phone). An output that lets any of them through shows it."""
    from students.choices import Line, ResponsibleRole, VisitMethod, VisitorRole, VisitOutcome
    from students.services import case_set_responsible_persons, visit_record

    text = identifier_text(student, other)
    case = case_open(
        student=student,
        school=school,
        grade=7,
        dropout_date=dropout_date,
        reason=Reason.OTHER,
        reason_detail=text,
        note=text,
        user=user,
    )
    visit_record(
        case=case,
        visit_date=dropout_date + datetime.timedelta(days=3),
        visitors=[
            {"role": VisitorRole.PRINCIPAL, "name": "王校长"},
            {"role": VisitorRole.VILLAGE_CADRE, "name": f"{student.guardian_name} {student.guardian_phone}"},
            {"role": VisitorRole.OTHER, "name": f"{other.name}{other.id_number}"},
        ],
        method=VisitMethod.HOME_VISIT,
        outcome=VisitOutcome.REFUSED,
        notes=text,
        user=user,
    )
    case_set_responsible_persons(
        case=case,
        persons=[
            {"line": Line.EDUCATION, "role": ResponsibleRole.PRINCIPAL, "name": "王校长", "phone": "0837-2345678"},
            {
                "line": Line.EDUCATION,
                "role": ResponsibleRole.PARENT,
                "name": student.guardian_name,
                "phone": student.guardian_phone,
            },
            {
                "line": Line.GOVERNMENT,
                "role": ResponsibleRole.VILLAGE_HEAD,
                "name": f"{other.guardian_name}{other.guardian_phone}",
                "phone": other.guardian_phone,
            },
            {
                "line": Line.EDUCATION,
                "role": ResponsibleRole.CLASS_TEACHER,
                "name": f"{other.name}{other.registry_number}",
                "phone": student.guardian_phone,
            },
        ],
        user=user,
    )
    return case


__all__ = ["DropoutCase", "open_case"]
