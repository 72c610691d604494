"""Plain words for what the provider answered and where a message stands.

Tables, the attempt timeline and the test send show these; the raw HTTP status,
body excerpt and stored error stay one click away in the templates.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging.models import AttemptOutcome, MessageStatus

_CODE = re.compile(r"code (\S+)")


def _clock(when: datetime) -> str:
    return timezone.localtime(when).strftime("%H:%M")


def describe_outcome(
    outcome: str,
    http_status: int | None = None,
    *,
    reason: str = "",
    duration_ms: int | None = None,
) -> str:
    """One short sentence for one provider answer (an AttemptOutcome value)."""
    if outcome == AttemptOutcome.OK:
        return _("Accepted by the provider.")
    if outcome == AttemptOutcome.TIMEOUT:
        seconds = (
            round(duration_ms / 1000) if duration_ms else round(settings.PROVIDER_READ_TIMEOUT)
        )
        return _("No answer within %(seconds)s s.") % {"seconds": max(1, seconds)}
    if outcome == AttemptOutcome.CONNECTION_ERROR:
        return _("Could not reach the provider.")
    if outcome == AttemptOutcome.HTTP_ERROR:
        if http_status == 429:
            return _("The provider asked Herald to slow down (too many requests).")
        if http_status == 408:
            return _("The provider gave up waiting for the request.")
        if http_status and 300 <= http_status < 400:
            return _("The provider redirected the request (HTTP %(status)s).") % {
                "status": http_status
            }
        return _("The provider had an error (HTTP %(status)s).") % {"status": http_status}
    if outcome == AttemptOutcome.BAD_RESPONSE:
        match = _CODE.search(reason)
        if match:
            return _("The provider did not confirm the message (it answered code %(code)s).") % {
                "code": match.group(1)
            }
        return _("The provider's answer could not be read.")
    if outcome == AttemptOutcome.REJECTED:
        if http_status in (401, 403):
            return _("The provider refused Herald's credentials.")
        if http_status == 400:
            return _("The provider refused the request as invalid.")
        return _("The provider refused this number (HTTP %(status)s).") % {"status": http_status}
    return _("Unknown answer from the provider.")


# The reasons a claim or an opt-out cancels a message with (audience.CANCEL_REASONS).
_LEFT_OUT = {
    "Client opted out": gettext_lazy("Cancelled: the client opted out of messages."),
    "Phone on the stop list": gettext_lazy("Cancelled: the phone is on the stop list."),
    "No consent to promotional messages": gettext_lazy(
        "Cancelled: the client has no consent to promotional messages."
    ),
}


def _expired_reason(last_error: str, end_at: datetime | None, now: datetime) -> str:
    if "send window" in last_error:
        if end_at is not None and end_at > now:
            # Expired early, before the end: said as what will happen, not what did.
            return _(
                "The client's send window will not open before the end at %(time)s: "
                "this message will not go out."
            ) % {"time": _clock(end_at)}
        return _("The client's send window did not open before the campaign's end.")
    if "no retry possible" in last_error:
        return _("Not sent: no retry was possible before the campaign's end.")
    return _("Not sent before the campaign's end.")


def describe_message(
    *,
    status: str,
    attempts: int,
    next_attempt_at: datetime | None,
    last_error: str = "",
    last_outcome: str | None = None,
    last_http_status: int | None = None,
    last_duration_ms: int | None = None,
    end_at: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """Where one message stands, in a sentence: what happened last and what happens next.
    `end_at` is the campaign's end (an expiry before it is worded in the future tense)."""
    now = now or timezone.now()
    last = (
        describe_outcome(
            last_outcome, last_http_status, reason=last_error, duration_ms=last_duration_ms
        )
        if last_outcome
        else ""
    )
    if status == MessageStatus.SENT:
        return _("Accepted by the provider.")
    if status == MessageStatus.SENDING:
        return _("Being sent now.")
    if status == MessageStatus.FAILED:
        return last or last_error or _("Failed.")
    if status == MessageStatus.EXPIRED:
        return _expired_reason(last_error, end_at, now)
    if status == MessageStatus.CANCELLED:
        if "deleted" in last_error.lower():
            return _("Cancelled: the campaign or the client was deleted.")
        if last_error in _LEFT_OUT:
            return str(_LEFT_OUT[last_error])
        return _("Cancelled with the campaign.")
    # Pending.
    waiting = next_attempt_at is not None and next_attempt_at > now
    if attempts == 0:
        if waiting:
            return _("Waiting for the client's send window; goes out at %(time)s.") % {
                "time": _clock(next_attempt_at)  # type: ignore[arg-type]  # waiting: not None
            }
        return _("Waiting to be sent.")
    if last_outcome == AttemptOutcome.REJECTED and last_http_status in (401, 403):
        return _("%(last)s Will be sent once the credentials are fixed.") % {"last": last}
    if waiting:
        return _("%(last)s Will retry at %(time)s.") % {
            "last": last or last_error,
            "time": _clock(next_attempt_at),  # type: ignore[arg-type]  # waiting: not None
        }
    return _("%(last)s Will retry shortly.") % {"last": last or last_error}
