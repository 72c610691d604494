from __future__ import annotations

import csv
import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event
from django_tables2 import RequestConfig

from dashboard.access import managers, readers
from dashboard.filters import ClientFilter
from dashboard.forms import ClientForm, ClientImportForm
from dashboard.tables import ClientMessageTable, ClientTable, with_last_attempt
from dashboard.views import page_or_partial, wants_partial
from messaging import services
from messaging.api.downloads import sample_csv_response
from messaging.models import Client, RejectedRows
from messaging.roles import is_manager
from messaging.services import CSV_COLUMNS, MalformedFile, spreadsheet_safe

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
    RequestConfig(request, paginate={"per_page": settings.UI_PAGE_SIZE}).configure(table)
    context = {"filter": filterset, "table": table}
    return page_or_partial(
        request, "dashboard/clients/list.html", "dashboard/clients/_table.html", context
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@readers
@require_safe
def client_export(request):
    """The clients of the current filter as CSV, in the same format the import reads.

    A tag that a spreadsheet would run as a formula is written with an apostrophe first.
    """
    filterset = ClientFilter(request.GET or None, queryset=Client.objects.all())
    if filterset.is_bound and not filterset.is_valid() and "search" in filterset.errors:
        errors = " ".join(filterset.errors["search"])
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    rows = filterset.qs.order_by("phone").values_list(*CSV_COLUMNS)
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(CSV_COLUMNS)
        for row in rows.iterator(chunk_size=2000):
            yield writer.writerow([spreadsheet_safe(value) for value in row])

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="herald-clients-{stamp}.csv"'
    return response


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
    context = {"client": client, "table": table}
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
            saved = _("Client %(phone)s saved.") % {"phone": client.phone}
            if wants_partial(request, MODAL_TARGET):
                # Closes the modal and refreshes the table behind it (static/js/herald.js).
                return trigger_client_event(HttpResponse(status=204), "clientSaved", saved)
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
        phone = client.phone
        services.delete_client(client=client)
        messages.success(
            request,
            _("Client %(phone)s deleted; their sent messages stay counted.") % {"phone": phone},
        )
        return redirect("dashboard:client-list")
    pending = client.messages.filter(status__in=("pending", "sending")).count()
    return render(request, "dashboard/clients/delete.html", {"client": client, "pending": pending})


@managers
def client_import(request):
    form = ClientImportForm(request.POST or None, request.FILES or None)
    result = None
    rejected_rows = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                with upload.open("rb"):
                    result = services.import_clients_csv(
                        data=upload.file,
                        skip_invalid_rows=form.cleaned_data["skip_invalid_rows"],
                        rejected_csv=True,
                    )
            except MalformedFile as exc:
                form.add_error("file", exc.message_dict.get("file", exc.messages))
            else:
                status = 200 if result.imported else 400
                with result.rejected_csv as rejected:
                    if result.rejected_count:
                        rejected_rows = RejectedRows.keep(
                            user=request.user, rows=result.rejected_count, content=rejected.read()
                        )
    return render(
        request,
        "dashboard/clients/import.html",
        {
            "form": form,
            "result": result,
            "rejected_rows": rejected_rows,
            "columns": ",".join(CSV_COLUMNS),
            "max_mib": settings.IMPORT_MAX_BYTES // (1024 * 1024) or 1,
        },
        status=status,
    )


@managers
@require_safe
def client_import_sample(request):
    """A small CSV in the import's format, phones typed the ways people type them."""
    return sample_csv_response()


@managers
@require_safe
def client_import_rejected(request, key: str):
    """Every rejected row of the user's own recent import, as CSV."""
    try:
        pk = uuid.UUID(key)
    except ValueError:
        raise Http404(_("No such import.")) from None
    kept = get_object_or_404(RejectedRows, pk=pk, user=request.user)
    response = HttpResponse(kept.content, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(kept.created_at).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-{stamp}.csv"'
    return response
