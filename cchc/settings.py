"""Settings for cchc, read from the environment and nowhere else.

Environment variables:

- ``DEBUG``: ``1``/``true`` turns debugging on (off by default: production is the default).
- ``DEMO_MODE``: ``1`` when the installation shows the Cần Thơ demo (``make run`` sets it):
  public pages then say that the scores are illustrative.
- ``PROVINCE_NAME``, ``PROVINCE_KIND``: the province whose index this is and its kind, ``tỉnh``
  (a province) or ``thành phố`` (a centrally governed city), shown in the header, page titles
  and texts ("UBND thành phố Cần Thơ"). Unset: Cần Thơ, thành phố (the demo's, which ``make
  run`` also sets); a name without a kind is a ``tỉnh``; an empty name shows the kind alone.
- ``SECRET_KEY``: required unless ``DEBUG`` is on.
- ``ALLOWED_HOSTS``: comma-separated host names (``localhost,127.0.0.1`` when ``DEBUG`` is on).
- ``DATABASE_URL``: e.g. ``postgres://user@host:5432/cchc``; defaults to the SQLite file
  ``db.sqlite3`` in the project folder, so a fresh clone runs with no database server.
- ``MEDIA_ROOT``: where evidence files are stored (default ``media/`` in the project folder).
- ``CACHE_URL``: ``redis://host:6379/0`` for the cache of public answers (default: files in
  ``CACHE_DIR``, ``var/cache`` of the project, at most ``CACHE_MAX_ENTRIES`` copies; both are
  shared by every worker and kept across restarts). ``CACHE_BACKEND=memory``: a cache per
  process instead, at most ``CACHE_MAX_MB`` megabytes (64 by default).
- ``PREBUILD``: ``process`` (default), ``inline`` or ``off``: how public answers are built into
  the cache after a publication is committed (``manage.py prebuild``);
  ``PREBUILD_UNIT_ANSWERS`` (default 500): up to this many units, each unit's report, cards,
  badge and pages of every year are prebuilt too; above it, each unit's badge and card and the
  newest year's report and card only; 0: none of them.
- ``CONN_MAX_AGE``: seconds a database connection is kept (0: one per request); unset or
  ``none``: for good, as each gunicorn worker opens it (``cchc/serving.py``).
- ``S3_BUCKET`` (+ ``S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``): keep
  evidence files in S3-compatible object storage (needs ``pip install .[s3]``).
- ``SECURE_SSL_REDIRECT``: ``0`` behind a proxy that already redirects, or on loopback tests.
- ``LOG_FORMAT``: ``json`` for one JSON object per log line (default: plain text).
- ``DATABASE_REPLICA_URL``: a read replica that serves the public pages (rankings).
- ``AXES_FAILURE_LIMIT`` (default 5), ``AXES_ADDRESS_FAILURE_LIMIT`` (default 20),
  ``AXES_ACCOUNT_FAILURE_LIMIT`` (default 0, off): wrong passwords within the hour that stop
  logins to one account from one address, from one address to any account, and to one account
  from any address; 0 turns the last two off (``cchc/throttling.py``; docs/deployment.md,
  "Login throttling").
"""

import os
import unicodedata
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from cchc.release import release_token

BASE_DIR = Path(__file__).resolve().parent.parent


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no variable: 1/true/yes/on or 0/false/no/off (any case); empty or unset is the
    default. Anything else stops the start: a typo (``treu``) must not silently mean "off"."""
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: use 1/true/yes/on or 0/false/no/off.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """A whole number at least ``minimum``; empty or unset is the default; anything else stops
    the start with a message naming the variable."""
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below {minimum}.")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# The installation shows the demo: public pages say that its scores are illustrative.
DEMO_MODE = env_bool("DEMO_MODE")


# The province whose index this is: its name and kind appear in the header, titles and texts.
def _env_text(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", os.environ.get(name, "")).split())


# Unset: Cần Thơ, the city this software was first built for; set but empty: no name at all.
PROVINCE_NAME = _env_text("PROVINCE_NAME") if "PROVINCE_NAME" in os.environ else "Cần Thơ"
# "tỉnh" or "thành phố" (the ASCII spellings tinh, thanh pho, province, city are accepted); by
# default "thành phố" for the default Cần Thơ, "tỉnh" for any other name (most provinces are).
PROVINCE_KIND = {
    "": "thành phố" if "PROVINCE_NAME" not in os.environ else "tỉnh",
    "tinh": "tỉnh",
    "province": "tỉnh",
    "thanh pho": "thành phố",
    "city": "thành phố",
}.get(_env_text("PROVINCE_KIND").lower(), _env_text("PROVINCE_KIND").lower())
if PROVINCE_KIND not in ("tỉnh", "thành phố"):
    raise ImproperlyConfigured(f"PROVINCE_KIND={PROVINCE_KIND!r}: use 'tỉnh' or 'thành phố'.")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tables2",
    "django_filters",
    "cchc.apps.ThrottlingConfig",  # django-axes, with a translated name
    "csp",
    "simple_history",
    "scoring",
    "rankings",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while an account or address is locked
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "cchc.urls"

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
                "django.template.context_processors.i18n",
                "cchc.context.site",
            ],
        },
    },
]

WSGI_APPLICATION = "cchc.wsgi.application"


# How long a worker keeps its database connection: for good (the default, checked before each
# request's first query and replaced if it broke: unset or `none`), or CONN_MAX_AGE seconds (0: one per
# request). A connection closed after an idle minute made the next reader pay a new one and a
# cold PostgreSQL backend: 100-300 ms on a page built on a miss (docs/benchmarks.md). Each
# gunicorn worker opens and warms its own when it starts (cchc/serving.py).
_CONN_MAX_AGE = (
    None
    if os.environ.get("CONN_MAX_AGE", "").strip().lower() in ("", "none")
    else env_int("CONN_MAX_AGE", 0)
)

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=_CONN_MAX_AGE,
        conn_health_checks=True,
    )
}
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=_CONN_MAX_AGE,
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["cchc.routers.PublicReadsToReplica"]

# Seconds a public page is served from a quick copy before its publication is checked again,
# when each process has its own cache (CACHE_BACKEND=memory). A shared cache (files or Redis)
# keeps every copy until the next publication, which refreshes them at once for every worker.
# 0 turns quick copies off.
PUBLIC_PAGE_SECONDS = env_int("PUBLIC_PAGE_SECONDS", 10)

# The cache of public pages and answers, shared by every worker and kept across restarts:
# Redis with CACHE_URL (bounded by its own maxmemory, docs/deployment.md), else files in
# CACHE_DIR (at most CACHE_MAX_ENTRIES copies). CACHE_BACKEND=memory keeps a copy per process
# instead (at most CACHE_MAX_MB megabytes each): the tests use it.
CACHE_DIR = Path(os.environ.get("CACHE_DIR") or BASE_DIR / "var" / "cache")
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
    }
elif os.environ.get("CACHE_BACKEND", "files") == "memory":
    CACHES = {
        "default": {
            "BACKEND": "cchc.cache.BoundedMemoryCache",
            "OPTIONS": {
                "MAX_ENTRIES": 1000,
                "MAX_BYTES": env_int("CACHE_MAX_MB", 64, minimum=1) * 1024 * 1024,
            },
        }
    }
elif os.environ.get("CACHE_BACKEND", "files") == "files":
    CACHES = {
        "default": {
            "BACKEND": "cchc.cache.SharedFileCache",
            "LOCATION": str(CACHE_DIR),
            "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 200_000, minimum=100)},
        }
    }
else:
    raise ImproperlyConfigured(
        f"CACHE_BACKEND={os.environ['CACHE_BACKEND']!r} is neither 'files' nor 'memory'"
    )

# Every key starts with a token of the code that builds the answers (cchc/release.py): copies
# are kept until no key reaches them, and an upgrade must not serve what the old code built.
RELEASE = release_token(BASE_DIR, BASE_DIR / "staticfiles")
CACHES["default"]["KEY_PREFIX"] = RELEASE

# After a publication (or a decision) is committed, build its public answers into the cache:
# "process" in a separate `manage.py prebuild` process, "inline" in the publishing process,
# "off" not at all (the first reader of each page builds it).
PREBUILD = os.environ.get("PREBUILD", "process")
if PREBUILD not in ("process", "inline", "off"):
    raise ImproperlyConfigured(f"PREBUILD={PREBUILD!r} is not one of process, inline, off")
# Processes the prebuild shares its work among (1: the other cores stay with the readers).
PREBUILD_PROCESSES = env_int("PREBUILD_PROCESSES", 1, minimum=1)
# Up to this many published units, the prebuild also builds what depends on a unit and a year
# (report, cards, badge, picker, page of each year: tens of answers a unit); above it their
# first readers build them (0: never prebuilt).
PREBUILD_UNIT_ANSWERS = env_int("PREBUILD_UNIT_ANSWERS", 500)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["cchc.formats"]  # one date format per language (cchc/formats/)
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves compressed files with hashed names (run collectstatic first: make serve does).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Evidence files are private: no MEDIA_URL is served; staff views stream them after a permission check.

# Production safety: secure cookies and HTTPS unless debugging.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True

# Content-Security-Policy: the site's own pages load nothing else and run no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Login throttling (django-axes with cchc.throttling, which gives each counter its own limit):
# 5 failures lock one account from one address; 20 failures from one address, whatever the
# accounts, lock that address (password spraying; higher because an office shares one address
# behind NAT); optionally, failures against one account from all addresses together lock that
# account (off by default: anyone with enough addresses could lock a named official out).
# Failures are forgotten an hour after the latest one; a successful login forgets only that
# account from that address.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 20)
AXES_ACCOUNT_FAILURE_LIMIT = env_int("AXES_ACCOUNT_FAILURE_LIMIT", 0)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [
    ["username", "ip_address"],
    *([["ip_address"]] if AXES_ADDRESS_FAILURE_LIMIT > 0 else []),  # 0 turns it off
    *([["username"]] if AXES_ACCOUNT_FAILURE_LIMIT > 0 else []),
]
AXES_HANDLER = "cchc.throttling.ThrottlingHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "cchc.throttling.client_address"  # reads PROXY_COUNT (no ipware here)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "start"  # each person's own start page (scoring/start_views.py)
LOGOUT_REDIRECT_URL = "rankings:home"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "cchc.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("LOG_FORMAT") == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# E-mail: printed on the console unless an SMTP server is configured.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "cchc@localhost")
# The site's address as readers reach it, for the links in e-mails (no trailing slash).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Evidence uploads: at most 20 MB each, of these types (checked by content, not only by name).
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
