"""Error pages (400, 403, a refused form, 404, 500) in the product's layout and the user's language, each with a way
back and nothing of the error, the settings or the code; and an address that climbs out of static/ answers 404
under the test, local and production settings."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, close_old_connections, connection
from django.http import HttpResponse
from django.template import loader
from django.test import Client
from django.urls import get_resolver, include, path, reverse
from django.utils import translation

from dropout_ledger import errors, urls
from tests.other_settings import run_django

BRAND = {"en": "Dropout-control ledger", "zh-hans": "控辍保学台账"}
# What Django's debug pages, and its own error pages, would show.
DEBUG_SIGNS = (
    "Traceback",
    "SECRET_KEY",
    "DATABASES",
    "settings",
    "DEBUG",
    "Request Method",
    "Resolver404",
    "Django tried",
    "CSRF verification failed",
    "Reason given",
    "Invalid HTTP_HOST",
    "ALLOWED_HOSTS",
    "postgres",
    "redis",
)
TRAVERSAL = "/static/..%2f..%2fmanage.py"


def boom(request):
    raise RuntimeError("postgres://owner:secret@db.internal:5432 is down; see settings.DATABASES")


def database_gone(request):
    # What psycopg reports for the requests in flight when PostgreSQL restarts.
    raise OperationalError("server closed the connection unexpectedly (postgres://owner:secret@db.internal:5432)")


# Set by the test: terminates this connection's server process, as a PostgreSQL restart does.
CUT_CONNECTION = []


def connection_cut_mid_request(request):
    from students.models import DropoutCase

    CUT_CONNECTION[0]()
    return HttpResponse(str(DropoutCase.objects.count()))


class SessionStoreWithoutDatabase(SessionStore):
    def load(self):
        raise OperationalError("terminating connection due to administrator command")


# The project's URLs, and ones that fail (for the 500 and 503 pages).
urlpatterns = [
    path("boom/", boom),
    path("database-gone/", database_gone),
    path("connection-cut/", connection_cut_mid_request),
    path("", include("dropout_ledger.urls")),
]
handler500 = urls.handler500


def assert_error_page(response, status: int, language: str, templates: set[str]) -> str:
    html = response.content.decode()
    assert response.status_code == status
    assert templates <= {template.name for template in response.templates}
    assert f'<html lang="{language}">' in html
    assert "/static/css/app.css" in html
    assert BRAND[language] in html  # the top bar
    # The ways back: the home page, and the previous page (a button the script shows when there is one).
    assert 'class="button" href="/"' in html
    assert "data-history-back" in html
    assert [sign for sign in DEBUG_SIGNS if sign in html] == []
    return html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_missing_page_answers_404_in_the_layout(client, language):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    html = assert_error_page(response, 404, language, {"404.html", "errors/layout.html", "base.html"})
    assert 'name="language"' in html  # the layout's language switch


@pytest.mark.django_db
def test_error_pages_are_in_chinese_unless_asked_otherwise(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert_error_page(client.get("/no-such-page/"), 404, "zh-hans", {"404.html"})


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_case_out_of_scope_is_missing_for_a_signed_in_user_in_the_layout(client, users, language):
    client.force_login(users["principal"])
    response = client.get(reverse("students:case-detail", args=[999_999]), HTTP_ACCEPT_LANGUAGE=language)
    html = assert_error_page(response, 404, language, {"404.html"})
    assert 'class="mainnav"' in html  # the signed-in navigation


@pytest.mark.django_db
def test_a_refused_action_answers_403_in_the_layout_with_the_ledgers_own_reason(client, users):
    client.force_login(users["principal"])
    response = client.get(reverse("students:duplicates"), HTTP_ACCEPT_LANGUAGE="en")
    html = assert_error_page(response, 403, "en", {"403.html", "errors/layout.html", "base.html"})
    assert "Duplicate records are decided by county officials and administrators." in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_form_refused_by_the_csrf_check_answers_403_in_the_layout(language):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "a", "password": "b"}, HTTP_ACCEPT_LANGUAGE=language)
    html = assert_error_page(response, 403, language, {"403_csrf.html", "errors/layout.html", "base.html"})
    assert "csrfmiddlewaretoken" in html  # the language switch can be sent again from here


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_request_for_another_host_answers_400_in_the_layout(client, language):
    response = client.get("/", HTTP_HOST="attacker.example", HTTP_ACCEPT_LANGUAGE=language)
    assert_error_page(response, 400, language, {"400.html", "errors/standalone.html"})


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_failure_answers_500_in_the_layout_with_nothing_of_the_error(language):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE=language)
    html = assert_error_page(response, 500, language, {"500.html", "errors/standalone.html"})
    assert "RuntimeError" not in html and "db.internal" not in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_request_that_loses_the_database_answers_503_try_again(settings, language, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    response = client.get("/database-gone/", HTTP_ACCEPT_LANGUAGE=language)
    html = assert_error_page(response, 503, language, {"503.html", "errors/standalone.html"})
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert "db.internal" not in html and "OperationalError" not in html
    assert {"en": "try again in a moment", "zh-hans": "请稍后再试"}[language] in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_database_lost_outside_the_view_answers_503_too(client, users, monkeypatch):
    client.force_login(users["county"])
    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore", SessionStoreWithoutDatabase)
    client.raise_request_exception = False
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "try again in a moment" in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(__name__)
def test_a_request_whose_database_connection_is_cut_answers_503_and_the_next_one_is_served(users, owner_connection):
    """The server process behind the request's connection is terminated mid-request, as when PostgreSQL restarts;
    the next request gets a new connection (CONN_HEALTH_CHECKS) and is served."""
    client = Client(raise_request_exception=False)
    client.force_login(users["county"])

    def cut():
        pid = connection.cursor().connection.info.backend_pid
        with owner_connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    CUT_CONNECTION[:] = [cut]
    try:
        response = client.get("/connection-cut/", HTTP_ACCEPT_LANGUAGE="en")
    finally:
        CUT_CONNECTION.clear()
    assert response.status_code == 503
    assert "try again in a moment" in response.content.decode()
    # What a server does as the next request starts (Django's test client leaves it out): a connection that
    # failed its health check is replaced.
    close_old_connections()
    assert client.get(reverse("students:case-list")).status_code == 200


def test_a_failure_outside_a_view_answers_503_when_it_was_the_database(rf):
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        response = errors.server_error(rf.get("/"))
    assert (response.status_code, response["Retry-After"]) == (503, str(errors.RETRY_AFTER_SECONDS))
    try:
        raise RuntimeError("anything else")
    except RuntimeError:
        assert errors.server_error(rf.get("/")).status_code == 500


def test_the_projects_urls_answer_failures_with_the_503_aware_handler():
    assert get_resolver("dropout_ledger.urls").resolve_error_handler(500) is errors.server_error


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_500_page_renders_with_no_request_and_no_context(language):
    # As Django renders it when all else has failed: the template alone.
    with translation.override(language):
        html = loader.get_template("500.html").render()
    assert f'<html lang="{language}">' in html
    assert BRAND[language] in html


@pytest.mark.django_db
def test_an_address_out_of_static_answers_404_under_test_settings(client):
    assert client.get(TRAVERSAL).status_code == 404


def test_an_address_out_of_static_answers_404_under_local_settings():
    # The handler `manage.py runserver` (make run) serves with, as it builds it.
    status = run_django(
        "dropout_ledger.settings.local",
        f"""
        from django.core.management import get_commands, load_command_class
        command = load_command_class(get_commands()["runserver"], "runserver")
        options = vars(command.create_parser("manage.py", "runserver").parse_args([]))
        app = command.get_handler(**options)
        print(json.dumps([get(path, https=False, app=app)[0] for path in ({TRAVERSAL!r}, "/static/css/app.css")]))
        """,
    )
    assert status == [404, 200]


def test_an_address_out_of_static_answers_404_in_the_layout_under_production_settings():
    status, html = run_django(
        "dropout_ledger.settings.production",
        f"""
        without_collectstatic()
        status, _headers, body = get({TRAVERSAL!r}, headers={{"HTTP_ACCEPT_LANGUAGE": "en"}})
        print(json.dumps([status, body]))
        """,
    )
    assert status == 404
    assert 'class="card error-page"' in html
    assert [sign for sign in DEBUG_SIGNS if sign in html] == []
