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


__all__ = ["DropoutCase", "open_case"]
