"""Health of the parts Herald depends on: the database, migrations, the workers, the provider."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from messaging.models import WorkerHeartbeat

log = logging.getLogger(__name__)

HEARTBEAT_SCHEDULE_NAME = "herald: worker heartbeat"
HEARTBEAT_FUNC = "messaging.health.heartbeat"

# Once every migration is applied it stays so for this process's code: check once.
_migrations_applied = False


def heartbeat() -> None:
    """The every-minute scheduled task: proves the scheduler, the queue and a worker all run."""
    WorkerHeartbeat.beat()


def provider_status() -> dict | None:
    """The sending engine's view of the provider, or None where the engine does not say."""
    try:
        from messaging.engine.health import provider_health
    except ImportError:
        return None
    try:
        return provider_health()
    except Exception:
        log.exception("provider health could not be read")
        return None


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
    (unless `check_worker` is off) a worker ran the heartbeat task recently."""
    checks: dict[str, dict] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "reason": f"database unreachable: {exc}"}
        return False, checks
    try:
        pending = _unapplied_migrations()
    except DatabaseError as exc:
        pending = [f"cannot read migrations: {exc}"]
    checks["migrations"] = (
        {"ok": True}
        if not pending
        else {"ok": False, "reason": f"{len(pending)} unapplied migration(s)", "pending": pending}
    )
    if check_worker:
        checks["worker"] = _worker_check()
    return all(check["ok"] for check in checks.values()), checks


def _worker_check() -> dict:
    try:
        seen = WorkerHeartbeat.last_seen()
    except DatabaseError as exc:
        return {"ok": False, "reason": f"cannot read the worker heartbeat: {exc}"}
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
