from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe
from django_tables2 import RequestConfig

from dashboard.access import managers, readers
from dashboard.filters import CampaignFilter, client_operator_codes, client_tags
from dashboard.forms import CampaignForm, ListField
from dashboard.tables import CampaignTable, KnownCountPaginator, MessageTable, with_last_attempt
from dashboard.views import page_or_partial, polling, wants_partial
from messaging import services
from messaging.campaigns import audience, merge, review, sms
from messaging.campaigns.validators import operator_code_validator, validate_tag
from messaging.engine import testsend
from messaging.models import Campaign, CampaignStatus, MessageStatus, TestSend
from messaging.reporting import humanize, stats
from messaging.reporting.diagnosis import explain_campaign

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# htmx stops polling on this status (https://htmx.org/docs/#polling).
STOP_POLLING = 286

# The fragments the campaign pages serve, by the id of the element htmx swaps.
LIST_TABLE = "campaigns-table"
LIVE = "campaign-live"
MESSAGES = "campaign-messages"
PREVIEW = "campaign-preview"
TEST_SEND = "test-send-result"


@readers
@require_safe
@polling.polled(polling.campaign_list_stamp)
def campaign_list(request, *, stamp: str):
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
        "stamp": stamp,
    }
    return page_or_partial(
        request,
        "dashboard/campaigns/list.html",
        "dashboard/campaigns/_table.html",
        context,
        target=LIST_TABLE,
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
    if request.method == "GET" and wants_partial(request, PREVIEW):
        return _preview_fragment(request, None)
    initial = source.duplicate_values() if source else None
    form = CampaignForm(request.POST or None, initial=initial)
    extra = {"source": source}
    if request.method == "POST":
        if form.is_valid() and (campaign := form.save(user=request.user)):
            messages.success(
                request,
                _("Draft “%(name)s” saved. Nothing is sent until you review and launch it.")
                % {"name": campaign},
            )
            return redirect("dashboard:campaign-detail", pk=campaign.pk)
        return _render_form(request, form, None, status=400, extra=extra)
    return _render_form(request, form, None, extra=extra)


@managers
def campaign_edit(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.method == "GET" and wants_partial(request, PREVIEW):
        return _preview_fragment(request, campaign)
    if not campaign.is_editable:
        messages.error(request, campaign.refusal("edit"))
        return redirect("dashboard:campaign-detail", pk=campaign.pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST":
        if form.is_valid() and (saved := form.save()):
            if saved.is_draft:
                done = _("Draft “%(name)s” saved.")
            else:
                done = _("Campaign “%(name)s” saved.")
            messages.success(request, done % {"name": saved})
            return redirect("dashboard:campaign-detail", pk=saved.pk)
        return _render_form(request, form, campaign, status=400)
    return _render_form(request, form, campaign)


def _render_form(request, form, campaign, *, status=200, extra=None):
    preview = _preview(form.data if form.is_bound else _initial_as_text(form))
    context = {
        "form": form,
        "campaign": campaign,
        "preview": preview,
        # Suggestions for the filter fields: what the clients have.
        "operator_code_options": client_operator_codes(),
        "tag_options": client_tags(),
        **_composer_context(form["text"].value()),
        **(extra or {}),
    }
    return render(request, "dashboard/campaigns/form.html", context, status=status)


def _composer_context(text: str | None) -> dict:
    """The SMS composer's first counts (the script keeps them current while typing)."""
    return {
        "sms": sms.measure(text or ""),
        **_ucs2_reasons(text or ""),
        "sms_config": sms.composer_config(),
        "merge_fields": merge.known_fields(),
    }


@managers
@require_POST
def campaign_test_send(request):
    """Send the composer's text to one phone now and show the outcome (htmx: the fragment).

    A URL of its own, not the form's: an action (it sends an SMS) that the create and the
    edit form both post to, and whose outcome is a page without JavaScript.
    """
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
    return page_or_partial(
        request,
        "dashboard/campaigns/test_send.html",
        "dashboard/campaigns/_test_send.html",
        context,
        target=TEST_SEND,
        status=status,
    )


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
    probe.promotional = forms.BooleanField(required=False).clean(data.get("promotional"))
    # The form's own rule and wording (Campaign.clean), shown while typing: one problem at most.
    window_problem = next(iter(probe.send_window_problems().values()), None)
    return {
        "matching": None if problems else audience.recipients(probe).count(),
        "left_out": [] if problems else [r for r in audience.left_out(probe) if r.count],
        "personal": None if problems else _personal_preview(probe, data.get("text") or ""),
        "problems": problems,
        "window_text": probe.send_window_text() if window_problem is None else window_problem,
        "window_warning": None if problems or window_problem else _window_warning(probe, data),
    }


def _personal_preview(probe: Campaign, text: str) -> dict | None:
    """A text with merge tags, while typing: the fields it names that no client has, the
    text for a real recipient, and the SMS parts of its longest rendering."""
    text = CampaignForm.normalise_text(text)
    if not merge.tags(text):
        return None
    unknown = merge.unknown_fields(text)
    if unknown:
        return {"unknown": ", ".join(f"{{{f}}}" for f in unknown)}
    clients = audience.recipients(probe)
    sample = merge.sample_client(clients)
    longest = merge.longest_rendering(text, clients)
    return {
        "sample": sample,
        "sample_text": merge.render_for(text, sample) if sample else merge.with_fallbacks(text),
        "longest": longest.measure,
        "too_long": longest.measure.parts > sms.max_parts(),
    }


def _window_warning(probe: Campaign, data) -> str | None:
    """The review's warning, while typing: the window and the end leave some clients no
    opening (their messages would expire unsent)."""
    if not probe.has_send_window:
        return None
    try:
        start = CampaignForm.base_fields["start_at"].clean(data.get("start_at") or None)
        end = CampaignForm.base_fields["end_at"].clean(data.get("end_at") or None)
    except ValidationError:
        return None
    if start is None or end is None or end <= start:
        return None
    coverage = review.window_coverage(
        audience.recipients(probe),
        start=max(start, timezone.now()),
        end=end,
        opens=probe.send_window_start,
        closes=probe.send_window_end,
    )
    warning = review.window_warning(coverage, end)
    return warning.text if warning else None


def _preview_fragment(request, campaign: Campaign | None):
    """The form's live hint, from what is typed (the form's fields, sent as the query)."""
    data = request.GET
    if campaign is not None and campaign.has_started:
        # The filter is fixed; its values are not sent by the disabled inputs.
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
    known = _kept_message_count(campaign, status)
    paginate = {
        "per_page": settings.UI_PAGE_SIZE,
        "paginator_class": KnownCountPaginator,
        "count": known,
    }
    RequestConfig(request, paginate=paginate).configure(table)
    return table, status


@readers
@require_safe
@polling.polled(polling.campaign_stamp)
def campaign_detail(request, pk: int, *, stamp: str | None):
    """The page, its live counters (#campaign-live) or its message table (#campaign-messages)."""
    campaign = get_object_or_404(Campaign.objects.select_related("counts", "created_by"), pk=pk)
    if wants_partial(request, LIVE):
        # Polled every 2 s until the campaign is done, then told to stop.
        status = 200 if campaign.is_active else STOP_POLLING
        context = {**_live_context(campaign), "stamp": stamp}
        return render(request, "dashboard/campaigns/_live.html", context, status=status)
    table, status = _message_table(request, campaign)
    context = {
        "stamp": stamp,
        "campaign": campaign,
        "table": table,
        "status_filter": status,
        **_status_tabs(campaign),
        # A personal text: counted on its longest rendering among the recipients.
        "sms": _text_measure(campaign),
        "left_out": _left_out(campaign),
        "test_sends": TestSend.objects.filter(campaign=campaign).select_related("user")[:5],
        **_live_context(campaign),
    }
    return page_or_partial(
        request,
        "dashboard/campaigns/detail.html",
        "dashboard/campaigns/_messages.html",
        context,
        target=MESSAGES,
    )


def _left_out(campaign: Campaign) -> list[audience.LeftOut]:
    """Who the rules leave out: as counted when the messages were selected, or, before the
    start, as it would be now."""
    if campaign.has_started:
        return [
            audience.LeftOut(item["code"], audience.label_of(item["code"]), item["count"])
            for item in campaign.left_out_at_start or []
        ]
    return audience.left_out(campaign) if audience.countable(campaign) else []


def _text_measure(campaign: Campaign) -> sms.SmsMeasure:
    """The parts of the campaign's text: its longest rendering among the recipients."""
    if not audience.countable(campaign):
        return sms.measure(merge.with_fallbacks(campaign.text))
    return merge.longest_rendering(campaign.text, audience.recipients(campaign)).measure


def _kept_message_count(campaign: Campaign, status: str | None) -> int | None:
    """How many rows the message table has, from the campaign's kept counters: counting a
    million messages of a sending campaign reads the whole table. Once retention may have
    removed a closed campaign's rows (its counters stay), the rows left are counted."""
    days = settings.RETENTION_MESSAGES_DAYS
    finished = campaign.finished_at
    if days > 0 and finished and finished < timezone.now() - timedelta(days=days):
        return None
    counts = stats.counts_of(getattr(campaign, "counts", None))
    return counts[status] if status else sum(counts.values())


def _ucs2_reasons(text: str) -> dict:
    cyrillic, others = sms.ucs2_reasons(text)
    return {"sms_cyrillic": cyrillic, "sms_non_gsm": others[:20]}


def _status_tabs(campaign: Campaign) -> dict:
    """The message table's tabs, each with its count (the campaign's counters)."""
    counts = getattr(campaign, "counts", None)
    tabs = [
        (value, label, getattr(counts, value, 0) if counts else 0)
        for value, label in MessageStatus.choices
    ]
    return {"status_tabs": tabs, "status_total": sum(n for _, _, n in tabs)}


def _live_context(campaign: Campaign) -> dict:
    figures = stats.campaign_stats(campaign)
    return {
        "campaign": campaign,
        "figures": figures,
        "percent": round(figures["progress"] * 100, 1),
        "polling": campaign.is_active,
        "diagnosis": explain_campaign(campaign),
        "actions": _available_actions(campaign),
        "expected_recipients": _expected_recipients(campaign, figures),
    }


def _expected_recipients(campaign: Campaign, figures: dict) -> int | None:
    """Before a scheduled campaign creates its messages: how many clients it would reach now."""
    if campaign.status != CampaignStatus.SCHEDULED or sum(figures["counts"].values()):
        return None
    if not audience.countable(campaign):
        return None
    return audience.recipients(campaign).count()


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


def _available_actions(campaign: Campaign) -> list[Action]:
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
