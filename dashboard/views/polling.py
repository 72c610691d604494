"""Polled fragments re-render only when what they show changed (healthchecks' `updated` stamp).

A polled fragment carries a stamp of what it was rendered from; each poll sends it back in
the X-Herald-Stamp header (`hx-headers` on the polling element: a header, not a query
parameter, so it never leaks into the sort and page links or the pushed URL). When the
stamp is still current the view answers 204 No Content before building anything, and htmx
swaps nothing.

A stamp is a few rows read by primary key or from the campaigns table with their counters,
never a scan of messages. It holds what the fragments are drawn from: the campaign's status
and times, its counters, the provider's state; and the current minute, because some
of what they show moves with the clock alone ("sent in the previous minute", the finish
estimate, the chart's last hour, a retry or a window that becomes due). So an idle fragment
re-renders once a minute, and a rare change the counters cannot see (a message retried and
back to pending between two polls) shows at the latest a minute late.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import wraps

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from dashboard.views import wants_partial
from messaging.models import CircuitState
from messaging.reporting import stats
from messaging.reporting.provider_state import current as current_provider

HEADER = "X-Herald-Stamp"


def polled(stamp_for: Callable[..., str | None]):
    """A view that htmx polls: a poll still carrying `stamp_for(**the view's kwargs)` gets a
    204 before the view builds anything; otherwise the view runs and gets the stamp, to put
    in what it renders. None stamps nothing (an unknown campaign: the view says 404)."""

    def decorator(view):
        @wraps(view)
        @vary_on_headers("HX-Request", "HX-Target")
        def polled_view(request, *args, **kwargs):
            stamp = stamp_for(**kwargs)
            if stamp is not None and unchanged(request, stamp):
                return nothing_changed()
            return view(request, *args, stamp=stamp, **kwargs)

        return polled_view

    return decorator


def unchanged(request, stamp: str) -> bool:
    """A poll that already shows what `stamp` describes."""
    return wants_partial(request) and request.headers.get(HEADER) == stamp


def nothing_changed() -> HttpResponse:
    """htmx swaps nothing on a 204 and keeps polling."""
    return HttpResponse(status=204)


def _digest(*parts, now: datetime, seconds: bool = False) -> str:
    clock = now.replace(microsecond=0) if seconds else now.replace(second=0, microsecond=0)
    return hashlib.blake2b(repr((parts, clock)).encode(), digest_size=8).hexdigest()


def _provider() -> tuple:
    """What the why-not-sending line and the health panel read of the provider (one row by key)."""
    state = current_provider()
    return (
        str(state.circuit),  # a default is the enum member, a row read back its value
        state.credentials_rejected,
        state.credentials_detail,
        state.opened_until,
        state.last_error,
        state.latency_ms,
        state.error_rate,
    )


def campaign_stamp(pk: int, *, now: datetime | None = None) -> str | None:
    """The campaign page's counters, why-not-sending line and message table (two rows by key).

    None when there is no such campaign (the view answers 404 as for the page).
    """
    now = now or timezone.now()
    campaign = stats.campaign_mark(pk)
    if campaign is None:
        return None
    provider = _provider()
    opened_until = provider[3]
    # What changes with the clock at a moment of its own: "not started yet" becomes
    # "starting", and "paused until …" becomes "one message is testing it".
    passed = (campaign["start_at"] <= now, opened_until is not None and opened_until <= now)
    return _digest(sorted(campaign.items()), provider, passed, now=now)


def campaign_list_stamp(*, now: datetime | None = None) -> str:
    """The campaign list's statuses and progress bars, whatever the filter and page."""
    return _digest(sorted(stats.campaigns_mark().items()), now=now or timezone.now())


def dashboard_stamp(*, now: datetime | None = None) -> str:
    """The dashboard's figures, running campaigns, chart and provider health (three small reads).

    The sent and failed figures and the chart move with the counters; while the provider's
    circuit is open its health shows a countdown in seconds, so the stamp changes each second.
    """
    now = now or timezone.now()
    provider = _provider()
    # A client added shows at once; one deleted shows with the next minute.
    campaigns = sorted(stats.campaigns_mark().items())
    counting_down = provider[0] == CircuitState.OPEN
    return _digest(campaigns, provider, stats.newest_client_id(), now=now, seconds=counting_down)
