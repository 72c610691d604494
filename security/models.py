"""What the security app stores: the audit trail and API tokens (hashed)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditKind(models.TextChoices):
    SIGN_IN = "sign_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    LOCKED_OUT = "locked_out", _("Locked out")
    SIGN_OUT = "sign_out", _("Signed out")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    CAMPAIGN_LAUNCHED = "campaign_launched", _("Campaign launched")
    # Who may be messaged: each of these changes who a campaign reaches.
    OPTED_OUT = "opted_out", _("Opt-out")
    OPTED_IN = "opted_in", _("Opt-in")
    STOP_LIST_ADDED = "stop_list_added", _("Stop list: added")
    STOP_LIST_REMOVED = "stop_list_removed", _("Stop list: removed")


class AuditEvent(models.Model):
    """One sign-in, failure, lockout, token change, campaign launch, opt-out or opt-in, or
    stop list change: who, from where, when."""

    kind = models.CharField(max_length=20, choices=AuditKind.choices)
    at = models.DateTimeField(default=timezone.now)
    # Kept when the user is deleted; `username` says who it was (or what was typed).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(max_length=150, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_latest_first"),
            # Where a user signed in from: the sign-in limits spare known addresses
            # (security/signin.py), asked on every attempt past the per-user limit.
            models.Index(
                fields=["username", "address", "-at"],
                condition=models.Q(kind="sign_in"),
                name="audit_sign_ins_by_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username} {self.address or ''}".strip()


class ApiToken(models.Model):
    """A user's API key, stored as its SHA-256: the key itself is shown once, never stored.

    The keys are 160 random bits, so a fast hash is enough (nothing to brute-force from
    a dictionary); `prefix` lets a person recognise their key on the account page.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())
