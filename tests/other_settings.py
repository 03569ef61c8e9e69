"""Run a few lines of Django under the production or local settings, in a subprocess, and read back what they print.

The suite runs under dropout_ledger.settings.test; a settings module is read once per process, so the other two
are tried in a process of their own. The code is given a WSGI `get(path, https=...)` that answers
(status, headers) as a server would for the request, without a server or a database. Nothing here signs in.
"""

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "example.org"

PRELUDE = """
import io, json, sys
from urllib.parse import unquote
import django
django.setup()
from django.conf import settings
from wsgiref.util import setup_testing_defaults

def get(path, *, https=True, app=None, headers=None):
    from django.core.wsgi import get_wsgi_application
    app = app or get_wsgi_application()
    # Percent-escapes undone, as a server does (wsgiref's, gunicorn's).
    environ = {
        "PATH_INFO": unquote(path, "iso-8859-1"),
        "HTTP_HOST": HOST,
        "wsgi.url_scheme": "https" if https else "http",
        "SERVER_PORT": "443" if https else "80",
        "wsgi.errors": io.StringIO(),
    }
    environ.update(headers or {})
    setup_testing_defaults(environ)
    answer = {}
    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)
    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body.decode("utf-8", "replace")

def without_collectstatic():
    # Production serves static files from collectstatic's manifest (the Dockerfile makes it); here there is none,
    # so pages take the files' addresses as they are.
    from django.test.utils import override_settings
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    storages = {**settings.STORAGES, "staticfiles": plain}
    override_settings(STORAGES=storages).enable()
"""


def secret_key() -> str:
    return secrets.token_urlsafe(50)


def django_env(settings: str, **env: str | None) -> dict[str, str]:
    """The environment of the test run, with `settings` and SECRET_KEY and ALLOWED_HOSTS as production needs;
    `env` adds to it, and a name given None is taken out."""
    merged = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "SECRET_KEY": secret_key(), "ALLOWED_HOSTS": HOST}
    # Nothing a deployment would not have: the browser tests' async switch (tests/browser.py) among them.
    for name in (
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    ):
        merged.pop(name, None)
    for name, value in env.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def run_django(settings: str, code: str, **env: str | None):
    """Runs `code` under `settings` after the prelude; it prints one JSON value, which is returned."""
    script = f"HOST = {HOST!r}\n{PRELUDE}\n{textwrap.dedent(code)}"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=django_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def manage(settings: str, *args: str, **env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=django_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
