"""Serve the metrics of the processes sharing PROMETHEUS_MULTIPROC_DIR over HTTP.

The workers (qcluster) record provider latency and retries but serve no HTTP.
Run this beside them (a sidecar in the worker pod, sharing the directory) so
Prometheus can scrape what they recorded. Beside the web server (`--database`: its
processes' metrics and the gauges read from the database, what its /metrics answers) it
gives Prometheus a port of its own, so the network may let the scraper reach that port
and not the application's (k8s/networkpolicy-prometheus.yaml).
"""

from __future__ import annotations

import hmac
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from messaging.reporting.metrics import process_registry, scrape

log = logging.getLogger(__name__)


class MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/")
        if path == "/healthz":
            self._answer(200, b'{"status": "ok"}', "application/json")
        elif path != "/metrics":
            self._answer(404, b"Not found\n", "text/plain")
        elif not self._authorized():
            self._answer(401, b"Send Authorization: Bearer <METRICS_TOKEN>.\n", "text/plain")
        else:
            self._answer(200, self._scrape(), CONTENT_TYPE_LATEST)

    def _scrape(self) -> bytes:
        if not getattr(self.server, "database", False):
            return generate_latest(process_registry())
        try:
            return scrape()  # the database gauges too, as the web's /metrics
        finally:
            connections.close_all()  # this thread's connection ends with its request

    def _authorized(self) -> bool:
        if not settings.METRICS_TOKEN:
            return True
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), settings.METRICS_TOKEN.encode()
        )

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="metrics"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # scrapes every few seconds: keep them quiet
        log.debug("metrics request %s", format % args)


class Command(BaseCommand):
    help = "Serve the worker processes' metrics (PROMETHEUS_MULTIPROC_DIR) at /metrics."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 (a container port)
        parser.add_argument("--port", type=int, default=9108)
        parser.add_argument(
            "--database",
            action="store_true",
            help="Also the gauges read from the database (the web pod's sidecar).",
        )

    def handle(self, *args, host: str, port: int, database: bool, **options):
        if not settings.PROMETHEUS_MULTIPROC_DIR:
            raise CommandError("Set PROMETHEUS_MULTIPROC_DIR to the workers' metrics directory.")
        if not settings.METRICS_TOKEN:
            log.warning("serving worker metrics without a token: set METRICS_TOKEN to require one")
        server = ThreadingHTTPServer((host, port), MetricsHandler)
        server.database = database  # type: ignore[attr-defined]  # MetricsHandler reads it
        # As a container's PID 1 the process has no default SIGTERM action: without a
        # handler `docker stop` and Kubernetes wait out the whole grace period. The handler
        # asks serve_forever to stop from another thread (shutdown() waits for the loop, so
        # calling it in the loop's own thread would hang) instead of raising: an exception
        # raised while the loop is handing a request to its thread is caught and printed
        # by socketserver's handle_error, and the server went on serving.
        signal.signal(
            signal.SIGTERM,
            lambda signum, frame: threading.Thread(target=server.shutdown, daemon=True).start(),
        )
        bound_host, bound_port = server.server_address[:2]  # --port 0 picks a free one
        # An IPv4 or IPv6 server's host is a str (only AF_UNIX's would be bytes).
        self.stdout.write(f"Serving worker metrics on http://{bound_host}:{bound_port}/metrics")  # type: ignore[str-bytes-safe]
        self.stdout.flush()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        self.stdout.write("Stopped serving worker metrics")
