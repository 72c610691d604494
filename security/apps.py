from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Sign-in throttling and audit, hashed API tokens, deployment checks."""

    name = "security"
    verbose_name = "Security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # django-axes's receivers first: the audit reads what they decided about a failure.
        from axes import signals  # noqa: F401

        from security import audit, checks  # noqa: F401  (registers checks and receivers)

        audit.connect_axes()
