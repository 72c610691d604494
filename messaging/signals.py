"""Create the two roles after migrations so a fresh database has them."""

from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import receiver

from messaging.roles import ensure_groups


@receiver(post_migrate)
def create_role_groups(sender, **kwargs) -> None:
    if sender.name == "messaging":
        ensure_groups()
