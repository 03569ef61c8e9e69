"""The headers every response carries: a Content-Security-Policy with nothing inline and nothing from elsewhere, no
copy kept by a cache, no framing; and under the production settings HTTPS only, with `check --deploy` clean.

Every URL of the project, for every role, is checked for no-store in tests/test_disclosure_matrix.py, beside what
each answer discloses.
"""

import plotly
import pytest
from django.urls import reverse

from students.models import JobKind, LedgerJob
from students.tasks import run_ledger_job
from tests.factories import open_case
from tests.other_settings import HOST, manage, run_django

PRODUCTION = "dropout_ledger.settings.production"


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: sources}."""
    parts = (part.split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: sources for name, *sources in parts}


@pytest.fixture
def case(area):
    return open_case(area["school"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url"),
    [
        (None, lambda case: reverse("login")),
        (None, lambda case: "/no-such-page/"),
        ("ministry", lambda case: reverse("reports:national")),
        ("county", lambda case: reverse("students:case-list")),
        ("county", lambda case: reverse("students:case-detail", args=[case.pk])),
        ("admin", lambda case: reverse("admin:students_dropoutcase_changelist")),
    ],
)
def test_pages_forbid_inline_script_and_style_and_every_other_origin(client, users, case, role, url):
    if role:
        users[role].is_staff = users[role].is_superuser = role == "admin"
        users[role].save()
        client.force_login(users[role])
    response = client.get(url(case))

    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    # Images drawn in the page (a chart saved as PNG); nothing looser anywhere: no inline, no eval, no elsewhere.
    assert directives.pop("img-src") == ["'self'", "data:", "blob:"]
    sources = {source for values in directives.values() for source in values}
    assert sources <= {"'self'", "'none'"}, sources
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_case_pages_lists_and_exported_files_are_kept_by_no_cache(client, users, area, case, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    export = LedgerJob.objects.create(
        kind=JobKind.EXPORT,
        requested_by=users["county"],
        county=area["county"],
        params={"ledger": True, "format": "csv", "language": "en"},
    )
    run_ledger_job(export.pk)
    client.force_login(users["county"])
    for url in [
        reverse("students:case-list"),
        reverse("students:case-detail", args=[case.pk]),
        reverse("students:job-detail", args=[export.pk]),
        reverse("students:job-download", args=[export.pk]),
        reverse("students:export-ledger", args=[area["county"].code]) + "?format=csv",
        reverse("students:disclosure-log"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
        assert response["Pragma"] == "no-cache", url


@pytest.mark.django_db
def test_pages_for_no_one_in_particular_are_not_stored_either(client):
    # The sign-in form carries a CSRF token; an error page may name the address asked for.
    for url in (reverse("login"), "/no-such-page/"):
        response = client.get(url)
        assert response["Cache-Control"] == "no-store"
        assert response["Pragma"] == "no-cache"


@pytest.mark.django_db
def test_static_files_and_plotly_js_stay_cacheable(client, users):
    client.force_login(users["ministry"])
    plotly_js = client.get(reverse("reports:plotly-js", args=[plotly.__version__]))
    assert plotly_js["Cache-Control"].startswith("public, max-age=31536000")
    assert "Pragma" not in plotly_js
    # Answered by WhiteNoise before the application's middleware.
    stylesheet = client.get("/static/css/app.css")
    assert stylesheet.status_code == 200
    assert "no-store" not in stylesheet.get("Cache-Control", "")


# Production settings, in a subprocess -----------------------------------------------------------------------


def test_check_deploy_with_production_settings_warns_of_nothing():
    done = manage(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stderr and "security.W" not in done.stderr


def test_production_answers_https_only_and_asks_browsers_to_remember_it():
    answers = run_django(
        PRODUCTION,
        """
        without_collectstatic()
        asset = f"/assets/plotly-{__import__('plotly').__version__}.min.js"
        plain = get("/accounts/login/", https=False)
        secure = get(asset)
        form = get("/accounts/login/")
        print(json.dumps({
            "plain": [plain[0], plain[1].get("Location")],
            "hsts": secure[1].get("Strict-Transport-Security"),
            "cookie": form[1].get("Set-Cookie", ""),
            "settings": {name: getattr(settings, name) for name in (
                "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "X_FRAME_OPTIONS",
                "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "SECURE_PROXY_SSL_HEADER",
            )},
        }))
        """,
    )
    assert answers["plain"] == [301, f"https://{HOST}/accounts/login/"]
    assert answers["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert answers["cookie"].strip().startswith("csrftoken=") and "; Secure" in answers["cookie"]
    assert answers["settings"] == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_PROXY_SSL_HEADER": None,
    }


FETCH_PLAIN = """
status, headers, _body = get(f"/assets/plotly-{__import__('plotly').__version__}.min.js", https=False, headers=HEADERS)
print(json.dumps([status, headers.get("Strict-Transport-Security")]))
"""


def test_behind_a_tls_proxy_its_header_marks_a_request_secure():
    code = "HEADERS = {'HTTP_X_FORWARDED_PROTO': '%s'}\n" + FETCH_PLAIN
    through_proxy = run_django(PRODUCTION, code % "https", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    assert through_proxy == [200, "max-age=31536000; includeSubDomains; preload"]
    plain_through_proxy = run_django(PRODUCTION, code % "http", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    assert plain_through_proxy[0] == 301


def test_the_redirect_and_hsts_can_be_set_for_a_proxy_that_does_them():
    answer = run_django(
        PRODUCTION, "HEADERS = {}\n" + FETCH_PLAIN, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0"
    )
    assert answer == [200, None]


def test_a_proxy_header_that_does_not_read_like_one_stops_the_app():
    done = manage(PRODUCTION, "check", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert done.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must read like 'X-Forwarded-Proto: https'" in done.stderr


@pytest.mark.parametrize(("value", "debug"), [(None, False), ("", False), ("false", False), ("true", True)])
def test_production_debug_is_off_unless_explicitly_set(value, debug):
    assert run_django(PRODUCTION, "print(json.dumps(settings.DEBUG))", DEBUG=value) is debug


@pytest.mark.parametrize(("value", "debug"), [(None, False), ("", False), ("true", True)])
def test_make_runs_settings_show_the_products_error_pages_unless_debug_is_asked_for(value, debug):
    assert run_django("dropout_ledger.settings.local", "print(json.dumps(settings.DEBUG))", DEBUG=value) is debug
