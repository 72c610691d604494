"""The two roles of Herald: Managers write, Viewers read."""

from __future__ import annotations

from django.contrib.auth.models import Group

MANAGERS = "Managers"
VIEWERS = "Viewers"


def ensure_groups() -> None:
    for name in (MANAGERS, VIEWERS):
        Group.objects.get_or_create(name=name)


def is_manager(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=MANAGERS).exists()


def can_read(user) -> bool:
    """Any signed-in member of a role (or a superuser) may read."""
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=(MANAGERS, VIEWERS)).exists()


def assign_role(user, role: str) -> None:
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
