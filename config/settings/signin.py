"""Sign-in: passwords, Auth0 (social-auth), and throttling of failed sign-ins (django-axes)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import LOGIN_REDIRECT_URL
from core.env import env_bool, env_int, env_list, env_str

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
    # First: refuses a locked-out user name or address before any password is checked, and
    # before an Auth0 sign-in completes (SSO goes through the same address limit).
    "axes.backends.AxesStandaloneBackend",
    *(["social_core.backends.auth0.Auth0OAuth2"] if AUTH0_ENABLED else []),
    "django.contrib.auth.backends.ModelBackend",
]
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

# Sign-in throttling (django-axes; security/signin.py says why, and the policy). Failures
# count until SIGNIN_LOCKOUT_MINUTES pass without one:
# - SIGNIN_FAILURE_LIMIT for one user name from one address refuse that name there;
# - SIGNIN_ADDRESS_FAILURE_LIMIT from one address, any names, refuse the address;
# - past SIGNIN_USER_FAILURE_LIMIT for one name from everywhere, an address the user has
#   not signed in from in SIGNIN_KNOWN_ADDRESS_DAYS gets one try per SIGNIN_SLOWDOWN_SECONDS.
# The login form, /admin/, Auth0 and any other authenticate() alike; a refused attempt is
# not counted, and a success clears only that user's failures from that address.
SIGNIN_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5, minimum=1)
SIGNIN_ADDRESS_FAILURE_LIMIT = env_int("SIGNIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
SIGNIN_USER_FAILURE_LIMIT = env_int("SIGNIN_USER_FAILURE_LIMIT", 50, minimum=1)
SIGNIN_SLOWDOWN_SECONDS = env_int("SIGNIN_SLOWDOWN_SECONDS", 60, minimum=1)
SIGNIN_KNOWN_ADDRESS_DAYS = env_int("SIGNIN_KNOWN_ADDRESS_DAYS", 90, minimum=1)
AXES_FAILURE_LIMIT = SIGNIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
# axes counts the combination only, so a stranger's failures for a name lock it at the
# stranger's address, not at its owner's; and its reset on success deletes what these
# parameters select: the signed-in user's failures from that address, nobody else's.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A refused attempt neither counts nor extends the lock: knocking cannot keep it going.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The address limit and the per-user slowdown (security/signin.py).
AXES_HANDLER = "security.signin.SignInHandler"
AXES_CLIENT_IP_CALLABLE = "security.addresses.client_ip"
AXES_LOCKOUT_CALLABLE = "security.signin.lockout_response"
# Our audit trail (security/audit.py) records and logs every attempt already.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
