"""Run the local fake SMS provider: `manage.py runprovider [--port 8001] [--latency-ms 20] ...`.

A thin wrapper: the flags, their checks and the server live in localprovider, so
`python -m localprovider` takes exactly the same flags.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import localprovider


class Command(BaseCommand):
    help = (
        "Run the local fake of the external SMS provider (the Probe API) with optional "
        "fault injection. Point PROVIDER_URL at the printed base URL. Stop with Ctrl-C."
    )
    # It uses no models or database, so skip the checks and start at once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        localprovider.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            host, port, config = localprovider.settings_from_options(options)
        except localprovider.ConfigError as exc:
            raise CommandError(str(exc)) from exc
        localprovider.setup_logging(options["log_level"])
        try:
            localprovider.serve_forever(
                config,
                host,
                port,
                on_listening=self._announce,
            )
        except OSError as exc:  # e.g. the port is taken
            raise CommandError(f"cannot serve on {host}:{port}: {exc}") from exc

    def _announce(self, url: str) -> None:
        # Flushed at once: a script or test waits for this line on a pipe.
        self.stdout.write(f"LISTENING {url}")
        self.stdout.flush()
