"""gunicorn settings for the container (the Dockerfile's default command)."""

from __future__ import annotations

import os

from core.deployment import DEFAULT_FORWARDED_ALLOW_IPS

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Heartbeat files in memory: the root file system may be read-only.
worker_tmp_dir = "/dev/shm"  # noqa: S108 (a tmpfs, not a shared temp dir)
# Herald logs every request itself (config.middleware), with ids; no access log.
accesslog = None
errorlog = "-"
# TLS ends at the ingress, which sets X-Forwarded-Proto (see SECURE_PROXY_SSL). Only the
# ingress may say so: FORWARDED_ALLOW_IPS lists its addresses or networks (comma-separated,
# CIDR allowed); anyone else's X-Forwarded-* headers are ignored. Django reads the same
# variable with the same default (config/settings/headers.py, security/addresses.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)
# No control socket (gunicornc): nothing here uses it, and it would need a writable
# directory under $HOME, which a read-only root file system does not have.
control_socket_disable = True


def child_exit(server, worker) -> None:
    # prometheus-client multiprocess mode: drop the live gauges of a worker that exited.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
