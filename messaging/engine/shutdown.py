"""A worker's graceful stop, shared by the cluster process and its worker processes.

`manage.py qcluster` (our override) calls `install()` before django-q2 forks its
processes, so every worker inherits the same event; on SIGTERM or SIGINT it sets
it. A sender that sees it stops claiming, lets its requests in flight finish,
records them, hands back the rest, and returns, so the cluster exits well inside
an orchestrator's grace period and a deploy re-sends nothing.
"""

from __future__ import annotations

import multiprocessing

_event = None


def install() -> None:
    """Create the event; must run in the cluster's main process before it forks."""
    global _event
    _event = multiprocessing.get_context("fork").Event()


def request() -> None:
    if _event is not None:
        _event.set()


def requested() -> bool:
    return _event is not None and _event.is_set()
