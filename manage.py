#!/usr/bin/env python
"""Django's command-line utility for Herald."""

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
        from django.core.management import execute_from_command_line
    except ModuleNotFoundError:
        sys.exit(
            "Django is not installed for this Python: run commands with .venv/bin/python "
            "manage.py ... (make run or make install creates .venv)."
        )
    try:
        settings.INSTALLED_APPS  # noqa: B018 (reads config/settings/: a bad setting stops here)
    except ImproperlyConfigured as exc:
        hint = ""
        if not (Path(__file__).resolve().parent / ".env").exists():
            hint = " For local use, make run writes .env with DEBUG=1 and a generated SECRET_KEY."
        sys.exit(f"Herald cannot start: {exc}.{hint}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
