"""The users the benchmark signs in as: the seed's demo users, or benchmark accounts where none fits."""

from counties.models import Division, Role, School, User

BENCH_PREFIX = "bench-"


def persona(role: str) -> User:
    """The demo user with this role (the seed's accounts first), e.g. the ministry user for the national page."""
    users = User.objects.filter(role=role, is_active=True).select_related("division", "school")
    if role in (Role.PROVINCE, Role.PREFECTURE, Role.COUNTY):
        users = users.exclude(division=None)
    user = users.exclude(username__startswith=BENCH_PREFIX).order_by("pk").first()
    if user is None:
        raise RuntimeError(f"the ledger has no {role} user; seed_demo creates the demo users")
    return user


def official_of(county_id: int) -> User:
    """A county official of this county: an existing one, or a benchmark account made for the purpose."""
    user = User.objects.filter(role=Role.COUNTY, division_id=county_id, is_active=True).order_by("pk").first()
    if user is not None:
        return user
    county = Division.objects.get(pk=county_id)
    user, _ = User.objects.get_or_create(
        username=f"{BENCH_PREFIX}county-{county.code}", defaults={"role": Role.COUNTY, "division": county}
    )
    return user


def administrator() -> User:
    """A superuser for Django's admin: the seed's, or a benchmark account."""
    user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if user is not None:
        return user
    user, _ = User.objects.get_or_create(
        username=f"{BENCH_PREFIX}admin",
        defaults={"role": Role.ADMIN, "is_staff": True, "is_superuser": True},
    )
    return user


def principal_of(school_id: int) -> User:
    """A principal of this school: an existing one, or a benchmark account made for the purpose."""
    user = User.objects.filter(role=Role.PRINCIPAL, school_id=school_id, is_active=True).order_by("pk").first()
    if user is not None:
        return user
    school = School.objects.get(pk=school_id)
    user, _ = User.objects.get_or_create(
        username=f"{BENCH_PREFIX}principal-{school.code}", defaults={"role": Role.PRINCIPAL, "school": school}
    )
    return user
