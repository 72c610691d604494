"""The provider's side of the contract: parsing a request and deciding its answer.

`plan_send` decides without side effects; the server carries the plan out.
"""

from __future__ import annotations

import hmac
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from localprovider.config import (
    ERROR_STATUSES,
    GARBAGE_BODIES,
    INT64_MAX,
    MAX_BODY_BYTES,
    PHONE_MAX,
    PHONE_MIN,
    REASONS,
    ProviderConfig,
)
from localprovider.state import ProviderState

log = logging.getLogger(__name__)


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
