"""The demo sign-ins: one user per role, with known passwords. This list is the one place they are kept."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from counties.models import Division, Role, School, User

from .places import RANGTANG, SHANGDUKE_SCHOOL


@dataclass(frozen=True)
class DemoUser:
    role: str
    username: str
    password: str
    full_name: str
    sees: Promise
    division_code: str = ""
    school_name: str = ""


DEMO_USERS = (
    DemoUser(
        Role.MINISTRY,
        "ministry",
        "demo-ministry",
        "王建国",
        _("the whole country: national totals and trends, every province and county; read-only, identifiers masked"),
    ),
    DemoUser(
        Role.PROVINCE,
        "sichuan",
        "demo-sichuan",
        "刘晓梅",
        _("Sichuan province (四川省) and everything in it; read-only, identifiers masked"),
        division_code="510000",
    ),
    DemoUser(
        Role.PREFECTURE,
        "aba",
        "demo-aba",
        "马永强",
        _("Aba prefecture (阿坝藏族羌族自治州) and its counties; read-only, identifiers masked"),
        division_code="513200",
    ),
    DemoUser(
        Role.COUNTY,
        "rangtang",
        "demo-rangtang",
        "杨华",
        _("Rangtang County (壤塘县): its ledger and dashboard; records visits, returns and imports"),
        division_code=RANGTANG,
    ),
    DemoUser(
        Role.PRINCIPAL,
        "shangduke",
        "demo-shangduke",
        "泽郎扎西",
        _("Shangduke Township Primary School (上杜柯乡小学): its own cases, Sang Qingzhuoma's among them"),
        school_name=SHANGDUKE_SCHOOL,
    ),
    DemoUser(
        Role.VERIFIER,
        "aba-verifier",
        "demo-aba-verifier",
        "李明",
        _("the spot checks of Aba prefecture (阿坝藏族羌族自治州) given to them: each child in full, nothing else"),
        division_code="513200",
    ),
    DemoUser(
        Role.ADMIN,
        "admin",
        "demo-admin",
        "陈志刚",
        _("everything, and the admin site (/admin/)"),
    ),
)

PRINCIPAL_OF_SHANGDUKE = next(user.full_name for user in DEMO_USERS if user.role == Role.PRINCIPAL)


@transaction.atomic
def demo_users_create(*, reset_passwords: bool = False) -> dict[str, User]:
    """Create or refresh the demo users: role, area and name as listed above.

    A new user gets the listed password; an existing one keeps theirs unless `reset_passwords`.
    Password hashing is slow by design, so the few hashes needed are computed in parallel.
    """
    users = {}
    known = set(
        User.objects.filter(username__in=[spec.username for spec in DEMO_USERS])
        .exclude(password="")
        .values_list("username", flat=True)
    )
    to_hash = [spec for spec in DEMO_USERS if reset_passwords or spec.username not in known]
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashed = pool.map(make_password, [spec.password for spec in to_hash])
        hashes = dict(zip([spec.username for spec in to_hash], hashed, strict=True))
    for spec in DEMO_USERS:
        division = Division.objects.get(code=spec.division_code) if spec.division_code else None
        school = School.objects.get(county__code=RANGTANG, name=spec.school_name) if spec.school_name else None
        is_admin = spec.role == Role.ADMIN
        user, _created = User.objects.update_or_create(
            username=spec.username,
            defaults={
                "role": spec.role,
                "division": division,
                "school": school,
                # Chinese names are written surname first, in one piece.
                "first_name": spec.full_name,
                "last_name": "",
                "is_staff": is_admin,
                "is_superuser": is_admin,
                "is_active": True,
            },
        )
        if spec.username in hashes:
            user.password = hashes[spec.username]
            user.save(update_fields=["password"])
        user.full_clean()
        users[spec.role] = user
    return users
