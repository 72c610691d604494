"""Health of the parts Herald depends on: the database, migrations, the workers, the provider."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from messaging.models import CircuitState, ProviderState, WorkerHeartbeat

log = logging.getLogger(__name__)


# Once every migration is applied it stays so for this process's code: check once.
_migrations_applied = False


def heartbeat() -> None:
    """The every-minute scheduled task: proves the scheduler, the queue and a worker all run."""
    WorkerHeartbeat.beat()


def worker_spawned(proc_name: str) -> None:
    """A django-q2 worker process started (signal post_spawn): the cluster is up.

    Written at once so /readyz tells the truth from the start, not only after the
    first scheduled heartbeat (up to a minute, or the scheduler's 30 s wake-up, later).
    """
    try:
        WorkerHeartbeat.beat()
    except DatabaseError:
        # The scheduled heartbeat tries again; a worker must start regardless.
        log.warning("worker heartbeat at start failed process=%s", proc_name, exc_info=True)
    else:
        log.info("worker started process=%s", proc_name)


# --- The provider as every process sees it (the engine's shared ProviderState row) -----

SENDING_NORMAL = "normal"
SENDING_HELD = "held"  # circuit breaker open or probing: the provider looks down
SENDING_STOPPED = "stopped"  # the provider refuses Herald's credentials (401/403)


def provider_state() -> dict:
    """The provider's state for /readyz and the API: credentials, circuit, last error.

    Read-only: a missing row (nothing sent yet) reads as the defaults.
    """
    state = ProviderState.objects.filter(pk=1).first() or ProviderState()
    if state.credentials_rejected:
        sending, summary = (
            SENDING_STOPPED,
            "The provider rejects Herald's credentials (401/403): sending is stopped "
            "until PROVIDER_TOKEN is fixed.",
        )
    elif state.circuit in (CircuitState.OPEN, CircuitState.HALF_OPEN):
        sending, summary = (
            SENDING_HELD,
            "The provider looks down: sending is held by the circuit breaker"
            + (f" until {state.opened_until.isoformat()}." if state.opened_until else "."),
        )
    else:
        sending, summary = SENDING_NORMAL, "Sending normally."
    return {
        "sending": sending,
        "summary": summary,
        "circuit": state.circuit,
        "opened_until": state.opened_until,
        "cooldown_seconds": state.cooldown_seconds,
        "credentials_rejected": state.credentials_rejected,
        "credentials_detail": state.credentials_detail,
        "last_error": state.last_error,
        "latency_ms": state.latency_ms,
        "error_rate": state.error_rate,
        "updated_at": state.updated_at,
    }


# What anyone may see in /readyz: no provider answers, which may echo request details.
PUBLIC_PROVIDER_FIELDS = ("sending", "summary", "circuit", "opened_until", "credentials_rejected")


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
