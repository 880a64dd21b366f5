"""Nexus settings, all from the environment (twelve-factor); `.env.example` lists every variable.

Unset ``DATABASE_URL`` and ``REDIS_URL`` give the embedded default: SQLite for the event store
and the read tables, local-memory cache, projection run in-process, console email.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable: true/yes/1/on, false/no/0/off."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
NEXUS_HTTPS = env_bool("NEXUS_HTTPS", False)
_INSECURE_DEV_KEY = "django-insecure-nexus-development-only-never-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or ""
if not SECRET_KEY:
    if NEXUS_HTTPS:
        raise RuntimeError("SECRET_KEY must be set when NEXUS_HTTPS is true.")
    SECRET_KEY = _INSECURE_DEV_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
NEXUS_PUBLIC_URL = os.environ.get("NEXUS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
NEXUS_GRAPHIQL = env_bool("NEXUS_GRAPHIQL", True)
NEXUS_SEED_DEMO = env_bool("NEXUS_SEED_DEMO", True)
NEXUS_TRUSTED_PROXIES = int(os.environ.get("NEXUS_TRUSTED_PROXIES", "0") or 0)

INSTALLED_APPS = [
    "nexus.apps.NexusAdminConfig",  # django.contrib.admin, its login throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "drf_yasg",
    "graphene_django",
    "nexus",
    "nexus.accounts",
    "commands",
    "projections",
    "readapi",
    "workers",
]

MIDDLEWARE = [
    "nexus.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "nexus.failures.UnavailableMiddleware",
]

ROOT_URLCONF = "nexus.urls"
WSGI_APPLICATION = "nexus.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- databases and the event store ----------------------------------------------------------
VAR_DIR = Path(os.environ.get("NEXUS_VAR_DIR", BASE_DIR / "var"))
# Always there: celery beat keeps its schedule file in it, whatever the database.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# The connection budget (docs/security.md): every process holds at most DB_POOL_MAX
# connections (the event store shares Django's, nexus.eventstore); a request that finds the pool
# empty waits DB_POOL_TIMEOUT seconds, then answers 503 with Retry-After (never 500).
DB_POOL_MAX = int(os.environ.get("NEXUS_DB_POOL_MAX", "4"))
DB_POOL_TIMEOUT = float(os.environ.get("NEXUS_DB_POOL_TIMEOUT", "10"))
if DATABASE_URL:
    # Django's own psycopg pool: a connection goes back to the pool at the end of each
    # request (CONN_MAX_AGE 0), so an idle keep-alive client holds none.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1, "max_size": DB_POOL_MAX, "timeout": DB_POOL_TIMEOUT,
            "max_idle": 300,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "nexus.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }
# The event store lives in the same PostgreSQL database as the read tables (its own tables,
# written by the eventsourcing library over its own connection pool). Embedded, it is a SQLite
# file of its own, so the library's writer lock never waits on Django's.
EVENT_STORE_SQLITE_PATH = os.environ.get(
    "NEXUS_EVENT_STORE_SQLITE", str(VAR_DIR / "events.sqlite3")
)
# Aggregates kept in memory per process (0: none); each use still reads the newer events.
AGGREGATE_CACHE_SIZE = int(os.environ.get("NEXUS_AGGREGATE_CACHE_SIZE", "1000"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, broker, projection ------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Prefix of the cache's keys and of the throttles' (nexus.throttling) in Redis.
NEXUS_CACHE_PREFIX = os.environ.get("NEXUS_CACHE_PREFIX", "nexus")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": NEXUS_CACHE_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# "celery": commands queue a catch-up task; "inline": the projector runs right after the command.
NEXUS_PROJECTION_MODE = os.environ.get("NEXUS_PROJECTION_MODE", "celery" if REDIS_URL else "inline")
# What follows a command (catch-up, deliveries, account emails): a nexus.dispatch.Dispatcher.
NEXUS_DISPATCHER = {
    "celery": "workers.dispatch.CeleryDispatcher",
    "inline": "workers.dispatch.InlineDispatcher",
}[NEXUS_PROJECTION_MODE]
# /readyz reports unready when the projections are further behind the event store than this.
NEXUS_READY_MAX_LAG = int(os.environ.get("NEXUS_READY_MAX_LAG", "10000"))

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Worker processes per `celery worker` (each holds its own pools: the connection budget).
# Celery's own default is the host's CPU count, unbounded inside a CPU-limited container.
CELERY_WORKER_CONCURRENCY = int(os.environ.get("NEXUS_WORKER_CONCURRENCY", "2"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
# Catch up every few seconds even if every hint was lost (ARCHITECTURE.md rule 3).
CELERY_BEAT_SCHEDULE = {
    "catch-up-projections": {
        "task": "workers.tasks.catch_up_projections",
        "schedule": float(os.environ.get("NEXUS_CATCH_UP_SECONDS", "5")),
    },
    # Expired tokens are deleted when presented; this sweeps the ones nobody presents again.
    "delete-expired-access-tokens": {
        "task": "workers.tasks.delete_expired_access_tokens",
        "schedule": 3600.0,
    },
}
# The beat's record of when each task last ran, in NEXUS_VAR_DIR (the image's writable folder).
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A broker that is down must never hold up a command: fail fast, the beat catches up later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0, "socket_connect_timeout": 1}

# --- identity -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/accounts/welcome/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
PASSWORD_RESET_TIMEOUT = 60 * 60  # reset and activation links live one hour
# A Bearer token stops working this long after its last use (each use extends it).
NEXUS_TOKEN_TTL_HOURS = int(os.environ.get("NEXUS_TOKEN_TTL_HOURS", "720"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "nexus.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["nexus.parsers.DecimalJSONParser"],
    "EXCEPTION_HANDLER": "commands.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
}
GRAPHENE = {"SCHEMA": "readapi.schema.schema"}
NEXUS_THROTTLE_ANON = os.environ.get("NEXUS_THROTTLE_ANON", "10/day")
NEXUS_THROTTLE_USER = os.environ.get("NEXUS_THROTTLE_USER", "1000/day")
NEXUS_THROTTLE_LOGIN = os.environ.get("NEXUS_THROTTLE_LOGIN", "5/minute")
# Bodies over 1 MiB answer 413 (see commands.middleware); Django's own limit is the backstop.
NEXUS_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = NEXUS_MAX_BODY_BYTES
MIDDLEWARE.insert(0, "commands.middleware.BodySizeLimitMiddleware")

SWAGGER_SETTINGS = {
    "SECURITY_DEFINITIONS": {
        "Bearer": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": "`Bearer <token>` from POST /api/v1/auth/login/",
        }
    },
    "USE_SESSION_AUTH": False,
}

# --- email ----------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", bool(EMAIL_HOST))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Nexus <nexus@localhost>")

# --- HTTPS and production hardening -----------------------------------------------------
if NEXUS_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", NEXUS_PUBLIC_URL)

# Every answer, HTML pages above all, may load and talk only to our own origin: GraphiQL,
# Swagger UI and ReDoc are served from our static files (django-csp writes the header).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None  # only for an optional collectstatic
# Serve app static files straight from their packages: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "nexus.requestid.RequestIdFilter"}},
    "formatters": {"plain": {
        "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- documents and delivery (issue 11) -------------------------------------------------------
# The seller block of every invoice preview, PDF and email. Addresses may hold line breaks
# ("\n" in .env's double quotes, or a literal backslash-n).
def env_lines(name: str, default: str = "") -> str:
    """A multi-line variable, its line breaks written as ``\\n`` (one line in .env)."""
    return os.environ.get(name, default).replace("\\n", "\n").strip()


NEXUS_SELLER = {
    "name": os.environ.get("NEXUS_SELLER_NAME", "Nexus Demo GmbH").strip(),
    "address": env_lines("NEXUS_SELLER_ADDRESS", "Musterstraße 1\\n10115 Berlin\\nGermany"),
    "tax_id": os.environ.get("NEXUS_SELLER_TAX_ID", "DE123456789").strip(),
    "email": os.environ.get("NEXUS_SELLER_EMAIL", "billing@nexus.example").strip(),
    "bank_details": env_lines("NEXUS_SELLER_BANK_DETAILS",
                           "IBAN DE89 3704 0044 0532 0130 00\\nBIC COBADEFFXXX"),
}
# Rendered PDFs and exports live in Django's storage "documents": folders under NEXUS_VAR_DIR,
# or an S3 bucket (django-storages) when NEXUS_S3_BUCKET is set; credentials come from the
# usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables (or the instance's role).
NEXUS_S3_BUCKET = os.environ.get("NEXUS_S3_BUCKET", "")
if NEXUS_S3_BUCKET:
    _DOCUMENTS_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": NEXUS_S3_BUCKET,
            "region_name": os.environ.get("NEXUS_S3_REGION") or None,
            "endpoint_url": os.environ.get("NEXUS_S3_ENDPOINT_URL") or None,
            "location": os.environ.get("NEXUS_S3_PREFIX", "nexus"),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _DOCUMENTS_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "documents"), "base_url": None},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "documents": _DOCUMENTS_STORAGE,
}
# Export files are deleted this many hours after they were written.
NEXUS_EXPORT_RETENTION_HOURS = int(os.environ.get("NEXUS_EXPORT_RETENTION_HOURS", "72"))
# At the day's change (UTC), owners get one email listing their invoices that became overdue.
NEXUS_OVERDUE_DIGEST = env_bool("NEXUS_OVERDUE_DIGEST", True)
# Seconds before Redis hands an unacknowledged task (its worker died) to another worker. Must
# exceed the longest retry countdown (deliveries: 600 s).
# Abandoned messages are looked for every tenth of that (at most every 10 s, one Redis query).
_VISIBILITY_SECONDS = int(os.environ.get("NEXUS_BROKER_VISIBILITY_SECONDS", "3600"))
CELERY_BROKER_TRANSPORT_OPTIONS.update({
    "visibility_timeout": _VISIBILITY_SECONDS,
    "unacked_restore_interval": max(1, min(10, _VISIBILITY_SECONDS // 10)),
    "unacked_restore_throttle": 1,
})
CELERY_IMPORTS = ["workers.documents"]
CELERY_BEAT_SCHEDULE.update({
    "record-overdue-invoices": {
        "task": "workers.documents.record_overdue_invoices",
        "schedule": crontab(minute=1, hour=0),  # UTC: overdue is judged by the UTC date
    },
    "delete-expired-exports": {
        "task": "workers.documents.delete_expired_exports",
        "schedule": 3600.0,
    },
})
