"""Settings, driven by environment variables (see docs/DEPLOY.md).

SQLite in ``var/`` by default so one command runs everything; PostgreSQL by ``DATABASE_URL``.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DUALGRID_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "dualgrid-insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dualgrid.places",
    "dualgrid.accounts",
    "dualgrid.cases",
    "dualgrid.people",
    "dualgrid.exchange",
    "dualgrid.triage",
    "dualgrid.watch",
    "dualgrid.cockpit",
    "dualgrid.web",
    "dualgrid.ops",
    "dualgrid.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dualgrid.lib.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dualgrid.urls"
WSGI_APPLICATION = "dualgrid.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "dualgrid" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dualgrid.web.context.site",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=envint("DB_CONN_MAX_AGE", 600), conn_health_checks=True
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "dualgrid.sqlite3")),
            "OPTIONS": {
                # Writers queue on the busy timeout instead of failing; BEGIN IMMEDIATE takes the write
                # lock up front so a read-then-write transaction cannot deadlock on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                    " PRAGMA foreign_keys=ON;"
                ),
            },
            # A file, not shared-cache memory, so concurrency tests see real SQLite locking.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 6}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Our CSS/JS (dualgrid/static/dualgrid) and the npm-built vendor files (dualgrid/static/vendor).
STATICFILES_DIRS = [BASE_DIR / "dualgrid" / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Domain configuration: defaults an administrator can change in the admin (time limits live in the DB).
DUALGRID: dict[str, Any] = {
    # Optional intranet tile server, e.g. "http://tiles.intranet/{z}/{x}/{y}.png"; empty = grid polygons only.
    "TILE_URL": os.environ.get("DUALGRID_TILE_URL", ""),
    "SITE_NAME": os.environ.get("DUALGRID_SITE_NAME", "双网格综合治理平台"),
    # The address residents reach (printed as QR codes on the grids' notice boards); empty = this request's host.
    "PUBLIC_BASE_URL": os.environ.get("DUALGRID_PUBLIC_BASE_URL", ""),
    "MAX_PHOTOS": 6,
    "MAX_PHOTO_BYTES": envint("DUALGRID_MAX_PHOTO_BYTES", 10 * 1024 * 1024),
    # Six photos at the limit plus the form; anything larger is refused before it is read.
    "MAX_REQUEST_BYTES": envint("DUALGRID_MAX_REQUEST_BYTES", 64 * 1024 * 1024),
    # Cases reported done but not rated within this many hours close as 未评价.
    "RATING_WINDOW_HOURS": envint("DUALGRID_RATING_WINDOW_HOURS", 72),
    # Share of a time limit used at which a case shows 即将超期.
    "WARNING_SHARE": 0.8,
    "WORKER_INTERVAL_SECONDS": envint("DUALGRID_WORKER_INTERVAL", 30),
    # How stale another process's copy of categories/rules/limits/holidays may get after an admin edit.
    "CONFIG_CACHE_SECONDS": envint("DUALGRID_CONFIG_CACHE_SECONDS", 30),
    # Group messages (巡群): longer texts are stored cut to this many characters (and marked).
    "MAX_MESSAGE_CHARS": envint("DUALGRID_MAX_MESSAGE_CHARS", 5000),
    # At most this many messages in one webhook batch.
    "MAX_MESSAGE_BATCH": envint("DUALGRID_MAX_MESSAGE_BATCH", 1000),
    # A message time this far in the future is the sender's clock: the arrival time is used instead.
    "CLOCK_SKEW_SECONDS": envint("DUALGRID_CLOCK_SKEW_SECONDS", 300),
    # A signed webhook request older or newer than this is refused (replay protection).
    "SIGNATURE_TOLERANCE_SECONDS": envint("DUALGRID_SIGNATURE_TOLERANCE_SECONDS", 300),
    # An urgent flagged message nobody handled within this many minutes alerts the grid leader and the centre.
    "URGENT_ALERT_MINUTES": envint("DUALGRID_URGENT_ALERT_MINUTES", 15),
    # Urgent messages written longer ago than this (an imported history, a bot's old backlog) are not alerted.
    "URGENT_ALERT_MAX_AGE_HOURS": envint("DUALGRID_URGENT_ALERT_MAX_AGE_HOURS", 24),
    # Outbox: attempts before a message is marked failed; the wait doubles from the first delay.
    "OUTBOX_MAX_ATTEMPTS": envint("DUALGRID_OUTBOX_MAX_ATTEMPTS", 8),
    "OUTBOX_FIRST_DELAY_SECONDS": envint("DUALGRID_OUTBOX_FIRST_DELAY_SECONDS", 30),
    # How stale another process's copy of the triage rules and active models may get after an admin change.
    "TRIAGE_CACHE_SECONDS": envint("DUALGRID_TRIAGE_CACHE_SECONDS", 5),
    # Chatter older than this many days is deleted by the worker (flagged messages and cases' are kept).
    "CHATTER_RETENTION_DAYS": envint("DUALGRID_CHATTER_RETENTION_DAYS", 180),
    # Patrol logs (every look at the feed) older than this are deleted; 0 keeps them for ever.
    "PATROL_LOG_RETENTION_DAYS": envint("DUALGRID_PATROL_LOG_RETENTION_DAYS", 400),
    # The cockpit counts an event once it is this many seconds old: any transaction that took a lower
    # event id has committed by then, so the rollup's watermark never passes an event still in flight.
    "COCKPIT_SETTLE_SECONDS": envint("DUALGRID_COCKPIT_SETTLE_SECONDS", 30),
    # How often the worker recomputes every grid's residents overdue for a visit (the map's input).
    "COCKPIT_VISIT_REFRESH_MINUTES": envint("DUALGRID_COCKPIT_VISIT_REFRESH_MINUTES", 5),
    # Grid warning colours on the cockpit map: open cases, and overdue cases, at which a grid turns
    # yellow, orange, red (the higher of the two levels wins).
    "COCKPIT_OPEN_THRESHOLDS": tuple(
        int(n) for n in os.environ.get("DUALGRID_COCKPIT_OPEN_THRESHOLDS", "5,10,20").split(",")
    ),
    "COCKPIT_OVERDUE_THRESHOLDS": tuple(
        int(n) for n in os.environ.get("DUALGRID_COCKPIT_OVERDUE_THRESHOLDS", "1,3,5").split(",")
    ),
    # …and unhandled urgent group messages (巡群) at which it turns yellow, orange, red.
    "COCKPIT_URGENT_MESSAGE_THRESHOLDS": tuple(
        int(n) for n in os.environ.get("DUALGRID_COCKPIT_URGENT_MESSAGE_THRESHOLDS", "1,1,3").split(",")
    ),
    # …unresolved disputes (open cases whose category code starts with WARNING_DISPUTE_PREFIX) and
    # key-population residents overdue for a visit (people/visit_rules.py) at which it turns yellow,
    # orange, red.
    "COCKPIT_DISPUTE_THRESHOLDS": tuple(
        int(n) for n in os.environ.get("DUALGRID_COCKPIT_DISPUTE_THRESHOLDS", "1,3,5").split(",")
    ),
    "COCKPIT_OVERDUE_VISIT_THRESHOLDS": tuple(
        int(n) for n in os.environ.get("DUALGRID_COCKPIT_OVERDUE_VISIT_THRESHOLDS", "1,3,5").split(",")
    ),
    # Rankings (晾晒): a unit whose sample (受理量; people due a visit; key windows due) is below this is
    # listed but not ranked on that figure.
    "RANKING_MIN_VOLUME": envint("DUALGRID_RANKING_MIN_VOLUME", 10),
    # Warning rules (cockpit/warnings.py). Each *_LEVELS is the case count for yellow, orange, red
    # within WARNING_WINDOW_DAYS; disputes are the categories whose code starts with the prefix.
    "WARNING_WINDOW_DAYS": envint("DUALGRID_WARNING_WINDOW_DAYS", 7),
    "WARNING_DISPUTE_PREFIX": os.environ.get("DUALGRID_WARNING_DISPUTE_PREFIX", "10"),
    "WARNING_DISPUTE_LEVELS": tuple(
        int(n) for n in os.environ.get("DUALGRID_WARNING_DISPUTE_LEVELS", "3,5,8").split(",")
    ),
    # A surge: at least the yellow count in the window and SURGE_FACTOR times the grid's own average
    # per window over the SURGE_BASELINE_WEEKS before it.
    "WARNING_SURGE_LEVELS": tuple(
        int(n) for n in os.environ.get("DUALGRID_WARNING_SURGE_LEVELS", "3,6,10").split(",")
    ),
    "WARNING_SURGE_FACTOR": float(os.environ.get("DUALGRID_WARNING_SURGE_FACTOR", "3")),
    "WARNING_SURGE_BASELINE_WEEKS": envint("DUALGRID_WARNING_SURGE_BASELINE_WEEKS", 8),
    "WARNING_ADDRESS_LEVELS": tuple(
        int(n) for n in os.environ.get("DUALGRID_WARNING_ADDRESS_LEVELS", "5,8,12").split(",")
    ),
    # The daily report (每日一报告): generated by the worker at this local time for each subscription.
    "REPORT_TIME": os.environ.get("DUALGRID_REPORT_TIME", "07:30"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "weasyprint": {"level": "WARNING"}},
}
