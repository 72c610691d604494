"""A sender's requests in flight: how many more may start, and which have finished.

Requests are futures of the provider client's asyncio loop. A finished one puts
itself on a queue (cheaper than waiting on each), and the latencies of recent
answers tell what "slow" means: a request older than several typical latencies is
most likely hanging. It keeps its connection until its timeout, but its slot goes
to another message, up to HANG_HEADROOM times the concurrency in all, so a share
of hanging requests never stalls sending.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from concurrent.futures import Future

from messaging.engine.outcomes import Job

SLOW_AFTER_LATENCIES = 5
HANG_HEADROOM = 2
COLLECT_WAIT_SECONDS = 0.02
MEDIAN_EVERY_SECONDS = 0.5
# A request needs time to be answered: one started with less than this left before
# the end (or a few typical latencies, if more) would time out at the end while the
# provider may still accept it, and the message could not be recorded as sent.
MIN_TIME_LEFT_SECONDS = 0.5


class InFlight:
    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        # In submission order: the oldest (the likely hung) requests come first.
        self.requests: dict[Future, tuple[Job, float]] = {}
        self.completed: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self.latencies: deque[int] = deque(maxlen=200)  # milliseconds
        self._median: float | None = None
        self._median_at = 0.0

    def __len__(self) -> int:
        return len(self.requests)

    def __bool__(self) -> bool:
        return bool(self.requests)

    def median_latency_ms(self) -> float | None:
        """The typical latency of recent answers, recomputed at most every half second
        (it is asked for each message sent: sorting 200 numbers each time showed)."""
        if time.monotonic() - self._median_at >= MEDIAN_EVERY_SECONDS:
            self._median_at = time.monotonic()
            ordered = sorted(self.latencies)
            self._median = float(ordered[len(ordered) // 2]) if ordered else None
        return self._median

    def min_time_left(self) -> float:
        """The least time before the end a request may start with (see above)."""
        return max(MIN_TIME_LEFT_SECONDS, 3 * (self.median_latency_ms() or 0) / 1000)

    def free_slots(self) -> int:
        limit = self.concurrency
        if len(self.requests) >= limit:
            median = self.median_latency_ms()
            slow_after = max(1.0, SLOW_AFTER_LATENCIES * (median or 1000) / 1000)
            oldest_allowed = time.monotonic() - slow_after
            slow = 0
            for _job, submitted in self.requests.values():
                if submitted > oldest_allowed:
                    break
                slow += 1
            limit = min(self.concurrency + slow, self.concurrency * HANG_HEADROOM)
        return limit - len(self.requests)

    def add(self, future: Future, job: Job) -> None:
        self.requests[future] = (job, time.monotonic())
        future.add_done_callback(self.completed.put)

    def finished(self) -> list[Future]:
        """Every request finished by now, waiting a moment for the first one."""
        if not self.requests:
            return []
        try:
            done = [self.completed.get(timeout=COLLECT_WAIT_SECONDS)]
        except queue.Empty:
            return []
        while True:
            try:
                done.append(self.completed.get_nowait())
            except queue.Empty:
                return done

    def pop(self, future: Future) -> Job | None:
        """The job of a finished request; None if it was taken already."""
        entry = self.requests.pop(future, None)
        return None if entry is None else entry[0]
