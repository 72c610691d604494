"""The campaign form's pages: create, duplicate and edit, its live preview and test send."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.access import managers
from dashboard.filters import client_operator_codes, client_tags
from dashboard.forms import CampaignForm, ListField
from dashboard.views import page_or_partial, wants_partial
from messaging.campaigns import audience, merge, review, sms
from messaging.campaigns.validators import operator_code_validator, validate_tag
from messaging.engine import testsend
from messaging.models import Campaign

# The fragments the form page serves, by the id of the element htmx swaps.
PREVIEW = "campaign-preview"
TEST_SEND = "test-send-result"


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


def _ucs2_reasons(text: str) -> dict:
    cyrillic, others = sms.ucs2_reasons(text)
    return {"sms_cyrillic": cyrillic, "sms_non_gsm": others[:20]}
