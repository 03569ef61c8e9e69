"""Production settings: every secret comes from the environment, with no default; HTTPS only.

`manage.py check --deploy --fail-level WARNING` passes with these settings and only SECRET_KEY and ALLOWED_HOSTS
set (CI runs it). Behind a proxy that ends TLS, set SECURE_PROXY_SSL_HEADER to the header the proxy adds (for
example `X-Forwarded-Proto: https`), or every request looks like plain HTTP and is redirected again and again.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

try:
    SECRET_KEY = os.environ["SECRET_KEY"]
except KeyError as missing:
    raise ImproperlyConfigured("SECRET_KEY must be set in production.") from missing
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must not be empty in production.")


def proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto: https` as Django wants it: ("HTTP_X_FORWARDED_PROTO", "https"); None when empty."""
    if not value.strip():
        return None
    name, colon, expected = value.partition(":")
    if not (colon and name.strip() and expected.strip()):
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must read like 'X-Forwarded-Proto: https'.")
    return "HTTP_" + name.strip().upper().replace("-", "_"), expected.strip()


# Never on unless asked for: the debug pages show settings and service addresses.
DEBUG = env_bool("DEBUG", False)  # noqa: F405

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(os.environ.get("SECURE_PROXY_SSL_HEADER", ""))
# A year, for every subdomain, and eligible for the browsers' preload list (which needs both). Lower
# SECURE_HSTS_SECONDS while first trying HTTPS on a new host: browsers remember it for that long.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)  # noqa: F405
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)  # noqa: F405
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)  # noqa: F405

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
