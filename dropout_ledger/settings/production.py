"""Production settings: every secret comes from the environment, with no default."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

try:
    SECRET_KEY = os.environ["SECRET_KEY"]
except KeyError as missing:
    raise ImproperlyConfigured("SECRET_KEY must be set in production.") from missing
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must not be empty in production.")

DEBUG = env_bool("DEBUG", False)  # noqa: F405
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
