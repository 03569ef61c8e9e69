"""Settings shared by every environment. Everything that differs comes from the environment."""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "").strip() or default)


DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_filters",
    "django_celery_beat",
    "axes",
    "csp",
    "counties",
    "students",
    "reports",
    "rosters",
    "verification",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files are answered before these, and carry no personal data.
    "csp.middleware.CSPMiddleware",
    "dropout_ledger.middleware.NoStoreMiddleware",
    "dropout_ledger.errors.DatabaseUnavailableMiddleware",
    "dropout_ledger.db_router.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "dropout_ledger.sessions.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dropout_ledger.urls"
WSGI_APPLICATION = "dropout_ledger.wsgi.application"
ASGI_APPLICATION = "dropout_ledger.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "students.context_processors.work_list",
            ],
        },
    },
]

FORM_RENDERER = "dropout_ledger.renderers.WidgetRenderer"

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default="postgres://postgres@127.0.0.1:5432/dropout_ledger",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A read replica for the pages that only read (dropout_ledger.db_router): DATABASE_REPLICA_URL, the same
# database streamed from the primary. A browser that wrote reads the primary for REPLICA_STICKY_SECONDS after.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.config(
        env="DATABASE_REPLICA_URL",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_REPLICA_READS = "replica" in DATABASES
REPLICA_STICKY_SECONDS = int(os.environ.get("REPLICA_STICKY_SECONDS", "15"))
DATABASE_ROUTERS = ["dropout_ledger.db_router.PrimaryReplicaRouter"]
# Behind PgBouncer in transaction mode (DATABASE_POOLED=true), consecutive transactions may run on different
# server connections: no server-side cursors (a chunked .iterator() would lose its cursor between fetches).
# The ledger takes only transaction-level advisory locks and SET LOCAL settings, which pooling keeps.
# PostgreSQL's JIT compiles any plan whose estimated cost passes jit_above_cost; for the ledger's short queries the
# compiling is the cost (80 ms for a 2 ms query of the county dashboard at 600,000 cases), so it is off for the
# application's connections. PgBouncer refuses startup options: behind it the server itself runs with jit=off
# (docker-compose.yml).
DATABASE_POOLED = os.environ.get("DATABASE_POOLED", "").lower() in ("1", "true", "yes")
for _database in DATABASES.values():
    _database["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLED
    if not DATABASE_POOLED:
        _database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# The application's database role, when migrations run as a separate owner (dropout_ledger.database_roles):
# after each migration the owner grants this role what the application needs, and no more.
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "").strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "counties.User"
# django-axes first: it refuses a locked-out username or address before the password is even checked.
AUTHENTICATION_BACKENDS = ["counties.backends.ThrottledBackend", "counties.backends.AreaModelBackend"]
# Sign-in throttling: after LOGIN_FAILURE_LIMIT wrong passwords for one username, or from one address, that
# username or address waits LOGIN_LOCKOUT_MINUTES (an administrator may unlock it sooner: `axes_reset`).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "counties.backends.locked_out"
# Argon2 for new and changed passwords; older hashes are upgraded when their owner next signs in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# A session ends after SESSION_IDLE_MINUTES without a request (dropout_ledger.sessions moves it on).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 60) * 60
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reports:home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / ".data" / "media"))
MEDIA_URL = "media/"

# What a ledger file may hold before the import refuses it, unread (students.import_limits): a file past one of
# these is refused with a message naming the limit, before it costs the worker its memory or its time.
IMPORT_MAX_UNPACKED_MB = env_int("IMPORT_MAX_UNPACKED_MB", 500)  # an XLSX's parts unpacked (declared and actual)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 250_000)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 100)
IMPORT_MAX_CELL_CHARS = env_int("IMPORT_MAX_CELL_CHARS", 2_000)
IMPORT_MAX_PROBLEMS = env_int("IMPORT_MAX_PROBLEMS", 100_000)  # problems kept: the check stops at this many
IMPORT_MAX_INFLATE_RATIO = env_int("IMPORT_MAX_INFLATE_RATIO", 100)  # unpacked / packed size of a part past 1 MB

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A task whose worker process was killed goes back to the queue instead of being acknowledged as failed.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Sending fails within about a second when Redis cannot be reached (dropout_ledger.queue): the request that
# sends is told at once, and the sweep sends the work later. The visibility timeout is how long a task taken
# by a worker that then vanished waits before Redis delivers it again: longer than the longest task.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 0.5,
    "socket_timeout": 2,
    "visibility_timeout": 4 * 60 * 60,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# No task's result is kept, but the staging steps' that a chord counts (reports.tasks): sending a task whose
# result is kept first subscribes to the result store, which, Redis being down, retries for some 20 s and
# fails with "Retry limit exceeded". Runs and jobs keep their outcome in the database.
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A queue per kind of work, each with workers of its own (docker-compose.yml), so a 200,000-row import cannot
# delay the night, nor the night the figures a write has just moved:
# - "live": short and waited for (the on-commit recompute, the sweeps of lost runs and jobs);
# - "totals": the nightly run and the runs started by hand, one staging task per province;
# - "jobs": imports and exports;
# - "default": the rest of the night (the duplicate search, the ledger verification).
# `make run` has one worker that takes every queue (dropout_ledger.devstack).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "reports.tasks.recompute_touched_totals": {"queue": "live"},
    "reports.tasks.sweep_totals_runs": {"queue": "live"},
    "reports.tasks.nightly_totals": {"queue": "totals"},
    "reports.tasks.recompute_totals": {"queue": "totals"},
    "reports.tasks.start_totals_run": {"queue": "totals"},
    "reports.tasks.stage_totals_province": {"queue": "totals"},
    "reports.tasks.publish_totals_run": {"queue": "totals"},
    "students.tasks.run_ledger_job": {"queue": "jobs"},
    "students.tasks.sweep_ledger_jobs": {"queue": "live"},
    "rosters.tasks.run_comparison": {"queue": "jobs"},
    "rosters.tasks.sweep_comparisons": {"queue": "live"},
}

# The day the national ledger opened; decreases are measured from the open count on this day.
LEDGER_BASELINE_DATE = os.environ.get("LEDGER_BASELINE_DATE", "2019-05-31")

# Retention checks after a child returns to school (students.worklist): due this many days after the return. A
# check counts for a due date when it is dated no more than RETENTION_CHECK_EARLY_DAYS before it, and a check not
# done stays on the work lists and the dashboards for RETENTION_CHECK_LISTED_DAYS after its due date. A child
# counts as retained once the last of these checks is done.
RETENTION_CHECK_DAYS = (30, 90)
RETENTION_CHECK_EARLY_DAYS = 7
RETENTION_CHECK_LISTED_DAYS = 90

# Monthly sign-off (reports.signoff): each county signs a month's figures, and the prefecture and the province
# accept them, by this day of the following month; after it a month not signed and accepted is overdue. The
# dashboards follow the last SIGN_OFF_MONTHS_SHOWN months that have ended, none before SIGN_OFF_FIRST_MONTH
# (YYYY-MM, empty: no such limit).
SIGN_OFF_DUE_DAY = env_int("SIGN_OFF_DUE_DAY", 15)
SIGN_OFF_MONTHS_SHOWN = env_int("SIGN_OFF_MONTHS_SHOWN", 3)
SIGN_OFF_FIRST_MONTH = os.environ.get("SIGN_OFF_FIRST_MONTH", "").strip()

# Content-Security-Policy (django-csp): every script, style, image and font from this site, none inline, nothing
# from elsewhere. The charts' figures travel as JSON elements that a static script draws (reports.charts). Images
# may also be made in the page: a chart's "download as PNG" draws its SVG through a blob: or data: image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A failed CSRF check answers in the product's layout, in the user's language (templates/403_csrf.html).
CSRF_FAILURE_VIEW = "dropout_ledger.errors.csrf_failure"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes logs every failed sign-in at INFO; its AccessAttempt table keeps them anyway.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# The REST API (api/): session sign-in for the browser, the user's own tokens for other systems; every answer and
# error as JSON, in the request's language. Throttling counts each token (or signed-in user) in the "api" cache,
# shared by every web replica through Redis; a Redis that cannot be reached lets requests through (api.throttling).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "api",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "600/minute")
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # No OPTIONS answers describing the views: the schema describes them.
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dropout-control ledger API (控辍保学台账接口)",
    "DESCRIPTION": (
        "Read the ledger within your scope and record casework, as on the pages. Sign in with a token made on "
        "your Tokens page: `Authorization: Token <key>`.\n\n"
        "在您的范围内读取台账、记录劝返工作，与网页相同。使用在“令牌”页面生成的令牌：`Authorization: Token <key>`。"
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "students.choices.Status",
        "CaseReasonEnum": "students.choices.Reason",
        "HandoverReasonEnum": "students.choices.HandoverReason",
        "HandoverStatusEnum": "students.choices.HandoverStatus",
        "VisitorRoleEnum": "students.choices.VisitorRole",
        "ResponsibleRoleEnum": "students.choices.ResponsibleRole",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.document_refusals"],
}
