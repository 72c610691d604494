"""Multi-step operations that both the web UI and the REST API call.

One function per operation, keyword-only arguments. Each either completes or
raises django's ValidationError having changed nothing. A caller makes one call per
user action and gets the campaign in its final state: creating, editing, launching or
resuming a campaign whose window holds now leaves it running (the lifecycle's step for
that campaign, the same step the worker's clock runs for all).
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging import tasks
from messaging.campaigns import audience
from messaging.campaigns.audience import WINDOW_CLOSED_TO_THE_END

# Importing clients lives in messaging.campaigns.imports; these names stay importable here.
from messaging.campaigns.imports import (
    ColumnsNotMatched,
    ImportResult,
    MalformedFile,
    RowError,
    import_clients,
    import_clients_csv,
    preview_import,
)
from messaging.campaigns.optouts import (
    add_to_stop_list,
    import_stop_list,
    opt_in,
    opt_out,
    opt_out_phones,
    remove_from_stop_list,
)
from messaging.engine import lifecycle
from messaging.models import (
    UNSENT_STATUSES,
    Campaign,
    CampaignCounts,
    CampaignStatus,
    Client,
    Message,
    MessageStatus,
)
from messaging.models.campaigns import EDITABLE_AFTER_START, FILTER_FIELDS, TransitionRefused
from messaging.models.counters import move_messages, status_changes
from security import audit
from security.models import AuditKind

log = logging.getLogger(__name__)

__all__ = [
    "ColumnsNotMatched",
    "ImportResult",
    "MalformedFile",
    "RowError",
    "TransitionRefused",
    "add_to_stop_list",
    "import_clients",
    "import_clients_csv",
    "import_stop_list",
    "opt_in",
    "opt_out",
    "opt_out_phones",
    "preview_import",
    "remove_from_stop_list",
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
    log.info("client deleted cancelled_messages=%d", cancelled, extra={"client_id": client_id})


# --- Campaigns -----------------------------------------------------------------


def _locked(campaign: Campaign) -> Campaign:
    """The campaign's row, locked until the transaction ends.

    A 404 if it was deleted since the caller read it (a concurrent DELETE), not a 500.
    """
    return get_object_or_404(Campaign.objects.select_for_update(), pk=campaign.pk)


def _refuse_past_end(campaign: Campaign) -> None:
    if campaign.end_at <= timezone.now():
        raise ValidationError({"end_at": [_("The end is already past: nothing could be sent.")]})


def create_campaign(*, values: dict, user=None, draft: bool = False) -> Campaign:
    """Create a campaign: a draft, which nothing sends until it is launched, or (the API's
    default) one that starts by itself at its start_at (at once when that is past)."""
    status = CampaignStatus.DRAFT if draft else CampaignStatus.SCHEDULED
    campaign = Campaign(
        **values, status=status, created_by=user if user and user.is_authenticated else None
    )
    campaign.full_clean(exclude=["created_by"])
    _refuse_past_end(campaign)
    with transaction.atomic():
        campaign.save()
        CampaignCounts.objects.create(campaign=campaign)
        tasks.campaign_saved(campaign)
    log.info(
        "campaign created status=%s start_at=%s end_at=%s",
        campaign.status,
        campaign.start_at.isoformat(),
        campaign.end_at.isoformat(),
        extra={"campaign_id": campaign.pk},
    )
    return campaign if draft else _stepped(campaign)


def update_campaign(*, campaign: Campaign, values: dict) -> Campaign:
    """Apply an edit. A draft changes freely; after start only text, end, name and send
    window may change.

    Moving the end later gives the expired messages another chance (they are unsent, and
    the edit applies to unsent messages): they wait again, and a finished campaign runs
    again to send them. A new send window before the end does the same for the messages
    that expired early because the old one did not open before the end.
    """
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_unless_allowed(campaign, "edit")
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
        if campaign.has_started and campaign.end_at > now:
            if campaign.end_at > old_end:
                # The expiry's reason no longer holds.
                revived = _send_again(campaign, MessageStatus.EXPIRED, now, last_error="")
            elif changed.keys() & tasks.WINDOW_FIELDS:
                # The window they could not get before the end has changed: ask again.
                revived = _send_again(
                    campaign,
                    MessageStatus.EXPIRED,
                    now,
                    only=Message.objects.filter(last_error=WINDOW_CLOSED_TO_THE_END),
                    last_error="",
                )
            if revived:
                changed["status"] = campaign.status
        tasks.campaign_saved(campaign, changed=set(changed))
    log.info(
        "campaign edited fields=%s expired_messages_pending_again=%d",
        ",".join(sorted(changed)),
        revived,
        extra={"campaign_id": campaign.pk},
    )
    return _stepped(campaign)


def launch_campaign(*, campaign: Campaign, user=None, address: str | None = None) -> Campaign:
    """Launch a draft: it becomes scheduled, and starts at once when its window holds now.

    Recorded on the campaign (who and when) and in the audit trail. The caller gets the
    campaign as it then is (`running` when it started in this request).
    """
    who = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_unless_allowed(campaign, "launch")
        campaign.full_clean(exclude=["created_by"])
        _refuse_past_end(campaign)
        now = timezone.now()
        campaign.move("launch", CampaignStatus.SCHEDULED, launched_at=now, launched_by=who)
        recipients = audience.recipients(campaign).count()
        tasks.campaign_saved(campaign, changed={"status"})
        audit.record(
            AuditKind.CAMPAIGN_LAUNCHED,
            user=who,
            address=address,
            detail=f"campaign={campaign.pk}; recipients={recipients}",
        )
    log.info(
        "campaign launched user_id=%s recipients_now=%d",
        who.pk if who else None,
        recipients,
        extra={"campaign_id": campaign.pk},
    )
    return _stepped(campaign)


def _stepped(campaign: Campaign) -> Campaign:
    """The campaign after the lifecycle's step for it, as it then is.

    The worker's clock would start a due campaign within half a second anyway; stepping it
    here makes the operation whole, so the answer says `running`, not a `scheduled` that
    is stale milliseconds later. The targets are selected in this request (one INSERT ...
    SELECT); the clock getting there first makes the step a no-op, and the campaign is
    still read as it now is.
    """
    now = timezone.now()
    stepped = lifecycle.step(now, campaign_id=campaign.pk)
    due = campaign.status == CampaignStatus.SCHEDULED and campaign.start_at <= now
    if due or stepped.started:
        campaign.refresh_from_db()
    return campaign


def _refuse_unless_allowed(campaign: Campaign, action: str) -> None:
    """Raise TransitionRefused unless Campaign's TRANSITIONS table allows `action` now."""
    if not campaign.allows(action):
        raise TransitionRefused({"status": [campaign.refusal(action)]})


def pause_campaign(*, campaign: Campaign, user=None) -> Campaign:
    who = user if user is not None and user.is_authenticated else None
    return _transition(
        campaign, action="pause", to=CampaignStatus.PAUSED, paused_by=who, paused_at=timezone.now()
    )


def resume_campaign(*, campaign: Campaign) -> Campaign:
    """Resume a paused campaign: running again, or, if it never started, scheduled (and
    started at once when its window holds now)."""
    with transaction.atomic():
        current = _locked(campaign)
        target = CampaignStatus.RUNNING if current.has_started else CampaignStatus.SCHEDULED
        resumed = _transition(current, action="resume", to=target)
    return _stepped(resumed)


def cancel_campaign(*, campaign: Campaign, reason: str = "Campaign cancelled") -> Campaign:
    return _transition(campaign, action="cancel", to=CampaignStatus.CANCELLED, reason=reason)


def _transition(
    campaign: Campaign, *, action: str, to: str, reason: str = "", **fields
) -> Campaign:
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_unless_allowed(campaign, action)
        previous = campaign.status
        if to == CampaignStatus.CANCELLED:
            fields["finished_at"] = timezone.now()
            with status_changes([campaign.pk]) as changes:
                changes.move(
                    campaign.messages.all(),
                    [MessageStatus.PENDING],
                    MessageStatus.CANCELLED,
                    last_error=reason,
                )
                # Requests already at the provider: counted as sent if it accepts them.
                fields["in_flight_at_cancel"] = changes.move(
                    campaign.messages.all(),
                    [MessageStatus.SENDING],
                    MessageStatus.CANCELLED,
                    last_error=reason,
                )
        campaign.move(action, to, **fields)
        tasks.campaign_saved(campaign, changed={"status"})
    log.info(
        "campaign action=%s from=%s to=%s",
        action,
        previous,
        to,
        extra={"campaign_id": campaign.pk},
    )
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
    log.info("failed messages queued again count=%d", moved, extra={"campaign_id": campaign.pk})
    return moved


def _send_again(campaign: Campaign, status: str, now, *, only=None, **fields) -> int:
    """Queue the campaign's messages in `status` (of `only`, when given) again; a finished
    campaign runs again."""
    rows = Message.objects.all() if only is None else only
    moved = move_messages(
        rows.filter(campaign=campaign),
        [status],
        MessageStatus.PENDING,
        next_attempt_at=now,
        lease_token=None,
        **fields,
    )
    if moved and campaign.status == CampaignStatus.FINISHED:
        campaign.move("reopen", CampaignStatus.RUNNING, finished_at=None)
    return moved


def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign; a running one is cancelled first so no worker keeps sending."""
    if campaign.is_active:
        cancel_campaign(campaign=campaign, reason="Campaign deleted")
    campaign_id = campaign.pk
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign_id).delete()
        tasks.campaign_deleted(campaign_id)
    log.info("campaign deleted", extra={"campaign_id": campaign_id})
