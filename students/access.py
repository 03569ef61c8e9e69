"""The scoping rule: what each user may read and change. Every read of the ledger goes through here.

A user's scope is decided by their role and area:
- ministry and administrators: the whole country (ministry read-only, identifiers masked);
- province and prefecture staff: their area, read-only, identifiers masked;
- county officials: their county, read and write, identifiers shown;
- principals: their school, read and write, identifiers shown.
Anything outside the scope does not exist for the user: views answer 404.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from counties.models import Division, Level, Role, School

from .models import DropoutCase, IdentifierAccess, PersuasionVisit, Student

READ_ONLY_ROLES = frozenset({Role.MINISTRY, Role.PROVINCE, Role.PREFECTURE})
UNMASKED_ROLES = frozenset({Role.COUNTY, Role.PRINCIPAL})


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    division: Division | None = None
    school: School | None = None
    can_write: bool = False
    sees_identifiers: bool = False

    def county_q(self, county_field: str) -> Q:
        """A filter on a field that points at a county division."""
        if self.everything:
            return Q()
        if self.school is not None:
            return Q(**{county_field: self.school.county_id})
        if self.division is None:
            return Q(pk__in=[])
        if self.division.level == Level.PROVINCE:
            return Q(**{f"{county_field}__province_id": self.division.pk})
        if self.division.level == Level.PREFECTURE:
            return Q(**{f"{county_field}__prefecture_id": self.division.pk})
        return Q(**{county_field: self.division.pk})

    def case_q(self, prefix: str = "") -> Q:
        """A filter on cases, given the path from the queried model to the case."""
        if self.school is not None:
            return Q(**{f"{prefix}school": self.school.pk})
        return self.county_q(f"{prefix}county")


NOTHING = Scope()


def scope_for(user) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_superuser or user.role == Role.ADMIN:
        return Scope(everything=True, can_write=True, sees_identifiers=True)
    if user.role == Role.MINISTRY:
        return Scope(everything=True)
    if user.role == Role.PRINCIPAL:
        if user.school_id is None:
            return NOTHING
        return Scope(school=user.school, can_write=True, sees_identifiers=True)
    if user.division_id is None:
        return NOTHING
    return Scope(
        division=user.division,
        can_write=user.role not in READ_ONLY_ROLES,
        sees_identifiers=user.role in UNMASKED_ROLES,
    )


def cases_visible_to(user) -> QuerySet[DropoutCase]:
    return DropoutCase.objects.filter(scope_for(user).case_q())


def cases_editable_by(user) -> QuerySet[DropoutCase]:
    scope = scope_for(user)
    if not scope.can_write:
        return DropoutCase.objects.none()
    return DropoutCase.objects.filter(scope.case_q())


def students_visible_to(user) -> QuerySet[Student]:
    scope = scope_for(user)
    if scope.everything:
        return Student.objects.all()
    return Student.objects.filter(pk__in=DropoutCase.objects.filter(scope.case_q()).values("student_id"))


def visits_visible_to(user) -> QuerySet[PersuasionVisit]:
    return PersuasionVisit.objects.filter(scope_for(user).case_q("case__"))


def schools_visible_to(user) -> QuerySet[School]:
    scope = scope_for(user)
    if scope.school is not None:
        return School.objects.filter(pk=scope.school.pk)
    return School.objects.filter(scope.county_q("county"))


def divisions_visible_to(user) -> QuerySet[Division]:
    """The divisions whose dashboards the user may open (a principal: their school's county)."""
    scope = scope_for(user)
    if scope.everything:
        return Division.objects.all()
    if scope.school is not None:
        return Division.objects.filter(pk=scope.school.county_id)
    if scope.division is None:
        return Division.objects.none()
    return Division.objects.within(scope.division)


def get_case_for_user(user, pk: int, *, for_update: bool = False) -> DropoutCase:
    """The case, or 404 when it is outside the user's scope (or their write scope, `for_update`)."""
    queryset = cases_editable_by(user) if for_update else cases_visible_to(user)
    try:
        return queryset.select_related("student", "county", "school").get(pk=pk)
    except (DropoutCase.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_edit_case(user, case: DropoutCase) -> bool:
    return cases_editable_by(user).filter(pk=case.pk).exists()


def disclosures_visible_to(user) -> QuerySet[IdentifierAccess]:
    """The identifier-access log a user may read: their own entries; a supervisor's (prefecture, province,
    ministry, administrator) also those of the users working in their area. The log holds no identifier."""
    scope = scope_for(user)
    if scope is NOTHING:
        return IdentifierAccess.objects.none()
    if scope.everything:
        return IdentifierAccess.objects.all()
    own = Q(user=user)
    if scope.can_write or scope.division is None:
        return IdentifierAccess.objects.filter(own)
    area = Division.objects.within(scope.division)
    return IdentifierAccess.objects.filter(own | Q(user__division__in=area) | Q(user__school__county__in=area))
