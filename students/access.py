"""The scoping rule: what each user may read and change. Every read of the ledger goes through here.

A user's scope is decided by their role and area:
- ministry and administrators: the whole country (ministry read-only, identifiers masked);
- province and prefecture staff: their area, read-only, identifiers masked;
- county officials: their county, read and write, identifiers shown;
- principals: their school, read and write, identifiers shown;
- verifiers: within their area, only the returned cases assigned to them for a spot check (verification), read
  only, identifiers masked but on the spot checks' own pages (students.disclosure); nothing keyed by county (no
  school, no handover, no county's records) and of the access log only their own entries. Their area's
  dashboards, which hold totals only, open to them as to the area's staff.
Anything outside the scope does not exist for the user: views answer 404.

A child is one record for the whole country, while each county acts on its own cases: a child's identity
(name, identifiers, birth date, guardian, address, flags) is changed only from the scope that holds the
child's open case or, with none open, their most recent case; the ministry and administrators may correct
any child (`may_change_identity`). Another county learns only which county holds the child.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Q, QuerySet, When
from django.http import Http404

from counties.models import Division, Level, Role, School

from .choices import OPEN_STATUSES
from .models import DropoutCase, Handover, IdentifierAccess, PersuasionVisit, Student

READ_ONLY_ROLES = frozenset({Role.MINISTRY, Role.PROVINCE, Role.PREFECTURE})
UNMASKED_ROLES = frozenset({Role.COUNTY, Role.PRINCIPAL})


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    division: Division | None = None
    school: School | None = None
    can_write: bool = False
    sees_identifiers: bool = False
    # A verifier's user id: of their area, only the cases assigned to them (verification.models.SpotCheck).
    verifier_id: int | None = None

    def county_q(self, county_field: str) -> Q:
        """A filter on a field that points at a county division. A verifier's scope holds cases, not counties:
        nothing of their area that is keyed by county (schools, handovers, a county's records) is theirs."""
        if self.verifier_id is not None:
            return Q(pk__in=[])
        return self._area_q(county_field)

    def _area_q(self, county_field: str) -> Q:
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
        if self.verifier_id is not None:
            assigned = DropoutCase.objects.filter(spot_checks__verifier=self.verifier_id).values("pk")
            return self._area_q(f"{prefix}county") & Q(**{f"{prefix}pk__in": assigned})
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
    if user.role == Role.VERIFIER:
        return Scope(division=user.division, verifier_id=user.pk)
    return Scope(
        division=user.division,
        can_write=user.role not in READ_ONLY_ROLES,
        sees_identifiers=user.role in UNMASKED_ROLES,
    )


def viewer_key(user) -> str:
    """What a page's parts depend on of the user, for a cache key: users of the same role and place see the same
    (a verifier sees the cases assigned to them, so their own)."""
    own = f":{user.pk}" if user.role == Role.VERIFIER else ""
    return f"{user.role}:{user.division_id}:{user.school_id}:{int(user.is_superuser)}:{int(user.is_active)}{own}"


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


def handovers_visible_to(user) -> QuerySet[Handover]:
    """Handovers of cases between counties (students.handover) that touch the user's area.

    A county official sees those out of and into their county; prefecture, province and ministry staff
    those out of or into a county of their area (read-only); administrators all; principals and verifiers
    none. Seeing a handover is not seeing its case: the child is shown as the case's own scope allows (masked
    for the county asked to take it until it accepts).
    """
    scope = scope_for(user)
    if scope.school is not None:
        return Handover.objects.none()
    return Handover.objects.filter(scope.county_q("from_county") | scope.county_q("to_county"))


def get_case_for_user(user, pk: int, *, for_update: bool = False) -> DropoutCase:
    """The case, or 404 when it is outside the user's scope (or their write scope, `for_update`)."""
    queryset = cases_editable_by(user) if for_update else cases_visible_to(user)
    return _get_or_404(queryset.select_related("student", "county", "school"), pk)


def lock_case_for_user(user, pk: int) -> DropoutCase:
    """Inside a transaction: the case as it is now, its row locked until the transaction ends, or 404 when it is
    outside the user's write scope."""
    return _get_or_404(cases_editable_by(user).select_for_update(of=("self",)), pk)


def _get_or_404(queryset: QuerySet[DropoutCase], pk: int) -> DropoutCase:
    try:
        return queryset.get(pk=pk)
    except (DropoutCase.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_edit_case(user, case: DropoutCase) -> bool:
    return cases_editable_by(user).filter(pk=case.pk).exists()


def disclosures_visible_to(user) -> QuerySet[IdentifierAccess]:
    """The identifier-access log a user may read: their own entries; a supervisor's (prefecture, province,
    ministry, administrator) also those of the users working in their area, verifiers among them. The log holds
    no identifier."""
    scope = scope_for(user)
    if scope is NOTHING:
        return IdentifierAccess.objects.none()
    if scope.everything:
        return IdentifierAccess.objects.all()
    own = Q(user=user)
    if scope.can_write or scope.division is None or scope.verifier_id is not None:
        return IdentifierAccess.objects.filter(own)
    area = Division.objects.within(scope.division)
    return IdentifierAccess.objects.filter(own | Q(user__division__in=area) | Q(user__school__county__in=area))


def holding_case(student: Student) -> DropoutCase | None:
    """The case that holds a child's identity: their open case or, with none open, their most recent one."""
    return (
        DropoutCase.objects.filter(student=student)
        .order_by(Case(When(status__in=OPEN_STATUSES, then=0), default=1), "-dropout_date", "-pk")
        .select_related("county", "school")
        .first()
    )


def holding_case_of(cases: Iterable):
    """`holding_case` among cases already loaded (the import's): anything with status, dropout_date and pk."""
    return min(
        cases,
        key=lambda case: (case.status not in OPEN_STATUSES, -case.dropout_date.toordinal(), -case.pk),
        default=None,
    )


def may_change_identity(user, student: Student) -> bool:
    """Whether `user` may change the child's identity: the scope holding the child's case, the ministry, admins.

    A child on no one's ledger (no case, as a record merged into another) is any writer's to put right, and
    system work (no user: management commands, the seed) is trusted. Every change is recorded as an
    IdentityChange by students.services.student_update.
    """
    if user is None:
        return True
    scope = scope_for(user)
    if scope.everything:
        return True
    if not scope.can_write:
        return False
    holder = holding_case(student)
    return holder is None or cases_editable_by(user).filter(pk=holder.pk).exists()
