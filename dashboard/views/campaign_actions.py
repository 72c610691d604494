"""A campaign's actions (pause, resume, cancel, retry failed, delete): confirm, then do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dashboard.access import managers
from messaging import services
from messaging.models import Campaign
from messaging.reporting import humanize

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Action:
    """How the UI offers an action; which statuses allow it is Campaign's TRANSITIONS."""

    name: str
    label: StrOrPromise
    question: StrOrPromise
    style: str


ACTIONS = {
    action.name: action
    for action in (
        Action(
            "pause",
            gettext_lazy("Pause"),
            gettext_lazy("No new messages go out until you resume it."),
            "warning",
        ),
        Action(
            "resume",
            gettext_lazy("Resume"),
            gettext_lazy("Sending continues where it stopped, within the campaign's window."),
            "success",
        ),
        Action(
            "cancel",
            gettext_lazy("Cancel"),
            gettext_lazy("Every message not yet sent is cancelled. This cannot be undone."),
            "danger",
        ),
        Action(
            "retry",
            gettext_lazy("Retry failed"),
            gettext_lazy(
                "Failed messages go back to the queue and are tried again before the end."
            ),
            "secondary",
        ),
        Action(
            "delete",
            gettext_lazy("Delete"),
            gettext_lazy(
                "The campaign and its messages are deleted; a running campaign is cancelled "
                "first. This cannot be undone."
            ),
            "outline-danger",
        ),
    )
}


def available_actions(campaign: Campaign) -> list[Action]:
    available = [a for a in ACTIONS.values() if campaign.allows(a.name)]
    counts = getattr(campaign, "counts", None)
    if not counts or not counts.failed:
        available = [a for a in available if a.name != "retry"]
    return available


def _perform(action: str, campaign: Campaign, user) -> str:
    if action == "pause":
        services.pause_campaign(campaign=campaign, user=user)
        return _("Campaign paused.")
    if action == "resume":
        services.resume_campaign(campaign=campaign)
        return _("Campaign resumed.")
    if action == "cancel":
        services.cancel_campaign(campaign=campaign)
        return _("Campaign cancelled; its unsent messages are cancelled.")
    if action == "retry":
        queued = services.retry_failed_messages(campaign=campaign)
        return ngettext(
            "%(count)s failed message queued again.",
            "%(count)s failed messages queued again.",
            queued,
        ) % {"count": humanize.number(queued)}
    services.delete_campaign(campaign=campaign)
    return _("Campaign “%(name)s” deleted.") % {"name": campaign}


@managers
def campaign_action(request, pk: int, action: str):
    """GET asks for confirmation (works without JavaScript); POST does it."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404(_("No such action."))
    campaign = get_object_or_404(Campaign.objects.select_related("counts"), pk=pk)
    if request.method == "POST":
        try:
            done = _perform(action, campaign, request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("dashboard:campaign-detail", pk=campaign.pk)
        messages.success(request, done)
        if action == "delete":
            return redirect("dashboard:campaign-list")
        return redirect("dashboard:campaign-detail", pk=campaign.pk)
    refusal = None if campaign.allows(action) else campaign.refusal(action)
    return render(
        request,
        "dashboard/campaigns/confirm.html",
        {"campaign": campaign, "action": spec, "refusal": refusal},
    )
