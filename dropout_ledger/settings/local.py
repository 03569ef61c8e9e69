"""Settings for a developer's machine and `make run`."""

import os

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)  # noqa: F405
SECRET_KEY = os.environ.get("SECRET_KEY", "local-development-only-not-secret")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Serve static files straight from the apps and static/, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
