"""What each result means for its message: a pure decision, applied elsewhere.

`decide` looks at one claimed message's turn (a provider answer, or why no request
was made) and says what should become of the message. It touches nothing: the
recording step (`recording.py`) applies the decisions through the status gateway.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from messaging.provider import ProviderResult, Verdict


@dataclass(frozen=True)
class Job:
    """A claimed message, with the campaign as it was when the claim committed."""

    message_id: int
    campaign_id: int
    phone: str
    client_id: int | None
    attempts: int  # requests made before this one
    text: str
    end_at: datetime


class NotSent(enum.Enum):
    """Why no request was made for a claimed message."""

    DEADLINE = "deadline"  # no time left before end_at
    BAD_MESSAGE = "bad_message"  # the request could not be built from the message's data


@dataclass(frozen=True)
class Outcome:
    """One claimed message's turn: the provider's answer, or why there was none."""

    job: Job
    result: ProviderResult | None = None
    not_sent: NotSent | None = None
    detail: str = ""  # for NotSent.BAD_MESSAGE: what was wrong


class Action(enum.Enum):
    SENT = "sent"
    RETRY = "retry"  # pending again at `retry_at`
    HOLD = "hold"  # pending again now; the credentials gate keeps it from going out
    FAIL = "fail"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    retry_at: datetime | None = None
    counts_attempt: bool = True  # a request was made (attempts + 1)


DEADLINE_REASON = "Deadline passed before the message could be sent"
ACCEPTED = Decision(Action.SENT)  # nearly every decision: made once, not per message


def backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then 50-100% of it."""
    draw = rng.random if rng else random.random
    ceiling = min(
        settings.RETRY_MAX_SECONDS, settings.RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    )
    return ceiling * (0.5 + draw() / 2)


def decide(outcome: Outcome, *, now: datetime, end_at: datetime) -> Decision:
    """What becomes of the message. `end_at` is the campaign's end as it is now."""
    if outcome.not_sent is NotSent.DEADLINE:
        return Decision(Action.EXPIRE, DEADLINE_REASON, counts_attempt=False)
    if outcome.not_sent is NotSent.BAD_MESSAGE:
        return Decision(
            Action.FAIL,
            f"Could not build the request: {outcome.detail}"[:500],
            counts_attempt=False,
        )
    result = outcome.result
    assert result is not None  # a request was made: it has an answer
    if result.sent:
        # Accepted is final, whatever else happened meanwhile (a cancel, the end).
        return ACCEPTED
    if result.verdict is Verdict.PERMANENT:
        return Decision(Action.FAIL, result.reason[:500])
    if result.verdict is Verdict.CREDENTIALS:
        return Decision(Action.HOLD, result.reason[:500], retry_at=now)
    wait_for = backoff_seconds(outcome.job.attempts + 1)
    if result.retry_after is not None:
        wait_for = max(wait_for, result.retry_after)
    retry_at = now + timedelta(seconds=wait_for)
    if retry_at >= end_at:
        return Decision(Action.EXPIRE, f"{result.reason} (no retry possible before the end)"[:500])
    return Decision(Action.RETRY, result.reason[:500], retry_at=retry_at)
