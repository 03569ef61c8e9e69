"""Places (administrative divisions, county groups, schools) and the people who work in them."""

import datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    PREFECTURE = "prefecture", _("Prefecture")
    COUNTY = "county", _("County")


class DivisionQuerySet(models.QuerySet):
    def provinces(self):
        return self.filter(level=Level.PROVINCE)

    def prefectures(self):
        return self.filter(level=Level.PREFECTURE)

    def counties(self):
        return self.filter(level=Level.COUNTY)

    def within(self, division: "Division"):
        """The division itself and every division below it."""
        if division.level == Level.PROVINCE:
            return self.filter(Q(pk=division.pk) | Q(province=division))
        if division.level == Level.PREFECTURE:
            return self.filter(Q(pk=division.pk) | Q(prefecture=division))
        return self.filter(pk=division.pk)


class Division(models.Model):
    """An administrative division with its six-digit GB/T 2260 code.

    Counties under a municipality (北京, 上海, ...) have no prefecture. `province` and `prefecture`
    are stored on every row, so that "everything in this area" is one indexed filter.
    """

    code = models.CharField(_("GB/T 2260 code"), max_length=6, unique=True, validators=[RegexValidator(r"^\d{6}$")])
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=16, blank=True, help_text=_("e.g. 县, 自治县, 市辖区"))
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    province = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("province")
    )
    prefecture = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("prefecture")
    )

    objects = DivisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        # Names repeat across the country (朝阳区 in Beijing and in Changchun); the code tells them apart
        # wherever a division is shown as itself, as in the admin's choosers. Pages print `name`.
        return f"{self.name} ({self.code})"

    @property
    def full_name(self) -> str:
        parts = [d.name for d in (self.province, self.prefecture) if d and d.pk != self.pk]
        return "".join([*parts, self.name])


class CountyGroup(models.Model):
    """A set of counties that ministry staff compare against the rest, e.g. the 52 poverty counties."""

    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    counties = models.ManyToManyField(Division, through="CountyGroupMembership", related_name="county_groups")

    class Meta:
        verbose_name = _("county group")
        verbose_name_plural = _("county groups")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the page's language: the English name on pages in any language but Chinese, when given."""
        if self.name_en and not (get_language() or "").startswith("zh"):
            return self.name_en
        return self.name

    def counties_on(self, day: datetime.date):
        """The counties that belong to the group on `day`."""
        return Division.objects.filter(pk__in=self.memberships.active_on(day).values("county_id"))


class MembershipQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date):
        return self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gt=day))


class CountyGroupMembership(models.Model):
    """A county's membership of a group from `valid_from` until (not including) `valid_to`."""

    group = models.ForeignKey(CountyGroup, models.CASCADE, related_name="memberships")
    county = models.ForeignKey(
        Division, models.PROTECT, related_name="group_memberships", limit_choices_to={"level": Level.COUNTY}
    )
    valid_from = models.DateField(_("member from"))
    valid_to = models.DateField(_("member until"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("county group membership")
        verbose_name_plural = _("county group memberships")
        ordering = ["group", "county__code", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["group", "county", "valid_from"], name="membership_unique_start"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="membership_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.county}"


class SchoolKind(models.TextChoices):
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary school")
    NINE_YEAR = "nine_year", _("Nine-year school")
    TEACHING_POINT = "teaching_point", _("Teaching point")
    SPECIAL = "special", _("Special-education school")


class School(models.Model):
    code = models.CharField(
        _("school identification code"),
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^\d{10}$", _("A school code has exactly 10 digits."))],
    )
    name = models.CharField(_("name"), max_length=100)
    county = models.ForeignKey(
        Division,
        models.PROTECT,
        related_name="schools",
        limit_choices_to={"level": Level.COUNTY},
        verbose_name=_("county"),
    )
    township = models.CharField(_("township"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=SchoolKind.choices)
    counterpart = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("counterpart school"),
        help_text=_("The partner school in the developed east (对口帮扶)."),
    )

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["code"]
        # Case lists sorted by school walk the schools in name order instead of sorting 200,000 of them.
        indexes = [models.Index(fields=["name"], name="school_name")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    MINISTRY = "ministry", _("Ministry staff")
    PROVINCE = "province", _("Province staff")
    PREFECTURE = "prefecture", _("Prefecture staff")
    COUNTY = "county", _("County official")
    PRINCIPAL = "principal", _("Principal")
    ADMIN = "admin", _("Administrator")
    # Spot-checks returned cases (抽查复验) within an area: sees only the cases assigned to them (verification).
    VERIFIER = "verifier", _("Verifier")


# The division level each area-bound role is tied to.
ROLE_LEVEL = {Role.PROVINCE: Level.PROVINCE, Role.PREFECTURE: Level.PREFECTURE, Role.COUNTY: Level.COUNTY}


class User(AbstractUser):
    """A person who signs in. The role and its area decide everything they may read and change."""

    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.MINISTRY)
    division = models.ForeignKey(
        Division, models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("area")
    )
    school = models.ForeignKey(
        School, models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("school")
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=Role.PRINCIPAL) | Q(school__isnull=False),
                name="principal_has_school",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=[Role.PROVINCE, Role.PREFECTURE, Role.COUNTY, Role.VERIFIER])
                | Q(division__isnull=False),
                name="area_role_has_division",
            ),
        ]

    def clean(self) -> None:
        super().clean()
        level = ROLE_LEVEL.get(self.role)
        if level and (self.division is None or self.division.level != level):
            raise ValidationError(
                {"division": _("This role needs a division of level %(level)s.") % {"level": Level(level).label}}
            )
        if self.role == Role.PRINCIPAL and self.school is None:
            raise ValidationError({"school": _("A principal needs a school.")})
        if self.role == Role.VERIFIER and self.division is None:
            raise ValidationError({"division": _("A verifier needs the area they check.")})
