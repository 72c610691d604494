"""What the provider's answers mean: one classification for every transport.

`classify` turns an HTTP answer into a `ProviderResult` (the table the tests check
row by row); `scrub` keeps the token, bearer values and Authorization headers out
of everything kept from an answer. No HTTP happens here: `clients.py` does it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import partial

from django.utils import timezone

from core.logs import REDACTED, redact
from core.times import utc_now
from messaging.models import AttemptOutcome

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
    # Every answer carries its HTTP status and a scrubbed excerpt of its body.
    answer = partial(result, http_status=status, excerpt=excerpt)
    if status == 200:
        # A 200 that is not the contract's answer: the send may or may not have happened.
        malformed = partial(answer, Verdict.TRANSIENT, AttemptOutcome.BAD_RESPONSE)
        try:
            payload = json.loads(text)
        except ValueError:
            return malformed(reason="200 with a body that is not JSON")
        if not isinstance(payload, dict) or "code" not in payload:
            return malformed(reason="200 without a code field")
        if payload["code"] == 0:
            return answer(Verdict.SENT, AttemptOutcome.OK)
        return malformed(reason=scrub(f"Provider answered code {payload['code']!r}", token)[:300])
    if status in CREDENTIAL_STATUSES:
        reason = f"HTTP {status}: the provider refused Herald's credentials"
        return answer(Verdict.CREDENTIALS, AttemptOutcome.REJECTED, reason=reason)
    if status >= 500 or status in TRANSIENT_STATUSES or 300 <= status < 400:
        retry_after = parse_retry_after(retry_after_header)
        return answer(
            Verdict.TRANSIENT,
            AttemptOutcome.HTTP_ERROR,
            reason=f"HTTP {status}",
            retry_after=retry_after,
        )
    reason = f"HTTP {status}: {excerpt}" if excerpt else f"HTTP {status}"
    return answer(Verdict.PERMANENT, AttemptOutcome.REJECTED, reason=reason)


def request_body(message_id: int, phone: str, text: str) -> bytes:
    """The JSON body of one send. Raises ValueError for a phone that is not 11 ASCII digits."""
    if not (len(phone) == 11 and phone.isascii() and phone.isdigit()):
        raise ValueError(f"the phone {phone!r} is not 11 digits 0-9")
    return json.dumps({"id": message_id, "phone": int(phone), "text": text}).encode()


def token_fingerprint(token: str) -> str:
    """Names a token without revealing it (which token the provider refused)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def timed_result() -> Callable:
    """A `result(verdict, outcome, **fields)` that stamps the start and the duration."""
    started_at = utc_now()
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
