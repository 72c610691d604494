from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from dashboard import integrations
from dashboard.access import managers, readers
from dashboard.filters import CampaignFilter
from dashboard.forms import CampaignForm, ListField
from dashboard.tables import CampaignTable, MessageTable, with_last_attempt
from dashboard.views import page_or_partial, wants_partial
from messaging import services, sms, stats, testsend
from messaging.diagnosis import explain_campaign
from messaging.models import Campaign, MessageStatus, TestSend
from messaging.validators import operator_code_validator, validate_tag

# htmx stops polling on this status (https://htmx.org/docs/#polling).
STOP_POLLING = 286


@readers
@require_safe
@vary_on_headers("HX-Request")
def campaign_list(request):
    filterset = CampaignFilter(
        request.GET or None, queryset=Campaign.objects.select_related("counts")
    )
    table = CampaignTable(filterset.qs, order_by="-start_at")
    if any(request.GET.get(name) for name in filterset.filters):
        table.empty_text = _("No campaign matches this filter.")
    RequestConfig(request, paginate={"per_page": settings.UI_PAGE_SIZE}).configure(table)
    # Progress bars follow the sending while an active campaign is on the page.
    shown = [row.record for row in table.page.object_list] if table.page else []
    context = {
        "filter": filterset,
        "table": table,
        "polling": any(campaign.is_active for campaign in shown),
    }
    return page_or_partial(
        request, "dashboard/campaigns/list.html", "dashboard/campaigns/_table.html", context
    )


@managers
def campaign_create(request):
    return _create(request)


@managers
def campaign_duplicate(request, pk: int):
    """The create form filled from another campaign: everything but the times."""
    source = get_object_or_404(Campaign, pk=pk)
    return _create(request, source=source)


def _create(request, *, source: Campaign | None = None):
    initial = source.duplicate_values() if source else None
    form = CampaignForm(request.POST or None, initial=initial)
    extra = {"source": source}
    if request.method == "POST":
        if form.is_valid() and (campaign := form.save(user=request.user)):
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign})
            return redirect("dashboard:campaign-detail", pk=campaign.pk)
        return _render_form(request, form, None, status=400, extra=extra)
    return _render_form(request, form, None, extra=extra)


@managers
def campaign_edit(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.is_editable:
        messages.error(
            request,
            _("The campaign is %(status)s; it can no longer be edited.")
            % {"status": campaign.get_status_display().lower()},
        )
        return redirect("dashboard:campaign-detail", pk=campaign.pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST":
        if form.is_valid() and (saved := form.save()):
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": saved})
            return redirect("dashboard:campaign-detail", pk=saved.pk)
        return _render_form(request, form, campaign, status=400)
    return _render_form(request, form, campaign)


def _render_form(request, form, campaign, *, status=200, extra=None):
    preview = _preview(form.data if form.is_bound else _initial_as_text(form))
    context = {
        "form": form,
        "campaign": campaign,
        "preview": preview,
        **_composer_context(form["text"].value()),
        **(extra or {}),
    }
    return render(request, "dashboard/campaigns/form.html", context, status=status)


def _composer_context(text: str | None) -> dict:
    """The SMS composer's first counts (the script keeps them current while typing)."""
    return {
        "sms": sms.measure(text or ""),
        "sms_non_gsm": sms.non_gsm_characters(text or "")[:20],
        "sms_config": sms.composer_config(),
    }


@managers
@require_POST
def campaign_test_send(request):
    """Send the composer's text to one phone now and show the outcome (htmx: the fragment)."""
    campaign = None
    pk = request.GET.get("campaign", "")
    if pk.isascii() and pk.isdigit():  # not "²", which isdigit() but int() refuses
        campaign = Campaign.objects.filter(pk=pk).first()
    text = CampaignForm.normalise_text(request.POST.get("text", ""))
    context: dict = {"campaign": campaign, "test_send": None, "test_errors": []}
    try:
        context["test_send"] = testsend.send_test(
            phone=request.POST.get("test_phone", ""),
            text=text,
            user=request.user,
            campaign=campaign,
        )
        status = 200
    except ValidationError as exc:
        context["test_errors"] = exc.messages
        status = 400
    if wants_partial(request):
        # htmx swaps only 2xx answers; the errors are in the fragment.
        return render(request, "dashboard/campaigns/_test_send.html", context)
    return render(request, "dashboard/campaigns/test_send.html", context, status=status)


def _initial_as_text(form: CampaignForm) -> dict:
    """The unbound form's values as the browser would send them."""
    return {name: form[name].value() for name in form.fields}


def _preview(data) -> dict:
    """How many clients a filter matches and the send window in words, from raw form input."""
    codes_field = ListField(required=False, item_validator=operator_code_validator)
    tags_field = ListField(required=False, item_validator=validate_tag)
    probe = Campaign()
    problems = []
    try:
        probe.operator_codes = codes_field.clean(data.get("operator_codes", ""))
    except ValidationError:
        problems.append(_("operator codes"))
    try:
        probe.tags = tags_field.clean(data.get("tags", ""))
    except ValidationError:
        problems.append(_("tags"))
    opens = CampaignForm.base_fields["send_window_start"]
    closes = CampaignForm.base_fields["send_window_end"]
    try:
        probe.send_window_start = opens.clean(data.get("send_window_start") or None)
        probe.send_window_end = closes.clean(data.get("send_window_end") or None)
    except ValidationError:
        probe.send_window_start = probe.send_window_end = None
    # The form's own rule and wording (Campaign.clean), shown while typing: one problem at most.
    window_problem = next(iter(probe.send_window_problems().values()), None)
    return {
        "matching": None if problems else probe.matching_clients().count(),
        "problems": problems,
        "window_text": probe.send_window_text() if window_problem is None else window_problem,
    }


@managers
@require_safe
def campaign_preview(request):
    """The form's live hint: matching clients and the send window in plain words."""
    data = request.GET
    # isascii(): "²".isdigit() is true, but int("²") fails (a 500 found by the UI fuzz pass).
    if "campaign" in data and data["campaign"].isascii() and data["campaign"].isdigit():
        campaign = Campaign.objects.filter(pk=data["campaign"]).first()
        if campaign is not None and campaign.has_started:
            # The filter is fixed; its values are not posted by the disabled inputs.
            data = data.copy()
            data["operator_codes"] = ", ".join(campaign.operator_codes)
            data["tags"] = ", ".join(campaign.tags)
    return render(request, "dashboard/campaigns/_preview.html", {"preview": _preview(data)})


def _message_table(request, campaign: Campaign):
    status = request.GET.get("status", "")
    if status not in MessageStatus.values:
        status = ""
    queryset = campaign.messages.all()
    if status:
        queryset = queryset.filter(status=status)
    table = MessageTable(with_last_attempt(queryset), order_by="id")
    RequestConfig(request, paginate={"per_page": settings.UI_PAGE_SIZE}).configure(table)
    return table, status


@readers
@require_safe
@vary_on_headers("HX-Request")
def campaign_detail(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("counts", "created_by"), pk=pk)
    table, status = _message_table(request, campaign)
    context = {
        "campaign": campaign,
        "table": table,
        "status_filter": status,
        "status_choices": MessageStatus.choices,
        "sms": sms.measure(campaign.text),
        "test_sends": TestSend.objects.filter(campaign=campaign).select_related("user")[:5],
        **_live_context(campaign),
    }
    return page_or_partial(
        request,
        "dashboard/campaigns/detail.html",
        "dashboard/campaigns/_messages.html",
        context,
        target="campaign-messages",
    )


def _live_context(campaign: Campaign) -> dict:
    figures = stats.campaign_stats(campaign)
    return {
        "campaign": campaign,
        "figures": figures,
        "percent": round(figures["progress"] * 100, 1),
        "polling": campaign.is_active,
        "diagnosis": explain_campaign(campaign),
        "actions": _available_actions(campaign),
        "retry_available": integrations.retry_available(),
    }


@readers
@require_safe
def campaign_live(request, pk: int):
    """Counters, progress and status, polled every 2 s until the campaign is done."""
    campaign = get_object_or_404(Campaign, pk=pk)
    context = _live_context(campaign)
    status = 200 if campaign.is_active else STOP_POLLING
    return render(request, "dashboard/campaigns/_live.html", context, status=status)


@dataclass(frozen=True)
class Action:
    """How the UI offers an action; which statuses allow it is Campaign's TRANSITIONS."""

    name: str
    label: str
    question: str
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


def _available_actions(campaign: Campaign) -> list[Action]:
    available = [a for a in ACTIONS.values() if campaign.allows(a.name)]
    counts = getattr(campaign, "counts", None)
    if not integrations.retry_available() or not counts or not counts.failed:
        available = [a for a in available if a.name != "retry"]
    return available


def _perform(action: str, campaign: Campaign, user) -> str:
    if action == "pause":
        services.pause_campaign(campaign=campaign, user=user)
        return _("Campaign paused.")
    if action == "resume":
        services.start_if_due(campaign=services.resume_campaign(campaign=campaign))
        return _("Campaign resumed.")
    if action == "cancel":
        services.cancel_campaign(campaign=campaign)
        return _("Campaign cancelled; its unsent messages are cancelled.")
    if action == "retry":
        result = integrations.retry_failed(campaign=campaign)
        if isinstance(result, int):
            return ngettext(
                "%(count)d failed message queued again.",
                "%(count)d failed messages queued again.",
                result,
            ) % {"count": result}
        return _("Failed messages queued again.")
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
