"""Steps added to social-auth's pipeline for Auth0 sign-in.

A refusal raises `SignInRefused`; social-auth's middleware renders it as a 403
page with the reason (templates/social_django/error.html), and since it runs
before `create_user`, no account is made.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.translation import gettext as _
from social_core.exceptions import AuthPolicyError

from security.roles import assign_role

log = logging.getLogger(__name__)


class SignInRefused(AuthPolicyError):
    """`reason` is shown to the person; `audit_reason` and `email` go to the audit trail
    (security/sso.py counts and records every refused SSO sign-in)."""

    def __init__(self, backend, reason: str, *, audit_reason: str, email: str = "") -> None:
        super().__init__(backend, code="authentication_disallowed", stage="pipeline")
        self.reason = reason
        self.audit_reason = audit_reason
        self.email = email

    def __str__(self) -> str:
        return self.reason


def email_domain_allowed(email: str) -> bool:
    """AUTH0_ALLOWED_DOMAINS lists domains (case-insensitive); "*" allows any. Empty allows none."""
    allowed = {d.lower().lstrip("@") for d in settings.AUTH0_ALLOWED_DOMAINS}
    domain = email.rpartition("@")[2].lower()
    if "*" in allowed:
        return bool(domain)
    return bool(domain) and domain in allowed


def require_allowed_verified_email(backend, details, *args, **kwargs):
    email = (details.get("email") or "").strip()
    if not email:
        raise SignInRefused(
            backend,
            _("Your Auth0 account has no email address; Herald needs one."),
            audit_reason="no email address",
        )
    if details.get("email_verified") is not True:
        log.warning("sso sign-in refused: unverified email domain=%s", email.rpartition("@")[2])
        raise SignInRefused(
            backend,
            _(
                "The email address %(email)s is not verified yet. "
                "Verify it with Auth0 and try again."
            )
            % {"email": email},
            audit_reason="email not verified",
            email=email,
        )
    if not email_domain_allowed(email):
        log.warning("sso sign-in refused: domain not allowed domain=%s", email.rpartition("@")[2])
        raise SignInRefused(
            backend,
            _(
                "Accounts of %(domain)s may not sign in to Herald. "
                "Ask an administrator to add the domain to AUTH0_ALLOWED_DOMAINS."
            )
            % {"domain": email.rpartition("@")[2]},
            audit_reason="email domain not allowed",
            email=email,
        )


def assign_default_role(backend, user=None, is_new=False, *args, **kwargs):
    """New SSO users get DEFAULT_ROLE; an existing user's roles are left alone."""
    if user is not None and is_new:
        assign_role(user, settings.DEFAULT_ROLE)
        log.info("sso user created user_id=%s role=%s", user.pk, settings.DEFAULT_ROLE)
