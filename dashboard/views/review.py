"""Review, then launch: what a draft would do, and the one button that sends it.

The figures come from messaging/campaigns/review.py (the engine's own rules); launching goes through
services.launch_campaign, as the API's POST .../launch/ does.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dashboard.access import readers
from messaging import services
from messaging.campaigns.review import review_campaign
from messaging.models import Campaign, CampaignStatus
from security import audit


@readers
def campaign_review(request, pk: int):
    """GET: the review (anyone who reads); POST: launch it (Managers, see `readers`)."""
    campaign = get_object_or_404(Campaign.objects.select_related("launched_by"), pk=pk)
    if request.method == "POST":
        return _launch(request, campaign)
    try:
        review = review_campaign(campaign)
    except ValidationError as exc:
        messages.info(request, " ".join(exc.messages))
        return redirect("dashboard:campaign-detail", pk=campaign.pk)
    refusal = None if campaign.allows("launch") else campaign.refusal("launch")
    return render(
        request,
        "dashboard/campaigns/review.html",
        {"campaign": campaign, "review": review, "refusal": refusal},
    )


def _launch(request, campaign: Campaign):
    back_to_review = redirect("dashboard:campaign-review", pk=campaign.pk)
    if not campaign.allows("launch"):
        messages.error(request, campaign.refusal("launch"))
        return redirect("dashboard:campaign-detail", pk=campaign.pk)
    # The button named a number: launch only if it still holds (clients may have been
    # imported or deleted, or the draft edited, since the review was shown).
    now = review_campaign(campaign).recipients
    if request.POST.get("recipients") != str(now):
        messages.warning(
            request, _("The recipients changed since this review was shown: check the new figures.")
        )
        return back_to_review
    try:
        campaign = services.launch_campaign(campaign=campaign, **audit.by(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return back_to_review
    if campaign.status == CampaignStatus.RUNNING:
        done = _("Launched: sending has started.")
    else:
        when = date_format(timezone.localtime(campaign.start_at), "SHORT_DATETIME_FORMAT")
        done = _("Launched: sending starts by itself at %(when)s.") % {"when": when}
    messages.success(request, done)
    return redirect("dashboard:campaign-detail", pk=campaign.pk)
