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


# The result of a rate-capped request that was due to start by a time already past: no
# request was made (AsyncProviderClient.submit's `start_by`).
STARTED_LATE = "started late"


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
        start_by: float | None = None,
    ) -> concurrent.futures.Future:
        """Send one message (`body` from `request_body`). `deadline()` gives the seconds
        left before the campaign's end (None: no end), asked right before the request
        starts; the future's result is None when no time was left and nothing was sent.
        `start_by` (time.monotonic) is when a rate-capped request must have started: a
        later one is not made, and the result is STARTED_LATE."""
        send = self._send(message_id, body, deadline, start_by)
        return asyncio.run_coroutine_threadsafe(send, self._loop)

    async def _send(
        self,
        message_id: int,
        body: bytes,
        deadline: Callable[[], float | None],
        start_by: float | None,
    ) -> ProviderResult | str | None:
        # A process that stalled (an overloaded host) runs every request queued meanwhile
        # at once: requests granted over more than a second would reach the provider in
        # one, over the rate cap. Those are not made; the sender asks for new tokens.
        if start_by is not None and time.monotonic() > start_by:
            return STARTED_LATE
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
            return result(
                Verdict.TRANSIENT, AttemptOutcome.TIMEOUT, reason=f"Timed out: {type(exc).__name__}"
            )
        except (aiohttp.ClientError, OSError) as exc:
            return result(
                Verdict.TRANSIENT,
                AttemptOutcome.CONNECTION_ERROR,
                reason=f"Connection error: {type(exc).__name__}",
            )
