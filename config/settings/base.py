"""Django itself: secrets, hosts, apps, middleware, templates, database, languages, static
files, the web UI."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from core.deployment import KNOWN_PLACEHOLDER_SECRET_KEYS, is_placeholder
from core.env import env_bool, env_int, env_list, env_str, env_timezone

BASE_DIR = Path(__file__).resolve().parents[2]

# `make run` writes a git-ignored .env (DEBUG=1 and a generated SECRET_KEY) so that every
# manage.py command typed by hand works locally. Variables already in the environment win;
# HERALD_ENV_FILE names another file, or none when empty. Containers have no .env
# (.dockerignore) and get everything from their environment.
_env_file = os.environ.get("HERALD_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file:
    load_dotenv(_env_file, override=False)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
# The placeholders shipped in k8s/secret.yaml and docker-compose.yml are public: a
# deployment that kept one would sign sessions with a key anyone can read.
if is_placeholder(SECRET_KEY, KNOWN_PLACEHOLDER_SECRET_KEYS):
    raise ImproperlyConfigured(
        "SECRET_KEY is a published placeholder; set a random one, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-local-development-key-only-used-with-DEBUG"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# Kubernetes probes and Prometheus reach a pod by its IP: k8s/ passes it as POD_IP.
if env_str("POD_IP"):
    ALLOWED_HOSTS.append(env_str("POD_IP"))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# TLS, headers, cookies and the Content-Security-Policy: config/settings/headers.py.

INSTALLED_APPS = [
    # Django's admin, for superusers only (security/admin_site.py).
    "security.admin_apps.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Before django_q: its `qcluster` command is replaced by ours (graceful stop, clock).
    "messaging",
    "django_q",
    "django_htmx",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "social_django",
    "dashboard",
    "security",
    "axes",
]

MIDDLEWARE = [
    # django-prometheus times every request (requests by view, method and status, and
    # latency, served by our own /metrics): its two middlewares wrap all the others.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # X-Forwarded-* headers from a peer that is not one of FORWARDED_ALLOW_IPS are dropped
    # before anything reads them (the HTTPS redirect, the client's address).
    "security.addresses.forwarded_headers_from_proxies_only",
    # Next, so that it times and logs every request, redirects and static files too.
    "config.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Every response, static files included, gets the Content-Security-Policy,
    # Permissions-Policy and X-Frame-Options headers: these three come before WhiteNoise.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Picks the language from the cookie or Accept-Language (needs the session, before
    # CommonMiddleware); then dashboard.language applies a signed-in user's stored choice.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # What a signed-in user (or an API token) is answered is kept by no cache.
    "config.middleware.private_when_signed_in",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Sign-in throttling (config/settings/signin.py).
    "axes.middleware.AxesMiddleware",
    "dashboard.language.UserLanguageMiddleware",
    # Shows every time in the viewer's chosen zone (a cookie set on the account page).
    "dashboard.middleware.viewer_timezone_middleware",
    # Turns a refused or failed SSO sign-in into a clear 403 page instead of a 500, and
    # counts and audits it like a wrong password (security/sso.py).
    "security.sso.CountedSocialAuthExceptionMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
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
                "django.template.context_processors.i18n",  # LANGUAGE_CODE, LANGUAGES
                "dashboard.context_processors.herald",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite by default (zero config, WAL so the web server and the workers can
# read while one writes); PostgreSQL through DATABASE_URL.
SQLITE_PATH = Path(env_str("SQLITE_PATH", str(BASE_DIR / "db" / "herald.sqlite3")))
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        # Health checks: a kept connection the server dropped (a restart, a failover) is
        # replaced before a request or task uses it, instead of failing it once.
        _db = dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
else:
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(SQLITE_PATH)}
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # Wait for the writer instead of failing with "database is locked".
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
        # Take the write lock at BEGIN so two writers queue instead of deadlocking.
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
        ),
    }
    # Tests need a file (not memory) so worker and provider processes share it.
    _db["TEST"] = {"NAME": str(SQLITE_PATH.parent / "test_herald.sqlite3")}
if _db["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer (a failover, a cut network) fails a connection
    # attempt after this long instead of holding a worker until the kernel gives up.
    _db.setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)
    )
DATABASES = {"default": _db}
# Error reports (the DEBUG page) hide the password in DATABASE_URL and any other URL.
DEFAULT_EXCEPTION_REPORTER_FILTER = "security.error_reports.SecretsHiddenFilter"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ---------------------------------------------------
# English and Russian, complete (locale/ru, the compiled .mo is committed). The
# language comes from the user's stored choice (dashboard.language), else the
# django_language cookie, else the browser's Accept-Language; English by default.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates per language (config/formats/<lang>/formats.py); numbers use Django's locale formats.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_timezone("TIME_ZONE", "UTC")
# A client created without a time zone (API, form) gets this one.
CLIENT_DEFAULT_TIMEZONE = env_timezone("CLIENT_DEFAULT_TIMEZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Without collectstatic (make run, tests) WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = True

# --- Web UI (dashboard): forms and tables ------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# bootstrap5-responsive with its pagination label translated (templates/django_tables2/).
DJANGO_TABLES2_TEMPLATE = "django_tables2/herald.html"
UI_PAGE_SIZE = env_int("UI_PAGE_SIZE", 25, minimum=5)
# The most rows a table shows however many `?per_page=` asks for (dashboard/tables.py).
UI_MAX_PAGE_SIZE = env_int("UI_MAX_PAGE_SIZE", max(100, UI_PAGE_SIZE), minimum=UI_PAGE_SIZE)
# Largest CSV the client import accepts, in the web UI and the API (413 there).
# UI_IMPORT_MAX_BYTES is its earlier name, still read.
IMPORT_MAX_BYTES = env_int(
    "IMPORT_MAX_BYTES", env_int("UI_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024), minimum=1024
)
