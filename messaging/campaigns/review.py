"""The review before launch: what a campaign would do if it were launched now.

Computed live from the rules the engine applies, never a copy of them: the recipients are
`audience.recipients` (the query target selection runs), the SMS parts `sms.measure` of the
longest rendering among them (`merge.longest_rendering`), and
whether a client's send window opens before the end `engine.windows.next_send_time`, the
function the claims call. The web UI's review page, `GET /api/campaigns/{id}/review/` and
the campaign form's live preview all read it here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from messaging.campaigns import audience, merge, sms
from messaging.campaigns.audience import LeftOut
from messaging.campaigns.windows import next_send_time
from messaging.models import Campaign

# A campaign shorter than this gets a warning: little time for retries and windows.
SHORT_CAMPAIGN = timedelta(hours=1)


@dataclass(frozen=True)
class ReviewWarning:
    """Something a person must see before launching; it blocks nothing."""

    code: str  # window_never_opens, short, start_past, long_text, no_recipients
    text: str


@dataclass(frozen=True)
class WindowCoverage:
    """Of some clients, how many get at least one opening of the send window before the
    end, and how many none (their messages will expire unsent)."""

    opens: int
    never_opens: int


@dataclass
class Review:
    campaign: Campaign
    now: datetime
    recipients: int
    all_clients: bool  # the filter is empty: every client matches
    left_out: list[LeftOut]
    sms: sms.SmsMeasure  # of the longest rendering among the recipients
    longest_text: str  # that rendering (the text itself when it has no merge tags)
    personal: bool  # the text has merge tags
    total_parts: int
    part_price: Decimal | None
    currency: str
    cost: Decimal | None
    coverage: WindowCoverage
    warnings: list[ReviewWarning] = field(default_factory=list)

    @property
    def starts_at(self) -> datetime:
        """When sending would begin: the start, or now when the start is past."""
        return max(self.campaign.start_at, self.now)

    @property
    def starts_at_once(self) -> bool:
        return self.campaign.start_at <= self.now

    @property
    def cost_text(self) -> str:
        """The cost the language's way: "100 022,00 ₽" in Russian, "RUB100,022.00" in English."""
        if self.cost is None:
            return ""
        return format_money(self.cost, self.currency)

    @property
    def part_price_text(self) -> str:
        return "" if self.part_price is None else format_money(self.part_price, self.currency)


def format_money(amount: Decimal, currency: str) -> str:
    locale = translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE)
    return format_currency(amount, currency, locale=locale)


def window_coverage(
    clients: QuerySet, *, start: datetime, end: datetime, opens: time | None, closes: time | None
) -> WindowCoverage:
    """Whose send window opens at least once between `start` and `end`: counted per time
    zone (one GROUP BY), each zone asked `next_send_time`, as a claim asks it per message."""
    if opens is None or closes is None:
        return WindowCoverage(clients.count(), 0)
    inside = outside = 0
    zones = clients.order_by().values_list("timezone").annotate(n=Count("id"))
    for zone, n in zones:
        # A claim expires a message whose next opening is at or after the end.
        if next_send_time(start, zone or "UTC", opens, closes) < end:
            inside += n
        else:
            outside += n
    return WindowCoverage(inside, outside)


def window_warning(coverage: WindowCoverage, end: datetime) -> ReviewWarning | None:
    if not coverage.never_opens:
        return None
    n = coverage.never_opens
    text = ngettext(
        "For %(n)s client the send window does not open before the end at %(end)s: "
        "that message will expire unsent.",
        "For %(n)s clients the send window does not open before the end at %(end)s: "
        "their messages will expire unsent.",
        n,
    ) % {"n": number_format(n, force_grouping=True), "end": _local(end)}
    return ReviewWarning("window_never_opens", text)


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _money_or_none(value: Decimal | None, currency: str) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-get_currency_precision(currency)))


def refuse_unless_reviewable(campaign: Campaign) -> None:
    """A started campaign has its messages: what it does is in its figures, not a review."""
    if campaign.has_started:
        raise ValidationError(
            {
                "status": [
                    _(
                        "The campaign has started: its messages are already selected; "
                        "its figures say what it does."
                    )
                ]
            }
        )


def review_campaign(campaign: Campaign, *, now: datetime | None = None) -> Review:
    """Everything the review shows, as of `now` (refused once the campaign has started)."""
    refuse_unless_reviewable(campaign)
    now = now or timezone.now()
    clients = audience.recipients(campaign)
    start = max(campaign.start_at, now)
    coverage = window_coverage(
        clients,
        start=start,
        end=campaign.end_at,
        opens=campaign.send_window_start,
        closes=campaign.send_window_end,
    )
    recipients = coverage.opens + coverage.never_opens
    # A personal text is counted on its longest rendering among the recipients.
    longest = merge.longest_rendering(campaign.text, clients)
    measure = longest.measure
    total_parts = recipients * measure.parts
    price = settings.SMS_PART_PRICE
    currency = settings.SMS_CURRENCY
    review = Review(
        campaign=campaign,
        now=now,
        recipients=recipients,
        all_clients=not campaign.operator_codes and not campaign.tags,
        left_out=audience.left_out(campaign),
        sms=measure,
        longest_text=longest.text,
        personal=bool(merge.tags(campaign.text)),
        total_parts=total_parts,
        part_price=price,
        currency=currency,
        cost=_money_or_none(None if price is None else price * total_parts, currency),
        coverage=coverage,
    )
    review.warnings = _warnings(review)
    return review


def _warnings(review: Review) -> list[ReviewWarning]:
    campaign, warnings = review.campaign, []
    if not review.recipients:
        warnings.append(
            ReviewWarning("no_recipients", _("No client would receive it: nothing would be sent."))
        )
    if window := window_warning(review.coverage, campaign.end_at):
        warnings.append(window)
    length = campaign.end_at - review.starts_at
    if length < SHORT_CAMPAIGN:
        minutes = max(0, int(length.total_seconds() // 60))
        warnings.append(
            ReviewWarning(
                "short",
                ngettext(
                    "Sending ends less than an hour after it starts (%(n)s minute): messages "
                    "that cannot go out in time expire.",
                    "Sending ends less than an hour after it starts (%(n)s minutes): messages "
                    "that cannot go out in time expire.",
                    minutes,
                )
                % {"n": minutes},
            )
        )
    if review.starts_at_once:
        warnings.append(
            ReviewWarning(
                "start_past",
                _("The start is already past: sending starts as soon as you launch."),
            )
        )
    if review.sms.parts > 1:
        parts = review.sms.parts
        warnings.append(
            ReviewWarning(
                "long_text",
                ngettext(
                    "The text is longer than one SMS: each client gets %(n)s part, "
                    "and each part is paid for.",
                    "The text is longer than one SMS: each client gets %(n)s parts, "
                    "and each part is paid for.",
                    parts,
                )
                % {"n": parts},
            )
        )
    return warnings
