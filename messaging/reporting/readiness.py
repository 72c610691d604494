"""Whether this process can serve (/readyz): the database answers, migrations are applied,
a worker ran recently; and the part of the provider's state anyone may see."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from messaging.models import WorkerHeartbeat
from messaging.reporting.provider_state import provider_state

log = logging.getLogger(__name__)


# Once every migration is applied it stays so for this process's code: check once.
_migrations_applied = False


# What anyone may see of the provider in /readyz: no provider answers, which may echo
# request details (Managers read those from GET /api/provider/).
PUBLIC_PROVIDER_FIELDS = ("sending", "summary", "circuit", "opened_until", "credentials_rejected")


def _unapplied_migrations() -> list[str]:
    global _migrations_applied
    if _migrations_applied:
        return []
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    _migrations_applied = not pending
    return pending


def readiness(*, check_worker: bool = True) -> tuple[bool, dict]:
    """Whether this process can serve: the database answers, its schema is current, and
    (unless `check_worker` is off) a worker ran the heartbeat task recently.

    Reasons never carry exception text (it names hosts and ports, and /readyz is open
    to anyone): the text goes to the log.
    """
    checks: dict[str, dict] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except DatabaseError:
        log.warning("readiness: the database is unreachable", exc_info=True)
        checks["database"] = {"ok": False, "reason": "database unreachable (details in the log)"}
        return False, checks
    try:
        pending = _unapplied_migrations()
    except DatabaseError:
        log.warning("readiness: the migrations could not be read", exc_info=True)
        checks["migrations"] = {"ok": False, "reason": "cannot read the applied migrations"}
    else:
        checks["migrations"] = (
            {"ok": True}
            if not pending
            else {
                "ok": False,
                "reason": f"{len(pending)} unapplied migration(s)",
                "pending": pending,
            }
        )
    if check_worker:
        checks["worker"] = _worker_check()
    return all(check["ok"] for check in checks.values()), checks


def public_provider_state() -> dict | None:
    """The provider part of /readyz; None when it cannot be read (never fails readiness)."""
    try:
        state = provider_state()
    except DatabaseError:
        log.warning("readiness: the provider state could not be read", exc_info=True)
        return None
    return {name: state[name] for name in PUBLIC_PROVIDER_FIELDS}


def _worker_check() -> dict:
    try:
        seen = WorkerHeartbeat.last_seen()
    except DatabaseError:
        log.warning("readiness: the worker heartbeat could not be read", exc_info=True)
        return {"ok": False, "reason": "cannot read the worker heartbeat"}
    if seen is None:
        return {"ok": False, "reason": "no worker has run yet (start manage.py qcluster)"}
    age = (timezone.now() - seen).total_seconds()
    limit = settings.WORKER_HEARTBEAT_MAX_AGE
    if age > limit:
        return {
            "ok": False,
            "reason": f"no worker seen for {int(age)} s (limit {limit} s)",
            "last_seen": seen.isoformat(),
        }
    return {"ok": True, "last_seen": seen.isoformat(), "age_seconds": round(age, 1)}


def worker_age_seconds() -> float | None:
    seen = WorkerHeartbeat.last_seen()
    return None if seen is None else max(0.0, (timezone.now() - seen).total_seconds())
