"""Django's admin app with Herald's site (security/admin_site.py): superusers only.

A module of its own: app configs are imported before models can be.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class SuperuserAdminConfig(AdminConfig):
    default_site = "security.admin_site.SuperuserAdminSite"
