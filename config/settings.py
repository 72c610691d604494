"""Herald settings: every knob comes from the environment with a safe local default.

The README lists every variable. Bad values raise ImproperlyConfigured at start.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from config.env import (
    env_bool,
    env_float,
    env_http_url,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_time,
    env_timezone,
)
from config.security import KNOWN_PLACEHOLDER_SECRET_KEYS

BASE_DIR = Path(__file__).resolve().parent.parent

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
if SECRET_KEY in KNOWN_PLACEHOLDER_SECRET_KEYS or "change-me" in SECRET_KEY.lower():
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
# TLS, headers, cookies and the Content-Security-Policy: see "Security" below.

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
    # First, so that it times and logs every request, redirects and static files too.
    "config.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Every response, static files included, gets the Content-Security-Policy header.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
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
DATABASES = {"default": _db}
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

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Anonymous requests count against their address (security/authentication.py).
        "security.authentication.AnonymousAddressThrottle",
        # A Bearer (or other) scheme gets a 401 naming the Token scheme.
        "messaging.api.strict.WrongSchemeAuthentication",
        # `Token <key>` against hashed keys; wrong keys count against the address.
        "security.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["messaging.api.permissions.ManagerWritesViewerReads"],
    "DEFAULT_THROTTLE_CLASSES": ["security.throttles.UserThrottle"],
    # JSON or a form; JSON sent as a form (curl -d without Content-Type) is a clear 415.
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "messaging.api.strict.FormParserRefusingJson",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "messaging.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "messaging.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Herald API",
    "DESCRIPTION": (
        "Notification campaigns: keep a directory of clients, create campaigns that "
        "target them by operator code and tag, and follow every message. "
        "Authenticate with `Authorization: Token <key>` (create a key in the web UI) "
        "or a browser session. Viewers read; Managers also write."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["messaging.api.permissions.ManagerWritesViewerReads"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "messaging.api.schema.add_error_responses",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "messaging.models.CampaignStatus.choices",
        "MessageStatusEnum": "messaging.models.MessageStatus.choices",
    },
}

# --- Sending provider -------------------------------------------------------
PROVIDER_URL = env_http_url("PROVIDER_URL", "http://127.0.0.1:8001/v1")
PROVIDER_TOKEN = env_str("PROVIDER_TOKEN", "local-dev-token")
# Requests in flight per sender (asyncio; sized for a provider answering in ~200 ms).
PROVIDER_CONCURRENCY = env_int("PROVIDER_CONCURRENCY", 500, minimum=1)
PROVIDER_RATE_LIMIT = env_float("PROVIDER_RATE_LIMIT", 0, minimum=0)  # msg/s; 0 = no cap
PROVIDER_CONNECT_TIMEOUT = env_float("PROVIDER_CONNECT_TIMEOUT", 3.0, minimum=0.1)
PROVIDER_READ_TIMEOUT = env_float("PROVIDER_READ_TIMEOUT", 10.0, minimum=0.1)
# The longest campaign text, in SMS parts (messaging/sms.py counts them).
SMS_MAX_PARTS = env_int("SMS_MAX_PARTS", 6, minimum=1)

# --- Sending engine -----------------------------------------------------------
# Sender tasks ("pumps") running at once; each sends PROVIDER_CONCURRENCY requests.
ENGINE_PUMPS = env_int("ENGINE_PUMPS", 2, minimum=1)
# A pump task hands back its worker after this long and queues its successor.
ENGINE_TASK_BUDGET = env_float("ENGINE_TASK_BUDGET", 120, minimum=5)
# Results recorded per write transaction, at most.
ENGINE_FLUSH_BATCH = env_int("ENGINE_FLUSH_BATCH", 500, minimum=1)
RETRY_BASE_SECONDS = env_float("RETRY_BASE_SECONDS", 2, minimum=0.1)
RETRY_MAX_SECONDS = env_float("RETRY_MAX_SECONDS", 300, minimum=1)
# Circuit breaker: open when this share of the last CIRCUIT_WINDOW requests failed.
CIRCUIT_WINDOW = env_int("CIRCUIT_WINDOW", 50, minimum=2)
CIRCUIT_FAILURE_RATIO = env_float("CIRCUIT_FAILURE_RATIO", 0.6, minimum=0.01)
CIRCUIT_COOLDOWN_SECONDS = env_float("CIRCUIT_COOLDOWN_SECONDS", 5, minimum=0.1)
CIRCUIT_MAX_COOLDOWN_SECONDS = env_float("CIRCUIT_MAX_COOLDOWN_SECONDS", 60, minimum=0.1)
CREDENTIALS_RECHECK_SECONDS = env_float("CREDENTIALS_RECHECK_SECONDS", 30, minimum=1)

# --- Background work (django-q2, ORM broker) --------------------------------
Q_CLUSTER = {
    "name": "herald",
    "orm": "default",
    # One worker more than the pumps so the housekeeping and report tasks always get one.
    "workers": env_int("Q_WORKERS", ENGINE_PUMPS + 1, minimum=1),
    # A task may run this long; retry must exceed it or a task runs twice.
    "timeout": env_int("Q_TIMEOUT", 300, minimum=10),
    "retry": env_int("Q_RETRY", 360, minimum=20),
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.2,
    "save_limit": 1000,
    "label": "Tasks",
}
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured("Q_RETRY must be greater than Q_TIMEOUT")

# --- Sign-in (Auth0) ----------------------------------------------------------
AUTH0_DOMAIN = env_str("AUTH0_DOMAIN")
AUTH0_CLIENT_ID = env_str("AUTH0_CLIENT_ID")
AUTH0_CLIENT_SECRET = env_str("AUTH0_CLIENT_SECRET")
AUTH0_ALLOWED_DOMAINS = env_list("AUTH0_ALLOWED_DOMAINS")
AUTH0_ENABLED = bool(AUTH0_DOMAIN and AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET)
DEFAULT_ROLE = env_str("DEFAULT_ROLE", "Viewers")
if DEFAULT_ROLE not in {"Managers", "Viewers"}:
    raise ImproperlyConfigured("DEFAULT_ROLE must be Managers or Viewers")
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user name or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Email and the daily report ---------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "herald@localhost")

# The daily statistics email: a django-q2 schedule runs it once a day at
# REPORT_TIME (HH:MM) in REPORT_TIMEZONE. A run later than REPORT_MAX_DELAY_MINUTES
# after that time (workers were down) skips the day instead of sending a backlog.
REPORT_TIME = env_time("REPORT_TIME", "08:00")
REPORT_TIMEZONE = env_timezone("REPORT_TIMEZONE", TIME_ZONE)
REPORT_RECIPIENTS = env_list("REPORT_RECIPIENTS")
for _address in REPORT_RECIPIENTS:
    if "@" not in _address:
        raise ImproperlyConfigured(f"REPORT_RECIPIENTS: {_address!r} is not an email address")
REPORT_MAX_DELAY_MINUTES = env_int("REPORT_MAX_DELAY_MINUTES", 180, minimum=1)
# The language of the emailed report (the preview follows the viewer's language).
REPORT_LANGUAGE = env_str("REPORT_LANGUAGE", LANGUAGE_CODE)
if REPORT_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"REPORT_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}")

# --- Metrics and health checks ----------------------------------------------
# /metrics: with METRICS_TOKEN set, `Authorization: Bearer <token>` is accepted
# (what Prometheus sends); a signed-in user is always accepted. METRICS_PUBLIC=1
# opens it to anyone, for a network where only the scraper can reach it.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_PUBLIC = env_bool("METRICS_PUBLIC", False)
# Set it for every process that records metrics (gunicorn, qcluster) and empty
# the directory before they start: prometheus-client then sums the processes.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR {PROMETHEUS_MULTIPROC_DIR!r} is not a directory; create it"
    )
# /readyz wants a worker heartbeat (a django-q2 schedule, every minute) no older than this.
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 180, minimum=60)

# --- Retention (messaging/housekeeping.py, a daily django-q2 schedule) -----------
# Days each kind of row is kept; 0 keeps it forever. Campaign totals survive (counters).
RETENTION_ATTEMPTS_DAYS = env_int("RETENTION_ATTEMPTS_DAYS", 90, minimum=0)
RETENTION_MESSAGES_DAYS = env_int("RETENTION_MESSAGES_DAYS", 90, minimum=0)
RETENTION_SEND_BUCKETS_DAYS = env_int("RETENTION_SEND_BUCKETS_DAYS", 90, minimum=0)
RETENTION_TASK_RESULTS_DAYS = env_int("RETENTION_TASK_RESULTS_DAYS", 30, minimum=0)
RETENTION_SESSIONS_DAYS = env_int("RETENTION_SESSIONS_DAYS", 7, minimum=0)
# Rows per DELETE (each its own short transaction), and how long one run may take
# before it queues a continuation (well under Q_TIMEOUT).
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 1000, minimum=1)
RETENTION_MAX_SECONDS = env_int("RETENTION_MAX_SECONDS", 120, minimum=1)
if Q_CLUSTER["timeout"] <= RETENTION_MAX_SECONDS:
    raise ImproperlyConfigured("RETENTION_MAX_SECONDS must be less than Q_TIMEOUT")

# --- Security: TLS, headers, cookies, Content-Security-Policy ------------------------
# Behind a TLS-terminating proxy (the Kubernetes ingress) set SECURE_PROXY_SSL=1: Herald
# then trusts its X-Forwarded-Proto, redirects plain HTTP to HTTPS and sends HSTS.
SECURE_PROXY_SSL = env_bool("SECURE_PROXY_SSL", False)
if SECURE_PROXY_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = SECURE_PROXY_SSL
# Probes and scrapers address a pod over plain HTTP, without the proxy's header.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]
SECURE_HSTS_SECONDS = (
    env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0) if SECURE_PROXY_SSL else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Browsers keep Secure cookies for http://localhost too, so only DEBUG (make run) needs
# them plain; any other deployment is meant to be served over TLS.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Django's defaults, stated: X-Frame-Options DENY, nosniff, Referrer-Policy same-origin,
# Cross-Origin-Opener-Policy same-origin.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not SECURE_PROXY_SSL:
    # Without TLS in front there is no HTTPS to redirect to or to pin with HSTS, which
    # check --deploy reports as W004/W008. That is only right on the host itself:
    # config.security's check warns when a public host name is served that way.
    SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008"]

# The address of a request (sign-in lockouts, API throttles, audit): behind this many
# proxies that append to X-Forwarded-For (the ingress), the client is the one they saw.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 1 if SECURE_PROXY_SSL else 0, minimum=0)

# Sign-in throttling (django-axes, security/signin.py says why): after
# SIGNIN_FAILURE_LIMIT failures for one user name, or from one address, sign-in is
# refused (429, Retry-After) for SIGNIN_LOCKOUT_MINUTES; the login form, /admin/ and
# any other authenticate() alike. A success resets the count.
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "security.addresses.client_ip"
AXES_LOCKOUT_CALLABLE = "security.signin.lockout_response"
# Our audit trail (security/audit.py) records and logs every attempt already.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

# REST API throttles (security/throttles.py): per user or token, and per address for
# anonymous requests and wrong keys. "N/second|minute|hour|day", or "off".
API_THROTTLE_USER = env_rate("API_THROTTLE_USER", "1200/minute")
API_THROTTLE_ANON = env_rate("API_THROTTLE_ANON", "60/minute")
# API tokens expire this many days after creation (0: never); expired keys get 401.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 0, minimum=0)

# django-csp: scripts and styles only from Herald's own static files; no inline
# script, style attribute or eval anywhere (tests/test_templates_csp_ready.py). The
# report page's email preview and Swagger UI are handled in their views.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap and Swagger UI draw small icons as data: SVG images.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        # Sign-in and sign-out through Auth0 redirect a form POST to its domain.
        "form-action": [SELF, *([f"https://{AUTH0_DOMAIN}"] if AUTH0_ENABLED else [])],
    }
}

# --- Logging ------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be text or json")
# Lines carry campaign_id=/message_id=/client_id= (JSON: fields too) and never a
# token: see config/logs.py. One line per request from config.middleware.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "ids": {"()": "config.logs.IdsFilter"},
        "redact": {"()": "config.logs.RedactFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["ids", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# --- Web UI (dashboard): forms, tables, viewer time zone, Auth0 sign-in -------
# Kept together so merges with the other parts of these settings stay easy.
TEMPLATES[0]["OPTIONS"]["context_processors"] += [
    "django.template.context_processors.i18n",  # LANGUAGE_CODE, LANGUAGES for the switcher
    "dashboard.context_processors.herald",
]
# Picks the language from the cookie or Accept-Language (needs the session, before
# CommonMiddleware); then dashboard.language applies a signed-in user's stored choice.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "django.middleware.locale.LocaleMiddleware",
)
MIDDLEWARE += [
    "dashboard.language.UserLanguageMiddleware",
    # Shows every time in the viewer's chosen zone (a cookie set on the account page).
    "dashboard.middleware.viewer_timezone_middleware",
    # Turns a refused or failed SSO sign-in into a clear 403 page instead of a 500.
    "social_django.middleware.SocialAuthExceptionMiddleware",
]
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# bootstrap5-responsive with its pagination label translated (templates/django_tables2/).
DJANGO_TABLES2_TEMPLATE = "django_tables2/herald.html"
UI_PAGE_SIZE = env_int("UI_PAGE_SIZE", 25, minimum=5)
# Largest CSV the client import accepts, in the web UI and the API (413 there).
# UI_IMPORT_MAX_BYTES is its earlier name, still read.
IMPORT_MAX_BYTES = env_int(
    "IMPORT_MAX_BYTES", env_int("UI_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024), minimum=1024
)

if AUTH0_ENABLED:
    AUTHENTICATION_BACKENDS = ["social_core.backends.auth0.Auth0OAuth2", *AUTHENTICATION_BACKENDS]
SOCIAL_AUTH_AUTH0_DOMAIN = AUTH0_DOMAIN
SOCIAL_AUTH_AUTH0_KEY = AUTH0_CLIENT_ID
SOCIAL_AUTH_AUTH0_SECRET = AUTH0_CLIENT_SECRET
SOCIAL_AUTH_AUTH0_SCOPE = ["openid", "profile", "email"]
SOCIAL_AUTH_URL_NAMESPACE = "social"
SOCIAL_AUTH_LOGIN_REDIRECT_URL = LOGIN_REDIRECT_URL
# Never a traceback for a refused sign-in, even with DEBUG on: the middleware renders
# templates/social_django/error.html with the reason.
SOCIAL_AUTH_RAISE_EXCEPTIONS = False
SOCIAL_AUTH_REDIRECT_IS_HTTPS = env_bool("SOCIAL_AUTH_REDIRECT_IS_HTTPS", False)
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    # Verified email in an allowed domain, or no account at all.
    "dashboard.auth_pipeline.require_allowed_verified_email",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.user.get_username",
    "social_core.pipeline.user.create_user",
    "dashboard.auth_pipeline.assign_default_role",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "social_core.pipeline.user.user_details",
)

# --- Web request metrics (django-prometheus) -----------------------------------
# Requests by view, method and status, and latency histograms, served by our own
# /metrics (config/views.py; summed over gunicorn's processes through
# PROMETHEUS_MULTIPROC_DIR). The two middlewares wrap every other one, so these
# lines stay at the end of the settings.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
