"""Run the whole service locally: web server, django-q2 cluster and local provider.

One command, one Ctrl-C: every child runs in its own process group and is
stopped with SIGINT (what django-q2 needs to stop cleanly), then SIGKILL if it
does not exit in time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Start the web server, the worker cluster and the local provider together."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Web server address.")
        parser.add_argument("--provider-port", type=int, default=8001)
        parser.add_argument(
            "--provider-latency-ms", type=float, default=20, help="Local provider latency."
        )
        parser.add_argument(
            "--no-provider", action="store_true", help="Use PROVIDER_URL, start no local one."
        )

    def handle(self, *args, addr, provider_port, provider_latency_ms, no_provider, **options):
        python = sys.executable
        env = os.environ.copy()
        commands = []
        if not no_provider:
            env["PROVIDER_URL"] = f"http://127.0.0.1:{provider_port}/v1"
            commands.append(
                (
                    "provider",
                    [
                        python,
                        "manage.py",
                        "runprovider",
                        "--port",
                        str(provider_port),
                        "--latency-ms",
                        str(provider_latency_ms),
                    ],
                )
            )
        commands.append(("worker", [python, "manage.py", "qcluster"]))
        commands.append(("web", [python, "manage.py", "runserver", "--noreload", addr]))

        children: list[tuple[str, subprocess.Popen]] = []

        def stop_requested(signum, frame):
            raise KeyboardInterrupt

        # Explicit handlers: a background start (nohup, &) would otherwise ignore SIGINT.
        signal.signal(signal.SIGINT, stop_requested)
        signal.signal(signal.SIGTERM, stop_requested)
        try:
            for name, argv in commands:
                # Our own fixed commands, run with this interpreter.
                proc = subprocess.Popen(  # noqa: S603
                    argv, env=env, cwd=settings.BASE_DIR, start_new_session=True
                )
                children.append((name, proc))
                self.stdout.write(f"started {name} (pid {proc.pid})")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Herald is running at http://{addr}/ (API docs at /docs/). Ctrl-C stops it."
                )
            )
            while all(proc.poll() is None for _, proc in children):
                time.sleep(0.5)
            failed = [name for name, proc in children if proc.poll() is not None]
            raise CommandError(f"{', '.join(failed)} stopped unexpectedly; stopping the rest")
        except KeyboardInterrupt:
            self.stdout.write("stopping...")
        finally:
            self._stop(children)

    def _stop(self, children) -> None:
        for _, proc in children:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + 15
        for name, proc in children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
