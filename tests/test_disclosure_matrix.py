"""The disclosure matrix: every URL of the project, fetched as every role, for children in and out of scope.

The URLconf is the list of outputs. Each of its patterns must have an entry in MATRIX that says how to build its
URLs from the seeded ledger (objects in and out of each role's scope) and what to send, or "every URL is in the
matrix" fails: a new screen cannot ship unchecked. The admin's entries are made from its registry (the list, the
record and its history for every registered model); its other URLs are declared in ADMIN_NOT_FETCHED, with why.

Every answer, whatever its status, must carry `Cache-Control: no-store` (dropout_ledger.middleware): no cache
may keep a copy of it, but plotly.js, the same bytes for everyone, which its view declares public.

Every 200 is read as text (HTML, JSON, CSV, the cells of an XLSX, the headers) and must hold no identifier of a
child the role may not see unmasked (students.disclosure): every child for masked roles and signed-out visitors,
the children outside their scope for county officials and principals. Identifiers are the ID and registry
numbers, the ID's last six characters, the guardian's name and phone, the child's full name and address. The
seeded children carry their own and another child's identifiers in every free-text field, so that a leak through
notes, visitors or responsible persons cannot hide. A response may echo what its own request sent.

The ledger is built, and each role signed in, once for the module, in a transaction rolled back at the end; each
test runs in a savepoint of it.
"""

import datetime
import functools
import html
import io
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import plotly
import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from api.tokens import token_create
from counties.models import CountyGroup, CountyGroupMembership, Role
from reports.models import TotalsRun
from students import tasks
from students.choices import DuplicateKind, HandoverReason
from students.import_jobs import import_job_problems
from students.ledger_chain import ledger_verify
from students.merging import students_merge
from students.models import ClosureReason, DuplicateCandidate, Handover, IdentifierAccess, JobKind, LedgerJob
from students.services import case_mark_returned
from tests.factories import (
    CountyFactory,
    PrefectureFactory,
    ProvinceFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
    identifier_text,
    identifiers,
    open_case_full_of_identifiers,
    student_with_identifiers,
)
from tests.reports.dashboard_data import DAY, make_totals
from tests.reports.signoff_matrix import build_sign_offs, sign_off_month
from tests.rosters.matrix import build_roster_comparison
from tests.students.ledger_files import ledger_row, write_csv
from tests.verification.matrix import ASSIGNED, build_spot_checks

ROLES = [
    "anonymous",
    "ministry",
    "province",
    "prefecture",
    "county",
    "neighbour_county",
    "principal",
    "other_principal",
    "admin",
    "staff",  # ministry staff made staff and given every view permission: the admin's careless grant
    "verifier",  # of the home prefecture, given the spot checks of two of its children (tests.verification.matrix)
]
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
MASKED = ("ministry", "province", "prefecture", "staff")
WRITERS = frozenset({"county", "neighbour_county", "principal", "other_principal", "admin"})
NATIONAL = frozenset({"ministry", "staff", "admin"})
PRINCIPALS = frozenset({"principal", "other_principal"})
# The staff flag opens no management screen (counties.roles): the administration site and the runs are theirs.
ADMIN_SITE = frozenset({"admin"})

# The children: where they are on the ledger, who they are. Each "a" is open and being persuaded, each "b" is back
# in school and due a retention check; the notes of each case name both children of its school.
CHILDREN = {
    "home_a": ("school", "桑青卓玛", "泽仁多吉", "德格"),
    "home_b": ("school", "扎西拉姆", "洛桑平措", "宗科"),
    "other_a": ("other_school", "仁青措姆", "多吉次仁", "茸木达"),
    "other_b": ("other_school", "格桑梅朵", "尼玛顿珠", "吾伊"),
    "neighbour_a": ("neighbour_school", "达娃央金", "旺堆加措", "石里"),
    "neighbour_b": ("neighbour_school", "次仁旺姆", "强巴土登", "蒲西"),
    "far_a": ("far_school", "白玛曲珍", "贡布扎西", "岗木达"),
    "far_b": ("far_school", "索朗德吉", "丹增尼玛", "南木达"),
}
SCHOOL_COUNTY = {"school": "county", "other_school": "county", "neighbour_school": "neighbour", "far_school": "far"}
# Whose identifiers each role may see unmasked; everyone else's must never reach them.
SEES = {
    "county": {"home_a", "home_b", "other_a", "other_b"},
    "neighbour_county": {"neighbour_a", "neighbour_b"},
    "principal": {"home_a", "home_b"},
    "other_principal": {"other_a", "other_b"},
    "admin": set(CHILDREN),
    "verifier": set(ASSIGNED),
}
OWN_SCHOOL = {"county": "school", "neighbour_county": "neighbour_school", "other_principal": "other_school"}
# A registry number that does not carry the ID number: the import's problem report is probed with it.
FAR_A_REGISTRY = "L991234567890123456"


@dataclass
class World:
    area: dict
    users: dict
    children: dict
    cases: dict
    jobs: dict
    objects: dict  # one record of every model the admin lists
    uploaded: set[str]  # what the county official typed into the file they imported
    sessions: dict = field(default_factory=dict)  # each role signed in once for the module: its session key

    def sign_in(self, client, role: str) -> None:
        if self.users[role] is not None:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]


def _days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def _build_area() -> dict:
    """The places of the `area` fixture (tests/conftest.py), made once for the module. The codes are fixed (and
    no real province's), so that the children's numbers, made from them, are the same from run to run."""
    prefecture = PrefectureFactory(parent=ProvinceFactory(code="910000"), code="01")
    home = CountyFactory(parent=prefecture, code="01", name="Home county")
    neighbour = CountyFactory(parent=prefecture, code="02", name="Neighbour county")
    far_prefecture = PrefectureFactory(parent=ProvinceFactory(code="920000"), code="01")
    far = CountyFactory(parent=far_prefecture, code="01", name="Far county")
    return {
        "province": prefecture.province,
        "prefecture": prefecture,
        "county": home,
        "neighbour": neighbour,
        "far": far,
        "school": SchoolFactory(county=home, name="Home school"),
        "other_school": SchoolFactory(county=home, name="Other school, same county"),
        "neighbour_school": SchoolFactory(county=neighbour, name="Neighbour school"),
        "far_school": SchoolFactory(county=far, name="Far school"),
    }


def _build_users(area: dict) -> dict:
    staff = UserFactory(role=Role.MINISTRY, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return {
        "anonymous": None,
        "ministry": UserFactory(role=Role.MINISTRY),
        "province": UserFactory(role=Role.PROVINCE, division=area["province"]),
        "prefecture": UserFactory(role=Role.PREFECTURE, division=area["prefecture"]),
        "county": UserFactory(role=Role.COUNTY, division=area["county"]),
        "neighbour_county": UserFactory(role=Role.COUNTY, division=area["neighbour"]),
        "principal": UserFactory(role=Role.PRINCIPAL, school=area["school"]),
        "other_principal": UserFactory(role=Role.PRINCIPAL, school=area["other_school"]),
        "admin": UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True),
        "staff": staff,
        "verifier": UserFactory(role=Role.VERIFIER, division=area["prefecture"]),
    }


def _build_children(area: dict) -> tuple[dict, dict]:
    children = {}
    for n, (label, (school, name, guardian, village)) in enumerate(CHILDREN.items(), start=1):
        extra = {"registry_number": FAR_A_REGISTRY} if label == "far_a" else {}
        county = area[SCHOOL_COUNTY[school]]
        children[label] = student_with_identifiers(
            county.code, n, name=name, guardian_name=guardian, village=village, **extra
        )
    cases = {}
    for label, (school, *_rest) in CHILDREN.items():
        sibling = label[:-1] + ("b" if label.endswith("a") else "a")
        opened = _days_ago(100 if label.endswith("a") else 200)
        cases[label] = open_case_full_of_identifiers(
            area[school], student=children[label], other=children[sibling], dropout_date=opened
        )
    for label in (label for label in CHILDREN if label.endswith("b")):
        sibling = label[:-1] + "a"
        case_mark_returned(
            case=cases[label],
            returned_on=_days_ago(35),
            placement="regular_class",
            note=cases[sibling].reason_detail,
        )
    return children, cases


def _build_jobs(area: dict, users: dict, children: dict) -> tuple[dict, set[str]]:
    """Two imports checked with problems (one probing children of other counties) and two exports."""
    school = area["school"]
    probes = [
        # Far A's registry number with another ID number: the report says which ID the ledger holds.
        ledger_row(school, 1, name="新来甲", registry_number=FAR_A_REGISTRY),
        # Far B's ID number with another registry number: the report says which registry number it holds.
        ledger_row(school, 2, name="新来乙", id_number=children["far_b"].id_number, registry_number="J" + "12" * 9),
        # A child open in the neighbour county.
        ledger_row(school, 3, name="新来丙", id_number=children["neighbour_a"].id_number),
    ]
    # A row that fails on its own beside one matched against the ledger: both reported in the one check.
    bad_rows = [ledger_row(school, 4, name="新来丁", school_code="9999999999"), *probes[:1]]
    uploaded = {str(value) for row in probes + bad_rows for value in row.values()}
    jobs = {}
    for key, rows in (("import", probes), ("import_bad_rows", bad_rows)):
        with tempfile.TemporaryDirectory() as folder:
            path = write_csv(Path(folder) / "ledger.csv", rows)
            job = LedgerJob(
                kind=JobKind.IMPORT,
                requested_by=users["county"],
                county=area["county"],
                params={"dry_run": True, "language": "en", "filename": "ledger.csv"},
            )
            tasks.save_upload(job, "ledger.csv", path.read_bytes())
            job.save()
        tasks.run_ledger_job(job.pk)
        jobs[key] = LedgerJob.objects.get(pk=job.pk)
    export_params = {"format": "xlsx", "sheet_language": "zh", "language": "en"}
    jobs["export_county"] = LedgerJob.objects.create(
        kind=JobKind.EXPORT,
        requested_by=users["county"],
        county=area["county"],
        params={"ledger": True, **export_params},
    )
    jobs["export_ministry"] = LedgerJob.objects.create(
        kind=JobKind.EXPORT, requested_by=users["ministry"], params={"query": "", **export_params, "format": "csv"}
    )
    for key in ("export_county", "export_ministry"):
        tasks.run_ledger_job(jobs[key].pk)
        jobs[key].refresh_from_db()
    return jobs, uploaded


# Sign-in records (django-axes), as a failed or a successful sign-in writes them; of a username nobody has, which
# a successful sign-in does not reset.
SIGN_IN = {
    "username": "nobody",
    "ip_address": "127.0.0.1",
    "user_agent": "Firefox",
    "http_accept": "*/*",
    "path_info": "/accounts/login/",
}
SIGN_IN_RECORDS = {
    "axes.accessattempt": {**SIGN_IN, "get_data": "", "post_data": "", "failures_since_start": 1},
    "axes.accessfailurelog": SIGN_IN,
    "axes.accesslog": SIGN_IN,
}


def _build_admin_objects(area: dict, users: dict, children: dict, cases: dict, jobs: dict) -> dict:
    """One record of each model the admin lists (for its change and history pages)."""
    group = CountyGroup.objects.create(slug="poverty-counties", name="Poverty counties")
    CountyGroupMembership.objects.create(group=group, county=area["county"], valid_from=DAY.replace(year=2015))
    interval, _created = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
    verification, _broken = ledger_verify()
    objects = {
        "auth.group": Group.objects.create(name="Data clerks"),
        "django_celery_beat.periodictask": PeriodicTask.objects.first()
        or PeriodicTask.objects.create(name="A task", task="a.task", interval=interval),
        "django_celery_beat.clockedschedule": ClockedSchedule.objects.create(clocked_time=timezone.now()),
        "django_celery_beat.crontabschedule": CrontabSchedule.objects.first() or CrontabSchedule.objects.create(),
        "django_celery_beat.solarschedule": SolarSchedule.objects.create(event="sunrise", latitude=30, longitude=100),
        "django_celery_beat.intervalschedule": interval,
        "counties.division": area["county"],
        "counties.countygroup": group,
        "counties.countygroupmembership": group.memberships.get(),
        "counties.school": area["school"],
        "counties.user": users["county"],
        "students.dropoutcase": cases["home_a"],
        "students.student": children["home_a"],
        "students.closurereason": ClosureReason.objects.first(),
        "students.ledgerjob": jobs["import"],
        "students.identifieraccess": IdentifierAccess.objects.filter(case=cases["home_a"]).first(),
        "reports.totalsrun": TotalsRun.objects.create(
            status="succeeded", trigger="manual", requested_by=users["admin"]
        ),
        "students.ledgerverification": verification,
        "students.countyverification": verification.counties.get(county=area["county"]),
    }
    # Every other model the admin lists: its first record (django-axes' sign-in records are made here).
    for model in admin.site._registry:
        key = model._meta.label_lower
        if key in objects:
            continue
        objects[key] = model._default_manager.order_by("pk").first()
        if objects[key] is None and key in SIGN_IN_RECORDS:
            objects[key] = model._default_manager.create(**SIGN_IN_RECORDS[key])
        assert objects[key] is not None, f"seed a {key} for the admin's change and history pages"
    # The admin's own history of a child's record names the child.
    for label in ("home_a", "far_a"):
        LogEntry.objects.create(
            user=users["admin"],
            content_type=ContentType.objects.get_for_model(children[label]),
            object_id=str(children[label].pk),
            object_repr=str(children[label]),
            action_flag=CHANGE,
            change_message="[]",
        )
    return objects


def _log_disclosures(area: dict, users: dict, children: dict, cases: dict) -> None:
    """What the access log holds after a day's work: case pages, an export searched by name, an admin search."""
    client = Client()
    client.force_login(users["county"])
    client.get(reverse("students:case-detail", args=[cases["home_a"].pk]))
    body_of(client.get(reverse("students:export"), {"format": "csv", "q": children["home_a"].name}))
    client.force_login(users["neighbour_county"])
    client.get(reverse("students:case-detail", args=[cases["neighbour_a"].pk]))
    client.force_login(users["admin"])
    client.get(reverse("admin:students_student_changelist"), {"q": children["far_a"].name})


def _build_handovers_and_duplicates(area: dict, users: dict, children: dict, cases: dict) -> dict:
    """A handover asked by the home county (its note names two children), one claimed by it from the far county,
    a candidate pair across counties and a merge of a child entered twice."""
    asked = Handover.objects.create(
        case=cases["home_a"],
        from_county=area["county"],
        to_county=area["neighbour"],
        reason=HandoverReason.MOVED_WITH_PARENTS,
        note=identifier_text(children["home_a"], children["home_b"]),
        requested_by=users["county"],
    )
    claimed = Handover.objects.create(
        case=cases["far_a"],
        from_county=area["far"],
        to_county=area["county"],
        to_school=area["school"],
        requested_by_receiver=True,
        reason=HandoverReason.SCHOOL_ELSEWHERE,
        requested_by=users["county"],
    )
    first, second = sorted((children["home_a"], children["far_b"]), key=lambda student: student.pk)
    across = DuplicateCandidate.objects.create(first=first, second=second, kind=DuplicateKind.SAME_PINYIN)
    home_b = children["home_b"]
    twin = StudentFactory(name=home_b.name, birth_date=home_b.birth_date, id_number=None, guardian_name="")
    entered_twice = DuplicateCandidate.objects.create(first=home_b, second=twin, kind=DuplicateKind.SAME_PINYIN)
    merge = students_merge(candidate=entered_twice, kept=home_b, user=None)
    return {
        "handover_asked": asked,
        "handover_claimed": claimed,
        "candidate_across": across,
        "candidate_merged": entered_twice,
        "merge": merge,
    }


def build_world() -> World:
    area = _build_area()
    users = _build_users(area)
    token_create(user=users["county"], name="Province exchange")
    children, cases = _build_children(area)
    make_totals(area)
    jobs, uploaded = _build_jobs(area, users, children)
    _log_disclosures(area, users, children, cases)
    objects = _build_admin_objects(area, users, children, cases, jobs)
    objects.update(_build_handovers_and_duplicates(area, users, children, cases))
    objects.update(build_sign_offs(area, users))
    objects.update(build_roster_comparison(area, users, children, cases))
    objects.update(build_spot_checks(area, users, children, cases))
    world = World(area, users, children, cases, jobs, objects, uploaded)
    for role, user in users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            world.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The seeded ledger, built once and rolled back after the module's tests."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


# Reading a response ------------------------------------------------------------------------------------------

JS_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def body_of(response) -> bytes:
    # The test client closes a streamed response once it is read to the end; closing it by hand would also
    # close the database connection, and the module's transaction with it.
    return b"".join(response.streaming_content) if response.streaming else response.content


@functools.lru_cache(maxsize=16)
def _body_text(body: bytes) -> str:
    """A body as text, with every escape a child's name or number may hide behind undone (JSON and JS \\u,
    HTML entities, percent-encoding in links): each undoing keeps what was literal as it was."""
    if body[:4] == b"PK\x03\x04":
        workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        text = "\n".join(
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
        workbook.close()
    else:
        text = body.decode("utf-8", errors="replace")
    return unquote(html.unescape(JS_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)))


def readable(response) -> str:
    """All a response says, as text: its headers, then its body (an XLSX's cells)."""
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    return f"{unquote(headers)}\n{_body_text(body_of(response))}"


def _shows(text: str, what: str, value: str) -> bool:
    if value not in text:
        return False
    if what == "last six of the ID":
        # Six digits alone, not inside a longer number: plotly.js alone holds a few hundred thousand such runs.
        return re.search(rf"(?<!\d){re.escape(value)}(?![\dX])", text) is not None
    return True


def leaks(text: str, role: str, world: World, sent: list[str]) -> list[str]:
    """The identifiers in `text` of children `role` may not see unmasked, less what the request itself sent."""
    found = []
    for label, student in world.children.items():
        if label in SEES.get(role, set()):
            continue
        for what, value in identifiers(student).items():
            if value and _shows(text, what, value) and not any(value in echoed for echoed in sent):
                found.append(f"{label}'s {what} {value!r}")
    return found


# The matrix --------------------------------------------------------------------------------------------------

Urls = Callable[[World], list[str]]
Data = Callable[[World, str], dict]


@dataclass(frozen=True)
class Entry:
    """How to fetch one URL pattern: every URL to try, the methods and what a POST sends."""

    urls: Urls
    methods: tuple[str, ...] = ("get",)
    data: Data = field(default=lambda world, role: {})
    # Roles that must get a 200 from at least one of the URLs: the check of this entry is not empty.
    opens_for: frozenset = frozenset()
    # Follow a POST's redirect and read the page it leads to.
    follow: bool = False
    # The import job's requester may read back what they uploaded.
    echoes_upload: bool = False
    # An API operation: a POST sends JSON, and every answer is read, a refusal (400, 404, 409) as much as a 2xx.
    api: bool = False


def fixed(name: str, *queries: str) -> Urls:
    return lambda world: [reverse(name) + query for query in (queries or ("",))]


def per_case(name: str, labels=tuple(CHILDREN), *queries: str) -> Urls:
    return lambda world: [
        reverse(name, args=[world.cases[label].pk]) + query for label in labels for query in (queries or ("",))
    ]


def per_job(name: str, jobs: tuple[str, ...], *extra) -> Urls:
    return lambda world: [reverse(name, args=[world.jobs[job].pk, *extra]) for job in jobs]


def per_division(name: str, places: tuple[str, ...], *queries: str) -> Urls:
    return lambda world: [
        reverse(name, args=[world.area[place].code]) + query for place in places for query in (queries or ("",))
    ]


def case_list_queries(world: World) -> list[str]:
    home, far = world.children["home_a"], world.children["far_a"]
    base = reverse("students:case-list")
    return [
        base,
        f"{base}?q={home.name}",
        f"{base}?q={far.name}",
        f"{base}?q={far.id_number[:10]}",
        f"{base}?q={world.children['far_b'].registry_number}",
        f"{base}?sort=-name&status=returned",
        f"{base}?province={world.area['far'].province.code}&school={world.area['far_school'].name}&per_page=100",
        f"{base}?county={world.area['far'].code}&dropout_after=2020-01-01&dropout_before=2019-01-01",
    ]


def export_queries(world: World) -> list[str]:
    base = reverse("students:export")
    far = world.children["far_a"]
    return [
        f"{base}?format=xlsx",
        f"{base}?format=csv&headers=en&status=returned",
        f"{base}?format=csv&q={far.id_number}",
    ]


def someone_elses_child(world: World, role: str) -> dict:
    """The new-case form filled in with a child of the far county, whose case there is closed (returned)."""
    far = world.children["far_b"]
    school = world.area[OWN_SCHOOL.get(role, "school")]
    return {
        "school": school.code,
        "grade": 7,
        "dropout_date": _days_ago(10).isoformat(),
        "reason": "poverty",
        "name": "冒名顶替",
        "gender": far.gender,
        "ethnicity": "01",
        "birth_date": far.birth_date.isoformat(),
        "id_number": far.id_number,
        "left_behind": "",
        "disability": "",
    }


IMPORTS = ("import", "import_bad_rows")
# In scope for one writer or another, out of it for the rest; "b" is back in school (the relapse form applies).
ACTION_CASES = ("home_a", "home_b", "other_a", "neighbour_a")
COUNTIES = ("county", "neighbour", "far")
DIVISIONS = ("province", "prefecture", "county", "neighbour", "far")
SCHOOLS = ("school", "other_school", "neighbour_school", "far_school")


def _action(name: str, data: Data = lambda world, role: {}) -> Entry:
    # Data the form refuses: the case's page comes back with the errors, for those who may act on the case.
    return Entry(per_case(name, ACTION_CASES), methods=("post",), data=data, opens_for=WRITERS)


PROJECT_MATRIX: dict[str, Entry] = {
    "set_language": Entry(fixed("set_language"), methods=("post",), data=lambda w, r: {"language": "zh-hans"}),
    "favicon": Entry(fixed("favicon")),  # a redirect to the static file
    "login": Entry(
        fixed("login"),
        methods=("get", "post"),
        data=lambda w, r: {"username": w.users["county"].username, "password": "wrong"},
        opens_for=frozenset(ROLES),
    ),
    "logout": Entry(fixed("logout"), methods=("post",)),
    "students:case-list": Entry(case_list_queries, opens_for=SIGNED_IN),
    # School names and codes only; a child's name typed in finds no school.
    "students:school-suggestions": Entry(
        lambda w: [
            reverse("students:school-suggestions") + f"?q={query}"
            for query in ("school", w.area["far_school"].code[:6], w.children["far_a"].name)
        ],
        opens_for=SIGNED_IN,
    ),
    "students:case-new": Entry(fixed("students:case-new"), methods=("get", "post"), opens_for=WRITERS),
    "students:work-list": Entry(
        lambda w: [
            reverse("students:work-list") + query
            for query in ("", "?section=retention", "?section=handovers", f"?school={w.area['other_school'].code}")
        ],
        opens_for=WRITERS - {"admin"},
    ),
    # The navigation's count of work due: a number.
    "students:work-list-count": Entry(fixed("students:work-list-count"), opens_for=WRITERS - {"admin"}),
    "students:case-detail": Entry(per_case("students:case-detail"), opens_for=SIGNED_IN),
    # The case on paper: every case, for every role (a masked role's sheet shows what its case page shows).
    "students:case-sheet": Entry(per_case("students:case-sheet"), opens_for=SIGNED_IN),
    "students:case-visit": _action("students:case-visit"),
    "students:case-status": _action("students:case-status"),
    "students:case-returned": _action("students:case-returned"),
    "students:case-close": _action("students:case-close"),
    "students:case-retention-check": _action("students:case-retention-check"),
    "students:case-relapse": _action("students:case-relapse"),
    # Every name left blank is a valid form (it removes everyone): a name too long is refused.
    "students:case-responsible": _action("students:case-responsible", lambda world, role: {"name_parent": "名" * 51}),
    "students:disclosure-log": Entry(fixed("students:disclosure-log", "", "?page=2"), opens_for=SIGNED_IN),
    "students:import-template": Entry(fixed("students:import-template"), opens_for=SIGNED_IN),
    "students:import-upload": Entry(
        per_division("students:import-upload", COUNTIES),
        methods=("get", "post"),
        opens_for=frozenset({"county", "neighbour_county", "admin"}),
    ),
    "students:job-detail": Entry(
        per_job("students:job-detail", IMPORTS + ("export_county", "export_ministry")),
        opens_for=frozenset({"county", "ministry", "admin"}),
        echoes_upload=True,
    ),
    "students:job-status": Entry(
        per_job("students:job-status", IMPORTS + ("export_county", "export_ministry")),
        opens_for=frozenset({"county", "ministry", "admin"}),
        echoes_upload=True,
    ),
    "students:import-confirm": Entry(per_job("students:import-confirm", ("import",)), methods=("post",)),
    # Headings and the values of fixed lists only: no child's data.
    "students:import-mapping": Entry(
        per_division("students:import-mapping", COUNTIES),
        methods=("get", "post"),
        opens_for=frozenset({"county", "neighbour_county", "admin"}),
    ),
    "students:import-mapping-confirm": Entry(
        per_job("students:import-mapping-confirm", ("import",)), methods=("post",)
    ),
    "students:job-problems": Entry(
        lambda w: (
            per_job("students:job-problems", ("import",), "xlsx")(w)
            + per_job("students:job-problems", ("import",), "csv")(w)
        ),
        opens_for=frozenset({"county", "admin"}),
        echoes_upload=True,
    ),
    "students:job-download": Entry(
        per_job("students:job-download", ("export_county", "export_ministry")),
        opens_for=frozenset({"county", "ministry", "admin"}),
    ),
    "students:export": Entry(export_queries, methods=("get", "post"), opens_for=SIGNED_IN),
    "students:export-ledger": Entry(
        lambda w: [
            reverse("students:export-ledger", args=[w.area[place].code]) + f"?format={fmt}"
            for place in COUNTIES
            for fmt in ("xlsx", "csv")
        ],
        opens_for=SIGNED_IN,
    ),
    "students:monthly-report": Entry(
        per_division("students:monthly-report", DIVISIONS, "", f"?month={DAY:%Y-%m}"), opens_for=SIGNED_IN
    ),
    "students:monthly-report-national": Entry(
        fixed("students:monthly-report-national", "", f"?month={DAY:%Y-%m}"), opens_for=NATIONAL
    ),
    "students:monthly-report-group": Entry(
        lambda w: [
            reverse("students:monthly-report-group", args=[w.objects["counties.countygroup"].slug]) + query
            for query in ("", f"?month={DAY:%Y-%m}")
        ],
        opens_for=NATIONAL,
    ),
    "reports:home": Entry(fixed("reports:home")),
    "reports:national": Entry(fixed("reports:national", "", f"?day={DAY}"), opens_for=NATIONAL),
    "reports:division": Entry(per_division("reports:division", DIVISIONS), opens_for=SIGNED_IN),
    "reports:group": Entry(
        lambda w: [reverse("reports:group", args=[w.objects["counties.countygroup"].slug])], opens_for=NATIONAL
    ),
    "reports:school": Entry(
        lambda w: [reverse("reports:school", args=[w.area[school].code]) for school in SCHOOLS], opens_for=WRITERS
    ),
    # Each chart's figures as CSV, with the range and the lines a user may draw (a group held fixed among them).
    "reports:national-csv": Entry(
        lambda w: [
            reverse("reports:national-csv") + f"?chart={chart}&from={DAY}&day={DAY}&overlay=nation"
            for chart in ("chart-trend", "chart-groups", "chart-children", "chart-reasons", "chart-poor")
        ],
        opens_for=NATIONAL,
    ),
    "reports:division-csv": Entry(
        lambda w: [
            reverse("reports:division-csv", args=[w.area[place].code]) + f"?chart={chart}&day={DAY}"
            for place in DIVISIONS
            for chart in ("chart-trend", "chart-reasons")
        ],
        opens_for=SIGNED_IN,
    ),
    "reports:group-csv": Entry(
        lambda w: [
            reverse("reports:group-csv", args=[w.objects["counties.countygroup"].slug])
            + f"?chart=chart-trend&as_of={DAY}&overlay=nation"
        ],
        opens_for=NATIONAL,
    ),
    "reports:plotly-js": Entry(
        lambda w: [reverse("reports:plotly-js", args=[plotly.__version__])], opens_for=frozenset(ROLES)
    ),
    "reports:runs": Entry(fixed("reports:runs"), opens_for=ADMIN_SITE),
    "reports:run-start": Entry(fixed("reports:run-start"), methods=("post",)),
    "reports:run-status": Entry(
        lambda w: [reverse("reports:run-status", args=[w.objects["reports.totalsrun"].pk])], opens_for=ADMIN_SITE
    ),
}


def per_object(name: str, *keys: str) -> Urls:
    return lambda world: [reverse(name, args=[world.objects[key].pk]) for key in keys]


def claim_a_child(world: World, role: str) -> dict:
    """The claim form filled in with the number of a child whose case the neighbour county holds, open."""
    school = world.area[OWN_SCHOOL.get(role, "school")]
    return {"identifier": world.children["neighbour_a"].id_number, "to_school": school.code, "reason": "moved"}


HANDOVERS = ("handover_asked", "handover_claimed")
COUNTY_OFFICIALS = frozenset({"county", "neighbour_county", "admin"})
PROJECT_MATRIX |= {
    "students:duplicates": Entry(fixed("students:duplicates", "", "?page=2"), opens_for=COUNTY_OFFICIALS),
    "students:duplicate-detail": Entry(
        per_object("students:duplicate-detail", "candidate_across", "candidate_merged"),
        opens_for=frozenset({"county", "admin"}),
    ),
    # Keeping the home county's record of a pair across counties; the page it leads to is read too.
    "students:duplicate-merge": Entry(
        per_object("students:duplicate-merge", "candidate_across"),
        methods=("post",),
        data=lambda world, role: {"keep": world.objects["candidate_across"].first_id},
        follow=True,
        opens_for=frozenset({"county", "admin"}),
    ),
    "students:duplicate-not-same": Entry(
        per_object("students:duplicate-not-same", "candidate_across"), methods=("post",), follow=True
    ),
    "students:merge-undo": Entry(per_object("students:merge-undo", "merge"), methods=("post",), follow=True),
    "students:case-handover": _action("students:case-handover"),
    "students:handover-list": Entry(
        fixed("students:handover-list", "", "?status=pending"), opens_for=SIGNED_IN - PRINCIPALS
    ),
    "students:handover-stuck": Entry(fixed("students:handover-stuck"), opens_for=NATIONAL),
    # Claimed by a child's number typed in full; the handover's page it leads to is read too.
    "students:handover-claim": Entry(
        fixed("students:handover-claim"),
        methods=("get", "post"),
        data=claim_a_child,
        follow=True,
        opens_for=frozenset({"county", "neighbour_county"}),
    ),
    "students:handover-detail": Entry(
        per_object("students:handover-detail", *HANDOVERS), opens_for=SIGNED_IN - PRINCIPALS - {"verifier"}
    ),
    "students:handover-accept": Entry(per_object("students:handover-accept", *HANDOVERS), methods=("post",)),
    "students:handover-decline": Entry(per_object("students:handover-decline", *HANDOVERS), methods=("post",)),
    "students:handover-cancel": Entry(per_object("students:handover-cancel", *HANDOVERS), methods=("post",)),
}

# Roster comparisons (rosters.views): the home county's, whose candidates carry its children's identifiers.
COMPARISON_READERS = frozenset({"county", "admin", "ministry", "province", "prefecture", "staff"})
ROSTER_GROUPS = ("", "?group=never_enrolled", "?group=poor_not_flagged", "?group=never_enrolled&decided=1")
PROJECT_MATRIX |= {
    "rosters:comparison-list": Entry(fixed("rosters:comparison-list"), opens_for=SIGNED_IN - PRINCIPALS),
    "rosters:comparison-new": Entry(
        per_division("rosters:comparison-new", COUNTIES),
        methods=("get", "post"),
        data=lambda world, role: {"as_of": "2020-06-14"},
        opens_for=frozenset({"county", "neighbour_county", "admin"}),
    ),
    "rosters:comparison-detail": Entry(
        lambda w: [
            reverse("rosters:comparison-detail", args=[w.objects["roster_comparison"].pk]) + query
            for query in ROSTER_GROUPS
        ],
        opens_for=COMPARISON_READERS,
    ),
    "rosters:comparison-status": Entry(
        per_object("rosters:comparison-status", "roster_comparison"), opens_for=COMPARISON_READERS
    ),
    # Ticked, with no school for a child the roster gives none: the page comes back with the problem beside it.
    "rosters:candidates-open": Entry(
        per_object("rosters:candidates-open", "roster_comparison"),
        methods=("post",),
        data=lambda world, role: {
            "candidates": [world.objects["roster_never_enrolled"].pk],
            "dropout_date": "2020-06-14",
            "reason": "poverty",
            "group": "never_enrolled",
        },
        opens_for=frozenset({"county", "admin"}),
    ),
    "rosters:candidate-dismiss": Entry(
        per_object("rosters:candidate-dismiss", "roster_never_enrolled"),
        methods=("post",),
        data=lambda world, role: {"reason": ""},
        follow=True,
        opens_for=frozenset({"county", "admin"}),
    ),
    "rosters:candidate-flag": Entry(
        per_object("rosters:candidate-flag", "roster_poor"),
        methods=("post",),
        follow=True,
        opens_for=frozenset({"county", "admin"}),
    ),
}

# Spot checks (verification.views): rounds for ministry and province staff, which name no child; a verifier's
# checks, the child in full only of those assigned to them; a check's photo to those who see its child in full.
DRAWERS = frozenset({"ministry", "province", "admin", "staff"})
SPOT_CHECKS = ("spot_check_open", "spot_check_recorded", "spot_check_unassigned")
PROJECT_MATRIX |= {
    "verification:rounds": Entry(fixed("verification:rounds"), opens_for=DRAWERS),
    # A new round of the home prefecture: the round's page it leads to is read too.
    "verification:round-draw": Entry(
        fixed("verification:round-draw"),
        methods=("post",),
        data=lambda world, role: {
            "area": world.area["prefecture"].code,
            "returned_from": _days_ago(60).isoformat(),
            "returned_until": _days_ago(0).isoformat(),
            "share": "100",
            "seed": "7",
        },
        follow=True,
        opens_for=DRAWERS,
    ),
    "verification:round-detail": Entry(per_object("verification:round-detail", "spot_round"), opens_for=DRAWERS),
    # The unassigned check given to the matrix's verifier: the round's page it leads to is read too.
    "verification:round-assign": Entry(
        per_object("verification:round-assign", "spot_round"),
        methods=("post",),
        data=lambda world, role: {
            "verifier": world.users["verifier"].pk,
            "checks": [world.objects["spot_check_unassigned"].pk],
        },
        follow=True,
        opens_for=DRAWERS,
    ),
    "verification:my-checks": Entry(fixed("verification:my-checks"), opens_for=frozenset({"verifier"})),
    "verification:check-detail": Entry(
        per_object("verification:check-detail", *SPOT_CHECKS),
        methods=("get", "post"),
        data=lambda world, role: {"outcome": "confirmed", "checked_on": _days_ago(0).isoformat(), "note": "在校"},
        opens_for=frozenset({"verifier"}),
    ),
    "verification:check-evidence": Entry(
        per_object("verification:check-evidence", "spot_check_recorded"),
        opens_for=frozenset({"verifier", "county", "other_principal", "admin"}),
    ),
}

# The monthly sign-off (reports.views.signoff): each county's signed month, whose corrections name its children; a
# send-back's note names children too. Principals take no part.
SIGN_OFF_READERS = SIGNED_IN - PRINCIPALS - {"verifier"}


def per_sign_off(name: str) -> Urls:
    return lambda world: [
        reverse(name, args=[world.area[place].code, f"{sign_off_month():%Y-%m}"]) for place in COUNTIES
    ]


PROJECT_MATRIX |= {
    "reports:sign-off": Entry(per_sign_off("reports:sign-off"), opens_for=SIGN_OFF_READERS),
    # Refused (the month is signed, or the totals do not cover it): the page comes back with why.
    "reports:sign-off-sign": Entry(per_sign_off("reports:sign-off-sign"), methods=("post",)),
    "reports:sign-off-accept": Entry(per_sign_off("reports:sign-off-accept"), methods=("post",), follow=True),
    "reports:sign-off-send-back": Entry(
        per_sign_off("reports:sign-off-send-back"),
        methods=("post",),
        data=lambda world, role: {"note": identifier_text(world.children["home_a"], world.children["far_a"])},
        follow=True,
        opens_for=frozenset({"prefecture"}),
    ),
}


def _api_visit(world: World, role: str) -> dict:
    """A visit as another system sends it."""
    return {
        "visit_date": _days_ago(1).isoformat(),
        "method": "home_visit",
        "outcome": "agreed",
        "visitors": [{"role": "principal", "name": "来访者"}],
        "notes": "API",
    }


def _api_cases(world: World) -> list[str]:
    far = world.children["far_a"]
    base = reverse("api:case-list")
    return [
        base,
        f"{base}?q={far.name}",
        f"{base}?q={far.id_number[:10]}",
        f"{base}?status=returned&page_size=1",
        f"{base}?county={world.area['far'].code}",
    ]


def _api_action(name: str, data: Data = lambda world, role: {"version": 0}) -> Entry:
    # Refused input: the refusal is read, for those who may act on the case and those who may not.
    return Entry(per_case(name, ACTION_CASES), methods=("post",), data=data, api=True)


JOBS = ("import", "import_bad_rows", "export_county", "export_ministry")
PROJECT_MATRIX |= {
    "api:schema": Entry(fixed("api:schema"), opens_for=frozenset(ROLES)),
    "api:docs": Entry(fixed("api:docs", "", "?script="), opens_for=frozenset(ROLES)),
    "api:redoc": Entry(fixed("api:redoc"), opens_for=frozenset(ROLES)),
    "api:not-found": Entry(
        lambda w: [f"/api/v1/cases/{w.children['far_a'].id_number}/", "/api/v1/no-such-operation/"], api=True
    ),
    "api:tokens": Entry(
        fixed("api:tokens"),
        methods=("get", "post"),
        data=lambda w, r: {"name": "exchange", "days": 30},
        opens_for=SIGNED_IN,
    ),
    "api:token-revoke": Entry(
        lambda w: [reverse("api:token-revoke", args=[w.objects["api.apitoken"].pk])], methods=("post",)
    ),
    "api:area-list": Entry(fixed("api:area-list", "", "?level=county"), opens_for=SIGNED_IN, api=True),
    "api:area-detail": Entry(per_division("api:area-detail", DIVISIONS), opens_for=SIGNED_IN, api=True),
    "api:group-list": Entry(fixed("api:group-list", f"?as_of={DAY}"), opens_for=SIGNED_IN, api=True),
    "api:group-detail": Entry(
        lambda w: [reverse("api:group-detail", args=[w.objects["counties.countygroup"].slug])],
        opens_for=NATIONAL,
        api=True,
    ),
    "api:school-list": Entry(fixed("api:school-list"), opens_for=SIGNED_IN, api=True),
    # A verifier's scope holds the cases assigned to them, and no school nor handover (students.access).
    "api:school-detail": Entry(
        lambda w: [reverse("api:school-detail", args=[w.area[school].code]) for school in SCHOOLS],
        opens_for=SIGNED_IN - {"verifier"},
        api=True,
    ),
    "api:child-list": Entry(fixed("api:child-list"), opens_for=SIGNED_IN, api=True),
    "api:child-detail": Entry(
        lambda w: [reverse("api:child-detail", args=[w.children[label].pk]) for label in CHILDREN],
        opens_for=SIGNED_IN,
        api=True,
    ),
    "api:case-list": Entry(_api_cases, opens_for=SIGNED_IN, api=True),
    "api:case-detail": Entry(per_case("api:case-detail"), opens_for=SIGNED_IN, api=True),
    "api:case-events": Entry(per_case("api:case-events"), opens_for=SIGNED_IN, api=True),
    "api:case-persons": Entry(per_case("api:case-persons"), opens_for=SIGNED_IN, api=True),
    "api:case-visits": Entry(
        per_case("api:case-visits", ACTION_CASES), methods=("post",), data=_api_visit, opens_for=WRITERS, api=True
    ),
    "api:case-open": Entry(fixed("api:case-open"), methods=("post",), data=someone_elses_child, api=True),
    "api:case-status": _api_action("api:case-status"),
    "api:case-returned": _api_action("api:case-returned"),
    "api:case-close": _api_action("api:case-close"),
    "api:case-relapse": _api_action("api:case-relapse"),
    "api:case-handover": _api_action(
        "api:case-handover", lambda w, r: {"county": w.area["neighbour"].code, "reason": "moved"}
    ),
    "api:visit-list": Entry(
        lambda w: [reverse("api:visit-list"), reverse("api:visit-list") + f"?case={w.cases['far_a'].pk}"],
        opens_for=SIGNED_IN,
        api=True,
    ),
    "api:totals": Entry(
        lambda w: [
            reverse("api:totals") + f"?since={DAY}&until={DAY}",
            reverse("api:totals") + f"?area={w.area['far'].code}&since={DAY}&until={DAY}",
        ],
        opens_for=SIGNED_IN,
        api=True,
    ),
    "api:county-totals": Entry(
        lambda w: [
            reverse("api:county-totals") + f"?within={w.area[place].code}&day={DAY}"
            for place in ("province", "prefecture")
        ],
        opens_for=frozenset({"ministry", "province", "prefecture", "staff", "admin"}),
        api=True,
    ),
    "api:job-list": Entry(fixed("api:job-list"), opens_for=SIGNED_IN, api=True),
    "api:job-detail": Entry(
        per_job("api:job-detail", JOBS),
        opens_for=frozenset({"county", "ministry", "admin"}),
        echoes_upload=True,
        api=True,
    ),
    "api:import-confirm": Entry(per_job("api:import-confirm", IMPORTS), methods=("post",), api=True),
    "api:import-upload": Entry(
        fixed("api:import-upload"), methods=("post",), data=lambda w, r: {"county": w.area["county"].code}
    ),
    "api:handover-list": Entry(fixed("api:handover-list"), opens_for=SIGNED_IN, api=True),
    "api:handover-claim": Entry(
        fixed("api:handover-claim"), methods=("post",), data=claim_a_child, opens_for=frozenset({"county"}), api=True
    ),
    "api:handover-detail": Entry(
        per_object("api:handover-detail", *HANDOVERS), opens_for=SIGNED_IN - PRINCIPALS - {"verifier"}, api=True
    ),
    "api:handover-accept": Entry(
        per_object("api:handover-accept", *HANDOVERS), methods=("post",), data=lambda w, r: {"version": 0}, api=True
    ),
}


# The new-case form, sent with a child of the far county: the page it leads to is read too.
NEW_CASE_FOR_SOMEONE_ELSES_CHILD = Entry(
    fixed("students:case-new"), methods=("post",), data=someone_elses_child, follow=True
)

# Admin ------------------------------------------------------------------------------------------------------

# Models whose records are children's data: only superusers and administrators (students.admin.ChildDataAdmin).
CHILD_DATA_MODELS = {"students.student", "students.dropoutcase", "students.ledgerjob", "students.identifieraccess"}

# The admin's URLs the matrix does not fetch, and why; "{model}" stands for each registered model's URL name.
ADMIN_NOT_FETCHED = {
    "admin:login": "the sign-in form: no ledger data",
    "admin:logout": "signs out: no page",
    "admin:password_change": "the user's own password form",
    "admin:password_change_done": "a fixed message",
    "admin:jsi18n": "the translation catalogue of the admin's scripts",
    "admin:view_on_site": "redirects to the record's own page, which the matrix fetches",
    "admin:auth_user_password_change": "a staff member's password form (the user admin holds staff, not children)",
    "admin/(?P<url>.*)$": "the admin's catch-all: answers 404 or redirects to sign in",
    "admin:{model}_add": "a blank form (the ledger's models refuse adding here)",
    "admin:{model}_delete": "refused for the ledger's models; the other models hold no child",
    "admin/{path}/<path:object_id>/": "redirects to the change page, which the matrix fetches",
}


def _admin_list_urls(name: str) -> Urls:
    # The list, and a search for a family name.
    return lambda world: [reverse(name), f"{reverse(name)}?q={world.children['far_a'].name[0]}"]


def _admin_object_urls(view: str, key: str) -> Urls:
    app_label, model_name = key.split(".")
    return lambda world: [reverse(f"admin:{app_label}_{model_name}_{view}", args=[world.objects[key].pk])]


def _admin_matrix() -> dict[str, Entry]:
    """The list, a record and its history for every model the admin registers; the index and each app's page."""
    entries = {
        "admin:index": Entry(fixed("admin:index"), opens_for=ADMIN_SITE),
        "admin:app_list": Entry(
            lambda w: [
                reverse("admin:app_list", args=[label])
                for label in sorted({model._meta.app_label for model in admin.site._registry})
            ],
            opens_for=ADMIN_SITE,
        ),
        "admin:autocomplete": Entry(
            lambda w: [
                reverse("admin:autocomplete")
                + f"?app_label=students&model_name=dropoutcase&field_name=student&term={w.children['far_a'].name[0]}"
            ]
        ),
    }
    for model in admin.site._registry:
        key = model._meta.label_lower
        url_name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        readers = frozenset({"admin"}) if key in CHILD_DATA_MODELS else ADMIN_SITE
        entries[f"{url_name}_changelist"] = Entry(_admin_list_urls(f"{url_name}_changelist"), opens_for=readers)
        entries[f"{url_name}_change"] = Entry(_admin_object_urls("change", key), opens_for=readers)
        entries[f"{url_name}_history"] = Entry(_admin_object_urls("history", key), opens_for=readers)
    return entries


def admin_not_fetched() -> set[str]:
    keys = set()
    for key in ADMIN_NOT_FETCHED:
        if "{model}" in key:
            keys |= {
                key.format(model=f"{model._meta.app_label}_{model._meta.model_name}") for model in admin.site._registry
            }
        elif "{path}" in key:
            keys |= {
                key.format(path=f"{model._meta.app_label}/{model._meta.model_name}") for model in admin.site._registry
            }
        else:
            keys.add(key)
    return keys


MATRIX: dict[str, Entry] = {**PROJECT_MATRIX, **_admin_matrix()}


def url_pattern_keys(resolver=None, prefix: str = "", namespace: str = ""):
    """Every pattern of the URLconf, through every include: "namespace:name", or its route when unnamed."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from url_pattern_keys(pattern, prefix + str(pattern.pattern), inner)
        elif pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name
        else:
            yield prefix + str(pattern.pattern)


def test_every_url_is_in_the_matrix():
    patterns = set(url_pattern_keys())
    declared = set(MATRIX) | admin_not_fetched()
    assert sorted(patterns - declared) == [], "URL patterns with no entry in MATRIX (nor in ADMIN_NOT_FETCHED)"
    assert sorted(declared - patterns) == [], "MATRIX entries for URL patterns that no longer exist"
    assert not set(MATRIX) & admin_not_fetched()


# Known leaks, in files this test does not own: each is a failing case until fixed (strict xfail), then the
# entry goes.
KNOWN_LEAKS: dict[tuple[str, str], str] = {}


def _cases():
    for key in MATRIX:
        for role in ROLES:
            reason = KNOWN_LEAKS.get((key, role))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(key, role, marks=marks, id=f"{key}-{role}")


def _sent(url: str, data: dict) -> list[str]:
    query = url.partition("?")[2]
    return [unquote(query), *(str(value) for value in data.values())]


# The patterns whose answers a cache may keep: they hold nobody's data, and say so with Cache-Control: public.
PUBLIC = {"reports:plotly-js"}


def cache_problem(key: str, response) -> str | None:
    """Why a cache could keep this answer, if it could (dropout_ledger.middleware): no answer of the application
    may be kept, whatever it is (a page, a list, an export, a job's file, a redirect, a refusal), but plotly.js."""
    if key in PUBLIC:
        return None if response["Cache-Control"].startswith("public, ") else "plotly.js is not public"
    if response.get("Cache-Control") == "no-store" and response.get("Pragma") == "no-cache":
        return None
    return f"Cache-Control {response.get('Cache-Control')!r}, Pragma {response.get('Pragma')!r}"


def check(client, world: World, role: str, entry: Entry, key: str) -> tuple[int, list[str], list[str]]:
    """Fetches every URL of the entry; returns how many 200s were read, the leaks found in them, and the answers
    a cache could keep."""
    opened, found, kept = 0, [], []
    for url in entry.urls(world):
        for method in entry.methods:
            data = entry.data(world, role) if method == "post" else {}
            if method == "get":
                response = client.get(url, follow=entry.follow)
            elif entry.api:
                response = client.post(url, data, content_type="application/json")
            else:
                response = client.post(url, data, follow=entry.follow)
            if problem := cache_problem(key, response):
                kept.append(f"{method.upper()} {url} ({response.status_code}): {problem}")
            if not (response.status_code in (200, 201, 202) or entry.api):
                body_of(response)
                continue
            opened += response.status_code in (200, 201, 202)
            sent = _sent(url, data)
            if entry.echoes_upload and role == "county":
                sent += sorted(world.uploaded)
            found += [f"{method.upper()} {url}: {leak}" for leak in leaks(readable(response), role, world, sent)]
    return opened, found, kept


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "role"), list(_cases()))
def test_no_output_shows_a_child_the_role_may_not_see(key, role, world, client):
    world.sign_in(client, role)
    entry = MATRIX[key]
    opened, found, kept = check(client, world, role, entry, key)
    assert found == [], f"{role} sees identifiers they may not:\n" + "\n".join(found)
    assert kept == [], "answers a cache may keep:\n" + "\n".join(kept)
    if role in entry.opens_for:
        assert opened, f"{key} answered no 200 to {role}: the matrix checked nothing there"


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(WRITERS))
def test_the_new_case_form_sent_with_another_countys_child_shows_nothing_of_them(role, world, client):
    world.sign_in(client, role)
    opened, found, kept = check(client, world, role, NEW_CASE_FOR_SOMEONE_ELSES_CHILD, "students:case-new")
    assert opened
    assert found == [], f"{role} sees identifiers they may not:\n" + "\n".join(found)
    assert kept == [], "answers a cache may keep:\n" + "\n".join(kept)


def test_the_seeded_ledger_has_what_the_matrix_relies_on(world, django_db_blocker):
    with django_db_blocker.unblock():
        assert len(import_job_problems(world.jobs["import"])) == 3, world.jobs["import"].report
        assert import_job_problems(world.jobs["import_bad_rows"]), world.jobs["import_bad_rows"].report
        assert world.jobs["export_county"].output_file and world.jobs["export_ministry"].output_file
        for label, case in world.cases.items():
            assert world.children[label].name in case.reason_detail
            assert case.responsible_persons.filter(role="parent").exists()
        assert IdentifierAccess.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", MASKED)
def test_a_masked_role_sees_nothing_of_a_cases_own_child_on_its_page(role, world, client):
    """Besides the matrix: on every case page a masked role opens, nothing of that case's own child shows."""
    world.sign_in(client, role)
    opened = 0
    for label, case in world.cases.items():
        response = client.get(reverse("students:case-detail", args=[case.pk]))
        if response.status_code != 200:
            continue
        opened += 1
        text = readable(response)
        shown = [what for what, value in identifiers(world.children[label]).items() if value in text]
        assert shown == [], f"{role} sees {label}'s {shown} on their case's page"
    assert opened
