"""Settings, read from the environment with safe defaults for the embedded mode.

The embedded default (no environment at all) keeps everything under AUTOCRM_DATA_DIR
(`./var`): SQLite database, the SQLite task queue, uploads and generated keys.
With AUTOCRM_ENV=production nothing is generated: SECRET_KEY, AUTOCRM_DATA_KEY and
ALLOWED_HOSTS must be given, and the process refuses to start without them.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, overload

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # src/autocrm


@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: None = None) -> str | None: ...
def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; unset or empty gives ``default``."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


AUTOCRM_ENV = env("AUTOCRM_ENV", "development")
PRODUCTION = AUTOCRM_ENV == "production"
DATA_DIR = Path(env("AUTOCRM_DATA_DIR", str(Path.cwd() / "var"))).resolve()
# Messaging: the console channel's file (default DATA_DIR/messages.log) and the public address that
# short links in messages start with (https://crm.example.cn; empty: bare /s/<code> paths)
AUTOCRM_CONSOLE_MESSAGES = env("AUTOCRM_CONSOLE_MESSAGES", "")
AUTOCRM_PUBLIC_URL = env("AUTOCRM_PUBLIC_URL", "")
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:  # production may keep no local state; the SQLite queue and uploads need it
    if not PRODUCTION:
        raise
    if not env("REDIS_URL"):
        raise ImproperlyConfigured(f"AUTOCRM_DATA_DIR {DATA_DIR} cannot be created: {exc}") from exc


def _secret(name: str, filename: str, generate: Callable[[], str]) -> str:
    """Read a secret from the environment; in the embedded default, generate it once into the data dir."""
    value = env(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} is required when AUTOCRM_ENV=production")
    path = DATA_DIR / filename
    if not path.exists():
        path.write_text(generate())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Field-encryption keys: "kid:base64key[,kid:base64key...]"; the first encrypts, all decrypt.
AUTOCRM_DATA_KEY = _secret(
    "AUTOCRM_DATA_KEY",
    "data_key",
    lambda: "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
)

DEBUG = env_bool("DEBUG", False) and not PRODUCTION
ALLOWED_HOSTS = [h.strip() for h in (env("ALLOWED_HOSTS", "" if PRODUCTION else "*") or "").split(",") if h.strip()]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when AUTOCRM_ENV=production")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in (env("CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from our static files, never from a CDN
    "huey.contrib.djhuey",
    "autocrm.core",
    "autocrm.tenancy",
    "autocrm.accounts",
    "autocrm.audit",
    "autocrm.imports",
    "autocrm.customers",
    "autocrm.vehicles",
    "autocrm.messaging",
    "autocrm.leads",
    "autocrm.maintenance",
    "autocrm.sales",
    "autocrm.service",
    "autocrm.parts",
    "autocrm.partsforecast",
    "autocrm.care",
    "autocrm.loyalty",
    "autocrm.voc",
    "autocrm.moments",
    "autocrm.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "autocrm.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the request's text: NUL or a lone surrogate anywhere is a 400.
    "autocrm.core.middleware.InputCheckMiddleware",
    # Errors under /api/ that bypass the API's handlers (405, unknown path, 500) become its JSON shape.
    "autocrm.core.middleware.ApiErrorShapeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "autocrm.accounts.middleware.ActorMiddleware",
    "autocrm.core.modules.ModuleMiddleware",  # pages of a module switched off in the store → 404
    "autocrm.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "autocrm.config.urls"
WSGI_APPLICATION = "autocrm.config.wsgi.application"

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
                "autocrm.accounts.context_processors.shell",
            ],
        },
    }
]

# --- database --------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'autocrm.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers run beside the single writer; IMMEDIATE avoids upgrade deadlocks.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # SSD storage: random reads cost little more than sequential ones. With PostgreSQL's default
    # (4.0, for spinning disks) the planner walks the primary key instead of the store's index and
    # a first page of a name search in a large store takes hundreds of milliseconds.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c random_page_cost={env('AUTOCRM_PG_RANDOM_PAGE_COST', '1.1')}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work -------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env("HUEY_NAME", "autocrm"),
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": int(env("HUEY_WORKERS", "2")), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "autocrm",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
        "consumer": {"workers": int(env("HUEY_WORKERS", "2")), "worker_type": "thread"},
    }

CACHES = {
    "default": (
        {"BACKEND": "autocrm.core.cache.SharedRedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # What every process must count together (rate limits, lock-out) and the request path's
    # versioned entries (who the caller is, ADR 0012): Redis, or a table of the database (created
    # by `migrate`) — never per process. See autocrm.core.cache.
    "shared": (
        {"BACKEND": "autocrm.core.cache.SharedRedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "shared"}
        if REDIS_URL
        else {
            "BACKEND": "autocrm.core.cache.SharedDatabaseCache",
            "LOCATION": "autocrm_cache",
            # Django's default (300 rows, then a third culled) would drop live counters. Counters
            # skip the cull (one upsert); the worker sweeps expired rows (core.tasks).
            "OPTIONS": {"MAX_ENTRIES": 200_000, "CULL_FREQUENCY": 4},
        }
    ),
}

# --- auth ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's model backend, reading the user of a session from the shared cache (ADR 0012).
AUTHENTICATION_BACKENDS = ["autocrm.accounts.auth.CachedModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTOCRM_LOCKOUT_FAILURES = int(env("AUTOCRM_LOCKOUT_FAILURES", "5"))
AUTOCRM_LOCKOUT_MINUTES = int(env("AUTOCRM_LOCKOUT_MINUTES", "15"))
AUTOCRM_API_TOKEN_HOURS = int(env("AUTOCRM_API_TOKEN_HOURS", "12"))
# API rate limits ("N/sec|min|hour"): per token, and per client IP on the token endpoint.
AUTOCRM_API_RATE_TOKEN = env("AUTOCRM_API_RATE_TOKEN", "600/min")
AUTOCRM_API_RATE_AUTH = env("AUTOCRM_API_RATE_AUTH", "20/min")
# Idle sessions end after two hours; requests slide the window, the session being written at
# most once a minute (accounts.middleware.ActorMiddleware), not on every request.
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(2 * 3600)))
SESSION_SAVE_EVERY_REQUEST = False
AUTOCRM_SESSION_REFRESH_SECONDS = int(env("AUTOCRM_SESSION_REFRESH_SECONDS", "60"))
if REDIS_URL:
    # Sessions read from Redis (no query), written through to the database once a minute.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "shared"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- i18n ------------------------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE") or "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and uploads ----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from the finders here; it wants the root to exist
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "uploads"
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- security --------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # The huey logger has its own handler and does not propagate: huey's run_huey adds a second
    # handler of its own to a handler-less "huey" logger, and every worker line was printed twice
    # (once by that handler, once by the root's). Quiet in web processes; `autocrm worker` raises
    # it to LOG_LEVEL.
    # httpx logs one INFO line per provider request (every SMS): warnings only
    "loggers": {
        "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "httpx": {"level": "WARNING"},
    },
}

# Processes a big import's dry run cleans and prepares its rows in (the worker's cores; 1: none).
AUTOCRM_IMPORT_PROCESSES = int(env("AUTOCRM_IMPORT_PROCESSES", "2"))

# The HTTP benchmark's floor view (benchmarks/http_load.py, docs/benchmarks.md): a bare view at
# /_bench/floor/<pk> reading one customer row, answering loopback clients only. Never set it in a
# real deployment.
AUTOCRM_BENCH_FLOOR = env_bool("AUTOCRM_BENCH_FLOOR", False)

# Demo logins exist only outside production.
AUTOCRM_DEMO_PASSWORD = "autocrm-demo"  # noqa: S105 (the documented demo password)
