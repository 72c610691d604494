"""What the web UI remembers about a person: for now, the language they chose."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserPreference(models.Model):
    """One row per user who changed a setting of the UI; no row means the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    # Empty: follow the browser (Accept-Language).
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user} ({self.language or '-'})"

    @classmethod
    def language_of(cls, user) -> str:
        """The language the user chose, or "" when they never chose one."""
        row = cls.objects.filter(user=user).values_list("language", flat=True).first()
        return row or ""

    @classmethod
    def remember_language(cls, user, language: str) -> None:
        cls.objects.update_or_create(user=user, defaults={"language": language})
