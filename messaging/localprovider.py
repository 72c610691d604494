"""A fast local fake of the external SMS provider (the "Probe" API).

Used by the dev server, the tests and the benchmarks instead of the real provider. Pure
Python with no Django imports, so it can be imported and tested without settings.

The contract (what the real provider speaks):

    POST /v1/send/{msgId}
    Authorization: Bearer <token>
    {"id": <int64, == msgId>, "phone": <int64, 11 digits>, "text": <string>}

    200 {"code": 0, "message": "OK"}      accepted: the only answer that counts as a receipt
    400 {"code": 400, "message": ...}     bad body (empty, not JSON, missing/wrong-typed field,
                                          id != msgId, phone not 11 digits) or bad msgId
    401 {"code": 401, "message": ...}     missing or wrong token (when token checking is on)
    404 / 405                             unknown path / wrong method

Fault injection (all settable by flags and at run time through POST /_control):

    latency_ms, latency_jitter_ms  each answer waits uniform(latency_ms - jitter, latency_ms +
                                   jitter) milliseconds, clamped at 0 (mean stays latency_ms
                                   while jitter <= latency_ms)
    hang_rate, hang_seconds        never answer; close the connection after hang_seconds
    error_rate                     answer 500, 502 or 503 at random
    rate_429, retry_after          answer 429 with "Retry-After: <retry_after>"
    garbage_rate                   answer 200 with a body that is not valid JSON
    outage, outage_mode            every API request gets 503 + Retry-After ("503") or a TCP
                                   reset ("reset"); the control endpoints keep working
    token, check_token             expected bearer token; with no token set, any non-empty
                                   bearer token is accepted; check_token=false skips the check

Each rate is the probability of that fault for a request that got as far as its check. The
checks run in this order: outage, token, body validation, hang, error, 429, garbage, so with
one fault set at a time its rate is exact. Latency applies to every /v1/send answer except
outages and hangs.

Control endpoints (no token needed; not counted in stats or the request log):

    GET  /_control                 current config (the token is never shown: "token_set")
    POST /_control                 update any subset of the config fields; 400 on unknown
                                   fields or bad values
    GET  /_receipts                {"total": N, "unique": M, "receipts": {"<msgId>": {...}}}
    GET  /_receipts/{msgId}        one entry, 404 if none
    DELETE /_receipts              clear receipts
    GET  /_stats, DELETE /_stats   counters by status and outcome, in-flight requests
    GET  /_requests[?since=EPOCH&limit=N], DELETE /_requests
                                   arrival time of each API request (bounded list)
    GET  /_health                  {"status": "ok"}

Run it: `python -m messaging.localprovider --port 0` prints `LISTENING http://HOST:PORT/v1`
once ready; from Python use `LocalProvider` (a background thread) or `start_subprocess`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import math
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
DEFAULT_REQUEST_LOG_SIZE = 1_000_000
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024
# A client that keeps sending while we hold its answer back gets cut off past this.
MAX_BUFFERED_BYTES = 4 * 1024 * 1024
INT64_MAX = 2**63 - 1
PHONE_MIN, PHONE_MAX = 10**10, 10**11 - 1  # exactly 11 digits
SEND_PREFIX = "/v1/send/"
OUTAGE_MODES = ("503", "reset")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
ERROR_STATUSES = (500, 502, 503)
# Bodies a broken provider might send with a 200: HTML, truncated JSON, plain text, nothing.
GARBAGE_BODIES = (
    (b"text/html", b"<html><body>oops</body></html>"),
    (b"application/json", b'{"code": 0'),
    (b"application/json", b'{"code": 0, "message": "OK"'),
    (b"text/plain", b"OK"),
    (b"application/json", b""),
)


# --------------------------------------------------------------------------- configuration


class ConfigError(ValueError):
    """A bad config value; the message names the field and never contains the token."""


@dataclass(frozen=True)
class ProviderConfig:
    """The fault-injection settings. Frozen: a change swaps the whole object atomically."""

    token: str | None = None
    check_token: bool = True
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    garbage_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    outage: bool = False
    outage_mode: str = "503"
    rate_429: float = 0.0
    retry_after: int = 1

    def updated(self, changes: Mapping[str, Any]) -> ProviderConfig:
        """A copy with `changes` applied; raises ConfigError listing every bad field."""
        return replace(self, **validate_changes(changes))

    def public(self) -> dict[str, Any]:
        """The config as JSON-ready data, with the token replaced by whether one is set."""
        data = asdict(self)
        data["token_set"] = bool(data.pop("token"))
        return data


CONFIG_FIELDS = tuple(f.name for f in fields(ProviderConfig))


def _is_number(value: Any) -> bool:
    # bool is an int subclass, but `"error_rate": true` is a mistake, not 1.0.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _rate(name: str, value: Any) -> float:
    if not _is_number(value) or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _milliseconds(name: str, value: Any) -> float:
    if not _is_number(value) or not 0 <= value <= 600_000:
        raise ConfigError(f"{name} must be a number of milliseconds in 0..600000, got {value!r}")
    return float(value)


def _hang_seconds(name: str, value: Any) -> float:
    if not _is_number(value) or not 0 < value <= 3600:
        raise ConfigError(f"{name} must be a number of seconds in (0, 3600], got {value!r}")
    return float(value)


def _retry_after(name: str, value: Any) -> int:
    if not _is_number(value) or value != int(value) or not 0 <= value <= 86_400:
        raise ConfigError(f"{name} must be a whole number of seconds in 0..86400, got {value!r}")
    return int(value)


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return value


def _outage_mode(name: str, value: Any) -> str:
    if str(value) not in OUTAGE_MODES:
        raise ConfigError(f"{name} must be one of {', '.join(OUTAGE_MODES)}, got {value!r}")
    return str(value)


def _token(name: str, value: Any) -> str | None:
    # The value is never echoed back: error messages end up in logs and test output.
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string or null")
    if not value.isprintable() or any(c.isspace() for c in value):
        raise ConfigError(f"{name} must not contain spaces or control characters")
    return value


_VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "token": _token,
    "check_token": _boolean,
    "latency_ms": _milliseconds,
    "latency_jitter_ms": _milliseconds,
    "error_rate": _rate,
    "garbage_rate": _rate,
    "hang_rate": _rate,
    "hang_seconds": _hang_seconds,
    "outage": _boolean,
    "outage_mode": _outage_mode,
    "rate_429": _rate,
    "retry_after": _retry_after,
}
assert set(_VALIDATORS) == set(CONFIG_FIELDS)


def validate_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Check a partial config; returns the cleaned values or raises ConfigError."""
    if not isinstance(changes, Mapping):
        raise ConfigError("config changes must be a JSON object")
    clean: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in changes.items():
        validator = _VALIDATORS.get(name)
        if validator is None:
            problems.append(f"unknown field {name!r} (known: {', '.join(CONFIG_FIELDS)})")
            continue
        try:
            clean[name] = validator(name, value)
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("; ".join(problems))
    return clean


def _describe_changes(changes: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name}={'<set>' if value else '<none>'}" if name == "token" else f"{name}={value!r}"
        for name, value in changes.items()
    )


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
        self.last_request_at: float | None = None

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


# --------------------------------------------------------------------------- HTTP plumbing


def _response(
    status: int,
    body: bytes,
    content_type: bytes = b"application/json",
    headers: Sequence[tuple[str, str]] = (),
    close: bool = False,
) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}".encode(),
        b"Content-Type: " + content_type,
        b"Content-Length: " + str(len(body)).encode(),
    ]
    lines.extend(f"{name}: {value}".encode("latin-1") for name, value in headers)
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _json_body(data: Any) -> bytes:
    return json.dumps(data).encode()


def _message(status: int, message: str) -> bytes:
    return _json_body({"code": status, "message": message})


OK_BODY = b'{"code": 0, "message": "OK"}'
# The hot path: a keep-alive 200 is always these same bytes.
OK_RESPONSE = _response(200, OK_BODY)


class HttpError(Exception):
    """A request we cannot frame; answered with `status` and the connection is closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: str
    content_length: int
    authorization: bytes | None
    keep_alive: bool
    expect_continue: bool = False
    body: bytes = b""


def parse_head(head: bytes) -> Request:
    """Parse a request line and headers (without the blank line) into a Request."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    content_length = 0
    authorization = None
    connection = b""
    expect_continue = False
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise HttpError(400, "malformed header line")
        name = name.strip().lower()
        if name == b"content-length":
            value = value.strip()
            if not value.isdigit():
                raise HttpError(400, "bad Content-Length")
            content_length = int(value)
        elif name == b"authorization":
            authorization = value.strip()
        elif name == b"connection":
            connection = value.strip().lower()
        elif name == b"expect":
            expect_continue = value.strip().lower() == b"100-continue"
        elif name == b"transfer-encoding":
            # Only Content-Length framing is supported; clients of this API never chunk.
            raise HttpError(411, "chunked bodies are not supported; send Content-Length")
    if content_length > MAX_BODY_BYTES:
        raise HttpError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    if version == b"HTTP/1.1":
        keep_alive = b"close" not in connection
    else:
        keep_alive = b"keep-alive" in connection
    path, _, query = target.decode("latin-1").partition("?")
    return Request(
        method.decode("latin-1"),
        path,
        query,
        content_length,
        authorization,
        keep_alive,
        expect_continue,
    )


def _parse_msg_id(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= INT64_MAX else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_send_body(body: bytes, msg_id: int) -> tuple[int, str]:
    """Check a send body against the contract; returns (phone, text) or raises HttpError 400."""
    if not body.strip():
        raise HttpError(400, "empty body; expected a JSON object with id, phone and text")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HttpError(400, "body must be a JSON object with id, phone and text")
    missing = [name for name in ("id", "phone", "text") if name not in data]
    if missing:
        raise HttpError(400, f"missing field(s): {', '.join(missing)}")
    problems = []
    body_id, phone, text = data["id"], data["phone"], data["text"]
    if not _is_int(body_id) or not 0 <= body_id <= INT64_MAX:
        problems.append("id must be an int64 integer")
    elif body_id != msg_id:
        problems.append(f"id {body_id} in the body does not match msgId {msg_id} in the path")
    if not _is_int(phone) or not PHONE_MIN <= phone <= PHONE_MAX:
        problems.append("phone must be an integer of exactly 11 digits")
    if not isinstance(text, str):
        problems.append("text must be a string")
    if problems:
        raise HttpError(400, "; ".join(problems))
    return phone, text


def _token_ok(config: ProviderConfig, authorization: bytes | None) -> bool:
    if not config.check_token:
        return True
    if authorization is None or authorization[:7].lower() != b"bearer ":
        return False
    given = authorization[7:].strip()
    if config.token is None:
        return bool(given)  # no token configured: any non-empty bearer token will do
    return hmac.compare_digest(given, config.token.encode())


# What to do with an API request, decided at once and carried out now or after a delay.
RESPOND, HANG, RESET = "respond", "hang", "reset"


@dataclass(slots=True)
class Plan:
    action: str
    delay: float = 0.0
    status: int | None = None
    outcome: str = ""
    body: bytes = b""
    content_type: bytes = b"application/json"
    headers: tuple[tuple[str, str], ...] = ()
    receipt: tuple[int, int, str] | None = None  # (msg_id, phone, text) once answered 200

    def response(self, close: bool) -> bytes:
        if self.body is OK_BODY and not close:
            return OK_RESPONSE
        return _response(self.status or 500, self.body, self.content_type, self.headers, close)


def _latency(config: ProviderConfig, rng: random.Random) -> float:
    if not config.latency_ms and not config.latency_jitter_ms:
        return 0.0
    jitter = config.latency_jitter_ms
    delay_ms = config.latency_ms + (rng.uniform(-jitter, jitter) if jitter else 0.0)
    return max(0.0, delay_ms) / 1000


def plan_send(state: ProviderState, request: Request, msg_id: int | None) -> Plan:
    """Decide the answer to POST /v1/send/{msgId}, faults included (see the module doc)."""
    config = state.config
    rng = state.rng
    if config.outage:
        if config.outage_mode == "reset":
            return Plan(RESET, outcome="outage")
        return Plan(
            RESPOND,
            status=503,
            outcome="outage",
            body=_message(503, "provider outage (injected)"),
            headers=(("Retry-After", str(config.retry_after)),),
        )
    delay = _latency(config, rng)
    if not _token_ok(config, request.authorization):
        return Plan(
            RESPOND,
            delay,
            401,
            "unauthorized",
            _message(401, "missing or invalid bearer token"),
            headers=(("WWW-Authenticate", "Bearer"),),
        )
    if msg_id is None:
        return Plan(RESPOND, delay, 400, "bad_request", _message(400, "msgId must be an int64"))
    try:
        phone, text = validate_send_body(request.body, msg_id)
    except HttpError as exc:
        return Plan(RESPOND, delay, exc.status, "bad_request", _message(exc.status, str(exc)))
    if config.hang_rate and rng.random() < config.hang_rate:
        return Plan(HANG, config.hang_seconds, outcome="hang")
    if config.error_rate and rng.random() < config.error_rate:
        status = rng.choice(ERROR_STATUSES)
        return Plan(RESPOND, delay, status, "error", _message(status, "server error (injected)"))
    if config.rate_429 and rng.random() < config.rate_429:
        return Plan(
            RESPOND,
            delay,
            429,
            "rate_limited",
            _message(429, "too many requests (injected)"),
            headers=(("Retry-After", str(config.retry_after)),),
        )
    if config.garbage_rate and rng.random() < config.garbage_rate:
        content_type, body = rng.choice(GARBAGE_BODIES)
        return Plan(RESPOND, delay, 200, "garbage", body, content_type)
    return Plan(RESPOND, delay, 200, "ok", OK_BODY, receipt=(msg_id, phone, text))


def _reset_connection(transport: asyncio.Transport) -> None:
    """Close with a TCP RST instead of a FIN, like a crashed or firewalled server."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection; requests are answered strictly in order."""

    def __init__(self, server: _ProviderServer) -> None:
        self.server = server
        self.state = server.state
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.head: Request | None = None  # parsed headers waiting for the rest of the body
        # While an answer is delayed, later (pipelined) requests wait in the buffer.
        self.pending: tuple[asyncio.TimerHandle, Plan, RequestRecord, bool] | None = None

    # -- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)
        state = self.state
        state.connections += 1
        if state.connections > state.max_connections:
            state.max_connections = state.connections

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.state.connections -= 1
        if self.pending is not None:
            handle, plan, record, _ = self.pending
            self.pending = None
            handle.cancel()
            # A hang stays a hang; anything else was abandoned by the client before its answer.
            self.state.finish(record, None, "hang" if plan.action == HANG else "abandoned")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.pending is None:
            self._process()
        elif len(self.buffer) > MAX_BUFFERED_BYTES:
            self._close_now()

    # -- request handling

    def _process(self) -> None:
        transport = self.transport
        while self.pending is None and transport is not None and not transport.is_closing():
            try:
                request = self._next_request()
            except HttpError as exc:
                transport.write(_response(exc.status, _message(exc.status, str(exc)), close=True))
                transport.close()
                return
            if request is None:
                return
            if request.path.startswith("/_"):
                self._answer_control(request)
            else:
                self._answer_api(request)

    def _next_request(self) -> Request | None:
        buffer = self.buffer
        if self.head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEADER_BYTES:
                    raise HttpError(431, "request header too large")
                return None
            self.head = parse_head(bytes(buffer[:end]))
            del buffer[: end + 4]
            if self.head.expect_continue and len(buffer) < self.head.content_length:
                # curl waits for this before sending a body over 1 KiB.
                assert self.transport is not None
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request = self.head
        if len(buffer) < request.content_length:
            return None
        request.body = bytes(buffer[: request.content_length])
        del buffer[: request.content_length]
        self.head = None
        return request

    def _answer_control(self, request: Request) -> None:
        status, data, headers = self.server.control(request)
        close = not request.keep_alive
        assert self.transport is not None
        self.transport.write(_response(status, _json_body(data), headers=headers, close=close))
        if close:
            self.transport.close()

    def _answer_api(self, request: Request) -> None:
        state = self.state
        path = request.path
        msg_id = _parse_msg_id(path[len(SEND_PREFIX) :]) if path.startswith(SEND_PREFIX) else None
        record = state.begin(msg_id, time.time())
        rest = path[len(SEND_PREFIX) :]
        if not path.startswith(SEND_PREFIX) or not rest or "/" in rest:
            plan = Plan(RESPOND, status=404, outcome="not_found", body=_message(404, "not found"))
        elif request.method != "POST":
            plan = Plan(
                RESPOND,
                status=405,
                outcome="bad_method",
                body=_message(405, "use POST"),
                headers=(("Allow", "POST"),),
            )
        else:
            plan = plan_send(state, request, msg_id)
        if plan.delay > 0 or plan.action == HANG:
            handle = asyncio.get_running_loop().call_later(
                plan.delay, self._complete, plan, record, request.keep_alive, True
            )
            self.pending = (handle, plan, record, request.keep_alive)
        else:
            self._complete(plan, record, request.keep_alive, False)

    def _complete(self, plan: Plan, record: RequestRecord, keep_alive: bool, delayed: bool) -> None:
        self.pending = None
        transport = self.transport
        assert transport is not None
        if plan.action == HANG:
            self.state.finish(record, None, "hang")
            transport.close()
            return
        if plan.action == RESET:
            self.state.finish(record, None, plan.outcome)
            _reset_connection(transport)
            return
        close = not keep_alive
        transport.write(plan.response(close))
        self.state.finish(record, plan.status, plan.outcome)
        if plan.receipt is not None:
            self.state.add_receipt(*plan.receipt, time.time())
        if close:
            transport.close()
        elif delayed and self.buffer:
            self._process()  # requests that arrived while this one was held back

    def _close_now(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class _ProviderServer:
    """The listening socket, its connections and the control endpoints (event loop only)."""

    def __init__(self, state: ProviderState) -> None:
        self.state = state
        self.connections: set[_Connection] = set()
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: _Connection(self), host, port, reuse_address=True, backlog=1024
        )
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        # Hung and idle keep-alive connections would otherwise hold shutdown up.
        for connection in list(self.connections):
            connection._close_now()
        await asyncio.sleep(0)  # let connection_lost callbacks run before the loop closes
        if self.server is not None:
            await self.server.wait_closed()

    def control(self, request: Request) -> tuple[int, Any, tuple[tuple[str, str], ...]]:
        """Answer a /_... request: (status, JSON data, extra headers)."""
        state = self.state
        method, path = request.method, request.path.rstrip("/") or "/"
        routes: dict[str, dict[str, Callable[[], Any]]] = {
            "/_health": {"GET": lambda: {"status": "ok"}},
            "/_control": {
                "GET": lambda: state.config.public(),
                "POST": lambda: state.configure(_json_object(request.body)),
            },
            "/_receipts": {
                "GET": state.receipts_json,
                "DELETE": lambda: (state.clear_receipts(), state.receipts_json())[1],
            },
            "/_stats": {
                "GET": state.stats_json,
                "DELETE": lambda: (state.reset_stats(), state.stats_json())[1],
            },
            "/_requests": {
                "GET": lambda: state.requests_json(*_requests_query(request.query)),
                "DELETE": lambda: (state.clear_requests(), {"count": 0})[1],
            },
        }
        if path.startswith("/_receipts/"):
            msg_id = _parse_msg_id(path[len("/_receipts/") :])
            if method != "GET":
                return 405, {"code": 405, "message": "use GET"}, (("Allow", "GET"),)
            receipt = None if msg_id is None else state.receipt_json(msg_id)
            if receipt is None:
                return 404, {"code": 404, "message": "no receipt for this msgId"}, ()
            return 200, receipt, ()
        methods = routes.get(path)
        if methods is None:
            return 404, {"code": 404, "message": "not found"}, ()
        handler = methods.get(method)
        if handler is None:
            allow = ", ".join(methods)
            return 405, {"code": 405, "message": f"use {allow}"}, (("Allow", allow),)
        try:
            return 200, handler(), ()
        except ConfigError as exc:
            return 400, {"code": 400, "message": str(exc)}, ()


def _json_object(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ConfigError("body is not valid JSON") from None


def _requests_query(query: str) -> tuple[float | None, int | None]:
    params = parse_qs(query)
    try:
        since = float(params["since"][0]) if "since" in params else None
        limit = int(params["limit"][0]) if "limit" in params else None
    except ValueError:
        raise ConfigError("since must be a number (epoch seconds) and limit an integer") from None
    if limit is not None and limit < 0:
        raise ConfigError("limit must not be negative")
    return since, limit


# --------------------------------------------------------------------------- running it


def _loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when asked for and installed (it is optional), else the default asyncio loop."""
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def base_url(host: str, port: int) -> str:
    """The base URL handed to the app (it posts to `{base}/send/{msgId}`)."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - a wildcard bind is reached over loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/v1"


def serve_forever(
    config: ProviderConfig,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    on_listening: Callable[[str], None] | None = None,
    use_uvloop: bool = True,
    request_log_size: int = DEFAULT_REQUEST_LOG_SIZE,
) -> None:
    """Serve in the calling (main) thread until SIGINT or SIGTERM, then shut down cleanly."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = _ProviderServer(ProviderState(config, request_log_size))
        bound_port = await server.start(host, port)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not in the main thread or no signal support: KeyboardInterrupt still stops it.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        url = base_url(host, bound_port)
        log.info(
            "Local provider listening on %s (%s loop); config: %s",
            url,
            type(loop).__module__.split(".")[0],
            _describe_changes(asdict(config)),
        )
        if on_listening is not None:
            on_listening(url)
        await stop.wait()
        log.info("Local provider stopping")
        await server.close()

    try:
        with asyncio.Runner(loop_factory=_loop_factory(use_uvloop)) as runner:
            runner.run(main())
    except KeyboardInterrupt:
        pass  # Ctrl-C before the signal handler was in place: still no traceback


class LocalProvider:
    """The provider in a background thread, for tests and other in-process code.

    with LocalProvider(token="t", latency_ms=20) as provider:
        requests.post(f"{provider.url}/send/1", ...)
        provider.configure(error_rate=1)
        provider.receipts()
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        use_uvloop: bool = True,
        request_log_size: int = DEFAULT_REQUEST_LOG_SIZE,
        **config: Any,
    ) -> None:
        self.host = host
        self.port = port
        self._use_uvloop = use_uvloop
        self._state = ProviderState(ProviderConfig().updated(config), request_log_size)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self, timeout: float = 10.0) -> LocalProvider:
        """Start serving; returns once the socket listens (port=0 picks a free port)."""
        if self._thread is not None:
            raise RuntimeError("the provider is already running")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="local-provider", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("the local provider did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = _loop_factory(self._use_uvloop)()
        server = _ProviderServer(self._state)
        try:
            self.port = loop.run_until_complete(server.start(self.host, self.port))
        except BaseException as exc:
            failure.append(exc)
            loop.close()
            ready.set()
            return
        self._loop = loop
        log.info("Local provider listening on %s", self.url)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(server.close())
            self._loop = None
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and close every connection (hung ones included)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> LocalProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._loop is not None

    @property
    def url(self) -> str:
        """The base URL for the app: `http://127.0.0.1:PORT/v1`."""
        return base_url(self.host, self.port)

    @property
    def control_url(self) -> str:
        """Where the control endpoints live: `http://127.0.0.1:PORT`."""
        return self.url.removesuffix("/v1")

    def send_url(self, msg_id: int) -> str:
        return f"{self.url}/send/{msg_id}"

    # -- control and reports (run on the server's loop, so no locking is needed)

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = self._loop
        if loop is None:
            return fn(*args)  # not serving: nothing else touches the state
        future: Future[Any] = Future()

        def run() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change any subset of the config; raises ConfigError. Returns the new config."""
        return self._call(self._state.configure, changes)

    @property
    def config(self) -> dict[str, Any]:
        return self._call(self._state.config.public)

    def receipts(self) -> dict[str, Any]:
        """Same shape as GET /_receipts: {"total", "unique", "receipts": {"<msgId>": {...}}}."""
        return self._call(self._state.receipts_json)

    def receipt(self, msg_id: int) -> dict[str, Any] | None:
        return self._call(self._state.receipt_json, msg_id)

    def receipt_count(self, msg_id: int) -> int:
        receipt = self.receipt(msg_id)
        return 0 if receipt is None else receipt["count"]

    def clear_receipts(self) -> None:
        self._call(self._state.clear_receipts)

    def stats(self) -> dict[str, Any]:
        return self._call(self._state.stats_json)

    def requests(self, since: float | None = None, limit: int | None = None) -> list[dict]:
        """API requests as {"id", "at" (epoch seconds), "status", "outcome"}, oldest first."""
        return self._call(self._state.requests_json, since, limit)["requests"]

    def reset(self) -> None:
        """Forget receipts, counters and the request log (the config stays)."""
        self._call(self._state.reset)


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags, shared by `python -m messaging.localprovider` and `manage.py runprovider`."""
    defaults = ProviderConfig()
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port, 0 for any free one (%(default)s)"
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("PROVIDER_TOKEN") or None,
        help="expected bearer token (default: $PROVIDER_TOKEN); empty accepts any token",
    )
    parser.add_argument(
        "--no-check-token",
        dest="check_token",
        action="store_false",
        help="accept requests without checking the Authorization header",
    )
    number_flags = (
        ("--latency-ms", float, "mean answer delay in ms"),
        ("--latency-jitter-ms", float, "delay varies uniformly by +- this many ms"),
        ("--error-rate", float, "fraction answered 500/502/503"),
        ("--garbage-rate", float, "fraction answered 200 with a malformed body"),
        ("--hang-rate", float, "fraction never answered (closed after --hang-seconds)"),
        ("--hang-seconds", float, "how long a hung request stalls"),
        ("--rate-429", float, "fraction answered 429 with Retry-After"),
        ("--retry-after", int, "Retry-After seconds on 429 and outage 503s"),
    )
    for flag, kind, text in number_flags:
        dest = flag[2:].replace("-", "_")
        parser.add_argument(
            flag, type=kind, default=getattr(defaults, dest), help=f"{text} (%(default)s)"
        )
    parser.add_argument(
        "--outage", action="store_true", help="start in an outage: every API request fails"
    )
    parser.add_argument(
        "--outage-mode",
        choices=OUTAGE_MODES,
        default=defaults.outage_mode,
        help="503 with Retry-After, or reset the connection (%(default)s)",
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="INFO", help="(%(default)s)")
    parser.add_argument(
        "--no-uvloop", dest="use_uvloop", action="store_false", help="use the default asyncio loop"
    )


def settings_from_options(options: Mapping[str, Any]) -> tuple[str, int, ProviderConfig]:
    """(host, port, config) from parsed flags; raises ConfigError with a clear message."""
    problems = []
    host = options.get("host") or ""
    if not host.strip():
        problems.append("--host must not be empty")
    port = options.get("port")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        problems.append(f"--port must be in 0..65535, got {port!r}")
    try:
        config = ProviderConfig().updated({k: options[k] for k in CONFIG_FIELDS if k in options})
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("; ".join(problems))
    return host, port, config


def setup_logging(level: str) -> None:
    """Log to stderr unless the host program (Django) already set up logging."""
    log.setLevel(level)
    if not logging.getLogger().handlers and not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m messaging.localprovider",
        description="Run the local fake SMS provider (the Probe API).",
    )
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        host, port, config = settings_from_options(options)
    except ConfigError as exc:
        parser.error(str(exc))
    setup_logging(options["log_level"])
    try:
        serve_forever(
            config,
            host,
            port,
            on_listening=lambda url: print(f"LISTENING {url}", flush=True),
            use_uvloop=options["use_uvloop"],
        )
    except OSError as exc:  # e.g. the port is taken: one clear line, no traceback
        print(f"cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------- subprocess helper

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def config_to_argv(config: ProviderConfig) -> list[str]:
    """Flags reproducing `config`, except the token (passed through the environment)."""
    argv = []
    for name in CONFIG_FIELDS:
        value = getattr(config, name)
        if name == "token":
            continue
        if name == "check_token":
            argv += [] if value else ["--no-check-token"]
        elif name == "outage":
            argv += ["--outage"] if value else []
        else:
            argv += ["--" + name.replace("_", "-"), str(value)]
    return argv


def start_subprocess(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    timeout: float = 15.0,
    log_level: str = "WARNING",
    stderr: Any = None,
    extra_args: Sequence[str] = (),
    **config: Any,
) -> tuple[subprocess.Popen[str], str]:
    """Run the provider as `python -m messaging.localprovider`; returns (process, base URL).

    Waits for its LISTENING line. Stop it with `stop_subprocess` (or terminate()).
    """
    cfg = ProviderConfig().updated(config)
    argv = [sys.executable, "-m", "messaging.localprovider", "--host", host, "--port", str(port)]
    argv += ["--log-level", log_level, *config_to_argv(cfg), *extra_args]
    env = dict(os.environ)
    env["PROVIDER_TOKEN"] = cfg.token or ""  # not on the command line, where `ps` shows it
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        argv, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=PROJECT_ROOT, text=True
    )
    try:
        url = _wait_for_listening(process, timeout)
    except BaseException:
        stop_subprocess(process)
        raise
    return process, url


def _wait_for_listening(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the provider did not print LISTENING within {timeout} s")
        readable, _, _ = select.select([process.stdout], [], [], min(left, 0.5))
        if readable:
            line = process.stdout.readline()
            if line.startswith("LISTENING "):
                return line.split(maxsplit=1)[1].strip()
            if not line and process.poll() is not None:
                raise RuntimeError(f"the provider exited with code {process.returncode}")
        elif process.poll() is not None:
            raise RuntimeError(f"the provider exited with code {process.returncode}")


def stop_subprocess(process: subprocess.Popen[str], timeout: float = 10.0) -> int:
    """SIGTERM, wait, SIGKILL if it lingers; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


def run_coroutine(coro: Coroutine[Any, Any, Any], use_uvloop: bool = True) -> Any:
    """Run a coroutine on uvloop if installed (used by the benchmark client)."""
    with asyncio.Runner(loop_factory=_loop_factory(use_uvloop)) as runner:
        return runner.run(coro)


if __name__ == "__main__":
    sys.exit(main())
