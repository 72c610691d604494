from __future__ import annotations

from django import template
from django.template.base import render_value_in_context
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboard import audit_details
from messaging.campaigns.phones import display_phone
from messaging.reporting import humanize
from messaging.reporting.wording import describe_message, describe_outcome

register = template.Library()

CAMPAIGN_BADGES = {
    "draft": "text-bg-light border",
    "scheduled": "text-bg-info",
    "running": "text-bg-primary",
    "paused": "text-bg-warning",
    "finished": "text-bg-success",
    "cancelled": "text-bg-secondary",
}
MESSAGE_BADGES = {
    "pending": "text-bg-light border",
    "sending": "text-bg-info",
    "sent": "text-bg-success",
    "failed": "text-bg-danger",
    "expired": "text-bg-warning",
    "cancelled": "text-bg-secondary",
}
OUTCOME_BADGES = {"ok": "text-bg-success", "rejected": "text-bg-danger"}


@register.filter
def campaign_badge(status: str) -> str:
    return CAMPAIGN_BADGES.get(status, "text-bg-light")


@register.filter
def message_badge(status: str) -> str:
    return MESSAGE_BADGES.get(status, "text-bg-light")


@register.filter
def outcome_badge(outcome: str) -> str:
    return OUTCOME_BADGES.get(outcome, "text-bg-warning")


@register.filter
def phone(value: str) -> str:
    """A stored phone as people read it: +7 (916) 123-45-67."""
    return display_phone(value)


@register.filter
def number(value) -> str:
    """A number grouped the language's way: 46 968 in Russian, 46,968 in English."""
    return humanize.number(value)


@register.filter
def moment(value, seconds: bool = False) -> str:
    """A date and time for a sentence, in the viewer's zone and the language's format."""
    return humanize.moment(value, seconds=bool(seconds))


@register.filter
def zone(value: str) -> str:
    """A time zone by its city in the viewer's language (Europe/Moscow: Москва)."""
    return humanize.zone_name(value)


@register.filter
def percent_of(part: int, total: int) -> float:
    return round(100 * part / total, 1) if total else 0.0


@register.filter
def message_status_label(status: str) -> str:
    """A message status as people read it, in the current language ("sending" is "In flight")."""
    from messaging.models import MessageStatus

    try:
        return str(MessageStatus(status).label)
    except ValueError:
        return status


@register.filter
def campaign_status_label(status: str) -> str:
    """A campaign status as people read it, in the current language."""
    from messaging.models import CampaignStatus

    try:
        return str(CampaignStatus(status).label)
    except ValueError:
        return status


@register.simple_tag
def audit_event_detail(event) -> str:
    """An audit event's detail in the viewer's language, its campaign or client linked."""
    return audit_details.describe(event.kind, event.detail)


@register.filter
def test_send_reason(test_send) -> str:
    """A test send's outcome in plain words."""
    return describe_outcome(
        test_send.outcome,
        test_send.http_status,
        reason=test_send.reason,
        duration_ms=test_send.duration_ms,
    )


@register.simple_tag
def message_reason(message) -> str:
    """Where a message stands in plain words (needs tables.with_last_attempt's annotations,
    or `campaign_end_at` set by the caller)."""
    return describe_message(
        status=message.status,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
        last_error=message.last_error,
        last_outcome=getattr(message, "last_outcome", None),
        last_http_status=getattr(message, "last_http_status", None),
        last_duration_ms=getattr(message, "last_duration_ms", None),
        end_at=getattr(message, "campaign_end_at", None),
    )


@register.simple_tag
def attempt_reason(attempt, message=None, is_last: bool = False) -> str:
    """One attempt in plain words; the last one of a pending message says when it retries."""
    text = describe_outcome(attempt.outcome, attempt.http_status, duration_ms=attempt.duration_ms)
    if is_last and message is not None and message.status == "pending" and attempt.outcome != "ok":
        return describe_message(
            status=message.status,
            attempts=message.attempts,
            next_attempt_at=message.next_attempt_at,
            last_error=message.last_error,
            last_outcome=attempt.outcome,
            last_http_status=attempt.http_status,
            last_duration_ms=attempt.duration_ms,
        )
    return text


@register.simple_tag
def progress_summary(counts, campaign) -> str:
    """The progress line: "40 of 70 done · 35 sent, 5 failed" while a campaign is active;
    once it is over, what became of every message ("19 sent, 51 cancelled"), because
    "70 of 70 done" reads as if all 70 went out."""
    if counts is None or not counts.total:
        return _("No messages yet")
    parts = [
        _("%(n)s sent") % {"n": humanize.number(counts.sent)},
        *(
            label % {"n": humanize.number(n)}
            for label, n in (
                (_("%(n)s failed"), counts.failed),
                (_("%(n)s expired"), counts.expired),
                (_("%(n)s cancelled"), counts.cancelled),
            )
            if n
        ),
    ]
    breakdown = ", ".join(parts)
    if getattr(campaign, "is_active", False):
        done = _("%(done)s of %(total)s done") % {
            "done": humanize.number(counts.done),
            "total": humanize.number(counts.total),
        }
        return f"{done} · {breakdown}"
    in_flight = getattr(campaign, "in_flight_at_cancel", None)
    if in_flight:
        # Why "cancelled" shrank and "sent" grew after the cancel: those were already out.
        note = ngettext(
            "%(n)s was already with the provider when the campaign was cancelled; "
            "it counts as sent if the provider accepts it",
            "%(n)s were already with the provider when the campaign was cancelled; "
            "each counts as sent if the provider accepts it",
            in_flight,
        ) % {"n": humanize.number(in_flight)}
        return f"{breakdown} · {note}"
    return breakdown


@register.filter
def self_explained(key: str) -> bool:
    """An import error's key whose messages say themselves what they are about (no
    "phone:" before "79 is not a phone number"); a custom field's name is shown."""
    from messaging.campaigns.imports.importer import SELF_EXPLAINED

    return key in SELF_EXPLAINED


@register.simple_tag(takes_context=True)
def table_cells(context, row):
    """A django-tables2 row's cells, `<td attrs>value</td>` each, written in one call.

    What the library's template writes for each cell, with the same attributes and the
    same escaping and localisation; a template node per cell was most of a full page's
    time for the clients list and the campaign's messages while a large campaign sent.
    """

    def shown(column, cell):
        if column.localize is None:
            return render_value_in_context(cell, context)
        return conditional_escape(localize(cell, use_l10n=bool(column.localize)))

    return format_html_join(
        "",
        "<td {}>{}</td>",
        ((column.attrs["td"].as_html(), shown(column, cell)) for column, cell in row.items()),
    )
