"""Create the local Manager sign-in once and print its password; --reset sets a new one."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from security.roles import MANAGERS, assign_role, ensure_groups


class Command(BaseCommand):
    help = (
        "Create a local Manager user and print its password. An existing user keeps its "
        "password (and its browser sessions) unless --reset is given (make password)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", help="Use this password instead of a random one.")
        parser.add_argument(
            "--reset", action="store_true", help="Give an existing user a new password."
        )

    def handle(self, *args, username: str, password: str | None, reset: bool, **options):
        if not username.strip():
            raise CommandError("--username must not be empty")
        ensure_groups()
        user, created = get_user_model().objects.get_or_create(username=username)
        if not created and not reset and password is None:
            assign_role(user, MANAGERS)
            self.stdout.write(
                self.style.SUCCESS(f"Sign-in user: {username} (password unchanged). ")
                + "Forgot it? make password (or .venv/bin/python manage.py "
                f"create_signin_user --reset --username {username}) sets a new one."
            )
            return
        password = password or secrets.token_urlsafe(12)
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        assign_role(user, MANAGERS)
        verb = "Created" if created else "New password for"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} sign-in  user: {username}  password: {password}")
        )
