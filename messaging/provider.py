"""The one module that speaks HTTP to the sending provider (the "Probe" contract).

Two transports share one classification of answers:

* `AsyncProviderClient`: the bulk sending path. aiohttp on an asyncio loop in a
  thread of its own, one connection pool per client, so hundreds of requests can
  be in flight at a real provider's 100-500 ms latency at a fraction of a
  thread's CPU per request.
* `ProviderClient`: one blocking call with requests, for single sends (a test
  send from a page, a command).

Every outcome, including every exception of either library, becomes a
`ProviderResult`; the engine never sees a raw exception. The token never
appears in a result, a log line or an excerpt: answers are scrubbed of it and of
anything that looks like a bearer token or an Authorization header before they
are kept.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import aiohttp
import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter

from config.logs import REDACTED, redact
from messaging.models import AttemptOutcome

log = logging.getLogger(__name__)

EXCERPT_LENGTH = 200
MAX_BODY_BYTES = 64 * 1024
# Statuses the contract or HTTP itself says are worth trying again.
TRANSIENT_STATUSES = {408, 425, 429}
CREDENTIAL_STATUSES = {401, 403}


class Verdict(enum.Enum):
    SENT = "sent"
    TRANSIENT = "transient"  # worth retrying later
    PERMANENT = "permanent"  # this message can never go through
    CREDENTIALS = "credentials"  # Herald's token is refused: stop everything


@dataclass(frozen=True)
class ProviderResult:
    verdict: Verdict
    outcome: str  # an AttemptOutcome value, stored on the delivery attempt
    started_at: datetime
    duration_ms: int
    http_status: int | None = None
    reason: str = ""
    retry_after: float | None = None  # seconds, from a Retry-After header
    excerpt: str = ""

    @property
    def sent(self) -> bool:
        return self.verdict is Verdict.SENT

    @property
    def unreachable(self) -> bool:
        """No answer from a working provider: a timeout, a connection error or an HTTP
        error status (5xx, 429...). A malformed 200 is a failed send, but the provider
        answered it."""
        return self.verdict is Verdict.TRANSIENT and self.outcome != AttemptOutcome.BAD_RESPONSE


# An echoed `Authorization: <anything>` header, quoted or not, in JSON or plain text.
_AUTHORIZATION = re.compile(r"""(?i)(authorization["']?\s*[:=]\s*["']?)[^"',}\s][^"',}]*""")


def scrub(text: str, token: str = "") -> str:
    """`text` without the token, bearer values or Authorization headers in it."""
    if token and len(token) >= 4:
        text = text.replace(token, REDACTED)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + REDACTED, text)
    return redact(text)


def _excerpt(text: str, token: str = "") -> str:
    # Scrubbed before it is cut, so a secret is never half kept.
    text = scrub(" ".join(text.split()), token)
    return text[:EXCERPT_LENGTH]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, (when - (now or timezone.now())).total_seconds())


def classify(
    status: int, text: str, retry_after_header: str | None, result: Callable, token: str = ""
) -> ProviderResult:
    """What one answer of the provider means: the table the tests check row by row.

    `result(verdict, outcome, **fields)` builds the ProviderResult (it knows the timing).
    """
    excerpt = _excerpt(text, token)
    if status == 200:
        try:
            payload = json.loads(text)
        except ValueError:
            return result(
                Verdict.TRANSIENT,
                AttemptOutcome.BAD_RESPONSE,
                http_status=status,
                reason="200 with a body that is not JSON",
                excerpt=excerpt,
            )
        if not isinstance(payload, dict) or "code" not in payload:
            return result(
                Verdict.TRANSIENT,
                AttemptOutcome.BAD_RESPONSE,
                http_status=status,
                reason="200 without a code field",
                excerpt=excerpt,
            )
        if payload["code"] == 0:
            return result(Verdict.SENT, AttemptOutcome.OK, http_status=status, excerpt=excerpt)
        return result(
            Verdict.TRANSIENT,
            AttemptOutcome.BAD_RESPONSE,
            http_status=status,
            reason=scrub(f"Provider answered code {payload['code']!r}", token)[:300],
            excerpt=excerpt,
        )
    retry_after = parse_retry_after(retry_after_header)
    if status in CREDENTIAL_STATUSES:
        return result(
            Verdict.CREDENTIALS,
            AttemptOutcome.REJECTED,
            http_status=status,
            reason=f"HTTP {status}: the provider refused Herald's credentials",
            excerpt=excerpt,
        )
    if status >= 500 or status in TRANSIENT_STATUSES or 300 <= status < 400:
        return result(
            Verdict.TRANSIENT,
            AttemptOutcome.HTTP_ERROR,
            http_status=status,
            reason=f"HTTP {status}",
            retry_after=retry_after,
            excerpt=excerpt,
        )
    return result(
        Verdict.PERMANENT,
        AttemptOutcome.REJECTED,
        http_status=status,
        reason=f"HTTP {status}: {excerpt}" if excerpt else f"HTTP {status}",
        excerpt=excerpt,
    )


def request_body(message_id: int, phone: str, text: str) -> bytes:
    """The JSON body of one send. Raises ValueError for a phone that is not 11 ASCII digits."""
    if not (len(phone) == 11 and phone.isascii() and phone.isdigit()):
        raise ValueError(f"the phone {phone!r} is not 11 digits 0-9")
    return json.dumps({"id": message_id, "phone": int(phone), "text": text}).encode()


def token_fingerprint(token: str) -> str:
    """Names a token without revealing it (which token the provider refused)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _timer() -> Callable:
    """A `result(verdict, outcome, **fields)` that stamps the start and the duration."""
    started_at = timezone.now()
    started = time.perf_counter()

    def result(verdict: Verdict, outcome: str, **kwargs) -> ProviderResult:
        duration_ms = int((time.perf_counter() - started) * 1000)
        return ProviderResult(
            verdict=verdict,
            outcome=outcome,
            started_at=started_at,
            duration_ms=duration_ms,
            **kwargs,
        )

    return result


def _settings_timeouts(connect: float | None, read: float | None) -> tuple[float, float]:
    return connect or settings.PROVIDER_CONNECT_TIMEOUT, read or settings.PROVIDER_READ_TIMEOUT


def _user_agent() -> str:
    return f"Herald {requests.utils.default_user_agent()}"


class ProviderClient:
    """One blocking request per call (requests): for single sends. Thread-safe."""

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
        self._local = threading.local()

    @property
    def fingerprint(self) -> str:
        return token_fingerprint(self._token)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=4, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update(
                {
                    "Authorization": f"Bearer {self._token}",
                    "User-Agent": _user_agent(),
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                }
            )
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
        result = _timer()
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


class AsyncProviderClient:
    """The bulk sending path: aiohttp on an event loop in its own thread.

    `submit` may be called from any thread and returns a concurrent Future of the
    ProviderResult, so the engine's database thread never waits on the network.
    One connection pool per client (per pump), at most `max_connections` open.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.url = (url or settings.PROVIDER_URL).rstrip("/")
        self._token = settings.PROVIDER_TOKEN if token is None else token
        self.connect_timeout, self.read_timeout = _settings_timeouts(connect_timeout, read_timeout)
        self.max_connections = max_connections or settings.PROVIDER_CONCURRENCY
        self._headers = {
            "Authorization": f"Bearer {self._token}",
            "User-Agent": _user_agent(),
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def fingerprint(self) -> str:
        return token_fingerprint(self._token)

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
        # trust_env reads the proxy settings once here (as requests would per request).
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            trust_env=True,
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
        self, *, message_id: int, body: bytes, deadline: Callable[[], float | None]
    ) -> concurrent.futures.Future:
        """Send one message (`body` from `request_body`). `deadline()` gives the seconds
        left before the campaign's end (None: no end), asked right before the request
        starts; the future's result is None when no time was left and nothing was sent."""
        return asyncio.run_coroutine_threadsafe(self._send(message_id, body, deadline), self._loop)

    async def _send(
        self, message_id: int, body: bytes, deadline: Callable[[], float | None]
    ) -> ProviderResult | None:
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
        result = _timer()
        try:
            async with self._session.post(
                f"{self.url}/send/{message_id}",
                data=body,
                timeout=timeout,
                allow_redirects=False,
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
