"""A worker's graceful stop, shared by every process of the cluster.

`manage.py qcluster` (our override) calls `install()` before django-q2 forks anything,
so every process of the cluster (sentinel, pusher, monitor, workers) shares one flag,
and each of them takes SIGTERM and SIGINT as "stop" (`handle_signals`): a signal to
the main process, to the whole process group (systemd's default KillMode, supervisord's
stopasgroup, `kill -TERM -- -PGID`, Ctrl-C) or to one worker alone sets it. A sender
that sees it stops claiming, lets its requests in flight finish, records them, hands
back the rest and returns; the main process sees it and stops django-q2's cluster, so
the cluster exits well inside an orchestrator's grace period and a deploy re-sends
nothing.

The flag is one shared byte, written and read without a lock: a signal handler runs
between two bytecodes of its process's main thread, which may be holding any lock at
that moment. (django-q2's own events take locks, which is half of why SIGTERM to its
process group could hang it: its sentinel, killed by the signal inside
`stop_event.wait()`, left that event's condition waiting for a sleeper that was dead,
so the main process blocked for ever in `stop_event.set()`; its workers, killed too,
left their messages in flight.)
"""

from __future__ import annotations

import multiprocessing
import signal
from typing import Any

_flag: Any = None  # a shared byte: 1 once a stop was asked for
_signum: Any = None  # the first signal that asked, for the log
_ignore_signals = False  # this worker process timed out: django-q2 is ending it


def install() -> None:
    """Create the shared flag; must run in the cluster's main process before it forks."""
    global _flag, _signum
    context = multiprocessing.get_context("fork")
    _flag = context.RawValue("b", 0)
    _signum = context.RawValue("i", 0)


def request(signum: int = 0) -> None:
    if _flag is None:
        return
    if signum and not _signum.value:
        _signum.value = signum
    _flag.value = 1


def requested() -> bool:
    return _flag is not None and bool(_flag.value)


def reason() -> str:
    """What asked for the stop: the signal's name, or "a request" (e.g. --run-once)."""
    if _signum is None or not _signum.value:
        return "a request"
    return signal.Signals(_signum.value).name


def _on_signal(signum: int, frame) -> None:
    if not _ignore_signals:
        request(signum)


def handle_signals() -> None:
    """Make SIGTERM and SIGINT ask this process's cluster to stop (no lock taken)."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def task_timed_out() -> None:
    """django-q2 ends a worker whose task ran past Q_TIMEOUT with SIGTERM: that one is
    not an operator's stop, so this worker no longer takes it as one."""
    global _ignore_signals
    _ignore_signals = True
