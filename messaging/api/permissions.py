from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from security.roles import can_read, is_manager


class ManagerWritesViewerReads(BasePermission):
    """Viewers (and Managers) read; only Managers write."""

    message = _("Managers only: your role can read but not change data.")

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return can_read(request.user)
        return is_manager(request.user)


class ManagersOnly(BasePermission):
    """Managers only, reading included (operational details)."""

    message = "Managers only."

    def has_permission(self, request, view) -> bool:
        return is_manager(request.user)
