"""Settings for a developer's machine and `make run`."""

import os

from .base import *  # noqa: F403

# Off unless asked for (DEBUG=true): `make run` is the product as its users meet it, and Django's debug pages
# would show them settings and service addresses instead of the product's own error pages.
DEBUG = env_bool("DEBUG", False)  # noqa: F405
SECRET_KEY = os.environ.get("SECRET_KEY", "local-development-only-not-secret")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Serve static files straight from the apps and static/, without collectstatic: through WhiteNoise, as in
# production, and not runserver's own handler, which answers an address outside static/ with a 500.
INSTALLED_APPS = ["whitenoise.runserver_nostatic", *INSTALLED_APPS]  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
