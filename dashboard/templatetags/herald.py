from __future__ import annotations

from django import template
from django.utils.translation import gettext, gettext_noop

register = template.Library()

CAMPAIGN_BADGES = {
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


# Audit details are stored (and logged) in English, "; "-separated; the audit page
# shows the known ones translated. Marked here so makemessages finds them.
AUDIT_DETAILS = (
    gettext_noop("locked out"),
    gettext_noop("too many failed sign-ins"),
    gettext_noop("account page"),
    gettext_noop("replaces the previous token"),
)


@register.filter
def audit_detail(detail: str) -> str:
    return "; ".join(gettext(part) for part in detail.split("; ")) if detail else ""
