"""Create (or reset) a Manager sign-in for local use and print its credentials."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from messaging.roles import MANAGERS, assign_role, ensure_groups


class Command(BaseCommand):
    help = "Create or reset a local Manager user with a fresh password and print it."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", help="Use this password instead of a random one.")

    def handle(self, *args, username: str, password: str | None, **options):
        if not username.strip():
            raise CommandError("--username must not be empty")
        ensure_groups()
        password = password or secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        assign_role(user, MANAGERS)
        verb = "Created" if created else "Reset"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} sign-in  user: {username}  password: {password}")
        )
