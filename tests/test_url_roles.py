"""Every URL of the project with the roles it needs: the table below is the spec, the URLconfs must declare it.

Each pattern of the URLconf has an entry in ROLES, or the first test fails: a new screen cannot ship without
someone saying who may open it. An entry is one of
- ANYONE: no sign-in (signing in, the language switch, a static script);
- SCOPED: any signed-in user, who sees and changes only their scope (students.access decides inside the view);
- a set of roles: a management screen, declared in the URLconf with counties.roles (a superuser has every role).
Then, for every management screen, a county official with the staff flag (and every permission Django has)
is refused, and an administrator gets in.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import URLResolver, get_resolver, reverse

from counties.models import Role
from counties.roles import roles_required_by
from reports.models import TotalsRun
from reports.services import runs
from tests.factories import UserFactory

ANYONE = "anyone"
SCOPED = "signed in, scoped by students.access"
# The REST API: a token or a session, scoped by students.access; signed out, a 401 in JSON rather than a redirect.
API = "a token or a session, scoped by students.access"
ADMINISTRATORS = frozenset({Role.ADMIN})

PROJECT_ROLES = {
    "set_language": ANYONE,
    "favicon": ANYONE,
    "login": ANYONE,
    "logout": ANYONE,
    # Case work (students.views, students.views_jobs).
    "students:case-list": SCOPED,
    "students:case-new": SCOPED,
    "students:school-suggestions": SCOPED,
    "students:work-list": frozenset({Role.COUNTY, Role.PRINCIPAL}),
    "students:work-list-count": frozenset({Role.COUNTY, Role.PRINCIPAL}),
    "students:case-detail": SCOPED,
    "students:case-sheet": SCOPED,
    "students:case-visit": SCOPED,
    "students:case-status": SCOPED,
    "students:case-returned": SCOPED,
    "students:case-close": SCOPED,
    "students:case-retention-check": SCOPED,
    "students:case-relapse": SCOPED,
    "students:case-responsible": SCOPED,
    "students:disclosure-log": SCOPED,
    "students:duplicates": SCOPED,
    "students:duplicate-detail": SCOPED,
    "students:duplicate-merge": SCOPED,
    "students:duplicate-not-same": SCOPED,
    "students:merge-undo": SCOPED,
    "students:case-handover": SCOPED,
    "students:handover-list": SCOPED,
    "students:handover-stuck": SCOPED,
    "students:handover-claim": SCOPED,
    "students:handover-detail": SCOPED,
    "students:handover-accept": SCOPED,
    "students:handover-decline": SCOPED,
    "students:handover-cancel": SCOPED,
    "students:import-template": SCOPED,
    "students:import-upload": SCOPED,
    "students:import-mapping": SCOPED,
    "students:import-mapping-confirm": SCOPED,
    "students:job-detail": SCOPED,
    "students:job-status": SCOPED,
    "students:import-confirm": SCOPED,
    "students:job-problems": SCOPED,
    "students:job-download": SCOPED,
    "students:export": SCOPED,
    "students:export-ledger": SCOPED,
    "students:monthly-report": SCOPED,
    "students:monthly-report-national": SCOPED,
    "students:monthly-report-group": SCOPED,
    # Roster comparisons of a county (rosters.views): the county's officials, and read-only its supervisors.
    "rosters:comparison-list": SCOPED,
    "rosters:comparison-new": SCOPED,
    "rosters:comparison-detail": SCOPED,
    "rosters:comparison-status": SCOPED,
    "rosters:candidates-open": SCOPED,
    "rosters:candidate-dismiss": SCOPED,
    "rosters:candidate-flag": SCOPED,
    # Spot checks (verification.views): rounds for ministry and province staff, checks for verifiers; a check's
    # photo for those who see its child in full (scoped inside).
    "verification:rounds": frozenset({Role.MINISTRY, Role.PROVINCE, Role.ADMIN}),
    "verification:round-draw": frozenset({Role.MINISTRY, Role.PROVINCE, Role.ADMIN}),
    "verification:round-detail": frozenset({Role.MINISTRY, Role.PROVINCE, Role.ADMIN}),
    "verification:round-assign": frozenset({Role.MINISTRY, Role.PROVINCE, Role.ADMIN}),
    "verification:my-checks": frozenset({Role.VERIFIER}),
    "verification:check-detail": frozenset({Role.VERIFIER}),
    "verification:check-evidence": SCOPED,
    # The monthly sign-off of a county's month (reports.views.signoff): scoped as the county's dashboard; who takes
    # which step is the service's rule (reports.services.signoff).
    "reports:sign-off": SCOPED,
    "reports:sign-off-sign": SCOPED,
    "reports:sign-off-accept": SCOPED,
    "reports:sign-off-send-back": SCOPED,
    # Dashboards (reports.views): each user's area, through the same scope.
    "reports:home": SCOPED,
    "reports:national": SCOPED,
    "reports:division": SCOPED,
    "reports:group": SCOPED,
    "reports:national-csv": SCOPED,
    "reports:division-csv": SCOPED,
    "reports:group-csv": SCOPED,
    "reports:school": SCOPED,
    "reports:plotly-js": ANYONE,
    # The REST API (api.urls): its schema and documentation, the Tokens page, and /api/v1/.
    "api:schema": ANYONE,
    "api:docs": ANYONE,
    "api:redoc": ANYONE,
    "api:not-found": ANYONE,  # any other address under /api/v1/: a 404 in JSON
    "api:tokens": SCOPED,
    "api:token-revoke": SCOPED,
    **{
        f"api:{name}": API
        for name in (
            "area-list",
            "area-detail",
            "group-list",
            "group-detail",
            "school-list",
            "school-detail",
            "child-list",
            "child-detail",
            "case-list",
            "case-open",
            "case-detail",
            "case-events",
            "case-visits",
            "case-status",
            "case-returned",
            "case-close",
            "case-relapse",
            "case-persons",
            "case-handover",
            "visit-list",
            "totals",
            "county-totals",
            "job-list",
            "job-detail",
            "import-confirm",
            "import-upload",
            "handover-list",
            "handover-claim",
            "handover-detail",
            "handover-accept",
        )
    },  # fmt: skip
    # Management.
    "reports:runs": ADMINISTRATORS,
    "reports:run-start": ADMINISTRATORS,
    "reports:run-status": ADMINISTRATORS,
    # The administration site: all of it but its sign-in form.
    "admin:login": ANYONE,
    "admin:logout": ADMINISTRATORS,
    "admin:index": ADMINISTRATORS,
    "admin:password_change": ADMINISTRATORS,
    "admin:password_change_done": ADMINISTRATORS,
    "admin:autocomplete": ADMINISTRATORS,
    "admin:jsi18n": ADMINISTRATORS,
    "admin:view_on_site": ADMINISTRATORS,
    "admin:app_list": ADMINISTRATORS,
    "admin:auth_user_password_change": ADMINISTRATORS,
    "admin/(?P<url>.*)$": ADMINISTRATORS,
}


def _admin_model_roles() -> dict:
    """Each model the admin registers: its list, add, change, delete and history pages, and its old-style link."""
    roles = {}
    for model in admin.site._registry:
        app_label, model_name = model._meta.app_label, model._meta.model_name
        for view in ("changelist", "add", "change", "delete", "history"):
            roles[f"admin:{app_label}_{model_name}_{view}"] = ADMINISTRATORS
        roles[f"admin/{app_label}/{model_name}/<path:object_id>/"] = ADMINISTRATORS
    return roles


ROLES = {**PROJECT_ROLES, **_admin_model_roles()}


def url_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(key, view) for every pattern through every include: "namespace:name", or its route when unnamed."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from url_patterns(pattern, prefix + str(pattern.pattern), inner)
        elif pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern
        else:
            yield prefix + str(pattern.pattern), pattern


def test_every_url_is_in_the_table():
    keys = [key for key, _pattern in url_patterns()]
    assert len(keys) == len(set(keys)), "two patterns with one name: the table cannot tell them apart"
    assert sorted(set(keys) - set(ROLES)) == [], "URL patterns with no entry in ROLES"
    assert sorted(set(ROLES) - set(keys)) == [], "ROLES entries for URL patterns that no longer exist"


@pytest.mark.parametrize(("key", "pattern"), list(url_patterns()), ids=lambda value: str(value))
def test_each_url_declares_the_roles_in_the_table(key, pattern):
    expected = ROLES.get(key)
    declared = roles_required_by(pattern.callback)
    if expected in (ANYONE, SCOPED, API):
        assert declared is None, f"{key} declares roles {sorted(declared)}, the table says {expected!r}"
    else:
        assert declared == expected, f"{key} declares {declared}, the table says {sorted(expected or [])}"


def _sample_url(key: str, pattern) -> str:
    values = {"int": 1, "string": "1", "slug": "x", "path": "1"}
    kwargs = {
        name: values[type(converter).__name__.removesuffix("Converter").lower()]
        for name, converter in pattern.pattern.converters.items()
    }
    return reverse(key, kwargs=kwargs)


SIGNED_IN_ONLY = sorted(
    key for key, roles in PROJECT_ROLES.items() if roles not in (ANYONE, API) and not key.startswith("admin")
)
API_ONLY = sorted(key for key, roles in PROJECT_ROLES.items() if roles == API)


@pytest.mark.django_db
def test_every_screen_but_anyones_sends_a_signed_out_visitor_to_sign_in(client):
    patterns = dict(url_patterns())
    for key in SIGNED_IN_ONLY:
        url = _sample_url(key, patterns[key])
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url)
        assert response.status_code == 302, (key, response.status_code)
        assert response["Location"].startswith(reverse("login")), (key, response["Location"])


@pytest.mark.django_db
def test_every_api_url_answers_a_signed_out_caller_401_in_json(client):
    patterns = dict(url_patterns())
    for key in API_ONLY:
        url = _sample_url(key, patterns[key])
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url)
        assert response.status_code == 401, (key, response.status_code)
        assert response.json()["code"] == "not_authenticated", key


# Management screens ---------------------------------------------------------------------------------------


@pytest.fixture
def county_staff(area):
    """A county official with the staff flag and every permission Django has: none of it opens a management screen."""
    user = UserFactory(role=Role.COUNTY, division=area["county"], is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def administrator():
    """An administrator by role, neither staff nor superuser, with every permission the admin's pages ask for."""
    user = UserFactory(role=Role.ADMIN)
    user.user_permissions.set(Permission.objects.all())
    return user


def _management_requests() -> list[tuple[str, str, object]]:
    """(method, URL name, args) of the management screens the tests open: the project's, the admin's index, each
    app's page and each registered model's list."""
    requests = [("get", "reports:runs", ()), ("post", "reports:run-start", ()), ("get", "reports:run-status", None)]
    requests += [("get", "admin:index", ())]
    labels = sorted({model._meta.app_label for model in admin.site._registry})
    requests += [("get", "admin:app_list", (label,)) for label in labels]
    requests += [
        ("get", f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist", ())
        for model in admin.site._registry
    ]
    return requests


def _fetch(client, method: str, name: str, args) -> object:
    if args is None:  # the run's progress: a run of the test's own
        args = (TotalsRun.objects.create().pk,)
    return getattr(client, method)(reverse(name, args=args))


def _refused(response) -> bool:
    """The project's screens are 404 to those without the role; the admin sends them to its sign-in page, which
    says the account may not open the site."""
    if response.status_code == 404:
        return True
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_a_county_official_with_the_staff_flag_is_refused_every_management_screen(client, county_staff):
    client.force_login(county_staff)
    for method, name, args in _management_requests():
        response = _fetch(client, method, name, args)
        assert _refused(response), f"{method.upper()} {name}: {response.status_code}"
    assert not TotalsRun.objects.filter(trigger=runs.Trigger.WEB).exists()


@pytest.mark.django_db
def test_the_admin_sign_in_page_tells_a_staff_county_official_they_may_not_open_the_site(client, county_staff):
    client.force_login(county_staff)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
    # "You are authenticated as …, but are not authorized to access this page", and the sign-in form.
    assert county_staff.username in response.content.decode()
    assert 'name="password"' in response.content.decode()


@pytest.mark.django_db
def test_an_administrator_opens_every_management_screen(client, administrator, django_capture_on_commit_callbacks):
    client.force_login(administrator)
    for method, name, args in _management_requests():
        with django_capture_on_commit_callbacks(execute=False):
            response = _fetch(client, method, name, args)
        expected = 302 if method == "post" else 200
        assert response.status_code == expected, f"{method.upper()} {name}: {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MINISTRY, Role.COUNTY])
def test_a_superuser_has_every_role(client, area, role):
    division = area["county"] if role == Role.COUNTY else None
    client.force_login(UserFactory(role=role, division=division, is_superuser=True))
    assert client.get(reverse("reports:runs")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_the_dashboard_links_to_the_runs_page_for_administrators_only(client, area, county_staff, administrator):
    runs_page = reverse("reports:runs")
    client.force_login(county_staff)
    assert runs_page not in client.get(reverse("reports:division", args=[area["county"].code])).content.decode()
    client.force_login(administrator)
    assert runs_page in client.get(reverse("reports:national")).content.decode()


@pytest.mark.django_db
def test_the_navigation_offers_the_administration_to_administrators_only(client, area, county_staff, administrator):
    admin_index = reverse("admin:index")
    client.force_login(county_staff)
    assert f'href="{admin_index}"' not in client.get(reverse("students:case-list")).content.decode()
    client.force_login(administrator)
    assert f'href="{admin_index}"' in client.get(reverse("reports:national")).content.decode()
