"""Multi-step operations that both the web UI and the REST API call.

One function per operation, keyword-only arguments. Each either completes or
raises django's ValidationError having changed nothing.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging import tasks
from messaging.engine import lifecycle

# Importing clients lives in messaging.imports; these names stay importable here.
from messaging.imports import (
    ColumnsNotMatched,
    ImportResult,
    MalformedFile,
    RowError,
    import_clients,
    import_clients_csv,
    preview_import,
)
from messaging.models import (
    UNSENT_STATUSES,
    Campaign,
    CampaignCounts,
    CampaignStatus,
    Client,
    Message,
    MessageStatus,
)
from messaging.models.campaigns import EDITABLE_AFTER_START, FILTER_FIELDS
from messaging.models.counters import move_messages

log = logging.getLogger(__name__)

__all__ = [
    "ColumnsNotMatched",
    "ImportResult",
    "MalformedFile",
    "RowError",
    "import_clients",
    "import_clients_csv",
    "preview_import",
]


# --- Clients -----------------------------------------------------------------


def delete_client(*, client: Client) -> None:
    """Delete a client: its unsent messages are cancelled, its sent history stays counted."""
    with transaction.atomic():
        cancelled = move_messages(
            Message.objects.filter(client=client),
            UNSENT_STATUSES,
            MessageStatus.CANCELLED,
            last_error="Client deleted",
        )
        client_id = client.pk
        client.delete()
    log.info("client deleted client_id=%s cancelled_messages=%d", client_id, cancelled)


# --- Campaigns -----------------------------------------------------------------


def _locked(campaign: Campaign) -> Campaign:
    """The campaign's row, locked until the transaction ends.

    A 404 if it was deleted since the caller read it (a concurrent DELETE), not a 500.
    """
    return get_object_or_404(Campaign.objects.select_for_update(), pk=campaign.pk)


def create_campaign(*, values: dict, user=None) -> Campaign:
    campaign = Campaign(**values, created_by=user if user and user.is_authenticated else None)
    campaign.full_clean(exclude=["created_by"])
    if campaign.end_at <= timezone.now():
        raise ValidationError({"end_at": [_("The end is already past: nothing could be sent.")]})
    with transaction.atomic():
        campaign.save()
        CampaignCounts.objects.create(campaign=campaign)
        tasks.campaign_saved(campaign)
    log.info(
        "campaign created campaign_id=%s start_at=%s end_at=%s",
        campaign.pk,
        campaign.start_at.isoformat(),
        campaign.end_at.isoformat(),
    )
    return campaign


def update_campaign(*, campaign: Campaign, values: dict) -> Campaign:
    """Apply an edit. After start only text, end, name and send window may change.

    Moving the end later gives the expired messages another chance (they are unsent, and
    the edit applies to unsent messages): they wait again, and a finished campaign runs
    again to send them.
    """
    with transaction.atomic():
        campaign = _locked(campaign)
        if not campaign.is_editable:
            refusal = _("The campaign is %(status)s; it can no longer be edited.") % {
                "status": campaign.get_status_display().lower()
            }
            raise ValidationError({"status": [refusal]})
        old_end = campaign.end_at
        changed = {k: v for k, v in values.items() if getattr(campaign, k) != v}
        if campaign.has_started:
            refused = [f for f in changed if f not in EDITABLE_AFTER_START]
            if refused:
                errors = {}
                for f in refused:
                    why = (
                        _(
                            "The filter cannot change once the campaign has started; "
                            "its messages were already selected."
                        )
                        if f in FILTER_FIELDS
                        else _("This field cannot change once the campaign has started.")
                    )
                    errors[f] = [why]
                raise ValidationError(errors)
        for key, value in changed.items():
            setattr(campaign, key, value)
        campaign.full_clean(exclude=["created_by"])
        campaign.save()
        revived = 0
        now = timezone.now()
        if campaign.has_started and campaign.end_at > max(old_end, now):
            # The expiry's reason no longer holds.
            revived = _send_again(campaign, MessageStatus.EXPIRED, now, last_error="")
            if revived:
                changed["status"] = campaign.status
        tasks.campaign_saved(campaign, changed=set(changed))
    log.info(
        "campaign edited campaign_id=%s fields=%s expired_messages_pending_again=%d",
        campaign.pk,
        ",".join(sorted(changed)),
        revived,
    )
    return campaign


def start_if_due(*, campaign: Campaign) -> Campaign:
    """Start a scheduled campaign whose window holds now, and return it as it then is.

    The pumps would start it within a tick anyway; the API and the form call this right
    after a create or an edit, so their answer says `running`, not a `scheduled` that is
    stale milliseconds later. The targets are selected in this request (one INSERT ...
    SELECT); a sender or the worker's clock that got there first makes this a no-op, and
    the answer still reads the campaign as it now is.
    """
    now = timezone.now()
    due = campaign.status == CampaignStatus.SCHEDULED and campaign.start_at <= now < campaign.end_at
    if due:
        lifecycle.start_campaign(campaign.pk, now)
        campaign.refresh_from_db()
    return campaign


class TransitionRefused(ValidationError):
    """A lifecycle action not allowed in the campaign's current status."""


def _refuse_unless_allowed(campaign: Campaign, action: str) -> None:
    """Raise TransitionRefused unless Campaign's TRANSITIONS table allows `action` now."""
    if not campaign.allows(action):
        raise TransitionRefused({"status": [campaign.refusal(action)]})


def pause_campaign(*, campaign: Campaign, user=None) -> Campaign:
    with transaction.atomic():
        paused = _transition(campaign, action="pause", to=CampaignStatus.PAUSED)
        # Same transaction, same row _transition already locked: no new lock order.
        paused.paused_by = user if user is not None and user.is_authenticated else None
        paused.paused_at = timezone.now()
        Campaign.objects.filter(pk=paused.pk).update(
            paused_by=paused.paused_by, paused_at=paused.paused_at
        )
    return paused


def resume_campaign(*, campaign: Campaign) -> Campaign:
    with transaction.atomic():
        current = _locked(campaign)
        target = CampaignStatus.RUNNING if current.has_started else CampaignStatus.SCHEDULED
        return _transition(current, action="resume", to=target)


def cancel_campaign(*, campaign: Campaign, reason: str = "Campaign cancelled") -> Campaign:
    return _transition(campaign, action="cancel", to=CampaignStatus.CANCELLED, reason=reason)


def _transition(campaign: Campaign, *, action: str, to: str, reason: str = "") -> Campaign:
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_unless_allowed(campaign, action)
        previous = campaign.status
        campaign.status = to
        update_fields = ["status", "updated_at"]
        if to == CampaignStatus.CANCELLED:
            campaign.finished_at = timezone.now()
            update_fields.append("finished_at")
            move_messages(
                campaign.messages.all(),
                UNSENT_STATUSES,
                MessageStatus.CANCELLED,
                last_error=reason,
            )
        campaign.save(update_fields=update_fields)
        tasks.campaign_saved(campaign, changed={"status"})
    log.info("campaign action=%s campaign_id=%s from=%s to=%s", action, campaign.pk, previous, to)
    return campaign


def retry_failed_messages(*, campaign: Campaign) -> int:
    """Send the failed messages of a campaign again (before its end); returns how many."""
    with transaction.atomic():
        campaign = _locked(campaign)
        now = timezone.now()
        _refuse_unless_allowed(campaign, "retry")
        if campaign.end_at <= now:
            raise TransitionRefused({"end_at": [_("The campaign has ended; extend it first.")]})
        moved = _send_again(campaign, MessageStatus.FAILED, now)
        tasks.campaign_saved(campaign, changed={"status"})
    log.info("failed messages queued again campaign_id=%s count=%d", campaign.pk, moved)
    return moved


def _send_again(campaign: Campaign, status: str, now, **fields) -> int:
    """Queue the campaign's messages in `status` again; a finished campaign runs again."""
    moved = move_messages(
        campaign.messages.all(),
        [status],
        MessageStatus.PENDING,
        next_attempt_at=now,
        lease_token=None,
        **fields,
    )
    if moved and campaign.status == CampaignStatus.FINISHED:
        campaign.status = CampaignStatus.RUNNING
        campaign.finished_at = None
        campaign.save(update_fields=["status", "finished_at", "updated_at"])
    return moved


def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign; a running one is cancelled first so no worker keeps sending."""
    if campaign.is_active:
        cancel_campaign(campaign=campaign, reason="Campaign deleted")
    campaign_id = campaign.pk
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign_id).delete()
        tasks.campaign_deleted(campaign_id)
    log.info("campaign deleted campaign_id=%s", campaign_id)
