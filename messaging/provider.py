"""The one module that speaks HTTP to the sending provider (the "Probe" contract).

Every outcome, including every exception from `requests`, becomes a
`ProviderResult`; the engine never sees a raw exception. The token never
appears in a result, a log line or an excerpt.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter

from messaging.models import AttemptOutcome

log = logging.getLogger(__name__)

EXCERPT_LENGTH = 200
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


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
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


class ProviderClient:
    """Sends one message per call; safe to share between threads (a session per thread)."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        pool_size: int | None = None,
    ) -> None:
        self.url = (url or settings.PROVIDER_URL).rstrip("/")
        self._token = settings.PROVIDER_TOKEN if token is None else token
        self.connect_timeout = connect_timeout or settings.PROVIDER_CONNECT_TIMEOUT
        self.read_timeout = read_timeout or settings.PROVIDER_READ_TIMEOUT
        self.pool_size = pool_size or settings.PROVIDER_CONCURRENCY
        self._headers = {
            "Authorization": f"Bearer {self._token}",
            "User-Agent": f"Herald {requests.utils.default_user_agent()}",
            "Accept": "application/json",
        }
        self._template = requests.Request(
            "POST", f"{self.url}/send/0", json={}, headers=self._headers
        ).prepare()
        self._send_url = self._template.url.rsplit("/", 1)[0]
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.pool_size, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            # With trust_env, requests re-reads the proxy and CA-bundle variables of the whole
            # environment on every request: a third of its CPU time per message (profiled in
            # bench/README.md). Read them once per session instead; ~/.netrc is never used,
            # as it would replace the bearer token.
            session.trust_env = False
            session.proxies.update(requests.utils.get_environ_proxies(self.url))
            ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if ca_bundle:
                session.verify = ca_bundle
            self._local.session = session
        return session

    def _prepare(self, message_id: int, body: dict) -> requests.PreparedRequest:
        """The request for one message, from a template prepared once.

        A prepared request handed to Session.send skips Session.request's merging of
        session headers, cookies and settings, and copying the template skips preparing
        the same URL and headers again: together about a third of requests' CPU per
        message (bench/README.md). Redirects are never followed.
        """
        request = self._template.copy()
        request.url = f"{self._send_url}/{message_id}"
        request.body = json.dumps(body, allow_nan=False).encode()
        request.headers["Content-Length"] = str(len(request.body))
        return request

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
        started_at = timezone.now()
        started = time.perf_counter()
        body = {"id": message_id, "phone": int(phone), "text": text}

        def result(verdict: Verdict, outcome: str, **kwargs) -> ProviderResult:
            duration_ms = int((time.perf_counter() - started) * 1000)
            return ProviderResult(
                verdict=verdict,
                outcome=outcome,
                started_at=started_at,
                duration_ms=duration_ms,
                **kwargs,
            )

        request = self._prepare(message_id, body)
        session = self._session()
        try:
            response = session.send(
                request,
                timeout=(connect_timeout, read_timeout),
                allow_redirects=False,
                proxies=session.proxies,
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
        return self._classify(response, result)

    @staticmethod
    def _classify(response: requests.Response, result) -> ProviderResult:
        status = response.status_code
        text = response.text
        excerpt = _excerpt(text)
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
                reason=f"Provider answered code {payload['code']!r}",
                excerpt=excerpt,
            )
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
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
