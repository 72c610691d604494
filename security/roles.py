"""The two roles of Herald: Managers write, Viewers read."""

from __future__ import annotations

import contextlib

from django.contrib.auth.models import Group

MANAGERS = "Managers"
VIEWERS = "Viewers"


def ensure_groups() -> None:
    for name in (MANAGERS, VIEWERS):
        Group.objects.get_or_create(name=name)


# The answers are kept on the user object, which lives for one request: a table renders
# each row's cells with the context processors, and each asked again (78 queries for one
# page of a campaign's messages).
_ROLES_SEEN = "_herald_roles"


def _roles(user) -> set[str]:
    seen = getattr(user, _ROLES_SEEN, None)
    if seen is None:
        seen = set(user.groups.filter(name__in=(MANAGERS, VIEWERS)).values_list("name", flat=True))
        setattr(user, _ROLES_SEEN, seen)
    return seen


def is_manager(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return MANAGERS in _roles(user)


def can_read(user) -> bool:
    """Any signed-in member of a role (or a superuser) may read."""
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return bool(_roles(user))


def assign_role(user, role: str) -> None:
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    forget_roles(user)


def forget_roles(user) -> None:
    """After a change of this user's groups: the next question reads them again."""
    with contextlib.suppress(AttributeError):
        delattr(user, _ROLES_SEEN)
