"""A sender's nudge to its cluster's clock: "I have nothing left in hand".

The clock (engine/clock.py) finishes a campaign once nothing of it is pending or in
flight, and steps every POLL_SECONDS. A sender that has just recorded its last
results nudges it, so the campaign reads "finished" a moment after its last message,
not up to half a second later. The clock still decides: a nudge only makes it look
now.

Like the stop flag (engine/shutdown.py), the nudge is a counter in shared memory that
`manage.py qcluster` creates before django-q2 forks, written and read without a lock
(a process killed while holding a lock would leave the clock waiting on it for ever).
Outside a cluster (tests, `runlocal`'s one process) nothing is installed and a nudge
does nothing.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

_counter: Any = None  # bumped by every nudge; the clock compares it with what it saw


def install() -> None:
    """Create the shared counter; must run in the cluster's main process before it forks."""
    global _counter
    _counter = multiprocessing.get_context("fork").RawValue("L", 0)


def nudge() -> None:
    if _counter is not None:
        # Two senders bumping at once may count one nudge: the value changes either way.
        _counter.value = (_counter.value + 1) % 2**32


def seen() -> int:
    """The counter now (0 when nothing is installed)."""
    return _counter.value if _counter is not None else 0
