"""`manage.py drf_create_token <username>`: issue an API token and print its key once.

Keeps the name and the output of Django REST framework's command, so scripts that read
the third word (`... | awk '{print $3}'`) keep working. Keys are stored hashed, so an
existing key cannot be shown again: every run issues a new key, which replaces the
previous one (`--reset` is accepted and changes nothing).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from security.tokens import issue_token


class Command(BaseCommand):
    help = "Issue a new API token for a user (replacing the previous one) and print it once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "-r",
            "--reset",
            action="store_true",
            help="Accepted for compatibility: every run issues a new key.",
        )

    def handle(self, *args, username: str, **options) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        key = issue_token(user=user, via="manage.py drf_create_token")
        self.stdout.write(f"Generated token {key} for user {username}")
