"""What the local provider records: receipts, the request log and counters."""

from __future__ import annotations

import logging
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from localprovider.config import (
    DEFAULT_REQUEST_LOG_SIZE,
    ProviderConfig,
    _describe_changes,
    validate_changes,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- recorded state


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


class Receipt:
    __slots__ = ("count", "first_at", "last_at", "phone", "text")

    def __init__(self, now: float, phone: int, text: str) -> None:
        self.count = 0
        self.first_at = now
        self.last_at = now
        self.phone = phone
        self.text = text

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "first_at": _iso(self.first_at),
            "last_at": _iso(self.last_at),
            "phone": self.phone,
            "text": self.text,
        }


class RequestRecord:
    """One API request: arrival time at once, status and outcome when it is answered."""

    __slots__ = ("at", "msg_id", "outcome", "status")

    def __init__(self, msg_id: int | None, at: float) -> None:
        self.msg_id = msg_id
        self.at = at
        self.status: int | None = None
        self.outcome = "pending"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.msg_id, "at": self.at, "status": self.status, "outcome": self.outcome}


class ProviderState:
    """Config, receipts and counters. Touched only from the event loop's thread."""

    # Set by reset_stats (which __init__ calls).
    max_in_flight: int
    max_connections: int
    last_request_at: float | None

    def __init__(
        self, config: ProviderConfig, request_log_size: int = DEFAULT_REQUEST_LOG_SIZE
    ) -> None:
        self.config = config
        self.rng = random.Random()
        self.receipts: dict[int, Receipt] = {}
        self.receipt_total = 0
        self.request_log: deque[RequestRecord] = deque(maxlen=request_log_size)
        self.requests_seen = 0  # ever logged, so the number pushed out of the log is known
        self.in_flight = 0
        self.connections = 0
        self.started_at = time.time()
        self.reset_stats()

    # -- config

    def configure(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        clean = validate_changes(changes)
        self.config = replace(self.config, **clean)
        if clean:
            log.info("Provider config changed: %s", _describe_changes(clean))
        return self.config.public()

    # -- requests

    def begin(self, msg_id: int | None, now: float) -> RequestRecord:
        record = RequestRecord(msg_id, now)
        self.request_log.append(record)
        self.requests_seen += 1
        self.total += 1
        self.last_request_at = now
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        return record

    def finish(self, record: RequestRecord, status: int | None, outcome: str) -> None:
        record.status = status
        record.outcome = outcome
        self.in_flight -= 1
        if status is not None:
            self.by_status[status] += 1
        self.by_outcome[outcome] += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("send id=%s -> %s %s", record.msg_id, status, outcome)

    def add_receipt(self, msg_id: int, phone: int, text: str, now: float) -> None:
        # A campaign sends one text to many phones: share it instead of one copy per receipt.
        text = sys.intern(text)
        receipt = self.receipts.get(msg_id)
        if receipt is None:
            receipt = self.receipts[msg_id] = Receipt(now, phone, text)
        receipt.count += 1
        receipt.last_at = now
        receipt.phone = phone
        receipt.text = text
        self.receipt_total += 1

    # -- reports

    def receipts_json(self) -> dict[str, Any]:
        return {
            "total": self.receipt_total,
            "unique": len(self.receipts),
            "receipts": {str(k): r.as_json() for k, r in self.receipts.items()},
        }

    def receipt_json(self, msg_id: int) -> dict[str, Any] | None:
        receipt = self.receipts.get(msg_id)
        return None if receipt is None else receipt.as_json()

    def clear_receipts(self) -> None:
        self.receipts.clear()
        self.receipt_total = 0

    def stats_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_outcome": dict(sorted(self.by_outcome.items())),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "connections": self.connections,
            "max_connections": self.max_connections,
            "receipts_total": self.receipt_total,
            "started_at": _iso(self.started_at),
            "last_request_at": self.last_request_at,  # epoch seconds, like /_requests
        }

    def reset_stats(self) -> None:
        self.total = 0
        self.by_status: Counter[int] = Counter()
        self.by_outcome: Counter[str] = Counter()
        # What is in flight now stays in flight; the peaks restart from here.
        self.max_in_flight = self.in_flight
        self.max_connections = self.connections
        self.last_request_at = None

    def requests_json(self, since: float | None = None, limit: int | None = None) -> dict[str, Any]:
        records: Sequence[RequestRecord] = self.request_log
        if since is not None:
            records = [r for r in records if r.at >= since]
        if limit is not None:
            records = list(records)[-limit:] if limit else []
        return {
            "count": len(self.request_log),
            "dropped": self.requests_seen - len(self.request_log),
            "requests": [r.as_json() for r in records],
        }

    def clear_requests(self) -> None:
        self.request_log.clear()
        self.requests_seen = 0

    def reset(self) -> None:
        """Forget receipts, counters and the request log; the config stays."""
        self.clear_receipts()
        self.clear_requests()
        self.reset_stats()
