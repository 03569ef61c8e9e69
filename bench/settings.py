"""Settings for the benchmark process: the local settings with production behaviour where it matters.

DEBUG is off (no query log, no debug pages) and the URLconf adds the benchmark's own baseline views,
so the product's URLs never carry them.
"""

from dropout_ledger.settings.local import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
