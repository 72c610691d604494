"""The asyncio HTTP server: connections, the send API and the control API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import platform
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from localprovider.config import MAX_BUFFERED_BYTES, MAX_HEADER_BYTES, SEND_PREFIX, ConfigError
from localprovider.protocol import (
    HANG,
    RESET,
    RESPOND,
    HttpError,
    Plan,
    Request,
    _json_body,
    _message,
    _parse_msg_id,
    _response,
    parse_head,
    plan_send,
)
from localprovider.state import ProviderState, RequestRecord

log = logging.getLogger(__name__)

LINUX_GENERIC = {"x86_64", "aarch64"}  # 64-bit, generic socket numbers

# A request's time is when its bytes reached this host: the kernel's receive timestamp
# (Linux), not the moment this loop got round to reading them (of the last bytes read:
# requests pipelined on one connection share it; aiohttp does not pipeline). On a busy test machine
# the provider's own thread can be descheduled for 100 ms and then read a backlog at
# once; stamping on reading would make the sender look bunched (tests/engine/
# test_rule_08_concurrent_campaigns.py counts requests per sliding second by these).
# Python's socket module has no name for it: 35 is Linux's value on x86-64 and arm64 (the
# generic headers); elsewhere requests are stamped when read.
SO_TIMESTAMPNS = 35 if sys.platform == "linux" and platform.machine() in LINUX_GENERIC else None
SCM_TIMESTAMPNS = SO_TIMESTAMPNS  # the control message carries the option's number
READ_BYTES = 256 * 1024
STAMP_SPACE = socket.CMSG_SPACE(16) if SO_TIMESTAMPNS is not None else 0


def _kernel_time(ancillary: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds / 1e9 or None  # 0: bytes that came before stamping
    return None


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
        self.stamped: socket.socket | None = None  # read with recvmsg for kernel stamps
        self.arrived_at: float | None = None  # kernel time of the last bytes read

    # -- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)
        state = self.state
        state.connections += 1
        if state.connections > state.max_connections:
            state.max_connections = state.connections
        sock = transport.get_extra_info("socket")
        if SO_TIMESTAMPNS is not None and sock is not None:
            # The transport still writes and closes; this connection reads for itself.
            self.stamped = socket.socket(fileno=os.dup(sock.fileno()))
            self.stamped.setblocking(False)
            transport.pause_reading()
            asyncio.get_running_loop().add_reader(self.stamped.fileno(), self._read_stamped)

    def _read_stamped(self) -> None:
        assert self.stamped is not None and self.transport is not None
        try:
            data, ancillary, _, _ = self.stamped.recvmsg(READ_BYTES, STAMP_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close_now()
            return
        if not data:  # the client closed its side: close ours, as asyncio would
            self._stop_reading()
            self.transport.close()
            return
        self.arrived_at = _kernel_time(ancillary)
        self.data_received(data)

    def _stop_reading(self) -> None:
        if self.stamped is not None:
            asyncio.get_running_loop().remove_reader(self.stamped.fileno())
            self.stamped.close()
            self.stamped = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_reading()
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
        record = state.begin(msg_id, self.arrived_at or time.time())
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
        if SO_TIMESTAMPNS is not None:  # accepted connections inherit it
            for sock in self.server.sockets:
                sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
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
            # A DELETE clears, then answers what is left: (None, answer)[1].
            "/_receipts": {
                "GET": state.receipts_json,
                "DELETE": lambda: (state.clear_receipts(), state.receipts_json())[1],  # type: ignore[func-returns-value]
            },
            "/_stats": {
                "GET": state.stats_json,
                "DELETE": lambda: (state.reset_stats(), state.stats_json())[1],  # type: ignore[func-returns-value]
            },
            "/_requests": {
                "GET": lambda: state.requests_json(*_requests_query(request.query)),
                "DELETE": lambda: (state.clear_requests(), {"count": 0})[1],  # type: ignore[func-returns-value]
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
