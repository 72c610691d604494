"""The REST API: authentication, permissions, parsers, throttles, tokens, the OpenAPI schema."""

from __future__ import annotations

from core.env import env_int, env_rate

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
    # Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are a 413 and JSON nesting deeper than 32
    # levels a 400, both before parsing (messaging/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "messaging.api.parsers.BoundedJSONParser",
        "messaging.api.strict.FormParserRefusingJson",
        "messaging.api.parsers.BoundedMultiPartParser",
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
        "ViaEnum": "messaging.models.Via.choices",
    },
}

# REST API throttles (security/throttles.py): per user or token, and per address for
# anonymous requests and wrong keys. "N/second|minute|hour|day", or "off".
API_THROTTLE_USER = env_rate("API_THROTTLE_USER", "1200/minute")
API_THROTTLE_ANON = env_rate("API_THROTTLE_ANON", "60/minute")
# API tokens expire this many days after creation (0: never); expired keys get 401.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 0, minimum=0)
