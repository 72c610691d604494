from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event
from django_tables2 import RequestConfig

from dashboard.access import managers, readers
from dashboard.filters import ClientFilter
from dashboard.forms import ClientForm, OptOutForm
from dashboard.tables import (
    ClientMessageTable,
    ClientTable,
    KnownCountPaginator,
    with_last_attempt,
)
from dashboard.views import page_or_partial, wants_partial
from messaging import services
from messaging.api.downloads import table_response
from messaging.campaigns.exports import client_rows
from messaging.campaigns.phones import display_phone
from messaging.campaigns.spreadsheets import XLSX_MAX_ROWS
from messaging.models import Client, StopListEntry, Via
from messaging.reporting import stats
from security import audit
from security.roles import is_manager

log = logging.getLogger(__name__)


@readers
@require_safe
@vary_on_headers("HX-Request")
def client_list(request):
    filterset = ClientFilter(request.GET or None, queryset=Client.objects.all())
    invalid = filterset.is_bound and not filterset.is_valid() and "search" in filterset.errors
    # A phone typed with other digits shows its error and no rows, rather than every
    # client as if nothing had been typed.
    rows = Client.objects.none() if invalid else filterset.qs
    table = ClientTable(rows, exclude=() if is_manager(request.user) else ("actions",))
    if invalid:
        table.empty_text = " ".join(filterset.errors["search"])
    elif any(request.GET.get(name) for name in filterset.filters):
        table.empty_text = _("No client matches this filter.")
    paginate = {"per_page": settings.UI_PAGE_SIZE, "paginator_class": KnownCountPaginator}
    estimated = False
    if not invalid and not any(request.GET.get(name) for name in filterset.filters):
        # Every client: from ESTIMATE_FROM on, PostgreSQL's estimate, not a count of them all.
        paginate["count"], estimated = stats.client_count()
    RequestConfig(request, paginate=paginate).configure(table)
    context = {
        "filter": filterset,
        "table": table,
        "search_capped": filterset.search_capped,
        "count_estimated": estimated,
    }
    return page_or_partial(
        request, "dashboard/clients/list.html", "dashboard/clients/_table.html", context
    )


@readers
@require_safe
def client_export(request, form: str = "csv"):
    """The clients of the current filter in the import's own columns: CSV, CSV for Excel
    (UTF-8 with BOM, semicolons) or XLSX; every cell safe from spreadsheet formulas."""
    filterset = ClientFilter(request.GET or None, queryset=Client.objects.all())
    if filterset.is_bound and not filterset.is_valid() and "search" in filterset.errors:
        errors = " ".join(filterset.errors["search"])
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    clients = filterset.qs
    if form == "xlsx" and clients.count() >= XLSX_MAX_ROWS:
        message = _(
            "More than %(max)s clients: an Excel sheet cannot hold them. Narrow the filter, "
            "or export them as CSV."
        ) % {"max": f"{XLSX_MAX_ROWS - 1:,}"}
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return table_response(client_rows(clients), form=form, filename=f"herald-clients-{stamp}")


@readers
@require_safe
@vary_on_headers("HX-Request", "HX-Target")
def client_detail(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    table = ClientMessageTable(
        with_last_attempt(client.messages.select_related("campaign").order_by("-id")),
        order_by="-id",
    )
    RequestConfig(request, paginate={"per_page": settings.UI_PAGE_SIZE}).configure(table)
    context = {
        "client": client,
        "table": table,
        "stop_listed": StopListEntry.objects.filter(phone=client.phone).first(),
        "opt_out_form": OptOutForm(),
    }
    return page_or_partial(
        request,
        "dashboard/clients/detail.html",
        "dashboard/clients/_messages.html",
        context,
        target="client-messages",
    )


@managers
def client_create(request):
    return _client_form(request, Client())


@managers
def client_edit(request, pk: int):
    return _client_form(request, get_object_or_404(Client, pk=pk))


# The clients page opens the add and edit forms in a modal (htmx); they also work as pages.
MODAL_TARGET = "client-modal-content"


def _client_form(request, client: Client):
    form = ClientForm(request.POST or None, instance=client)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            client = form.save()
            saved = _("Client %(phone)s saved.") % {"phone": display_phone(client.phone)}
            if wants_partial(request, MODAL_TARGET):
                # Closes the modal and refreshes the table behind it (static/js/herald.js).
                # A text, not a dict: htmx hands it to the script as event.detail.value.
                return trigger_client_event(HttpResponse(status=204), "clientSaved", saved)  # type: ignore[arg-type]
            messages.success(request, saved)
            return redirect("dashboard:client-detail", pk=client.pk)
        status = 400
    return page_or_partial(
        request,
        "dashboard/clients/form.html",
        "dashboard/clients/_form_modal.html",
        {"form": form, "client": client},
        target=MODAL_TARGET,
        status=status,
    )


@managers
def client_delete(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    if request.method == "POST":
        phone = display_phone(client.phone)
        services.delete_client(client=client)
        messages.success(
            request,
            _("Client %(phone)s deleted; their sent messages stay counted.") % {"phone": phone},
        )
        return redirect("dashboard:client-list")
    pending = client.messages.filter(status__in=("pending", "sending")).count()
    return render(request, "dashboard/clients/delete.html", {"client": client, "pending": pending})


@managers
@require_POST
def client_opt_out(request, pk: int):
    """The client asked not to be messaged: recorded by hand, with the reason given."""
    client = get_object_or_404(Client, pk=pk)
    form = OptOutForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("dashboard:client-detail", pk=client.pk)
    cancelled = services.opt_out(
        client=client, via=Via.HAND, reason=form.cleaned_data["reason"], **audit.by(request)
    )
    done = _("Client %(phone)s opted out: never messaged again until opted back in.") % {
        "phone": display_phone(client.phone)
    }
    if cancelled:
        done += " " + ngettext(
            "%(n)s pending message was cancelled.",
            "%(n)s pending messages were cancelled.",
            cancelled,
        ) % {"n": cancelled}
    messages.success(request, done)
    return redirect("dashboard:client-detail", pk=client.pk)


@managers
@require_POST
def client_opt_in(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    services.opt_in(client=client, **audit.by(request))
    messages.success(
        request,
        _("Client %(phone)s opted back in and taken off the stop list.")
        % {"phone": display_phone(client.phone)},
    )
    return redirect("dashboard:client-detail", pk=client.pk)
