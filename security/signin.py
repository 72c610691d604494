"""Throttled sign-in (django-axes): who is refused, for how long, and what they see.

Why django-axes: it is the maintained, widely used library for exactly this (failures
counted through Django's own authenticate(), so the login form, the admin login, SSO and
any other form are covered alike), it keeps its counts in the database (shared by every
web process and pod), and it sends a signal on lockout for our audit trail.

The policy (docs/security.md has it as a table of what each attacker can
and cannot do). Failures count while they keep coming; SIGNIN_LOCKOUT_MINUTES without
one forgets them (axes's cool-off), and a refused attempt is not counted again, so
nobody can keep a lock going by knocking on it.

1. **A user name at an address**: SIGNIN_FAILURE_LIMIT failures refuse that name from
   that address. This is axes's own lockout (AXES_LOCKOUT_PARAMETERS is the one
   combination), and a success clears these failures only: the user's own, from where
   they signed in. A success never clears another name's failures, nor failures from
   elsewhere (AXES_RESET_ON_SUCCESS deletes what the parameters select).
2. **An address**: SIGNIN_ADDRESS_FAILURE_LIMIT failures, whatever the names, refuse
   the address: guessing many names from one place stops.
3. **A user name from everywhere**: past SIGNIN_USER_FAILURE_LIMIT (only a distributed
   attack gets there), an address the user has not signed in from within
   SIGNIN_KNOWN_ADDRESS_DAYS gets one try per SIGNIN_SLOWDOWN_SECONDS for that name
   (a slowdown, no CAPTCHA), and the owner signs in from a known address as always.

Rules 2 and 3 are this module's handler on top of axes's: axes has one limit for every
parameter, and its maintainers' answer for different limits is a handler of one's own
(jazzband/django-axes#661).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

from security.models import AuditEvent, AuditKind

USER_AT_ADDRESS = "user_at_address"
ADDRESS = "address"
SLOWED = "slowed"


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is refused and how many seconds until it may be tried again.

    `started` is True on the failure that began a lock, False on an attempt refused
    before its password was looked at.
    """

    reason: str
    retry_after: int
    started: bool = False


def _seconds_until(moment) -> int:
    return max(1, math.ceil((moment - timezone.now()).total_seconds()))


def _failures(request, **match) -> tuple[int, Any]:
    """Failures still counted that match, and when the latest of them was."""
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    found = recent.filter(**match).aggregate(
        total=Sum("failures_since_start"), latest=Max("attempt_time")
    )
    return found["total"] or 0, found["latest"]


def is_known_address(username: str, address: str | None) -> bool:
    """The user signed in from this address within SIGNIN_KNOWN_ADDRESS_DAYS (the audit)."""
    if not username or not address:
        return False
    since = timezone.now() - timedelta(days=settings.SIGNIN_KNOWN_ADDRESS_DAYS)
    return AuditEvent.objects.filter(
        kind=AuditKind.SIGN_IN, username=username, address=address, at__gte=since
    ).exists()


class SignInHandler(AxesDatabaseHandler):
    """axes's database handler with the address limit and the per-user slowdown added."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        refusal = self.refusal(request, credentials)
        if refusal is not None:
            request.herald_refusal = refusal
        return refusal is not None

    def refusal(self, request, credentials: dict | None = None) -> Refusal | None:
        """Whether this attempt is refused before its password is checked, and why."""
        if super().is_locked(request, credentials):  # rule 1, axes's own count
            username = get_client_username(request, credentials)
            _, latest = _failures(
                request,
                **_username_match(username),
                ip_address=request.axes_ip_address,
            )
            until = (latest or timezone.now()) + get_cool_off(request)
            return Refusal(USER_AT_ADDRESS, _seconds_until(until))
        address = self.address_refusal(request)
        if address is not None:
            return address
        return self.slowdown(request, credentials)

    def address_refusal(self, request, *, started: bool = False) -> Refusal | None:
        total, latest = _failures(request, ip_address=request.axes_ip_address)
        if total < settings.SIGNIN_ADDRESS_FAILURE_LIMIT:
            return None
        return Refusal(ADDRESS, _seconds_until(latest + get_cool_off(request)), started)

    def slowdown(self, request, credentials: dict | None) -> Refusal | None:
        username = get_client_username(request, credentials)
        if not username:
            return None
        total, latest = _failures(request, username=username)
        if total < settings.SIGNIN_USER_FAILURE_LIMIT:
            return None
        next_try = latest + timedelta(seconds=settings.SIGNIN_SLOWDOWN_SECONDS)
        if next_try <= timezone.now() or is_known_address(username, request.axes_ip_address):
            return None
        return Refusal(SLOWED, _seconds_until(next_try))

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        refused_before_check = request is not None and hasattr(request, "herald_refusal")
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or refused_before_check:
            return
        if request.axes_locked_out:  # this failure reached axes's limit (rule 1)
            request.herald_refusal = Refusal(
                USER_AT_ADDRESS, math.ceil(get_cool_off(request).total_seconds()), started=True
            )
            return
        refusal = self.address_refusal(request, started=True)  # rule 2, counted with this one
        if refusal is not None:
            request.herald_refusal = refusal
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )


def _username_match(username: str | None) -> dict:
    # An SSO attempt has no user name yet: its failures are stored with none (NULL).
    return {"username": username} if username is not None else {"username__isnull": True}


def lockout_response(request, original_response=None, credentials=None):
    """429 with Retry-After and a page that says when to try again."""
    refusal = getattr(request, "herald_refusal", None)
    if refusal is None:  # not one of ours (axes calls this for its own lockouts only)
        cool_off = get_cool_off(request)
        refusal = Refusal(USER_AT_ADDRESS, math.ceil(cool_off.total_seconds()) if cool_off else 0)
    seconds = refusal.retry_after
    response = render(
        request,
        "registration/locked_out.html",
        {
            "slowed": refusal.reason == SLOWED,
            "minutes": math.ceil(seconds / 60) if seconds else None,
            "seconds": seconds,
        },
        status=429,
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
