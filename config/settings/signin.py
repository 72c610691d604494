"""Sign-in: passwords, Auth0 (social-auth), and throttling of failed sign-ins (django-axes)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str
from config.settings.base import LOGIN_REDIRECT_URL

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
