"""API tokens: issued once, stored as a hash, optionally expiring.

`Authorization: Token <key>` keeps working: keys look exactly like DRF's (40 hex digits)
and existing DRF keys were moved over by migration security/0002.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from security import audit
from security.models import ApiToken, AuditKind


class TokenRejected(Exception):
    """The key is unknown or expired; the message says which, for the 401."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _expiry():
    days = settings.API_TOKEN_TTL_DAYS
    return timezone.now() + timedelta(days=days) if days else None


def issue_token(*, user, request: HttpRequest | None = None, via: str = "") -> str:
    """Create the user's token, replacing any previous one; return the key (shown once)."""
    key = secrets.token_hex(20)
    with transaction.atomic():
        replaced = ApiToken.objects.filter(user=user).delete()[0] > 0
        ApiToken.objects.create(
            user=user, key_hash=hash_key(key), prefix=key[:6], expires_at=_expiry()
        )
    details = [via] if via else []
    if replaced:
        details.append("replaces the previous token")
    audit.record(AuditKind.TOKEN_CREATED, request=request, user=user, detail="; ".join(details))
    return key


def revoke_token(*, user, request: HttpRequest | None = None, via: str = "") -> bool:
    """Delete the user's token; False when there was none."""
    deleted = ApiToken.objects.filter(user=user).delete()[0] > 0
    if deleted:
        audit.record(AuditKind.TOKEN_REVOKED, request=request, user=user, detail=via)
    return deleted


def user_for_key(key: str):
    """The active user whose token this is, or TokenRejected."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key.strip())).first()
    if token is None or not token.user.is_active:
        raise TokenRejected(_("Invalid token."))
    if token.is_expired():
        raise TokenRejected(_("Token has expired; create a new one on your account page."))
    return token.user
