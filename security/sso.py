"""A refused single sign-on counts like a wrong password: audited, and against the address.

social-auth raises its refusals (a domain not allowed, an unverified email, a cancelled
or forged callback) instead of returning no user, so Django never sends
`user_login_failed` for them. This middleware, in place of social-auth's own, renders
the same page and sends that signal: django-axes counts the failure against the
address (SIGNIN_ADDRESS_FAILURE_LIMIT) and the audit records it.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from social_django.middleware import SocialAuthExceptionMiddleware

# The audit's words (translated on the audit page, dashboard/templatetags/herald.py).
PROVIDERS = {"auth0": "Auth0"}
OTHER_FAILURE = "refused by the provider, or not a valid answer from it"


class CountedSocialAuthExceptionMiddleware(SocialAuthExceptionMiddleware):
    def process_exception(self, request, exception):
        response = super().process_exception(request, exception)
        if response is not None:  # a refusal social-auth answered (not a bug: that raises)
            name = getattr(getattr(request, "backend", None), "name", "")
            # Herald's own refusals say why (dashboard/auth_pipeline.py); social-auth's
            # (cancelled, a forged or stale callback) are logged with their code by it.
            reason = getattr(exception, "audit_reason", "") or OTHER_FAILURE
            user_login_failed.send(
                sender=__name__,
                # No user name: an SSO failure counts against the address only.
                credentials={"username": None},
                request=request,
                sso=f"{PROVIDERS.get(name, name or 'SSO')}; {reason}",
                sso_email=getattr(exception, "email", ""),
            )
        return response
