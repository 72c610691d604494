"""The audit trail: every sign-in, failed sign-in, lockout, API token change, campaign
launch, opt-out, opt-in and stop list change.

Each event is a row (the Managers' audit page) and a log line on `herald.audit`.
Sign-in events come from Django's and django-axes's signals, token events from
security.tokens, the others from the services that make the change (messaging.services,
messaging.campaigns.optouts), inside the change's own transaction. Recording never breaks
the request it describes.
"""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from security.addresses import client_ip
from security.models import AuditEvent, AuditKind

log = logging.getLogger("herald.audit")


def record(
    kind: AuditKind,
    *,
    request: HttpRequest | None = None,
    user=None,
    username: str = "",
    address: str | None = None,
    detail: str = "",
) -> AuditEvent | None:
    if user is not None and not username:
        username = user.get_username()
    if address is None and request is not None:
        address = client_ip(request)
    username = (username or "")[:150]
    try:
        # A savepoint: inside a service's transaction, a failed insert must not abort
        # the change it describes.
        with transaction.atomic():
            event = AuditEvent.objects.create(
                kind=kind,
                user=user if user is not None and user.pk else None,
                username=username,
                address=address or None,
                detail=detail[:200],
            )
    except Exception:
        # A malformed address or a database hiccup must not turn a sign-in into a 500.
        log.exception("audit event could not be stored event=%s user=%r", kind.value, username)
        event = None
    log.info(
        "audit event=%s user=%r user_id=%s address=%s%s",
        kind.value,
        username,
        user.pk if user is not None else None,
        address or "-",
        f" detail={detail!r}" if detail else "",
    )
    return event


def by(request: HttpRequest) -> dict:
    """`user=` and `address=` for a service that audits what a request asked of it."""
    return {"user": request.user, "address": client_ip(request)}


@receiver(user_logged_in, dispatch_uid="herald-audit-sign-in")
def _signed_in(sender, request, user, **kwargs) -> None:
    backend = getattr(user, "backend", "") or ""
    record(
        AuditKind.SIGN_IN,
        request=request,
        user=user,
        detail="Auth0" if "auth0" in backend.lower() else "",
    )


@receiver(user_logged_out, dispatch_uid="herald-audit-sign-out")
def _signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(AuditKind.SIGN_OUT, request=request, user=user)


# What a refused attempt's audit row says (security/signin.py decides).
REFUSED = {
    "user_at_address": "refused: user name locked at this address",
    "address": "refused: address locked",
    "slowed": "refused: slowed down, too many failures for this user name",
}


@receiver(user_login_failed, dispatch_uid="herald-audit-sign-in-failed")
def _sign_in_failed(sender, credentials, request=None, sso: str = "", **kwargs) -> None:
    """A wrong password, an attempt refused by the limits, or a refused SSO sign-in
    (security/sso.py sends `sso`, the provider and the reason, and the email if known)."""
    refusal = getattr(request, "herald_refusal", None)
    details = [sso] if sso else []
    if refusal is not None:
        details.append("locked out" if refusal.started else REFUSED[refusal.reason])
    elif getattr(request, "axes_locked_out", False):
        details.append("locked out")
    record(
        AuditKind.SIGN_IN_FAILED,
        request=request,
        username=str(credentials.get("username") or kwargs.get("sso_email") or ""),
        detail="; ".join(details),
    )


def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    refusal = getattr(request, "herald_refusal", None)
    if refusal is not None and not refusal.started:
        return  # already locked: the failed attempt's row says it was refused
    record(
        AuditKind.LOCKED_OUT,
        request=request,
        username=str(username or ""),
        address=ip_address,
        detail="too many failed sign-ins",
    )


def connect_axes() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="herald-audit-locked-out")
