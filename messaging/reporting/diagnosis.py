"""Why isn't it sending? Every reason a campaign's messages are not going out, in plain words.

A plain function over the campaign, its counters, the provider's shared state and
a few bounded queries on its pending messages, so it can be tested without HTTP;
the campaign page and the dashboard only render what it returns. Times are in
the active (viewer's) time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import formats, timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from messaging.campaigns.audience import WINDOW_CLOSED_TO_THE_END
from messaging.models import (
    Campaign,
    CampaignCounts,
    CampaignStatus,
    CircuitState,
    Message,
    MessageStatus,
    ProviderState,
)
from messaging.reporting import stats
from messaging.reporting.provider_state import HEALTH_REFUSED, provider_health

# Counting waiting messages stops here: the answer is "more than" and stays cheap to poll.
COUNT_CAP = 10_000
# Sending within this share of PROVIDER_RATE_LIMIT is "at the cap".
RATE_CAP_SHARE = 0.9


@dataclass(frozen=True)
class Reason:
    code: str  # scheduled, paused, credentials, outage, window, window_closed, retries, rate_cap
    text: str  # in a marketer's words
    detail: str = ""  # the technical side (circuit, HTTP codes, settings): Managers only


# Reasons that hold all of a campaign's sending: while one stands nothing goes out, so no
# finish can be estimated and the badge says so instead of "Running".
HELD = ("paused", "credentials", "outage", "window", "window_closed")


@dataclass
class Diagnosis:
    reasons: list[Reason] = field(default_factory=list)
    estimate: datetime | None = None  # when the last message should go out at today's rate
    estimate_text: str = ""
    # Nothing is going out now: set only when no message is due (a window) or nothing can
    # be sent at all (paused, the provider).
    held: Reason | None = None

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def badge(self) -> str:
        """The status badge while held: "Paused" is held by a person, the rest by Herald."""
        if self.held is None:
            return ""
        return _("Paused") if self.held.code == "paused" else _("Sending held")


def sent_per_minute(campaign_id: int | None, now: datetime) -> int:
    """Messages sent a minute lately (one campaign, or all): the previous whole clock minute,
    or this one so far when it is already more (a campaign that just started)."""
    return per_minute_of(stats.sends_by_minute(campaign_id, now=now))


def per_minute_of(minutes: dict) -> int:
    return max(minutes["sent_previous_minute"], minutes["sent_this_minute"])


def _when(moment: datetime, now: datetime, *, seconds: bool = False) -> str:
    local, today = timezone.localtime(moment), timezone.localtime(now)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if local.date() == today.date():
        return clock
    return f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {clock}"


def _count(queryset) -> tuple[int, bool]:
    """How many rows, up to COUNT_CAP; True when there are more."""
    n = queryset[: COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


def _how_many(n: int, more: bool) -> str:
    return (_("more than %s") if more else "%s") % number_format(n, force_grouping=True)


def _earliest(queryset, now: datetime) -> datetime:
    """The soonest next attempt (now if a worker took them all since they were counted)."""
    first = queryset.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    return first or now


def explain_campaign(
    campaign: Campaign,
    *,
    now: datetime | None = None,
    provider: ProviderState | None = None,
    counts: CampaignCounts | None = None,
    sent_per_minute_all: int | None = None,
    sent_per_minute_here: int | None = None,
) -> Diagnosis:
    """Each reason the campaign is not sending (none for a finished or cancelled one).

    `provider`, `counts`, `sent_per_minute_all` and `sent_per_minute_here` (this campaign's)
    may be passed in when the caller explains several campaigns at once (the dashboard), to
    read them once for all.
    """
    now = now or timezone.now()
    diagnosis = Diagnosis()
    reasons = diagnosis.reasons
    if not campaign.is_active:
        return diagnosis
    if campaign.status == CampaignStatus.PAUSED:
        who = campaign.paused_by.get_username() if campaign.paused_by else None
        when = _when(campaign.paused_at, now) if campaign.paused_at else None
        if who and when:
            text = _("Paused by %(who)s at %(when)s: nothing is sent until it is resumed.")
        elif when:
            text = _("Paused at %(when)s: nothing is sent until it is resumed.")
        else:
            text = _("Paused: nothing is sent until it is resumed.")
        reasons.append(Reason("paused", text % {"who": who, "when": when}))
        diagnosis.held = reasons[-1]
        return diagnosis
    if campaign.status == CampaignStatus.SCHEDULED:
        starting = campaign.start_at <= now
        text = (
            _("Starting: the messages are being selected.")
            if starting
            else _("Not started yet: sending starts at %(when)s.")
            % {"when": _when(campaign.start_at, now)}
        )
        reasons.append(Reason("scheduled", text))
        return diagnosis

    if counts is None:
        counts = CampaignCounts.objects.filter(campaign_id=campaign.pk).first()
    unsent = (counts.pending + counts.sending) if counts else 0
    if not unsent:
        _window_closed(diagnosis, campaign, counts, now)
        return diagnosis
    assert counts is not None  # unsent counted its messages

    provider = provider or ProviderState.get()
    health = provider_health(provider, now=now)
    if health.level == HEALTH_REFUSED:
        reasons.append(Reason("credentials", health.text, health.detail))
    elif provider.circuit in (CircuitState.OPEN, CircuitState.HALF_OPEN):
        reasons.append(Reason("outage", health.text, health.detail))

    future = Message.objects.pending(campaign).waiting(now)
    if campaign.has_send_window:
        # Never tried yet and not due: the pump moved them to their window's next opening.
        waiting = future.filter(attempts=0)
        n, more = _count(waiting)
        if n:
            first = _earliest(waiting, now)
            reasons.append(
                Reason(
                    "window",
                    ngettext(
                        "%(n)s message is waiting for the send window, which opens at "
                        "%(opens)s in the client's time zone (next at %(first)s your time).",
                        "%(n)s messages are waiting for the send window, which opens at "
                        "%(opens)s in each client's time zone (next at %(first)s your time).",
                        n,
                    )
                    % {
                        "n": _how_many(n, more),
                        # A send window has both ends (has_send_window above).
                        "opens": campaign.send_window_start.strftime("%H:%M"),  # type: ignore[union-attr]
                        "first": _when(first, now),
                    },
                )
            )
    retrying = future.filter(attempts__gt=0)
    n, more = _count(retrying)
    if n:
        reasons.append(
            Reason(
                "retries",
                ngettext(
                    "%(n)s message did not go through and will be retried (next at %(first)s).",
                    "%(n)s messages did not go through and will be retried (next at %(first)s).",
                    n,
                )
                % {
                    "n": _how_many(n, more),
                    "first": _when(_earliest(retrying, now), now, seconds=True),
                },
            )
        )

    limit = settings.PROVIDER_RATE_LIMIT
    if limit > 0:
        if sent_per_minute_all is None:
            sent_per_minute_all = sent_per_minute(None, now)
        due = Message.objects.pending(campaign).due(now).exists()
        if due and sent_per_minute_all / 60 >= RATE_CAP_SHARE * limit:
            reasons.append(
                Reason(
                    "rate_cap",
                    _(
                        "Sending at the rate cap: at most %(limit)s messages a second across all "
                        "campaigns (PROVIDER_RATE_LIMIT)."
                    )
                    % {"limit": number_format(limit, decimal_pos=0 if limit == int(limit) else 1)},
                )
            )

    diagnosis.held = next((r for r in reasons if r.code in ("credentials", "outage")), None)
    waiting_for_window = "window" in diagnosis.codes and not counts.sending
    if (
        diagnosis.held is None
        and waiting_for_window
        and not Message.objects.pending(campaign).due(now).exists()
    ):
        diagnosis.held = next(r for r in reasons if r.code == "window")
    if diagnosis.held is not None and diagnosis.held.code != "window":
        diagnosis.estimate_text = _("No finish estimate while sending is held.")
        return diagnosis
    if sent_per_minute_here is None and "window" not in diagnosis.codes:
        sent_per_minute_here = sent_per_minute(campaign.pk, now)
    _estimate(diagnosis, campaign, unsent, now, sent_per_minute_here)
    return diagnosis


def _window_closed(
    diagnosis: Diagnosis, campaign: Campaign, counts: CampaignCounts | None, now: datetime
) -> None:
    """Nothing left to send, yet running: messages expired early because their clients'
    send window does not open before the end (the campaign finishes at its end)."""
    if campaign.status != CampaignStatus.RUNNING or campaign.end_at <= now:
        return
    if not counts or not counts.expired:
        return
    closed = Message.objects.filter(
        campaign_id=campaign.pk,
        status=MessageStatus.EXPIRED,
        last_error=WINDOW_CLOSED_TO_THE_END,
    )
    n, more = _count(closed)
    if not n:
        return
    reason = Reason(
        "window_closed",
        ngettext(
            "%(n)s message will not go out: its client's send window does not open before "
            "the end at %(end)s. Change the send window or the end to send it.",
            "%(n)s messages will not go out: their clients' send window does not open "
            "before the end at %(end)s. Change the send window or the end to send them.",
            n,
        )
        % {"n": _how_many(n, more), "end": _when(campaign.end_at, now)},
    )
    diagnosis.reasons.append(reason)
    diagnosis.held = reason
    diagnosis.estimate_text = _("Nothing else goes out; the campaign finishes at its end.")


def _estimate(
    diagnosis: Diagnosis, campaign: Campaign, unsent: int, now: datetime, per_minute: int | None
) -> None:
    if "window" in diagnosis.codes:
        # The rate says nothing about messages that wait for hours: no false precision.
        diagnosis.estimate_text = _(
            "Messages waiting for their send window go out as it opens, until the end at %(end)s."
        ) % {"end": _when(campaign.end_at, now)}
        return
    assert per_minute is not None  # read by the caller unless the window explains it
    rate = per_minute / 60
    if rate <= 0:
        diagnosis.estimate_text = _(
            "No estimate of the finish yet: nothing was sent in the last minute."
        )
        return
    finish = now + timedelta(seconds=unsent / rate)
    if rate >= 1:
        speed = _("%(n)s a second") % {"n": number_format(rate, decimal_pos=1)}
    else:
        speed = _("%(n)s a minute") % {"n": number_format(per_minute, force_grouping=True)}
    if finish > campaign.end_at:
        left = unsent - int(rate * max(0.0, (campaign.end_at - now).total_seconds()))
        diagnosis.estimate_text = _(
            "At the current rate (%(rate)s) about %(left)s messages will not be sent "
            "before the end at %(end)s."
        ) % {
            "rate": speed,
            "left": number_format(left, force_grouping=True),
            "end": _when(campaign.end_at, now),
        }
        return
    diagnosis.estimate = finish
    diagnosis.estimate_text = _(
        "At the current rate (%(rate)s) the last message should go out around %(when)s."
    ) % {"rate": speed, "when": _when(finish, now)}
