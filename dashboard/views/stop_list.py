"""The stop list in the web UI: phones never messaged, whoever holds them.

Marketers get opt-outs as a list (replies of STOP from the provider, a complaint by
phone): they paste them or upload the file, and see who is on the list. Taking a phone
off it needs its own confirmation page, as it lets Herald message that person again.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from dashboard.access import managers, readers
from dashboard.forms import StopListAddForm, StopListImportForm
from messaging import services
from messaging.api.downloads import table_response
from messaging.campaigns.optouts import stop_list_rows
from messaging.campaigns.phones import display_phone
from messaging.models import StopListEntry, Via
from messaging.reporting.humanize import number
from security import audit

# A search is digits of the phone, as on the clients page.
SEARCH_MIN_DIGITS = 4


def _page(request, *, add_form=None, import_form=None, result=None, status=200):
    search = "".join(ch for ch in request.GET.get("q", "") if ch.isdigit())[:11]
    entries = StopListEntry.objects.order_by("-added_at", "-id")
    searched = len(search) >= SEARCH_MIN_DIGITS
    if searched:
        entries = entries.filter(phone__contains=search)
    page = Paginator(entries, settings.UI_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search if searched else "",
        "search_too_short": bool(search) and not searched,
        "min_digits": SEARCH_MIN_DIGITS,
        "add_form": add_form or StopListAddForm(),
        "import_form": import_form or StopListImportForm(),
        "result": result,
        "max_mib": settings.IMPORT_MAX_BYTES // (1024 * 1024) or 1,
    }
    return render(request, "dashboard/stop_list/list.html", context, status=status)


def _cancelled(count: int) -> str:
    if not count:
        return ""
    return " " + ngettext(
        "%(n)s pending message was cancelled.", "%(n)s pending messages were cancelled.", count
    ) % {"n": number(count)}


@readers
@require_safe
def stop_list(request):
    return _page(request)


@managers
@require_POST
def stop_list_add(request):
    form = StopListAddForm(request.POST)
    if form.is_valid():
        try:
            done = services.add_to_stop_list(
                phones=form.cleaned_data["phones"],
                via=Via.HAND,
                reason=form.cleaned_data["reason"],
                **audit.by(request),
            )
        except ValidationError as exc:
            form.add_error("phones", exc.message_dict.get("phones", exc.messages))
        else:
            text = _("Added to the stop list: %(added)s; already there: %(already)s.") % {
                "added": number(done["added"]),
                "already": number(done["already"]),
            }
            messages.success(request, text + _cancelled(done["cancelled_messages"]))
            return redirect("dashboard:client-stop-list")
    return _page(request, add_form=form, status=400)


@managers
@require_POST
def stop_list_import(request):
    form = StopListImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            with upload.open("rb"):
                result = services.import_stop_list(
                    data=upload.file,
                    via=Via.IMPORT,
                    reason=form.cleaned_data["reason"],
                    **audit.by(request),
                )
        except services.MalformedFile as exc:
            form.add_error("file", exc.message_dict.get("file", exc.messages))
        else:
            return _page(request, result=result, status=200)
    return _page(request, import_form=form, status=400)


@managers
def stop_list_remove(request, phone: str):
    """Take a phone off the list, after a page that says what that means."""
    entry = get_object_or_404(StopListEntry, phone=phone)
    if request.method == "POST":
        services.remove_from_stop_list(phone=entry.phone, **audit.by(request))
        messages.success(
            request,
            _("%(phone)s is off the stop list.") % {"phone": display_phone(entry.phone)},
        )
        return redirect("dashboard:client-stop-list")
    return render(request, "dashboard/stop_list/remove.html", {"entry": entry})


@readers
@require_safe
def stop_list_export(request, form: str = "excel"):
    """The whole list in the columns its import reads back (CSV for Excel, or XLSX)."""
    return table_response(stop_list_rows(), form=form, filename="herald-stop-list")
