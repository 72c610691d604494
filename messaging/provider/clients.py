"""The one place that speaks HTTP to the sending provider (the "Probe" contract).

Two transports share one classification of answers (`answers.classify`):

* `AsyncProviderClient`: the bulk sending path. aiohttp on an asyncio loop in a
  thread of its own, one connection pool per client, so hundreds of requests can
  be in flight at a real provider's 100-500 ms latency at a fraction of a
  thread's CPU per request.
* `ProviderClient`: one blocking call with requests, for single sends (a test
  send from a page, a command).

Every outcome, including every exception of either library, becomes a
`ProviderResult`; the engine never sees a raw exception.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import os
import threading
import time
from collections.abc import Callable

import aiohttp
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from messaging.models import AttemptOutcome
from messaging.provider.answers import (
    MAX_BODY_BYTES,
    ProviderResult,
    Verdict,
    classify,
    request_body,
    timed_result,
    token_fingerprint,
)


def _settings_timeouts(connect: float | None, read: float | None) -> tuple[float, float]:
    return connect or settings.PROVIDER_CONNECT_TIMEOUT, read or settings.PROVIDER_READ_TIMEOUT


def _user_agent() -> str:
    return f"Herald {requests.utils.default_user_agent()}"


# The result of a rate-capped request that could not start inside its time window (its
# rate slot): no request was made (AsyncProviderClient.submit's `start_window`).
STARTED_LATE = "started late"

# The start window of the request being made in this asyncio task (None: any time).
_start_window: contextvars.ContextVar[_StartWindow | None] = contextvars.ContextVar(
    "herald_start_window", default=None
)


class _StartWindow:
    """When a rate-capped request may leave: [not_before, not_after] (Unix times)."""

    __slots__ = ("late", "not_after", "not_before")

    def __init__(self, not_before: float, not_after: float) -> None:
        self.not_before = not_before
        self.not_after = not_after
        self.late = False

    async def wait(self) -> None:
        while (early := self.not_before - time.time()) > 0:
            await asyncio.sleep(early)

    def passed(self) -> bool:
        if time.time() > self.not_after:
            self.late = True
        return self.late


class _WindowCheckedRequest(aiohttp.ClientRequest):
    """Checks the request's start window right before its first byte is written.

    aiohttp connects, buffers the headers, then writes headers and body from this
    coroutine. The clock is read here, and the write follows in the same step of the
    event loop, so a stall anywhere before it (a busy host, a loop that fell behind)
    cannot send a request later than its window: it is not sent at all.
    """

    async def write_bytes(self, writer, conn, *args, **kwargs) -> None:
        window = _start_window.get()
        if window is not None:
            await window.wait()
            if window.passed():
                conn.close()  # nothing was written: the headers are still in the buffer
                return
        await super().write_bytes(writer, conn, *args, **kwargs)


class _Endpoint:
    """Where and as whom both clients send: the URL, the token, the timeouts, the headers."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.url = (url or settings.PROVIDER_URL).rstrip("/")
        self._token = settings.PROVIDER_TOKEN if token is None else token
        self.connect_timeout, self.read_timeout = _settings_timeouts(connect_timeout, read_timeout)
        self._headers = {
            "Authorization": f"Bearer {self._token}",
            "User-Agent": _user_agent(),
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    @property
    def fingerprint(self) -> str:
        return token_fingerprint(self._token)


class ProviderClient(_Endpoint):
    """One blocking request per call (requests): for single sends. Thread-safe."""

    def __init__(self, **endpoint) -> None:
        super().__init__(**endpoint)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=4, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update(self._headers)
            # ~/.netrc would replace the bearer token: read only proxies and CA bundles.
            session.trust_env = False
            session.proxies.update(requests.utils.get_environ_proxies(self.url))
            ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if ca_bundle:
                session.verify = ca_bundle
            self._local.session = session
        return session

    def close(self) -> None:
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

    def send(
        self, *, message_id: int, phone: str, text: str, time_left: float | None = None
    ) -> ProviderResult:
        """POST one message. `time_left` caps both timeouts so no request outlives the deadline."""
        connect_timeout, read_timeout = self.connect_timeout, self.read_timeout
        if time_left is not None:
            connect_timeout = min(connect_timeout, time_left)
            read_timeout = min(read_timeout, time_left)
        body = request_body(message_id, phone, text)
        result = timed_result()
        try:
            response = self._session().post(
                f"{self.url}/send/{message_id}",
                data=body,
                timeout=(connect_timeout, read_timeout),
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            return result(
                Verdict.TRANSIENT, AttemptOutcome.TIMEOUT, reason=f"Timed out: {type(exc).__name__}"
            )
        except requests.RequestException as exc:
            return result(
                Verdict.TRANSIENT,
                AttemptOutcome.CONNECTION_ERROR,
                reason=f"Connection error: {type(exc).__name__}",
            )
        return classify(
            response.status_code,
            response.text,
            response.headers.get("Retry-After"),
            result,
            self._token,
        )


def _settle(future: concurrent.futures.Future, task: asyncio.Task) -> None:
    """Give a finished request's outcome to the future its submitter holds."""
    if future.cancelled():
        return
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


class AsyncProviderClient(_Endpoint):
    """The bulk sending path: aiohttp on an event loop in its own thread.

    `submit` may be called from any thread and returns a concurrent Future of the
    ProviderResult, so the engine's database thread never waits on the network.
    One connection pool per client (per pump), at most `max_connections` open.
    """

    def __init__(self, *, max_connections: int | None = None, **endpoint) -> None:
        super().__init__(**endpoint)
        self.max_connections = max_connections or settings.PROVIDER_CONCURRENCY
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: aiohttp.ClientSession | None = None
        self._proxy: str | None = None

    def start(self) -> AsyncProviderClient:
        if self._thread is not None:
            return self
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            loop.run_until_complete(self._open())
            ready.set()
            loop.run_forever()
            assert self._session is not None  # _open made it
            loop.run_until_complete(self._session.close())
            loop.close()

        self._thread = threading.Thread(target=run, name="herald-provider-io", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    async def _open(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.max_connections, limit_per_host=self.max_connections, ttl_dns_cache=300
        )
        # trust_env would look up the proxy variables and read ~/.netrc for every request,
        # in a thread: half the transport's CPU at a thousand requests a second (profiled
        # with py-spy). The proxy is read once instead; .netrc is never used, as it would
        # replace the bearer token.
        self._proxy = requests.utils.get_environ_proxies(self.url).get(self.url.split(":", 1)[0])
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            request_class=_WindowCheckedRequest,
        )

    def close(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def submit(
        self,
        *,
        message_id: int,
        body: bytes,
        deadline: Callable[[], float | None],
        start_window: tuple[float, float] | None = None,
    ) -> concurrent.futures.Future:
        """Send one message (`body` from `request_body`). `deadline()` gives the seconds
        left before the campaign's end (None: no end), asked right before the request
        starts; the future's result is None when no time was left and nothing was sent.
        `start_window` (Unix times: not before, not after) is when a rate-capped request
        may leave: it waits for the start, and one that cannot leave by the end is not
        made; the result is then STARTED_LATE."""
        return self.submit_many([(message_id, body, deadline, start_window)])[0]

    def submit_many(
        self,
        requests: list[tuple[int, bytes, Callable[[], float | None], tuple[float, float] | None]],
    ) -> list[concurrent.futures.Future]:
        """`submit` for several messages at once, each `(message_id, body, deadline,
        start_window)`: one hand-over to the loop thread for all of them (a wake-up of
        the loop each, with run_coroutine_threadsafe's two-way future chaining, was a
        tenth of a sender's CPU at thousands of requests a second)."""
        futures: list[concurrent.futures.Future] = [concurrent.futures.Future() for _ in requests]
        loop = self._loop
        assert loop is not None, "start() the client first"

        def start() -> None:
            for future, request in zip(futures, requests, strict=True):
                task = loop.create_task(self._send(*request))
                task.add_done_callback(functools.partial(_settle, future))

        loop.call_soon_threadsafe(start)
        return futures

    async def _send(
        self,
        message_id: int,
        body: bytes,
        deadline: Callable[[], float | None],
        start_window: tuple[float, float] | None,
    ) -> ProviderResult | str | None:
        window = None
        if start_window is not None:
            window = _StartWindow(*start_window)
            await window.wait()
            if window.passed():  # already late: not worth a connection
                return STARTED_LATE
            _start_window.set(window)  # this task's own context: checked at the write
        # Right before the request: none starts at or after end_at, and its timeouts
        # are capped at the time left. None means no request was made.
        time_left = deadline()
        if time_left is not None and time_left <= 0:
            return None
        connect_timeout, read_timeout = self.connect_timeout, self.read_timeout
        total = connect_timeout + read_timeout
        if time_left is not None:
            connect_timeout = min(connect_timeout, time_left)
            read_timeout = min(read_timeout, time_left)
            total = min(total, time_left)
        timeout = aiohttp.ClientTimeout(
            total=total, sock_connect=connect_timeout, sock_read=read_timeout
        )
        result = timed_result()
        assert self._session is not None  # made by start(), before any request
        try:
            async with self._session.post(
                f"{self.url}/send/{message_id}",
                data=body,
                timeout=timeout,
                allow_redirects=False,
                proxy=self._proxy,
            ) as response:
                # Enough of the body to judge it and keep an excerpt; never a huge one.
                text = (await response.content.read(MAX_BODY_BYTES)).decode("utf-8", "replace")
                return classify(
                    response.status, text, response.headers.get("Retry-After"), result, self._token
                )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            if window is not None and window.late:
                return STARTED_LATE
            return result(
                Verdict.TRANSIENT, AttemptOutcome.TIMEOUT, reason=f"Timed out: {type(exc).__name__}"
            )
        except (aiohttp.ClientError, OSError) as exc:
            if window is not None and window.late:
                return STARTED_LATE  # closed by the start-window check: nothing was sent
            return result(
                Verdict.TRANSIENT,
                AttemptOutcome.CONNECTION_ERROR,
                reason=f"Connection error: {type(exc).__name__}",
            )
